// A sysctl policy (lib/remedy/policy.ts): sources read and checked, then resolved against the
// keys one namespace lists, as `sysctl -p` would apply it there; and container selectors
// (lib/container/select.ts). Pure: no root, no namespaces.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { IFNAME, finalValues, loadPolicy, resolvePolicy } from '../../lib/sysctl/policy.js';
import { containerMatcher, selects } from '../../lib/container/select.js';

const PRESENT = [
  'net.core.somaxconn',
  'net.ipv4.conf.all.rp_filter',
  'net.ipv4.conf.default.rp_filter',
  'net.ipv4.conf.eth0/100.rp_filter',
  'net.ipv4.conf.lo.rp_filter',
  'net.ipv4.conf.lo.log_martians',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv6.conf.eth0/100.mtu',
];

t.test('globs expand to the keys the namespace lists; exact lines win; the last line decides', async (t) => {
  const p = loadPolicy({
    text: [
      'net.ipv4.conf.*.rp_filter = 2',
      'net.ipv4.conf.lo.rp_filter = 0',
      '-net.ipv4.conf.default.*',
      'net.core.somaxconn = 1024',
      'net.core.somaxconn = 4096',
      '-net.ipv4.tcp_ecn = 1',
      'kernel.pid_max = 5',
      '',
    ].join('\n'),
    file: 'p.conf',
  });
  t.same(
    p.notNet.map((s) => s.key),
    ['kernel.pid_max'],
    'keys outside net are set apart',
  );
  let asked = 0;
  const w = resolvePolicy(p, () => {
    asked++;
    return PRESENT;
  });
  t.equal(asked, 1, 'the keys present are asked once');
  t.same(
    w.map((x) => `${x.key}=${x.value}`),
    [
      'net.ipv4.conf.all.rp_filter=2',
      'net.ipv4.conf.eth0/100.rp_filter=2',
      'net.ipv4.conf.lo.rp_filter=0',
      'net.core.somaxconn=1024',
      'net.core.somaxconn=4096',
      'net.ipv4.tcp_ecn=1',
    ],
    'lo named exactly is not expanded; default excluded; an interface with a dot keeps its file name',
  );
  t.equal(w.find((x) => x.key === 'net.ipv4.tcp_ecn')?.optional, true);
  t.equal(w[0]!.where, 'p.conf:1');
  const f = finalValues(w);
  t.equal(f.get('net.core.somaxconn')?.value, '4096');
  t.equal(f.get('net.core.somaxconn')?.where, 'p.conf:5');
  t.same(
    resolvePolicy(loadPolicy({ text: 'net.core.somaxconn = 1\n' }), () => {
      throw new Error('not asked without a glob');
    }).length,
    1,
  );
});

t.test('IFNAME stands for the interface given, whatever its name; dropped without one', async (t) => {
  const p = loadPolicy({ sysctl: { 'net.ipv4.conf.IFNAME.rp_filter': '2', 'net.ipv6.conf.IFNAME.mtu': '1400' } });
  t.equal(IFNAME, 'IFNAME');
  t.same(
    resolvePolicy(p, () => PRESENT, 'eth0.100').map((x) => x.key),
    ['net.ipv4.conf.eth0/100.rp_filter', 'net.ipv6.conf.eth0/100.mtu'],
  );
  t.same(
    resolvePolicy(p, () => PRESENT).map((x) => x.key),
    [],
  );
  t.throws(() => resolvePolicy(p, () => PRESENT, '../x'), RangeError, 'an interface name is checked');
  t.throws(() => resolvePolicy(p, () => PRESENT, 'a/b'), RangeError);
  t.equal(
    resolvePolicy(loadPolicy({ sysctl: { 'net.ipv4.conf.IFNAME.rp_filter': '1' }, where: 'cfg' }), () => [], 'eth0')[0]
      ?.where,
    'cfg["net.ipv4.conf.IFNAME.rp_filter"]',
  );
});

t.test('keys never leave /proc/sys/net: refused before anything is opened', async (t) => {
  for (const bad of [
    'net.ipv4.conf.*..rp_filter = 1',
    'net/../../kernel/pid_max = 5',
    'net.ipv4/../../../etc = 1',
    'net.core.\u0000x = 1', // NUL: the one byte a key can never hold (control characters are accepted since issue 25)
    'net = 1',
  ])
    t.throws(() => loadPolicy({ text: bad, file: 'bad.conf' }), { name: 'RangeError', message: /bad\.conf:1/ }, bad);
  t.throws(() => loadPolicy({ text: 'just words\n', file: 'x.conf' }), { name: 'RangeError', message: /x\.conf:1/ });
  t.throws(() => loadPolicy({ sysctl: { 'net.core.somaxconn': 1 as unknown as string } }), TypeError);
  t.throws(() => loadPolicy({ sysctl: [] as unknown as Record<string, string> }), TypeError);
  t.throws(() => loadPolicy(5 as unknown as string), TypeError);
  // A glob can only match what the namespace lists, which is under net already.
  const p = loadPolicy({ text: 'net.ipv4.conf.*.rp_filter = 1\n' });
  t.same(
    resolvePolicy(p, () => ['net.ipv4.conf.a.rp_filter']).map((x) => x.key),
    ['net.ipv4.conf.a.rp_filter'],
  );
});

t.test('files are read in order: a later file wins', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netns-policy-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'a.conf'), 'net.core.somaxconn = 1\nnet.ipv4.tcp_keepalive_time = 600\n');
  fs.writeFileSync(path.join(dir, 'b.conf'), 'net.core.somaxconn = 2\n');
  const p = loadPolicy([path.join(dir, 'a.conf'), path.join(dir, 'b.conf'), { sysctl: { 'net.core.somaxconn': '3' } }]);
  const f = finalValues(resolvePolicy(p, () => []));
  t.equal(f.get('net.core.somaxconn')?.value, '3');
  t.equal(f.get('net.ipv4.tcp_keepalive_time')?.where, `${path.join(dir, 'a.conf')}:2`);
  t.throws(() => loadPolicy(path.join(dir, 'missing.conf')), { code: 'ENOENT' });
});

t.test('container selectors: every criterion, any pattern; globs cross /', async (t) => {
  const web = {
    runtime: 'containerd' as const,
    id: 'abc123',
    name: 'nginx',
    kubernetes: { podNamespace: 'prod', podName: 'web-7f9', containerName: 'nginx' },
  };
  const docker = { runtime: 'docker' as const, id: 'def456', name: 'db' };
  const m = (sel: Parameters<typeof containerMatcher>[0]) =>
    [web, docker].filter(containerMatcher(sel)).map((c) => c.id);
  t.same(m({}), ['abc123', 'def456'], 'no criterion: every container');
  t.same(m({ runtime: ['docker'] }), ['def456']);
  t.same(m({ podNamespace: ['prod'], pod: ['web-*'] }), ['abc123']);
  t.same(m({ podNamespace: ['prod'], pod: ['db-*'] }), []);
  t.same(m({ name: ['prod/web-*/nginx'] }), ['abc123'], 'POD-NAMESPACE/POD/CONTAINER, * across /');
  t.same(m({ name: ['db', 'nginx'] }), ['abc123', 'def456']);
  t.same(m({ id: ['abc*'] }), ['abc123']);
  t.same(m({ id: ['abc'] }), [], 'a pattern matches whole ids');
  t.equal(selects({}), false);
  t.equal(selects({ pod: ['x'] }), true);
  t.throws(() => containerMatcher({ pod: [] }), TypeError);
  t.throws(() => containerMatcher({ pod: 'x' as unknown as string[] }), TypeError);
});
