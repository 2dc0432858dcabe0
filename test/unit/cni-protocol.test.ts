// netns-cni's protocol half (bin/cni/protocol.ts), from CNI spec 1.0.0: the parameters each
// command requires, container id and interface name rules, configuration decoding and its
// error codes, version negotiation, the result passed through. Pure: nothing is executed.
import t from 'tap';
import {
  CODE,
  CniError,
  SUPPORTED_VERSIONS,
  addResult,
  atLeast,
  errorObject,
  parameters,
  pluginConfig,
  versionResult,
} from '../../bin/cni/protocol.js';

const ADD = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/run/netns/x', CNI_IFNAME: 'eth0' };

function codeOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof CniError) return e.code;
    throw e;
  }
  return undefined;
}

t.test('parameters: what each command requires, named when missing (code 4)', async (t) => {
  t.same(parameters(ADD), {
    command: 'ADD',
    containerId: 'c1',
    netns: '/run/netns/x',
    ifname: 'eth0',
    args: '',
    path: '',
  });
  t.equal(parameters({ CNI_COMMAND: 'VERSION' }).command, 'VERSION', 'VERSION needs nothing else');
  t.equal(parameters({ ...ADD, CNI_COMMAND: 'DEL', CNI_NETNS: '' }).netns, '', 'DEL may come without a namespace');
  try {
    parameters({ CNI_COMMAND: 'CHECK', CNI_IFNAME: 'eth0' });
    t.fail('missing variables');
  } catch (e) {
    t.equal((e as CniError).code, CODE.invalidEnvironment);
    t.equal((e as CniError).message, 'required env variables [CNI_CONTAINERID,CNI_NETNS] missing');
  }
  t.equal(
    codeOf(() => parameters({ ...ADD, CNI_COMMAND: 'GC' })),
    4,
    'an unknown command',
  );
  t.equal(
    codeOf(() => parameters({ ...ADD, CNI_COMMAND: '' })),
    4,
  );
  for (const id of ['-x', '.x', 'a b', 'a/b', 'é'])
    t.equal(
      codeOf(() => parameters({ ...ADD, CNI_CONTAINERID: id })),
      4,
      `container id ${JSON.stringify(id)}`,
    );
  t.equal(
    codeOf(() => parameters({ ...ADD, CNI_CONTAINERID: 'A-b_c.9' })),
    undefined,
  );
  for (const name of ['.', '..', 'a/b', 'a:b', 'a b', 'sixteen-bytes-xx', 'a\tb'])
    t.equal(
      codeOf(() => parameters({ ...ADD, CNI_IFNAME: name })),
      4,
      `ifname ${JSON.stringify(name)}`,
    );
  t.equal(
    codeOf(() => parameters({ ...ADD, CNI_IFNAME: 'eth0.100' })),
    undefined,
    'a VLAN name is an interface name',
  );
});

t.test("configuration: decoding (6), versions (1), this plugin's fields (7), the rest passed through", async (t) => {
  const ok = pluginConfig(
    JSON.stringify({
      cniVersion: '1.0.0',
      name: 'net1',
      type: 'netns-cni',
      sysctl: { 'net.core.somaxconn': '1024' },
      sysctlFiles: ['/etc/netns/pod.conf'],
      args: { cni: { sysctl: { 'net.ipv4.tcp_keepalive_time': '600' } }, labels: { a: 'b' } },
      custom: [1, 2],
    }),
  );
  t.equal(ok.name, 'net1');
  t.same(ok.sysctl, { 'net.core.somaxconn': '1024' });
  t.same(ok.args?.cni?.sysctl, { 'net.ipv4.tcp_keepalive_time': '600' });
  t.same((ok as unknown as { custom: number[] }).custom, [1, 2], 'unknown fields kept');
  for (const [input, code, why] of [
    ['{', CODE.decodingFailure, 'not JSON'],
    ['[]', CODE.decodingFailure, 'not an object'],
    ['{"name":"n"}', CODE.incompatibleVersion, 'no cniVersion is 0.1.0'],
    ['{"cniVersion":"0.2.0","name":"n"}', CODE.incompatibleVersion, 'before chaining'],
    ['{"cniVersion":"9.9.9","name":"n"}', CODE.incompatibleVersion, 'a future version'],
    ['{"cniVersion":"1.0.0"}', CODE.invalidConfig, 'no name'],
    ['{"cniVersion":"1.0.0","name":"-x"}', CODE.invalidConfig, 'a bad name'],
    ['{"cniVersion":"1.0.0","name":"n","prevResult":[]}', CODE.decodingFailure, 'a prevResult that is not a result'],
  ] as const)
    t.equal(
      codeOf(() => pluginConfig(input)),
      code,
      why,
    );
  for (const v of SUPPORTED_VERSIONS) t.equal(pluginConfig(`{"cniVersion":"${v}","name":"n"}`).cniVersion, v);
  for (const bad of [
    { sysctl: { 'net.core.somaxconn': 1024 } },
    { sysctl: ['net.core.somaxconn'] },
    { args: { cni: { sysctl: { k: true } } } },
    { sysctlFiles: '/etc/x.conf' },
    { sysctlFiles: [''] },
    { dataDir: 'relative' },
    { classify: 'no' },
  ])
    t.equal(
      codeOf(() => pluginConfig(JSON.stringify({ cniVersion: '1.0.0', name: 'n', ...bad }))),
      CODE.invalidConfig,
      JSON.stringify(bad),
    );
});

t.test("results: prevResult passed through in the configuration's version; VERSION; errors", async (t) => {
  const prev = { cniVersion: '1.0.0', interfaces: [{ name: 'eth0', sandbox: '/run/netns/x' }], ips: [], dns: {} };
  t.same(addResult(pluginConfig(JSON.stringify({ cniVersion: '0.4.0', name: 'n', prevResult: prev }))), {
    ...prev,
    cniVersion: '0.4.0',
  });
  t.same(addResult(pluginConfig('{"cniVersion":"1.0.0","name":"n"}')), { cniVersion: '1.0.0' });
  t.same(versionResult('{"cniVersion":"0.3.1"}'), { cniVersion: '0.3.1', supportedVersions: [...SUPPORTED_VERSIONS] });
  t.equal(versionResult('').cniVersion, '1.0.0');
  t.equal(versionResult('{"cniVersion":"0.1.0"}').cniVersion, '1.0.0', 'a version it does not speak: its newest');
  t.same(errorObject('0.4.0', new CniError(7, 'bad', 'why')), {
    cniVersion: '0.4.0',
    code: 7,
    msg: 'bad',
    details: 'why',
  });
  t.same(errorObject('1.0.0', new CniError(4, 'x')), { cniVersion: '1.0.0', code: 4, msg: 'x' });
  t.ok(atLeast('1.0.0', '0.4.0'));
  t.ok(atLeast('0.4.0', '0.4.0'));
  t.notOk(atLeast('0.3.1', '0.4.0'));
  t.notOk(atLeast('x', '0.4.0'));
});
