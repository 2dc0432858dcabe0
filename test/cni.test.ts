// netns-cni, executed as runtimes execute CNI plugins (CNI_* variables, the configuration on
// stdin, the answer on stdout), always from a network namespace of the test's own standing
// for the runtime's side, on pod namespaces of the test's own. First a conformance test
// written from CNI spec 1.0.0 (ADD, CHECK, DEL, VERSION; parameters; bad configurations;
// a missing namespace; rollback); then chained after Debian's containernetworking-plugins
// (bridge with host-local, loopback) by a tiny runtime (cni-driver.ts), and beside the
// `tuning` plugin for comparison. The host's interfaces and values are compared before and
// after: nothing of it changes.
import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NetNamespace } from '../lib/index.js';
import { ipNetnsAdd, sh } from './helpers.js';
import { tempDir } from './containers-env.js';
import {
  type ChainError,
  DEBIAN_CNI,
  addList,
  checkList,
  delList,
  execPlugin,
  runtime,
  type Attachment,
  type Conflist,
  type Runtime,
} from './cni-driver.js';

if (process.getuid?.() !== 0) {
  t.plan(0, 'needs root: makes network namespaces and runs CNI plugins in them');
  process.exit(0);
}

/** A key's value in the namespace at `nsPath`, or null when absent. */
function valueIn(nsPath: string, key: string): string | null {
  using ns = NetNamespace.fromPath(nsPath);
  try {
    return ns.sysctl.getRaw(key);
  } catch {
    return null;
  }
}

/** The host's links (names, flags, MTU), to compare before and after. */
function hostLinks(): string {
  return sh('ip', ['-o', 'link', 'show']).replace(/\s+link\/.*$/gm, '');
}

/** The keys this file writes (values 1201-1205, 611-615, 31), and those of them the host holds. */
const WRITTEN = ['core/somaxconn', 'ipv4/tcp_keepalive_time', 'ipv4/tcp_keepalive_intvl'];
function hostHasOurs(): string[] {
  return WRITTEN.filter((k) => /^(120[1-5]|61[1-5]|31)$/.test(fs.readFileSync(`/proc/sys/net/${k}`, 'utf8').trim()));
}

/** The runtime's side and a pod: two namespaces of the test's own; a plugin dir; the attachment. */
function setup(t: Test, ifname = 'eth0'): { rt: Runtime; a: Attachment; dir: string } {
  // (Other suites change host values for a moment, under /tmp/netns-host.lock: what must hold
  // here is that no value this file writes lands on the host, and no interface appears there.)
  const links = hostLinks();
  t.teardown(() => {
    if (hostLinks() !== links) throw new Error(`the host's interfaces changed:\n${links}\n---\n${hostLinks()}`);
    const ours = hostHasOurs();
    if (ours.length > 0) throw new Error(`the host got a value of this test: ${ours.join(', ')}`);
  });
  const rtNs = ipNetnsAdd(t, 'cnirt');
  const pod = ipNetnsAdd(t, 'cnipod');
  const dir = tempDir(t, 'netns-cni');
  return {
    rt: runtime(t, `/run/netns/${rtNs}`),
    a: { containerId: `pod-${process.pid}-${pod.split('-').pop()}`, netns: `/run/netns/${pod}`, ifname },
    dir,
  };
}

const PREV = {
  cniVersion: '1.0.0',
  interfaces: [
    { name: 'cni0', mac: '00:11:22:33:44:55' },
    { name: 'eth0', mac: '99:88:77:66:55:44', sandbox: '/var/run/netns/blue' },
  ],
  ips: [{ address: '10.1.0.5/16', gateway: '10.1.0.1', interface: 1 }],
  routes: [{ dst: '0.0.0.0/0' }],
  dns: { nameservers: ['10.1.0.1'] },
};

/** An execution configuration for netns-cni alone. */
function conf(dir: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { cniVersion: '1.0.0', name: 'conformance', type: 'netns-cni', dataDir: path.join(dir, 'data'), ...extra };
}

t.test('conformance (spec 1.0.0): VERSION, and a plugin run by hand', async (t) => {
  const { rt } = setup(t);
  const v = execPlugin(rt, 'netns-cni', 'VERSION', { cniVersion: '0.4.0' }, {});
  t.equal(v.status, 0);
  t.same(v.json, { cniVersion: '0.4.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0'] });
  t.equal(execPlugin(rt, 'netns-cni', 'VERSION', '', {}).json?.cniVersion, '1.0.0', 'no input: its newest');
  const about = execPlugin(rt, 'netns-cni', '', {}, {}, { CNI_COMMAND: undefined });
  t.equal(about.status, 0, 'no CNI_COMMAND: says what it is, as the reference plugins do');
  t.equal(about.stdout, '');
  t.match(about.stderr, /CNI plugin netns-cni .*\nCNI protocol versions supported: 0\.3\.0, 0\.3\.1, 0\.4\.0, 1\.0\.0/);
});

t.test("conformance: parameters and configurations refused with the spec's codes, nothing written", async (t) => {
  const { rt, a, dir } = setup(t);
  const before = valueIn(a.netns, 'net.core.somaxconn');
  const good = conf(dir, { sysctl: { 'net.core.somaxconn': '1201' } });
  const code = (x: ReturnType<typeof execPlugin>) => {
    t.equal(x.status, 1, 'exit status 1');
    return x.json?.code;
  };
  t.equal(code(execPlugin(rt, 'netns-cni', 'ADD', good, { ...a, containerId: undefined })), 4, 'no CNI_CONTAINERID');
  const missing = execPlugin(rt, 'netns-cni', 'CHECK', good, { ...a, netns: undefined, ifname: undefined });
  t.equal(code(missing), 4);
  t.match(missing.json?.msg, /CNI_NETNS,CNI_IFNAME/, 'the variables are named');
  t.equal(code(execPlugin(rt, 'netns-cni', 'ADD', good, { ...a, ifname: 'a/b' })), 4, 'a bad interface name');
  t.equal(code(execPlugin(rt, 'netns-cni', 'ADD', good, { ...a, containerId: '-x' })), 4, 'a bad container id');
  t.equal(code(execPlugin(rt, 'netns-cni', 'NOPE', good, a)), 4, 'an unknown command');
  t.equal(code(execPlugin(rt, 'netns-cni', 'ADD', '{"cniVersion":', a)), 6, 'not JSON');
  t.equal(code(execPlugin(rt, 'netns-cni', 'ADD', { ...good, name: undefined }, a)), 7, 'no name');
  const v = execPlugin(rt, 'netns-cni', 'ADD', { ...good, cniVersion: '0.2.0' }, a);
  t.equal(code(v), 1, 'a version it does not speak');
  t.equal(v.json?.cniVersion, '0.2.0', "errors answer in the configuration's version");
  t.equal(code(execPlugin(rt, 'netns-cni', 'CHECK', { ...good, cniVersion: '0.3.1' }, a)), 1, 'CHECK needs 0.4.0');
  for (const sysctl of [
    { 'net.core.somaxconn': 1201 },
    { 'kernel.pid_max': '5' },
    { 'net/../../kernel/pid_max': '5' },
    { 'net.ipv4.conf..rp_filter': '1' },
  ])
    t.equal(code(execPlugin(rt, 'netns-cni', 'ADD', conf(dir, { sysctl }), a)), 7, JSON.stringify(sysctl));
  // Read-only in every namespace but the host's (the runtime's side here is one of the test's
  // own, where host-only keys do not exist at all: the apply tests refuse those from the host).
  const readOnly = execPlugin(
    rt,
    'netns-cni',
    'ADD',
    conf(dir, { sysctl: { 'net.core.somaxconn': '1201', 'net.ipv4.tcp_allowed_congestion_control': 'reno' } }),
    a,
  );
  t.equal(code(readOnly), 7, 'a key that cannot be set per namespace');
  t.match(readOnly.json?.details, /tcp_allowed_congestion_control .*cannot be set per namespace: readonly/);
  const noFile = execPlugin(rt, 'netns-cni', 'ADD', conf(dir, { sysctlFiles: [path.join(dir, 'none.conf')] }), a);
  t.equal(code(noFile), 5, 'a sysctl file that cannot be read');
  t.equal(valueIn(a.netns, 'net.core.somaxconn'), before, 'nothing was written');
});

t.test('conformance: missing or own namespace (code 8); DEL succeeds without one', async (t) => {
  const { rt, a, dir } = setup(t);
  const c = conf(dir, { sysctl: { 'net.core.somaxconn': '1202' } });
  const gone = { ...a, netns: `/run/netns/nonexistent-${process.pid}` };
  for (const cmd of ['ADD', 'CHECK']) {
    const x = execPlugin(rt, 'netns-cni', cmd, c, gone);
    t.equal(x.status, 1);
    t.equal(x.json?.code, 8, `${cmd}: CNI_NETNS cannot be opened`);
  }
  t.equal(execPlugin(rt, 'netns-cni', 'DEL', c, gone).status, 0, 'DEL: nothing to clean up');
  t.equal(execPlugin(rt, 'netns-cni', 'DEL', c, { ...a, netns: undefined }).status, 0, 'DEL without CNI_NETNS');
  const own = execPlugin(rt, 'netns-cni', 'ADD', c, { ...a, netns: rt.runtimeNetns });
  t.equal(own.json?.code, 8, "the runtime's own namespace is refused: writing there changes the runtime's side");
  t.not(valueIn(rt.runtimeNetns, 'net.core.somaxconn'), '1202');
});

t.test('conformance: ADD passes prevResult through, CHECK finds drift, DEL restores, twice', async (t) => {
  const { rt, a, dir } = setup(t, 'lo');
  const file = path.join(dir, 'pod.conf');
  fs.writeFileSync(
    file,
    'net.ipv4.tcp_keepalive_time = 611\nnet.ipv4.conf.*.accept_local = 1\nnet.core.somaxconn = 1\n',
  );
  const c = conf(dir, {
    sysctlFiles: [file],
    sysctl: { 'net.core.somaxconn': '1203', 'net.ipv4.conf.IFNAME.rp_filter': '2' },
    args: { cni: { sysctl: { 'net.ipv4.tcp_keepalive_intvl': '31' } } },
    prevResult: PREV,
  });
  const before = Object.fromEntries(
    [
      'net.ipv4.tcp_keepalive_time',
      'net.core.somaxconn',
      'net.ipv4.conf.lo.rp_filter',
      'net.ipv4.conf.all.accept_local',
    ].map((k) => [k, valueIn(a.netns, k)]),
  );
  const add = execPlugin(rt, 'netns-cni', 'ADD', c, a);
  t.equal(add.status, 0, add.stdout);
  t.same(add.json, PREV, 'the result is prevResult, unchanged');
  t.equal(valueIn(a.netns, 'net.ipv4.tcp_keepalive_time'), '611', 'from the sysctl.d file');
  t.equal(valueIn(a.netns, 'net.ipv4.conf.lo.accept_local'), '1', "the file's glob, expanded in the pod's namespace");
  t.equal(valueIn(a.netns, 'net.core.somaxconn'), '1203', 'the sysctl map wins over the file');
  t.equal(valueIn(a.netns, 'net.ipv4.conf.lo.rp_filter'), '2', 'IFNAME is CNI_IFNAME');
  t.equal(valueIn(a.netns, 'net.ipv4.tcp_keepalive_intvl'), '31', 'args.cni.sysctl, as tuning merges it');
  const old = execPlugin(
    rt,
    'netns-cni',
    'ADD',
    { ...c, cniVersion: '0.4.0', prevResult: { ...PREV, cniVersion: '0.4.0' } },
    {
      ...a,
      containerId: `${a.containerId}-v04`,
    },
  );
  t.equal(old.json?.cniVersion, '0.4.0', 'a 0.4.0 configuration gets a 0.4.0 result');
  t.same(execPlugin(rt, 'netns-cni', 'ADD', conf(dir), { ...a, containerId: `${a.containerId}-alone` }).json, {
    cniVersion: '1.0.0',
  });

  const check = execPlugin(rt, 'netns-cni', 'CHECK', c, a);
  t.equal(check.status, 0, 'CHECK right after ADD');
  t.equal(check.stdout, '', 'CHECK prints nothing');
  {
    using ns = NetNamespace.fromPath(a.netns);
    ns.sysctl.set('net.core.somaxconn', 77);
  }
  const drift = execPlugin(rt, 'netns-cni', 'CHECK', c, a);
  t.equal(drift.status, 1);
  t.equal(drift.json?.code, 101, 'drift');
  t.match(drift.json?.details, /net\.core\.somaxconn = 77, configured 1203 \(sysctl\["net\.core\.somaxconn"\]\)/);

  for (const id of [`${a.containerId}-v04`, `${a.containerId}-alone`])
    t.equal(execPlugin(rt, 'netns-cni', 'DEL', c, { ...a, containerId: id }).status, 0);
  const del = execPlugin(rt, 'netns-cni', 'DEL', c, a);
  t.equal(del.status, 0);
  t.equal(del.stdout, '');
  for (const [k, v] of Object.entries(before)) t.equal(valueIn(a.netns, k), v, `DEL put ${k} back`);
  t.equal(execPlugin(rt, 'netns-cni', 'DEL', c, a).status, 0, 'a second DEL succeeds');
  t.same(fs.readdirSync(path.join(dir, 'data', 'conformance')), [], 'no state left');
});

const noIpv6 = fs.existsSync('/proc/sys/net/ipv6') ? false : "needs IPv6 (an ipv6 MTU above the device's is refused)";

t.test(
  'conformance: a write the kernel refuses fails the ADD, every key written before restored',
  { skip: noIpv6 },
  async (t) => {
    const { rt, a, dir } = setup(t, 'vx0');
    sh('ip', [
      '-n',
      path.basename(a.netns),
      'link',
      'add',
      'vx0',
      'mtu',
      '1500',
      'type',
      'veth',
      'peer',
      'name',
      'vx1',
    ]);
    const before = valueIn(a.netns, 'net.ipv4.tcp_keepalive_time');
    const c = conf(dir, {
      sysctl: { 'net.ipv4.tcp_keepalive_time': '612', 'net.ipv6.conf.IFNAME.mtu': '9000' },
    });
    const x = execPlugin(rt, 'netns-cni', 'ADD', c, a);
    t.equal(x.status, 1);
    t.equal(x.json?.code, 100);
    t.match(x.json?.details, /EINVAL.*Rolled back: net\.ipv4\.tcp_keepalive_time/);
    t.equal(valueIn(a.netns, 'net.ipv4.tcp_keepalive_time'), before, 'the key written first is back');
    t.equal(valueIn(a.netns, 'net.ipv6.conf.vx0.mtu'), '1500');
    t.notOk(fs.existsSync(path.join(dir, 'data', 'conformance')), 'nothing kept for DEL');
    t.equal(execPlugin(rt, 'netns-cni', 'DEL', c, a).status, 0, 'the DEL a runtime sends after a failed ADD');
  },
);

const hasDebianPlugins = ['bridge', 'host-local', 'loopback', 'tuning'].every((p) =>
  fs.existsSync(path.join(DEBIAN_CNI, p)),
);
const needPlugins = hasDebianPlugins
  ? false
  : 'needs containernetworking-plugins (apt-get install containernetworking-plugins; .ci/run installs it)';

/** bridge (its bridge made in the runtime's namespace) with host-local (its state in `dir`), then `after`. */
function bridgeList(dir: string, name: string, after: Record<string, unknown>[]): Conflist {
  return {
    cniVersion: '1.0.0',
    name,
    plugins: [
      {
        type: 'bridge',
        bridge: `ntbr${process.pid % 100000}`,
        isGateway: false,
        ipMasq: false,
        ipam: { type: 'host-local', subnet: '10.213.0.0/24', dataDir: path.join(dir, 'ipam') },
      },
      ...after,
    ],
  };
}

t.test(
  'chained after bridge (host-local) and loopback, as a runtime runs the list',
  { skip: needPlugins },
  async (t) => {
    const { rt, a, dir } = setup(t);
    const file = path.join(dir, 'pod.conf');
    fs.writeFileSync(file, 'net.ipv4.conf.*.accept_local = 1\nnet.ipv4.tcp_keepalive_time = 613\n');
    const list = bridgeList(dir, 'podnet', [
      {
        type: 'netns-cni',
        sysctlFiles: [file],
        sysctl: { 'net.ipv4.conf.IFNAME.rp_filter': '2', 'net.core.somaxconn': '1204' },
        dataDir: path.join(dir, 'data'),
      },
    ]);
    const lo: Conflist = {
      cniVersion: '1.0.0',
      name: 'lo',
      plugins: [
        { type: 'loopback' },
        { type: 'netns-cni', sysctl: { 'net.ipv4.conf.IFNAME.log_martians': '1' }, dataDir: path.join(dir, 'data') },
      ],
    };
    const loA = { ...a, ifname: 'lo' };
    const somaxconn = valueIn(a.netns, 'net.core.somaxconn');

    const result = addList(rt, list, a);
    const ifs = result.interfaces as { name: string; sandbox?: string }[];
    t.ok(
      ifs.some((i) => i.name === 'eth0' && i.sandbox === a.netns),
      "bridge's result, passed through netns-cni",
    );
    t.equal((result.ips as unknown[]).length, 1, 'with its address');
    t.equal(valueIn(a.netns, 'net.ipv4.conf.eth0.rp_filter'), '2', 'the interface bridge just made, by IFNAME');
    t.equal(valueIn(a.netns, 'net.ipv4.conf.eth0.accept_local'), '1', "the file's glob reached eth0 too");
    t.equal(valueIn(a.netns, 'net.core.somaxconn'), '1204');
    t.equal(valueIn(a.netns, 'net.ipv4.tcp_keepalive_time'), '613');
    addList(rt, lo, loA);
    t.equal(valueIn(a.netns, 'net.ipv4.conf.lo.log_martians'), '1', 'the lo network: loopback, then netns-cni for lo');
    t.match(sh('ip', ['-n', path.basename(a.netns), '-o', 'link', 'show', 'lo']), /UP/, 'loopback brought lo up');

    checkList(rt, list, a, result);
    t.pass('CHECK of the whole list passes');
    {
      using ns = NetNamespace.fromPath(a.netns);
      ns.sysctl.set('net.ipv4.conf.eth0.rp_filter', 0);
    }
    try {
      checkList(rt, list, a, result);
      t.fail('CHECK should fail');
    } catch (e) {
      t.equal((e as ChainError).plugin, 'netns-cni', 'bridge passes, netns-cni reports the drift');
      t.equal((e as ChainError).code, 101);
    }

    delList(rt, lo, loA);
    delList(rt, list, a, result);
    t.equal(valueIn(a.netns, 'net.core.somaxconn'), somaxconn, 'DEL restored the namespace-wide keys');
    t.equal(valueIn(a.netns, 'net.ipv4.conf.eth0.rp_filter'), null, "bridge's DEL removed eth0");
    delList(rt, list, a, result);
    t.pass('a second DEL of the list succeeds');
  },
);

t.test(
  'beside the tuning plugin: the same map, the same values; a failing key: tuning keeps what it wrote, netns-cni restores',
  { skip: needPlugins },
  async (t) => {
    const { rt, a, dir } = setup(t);
    const pod2 = `/run/netns/${ipNetnsAdd(t, 'cnipod')}`;
    const b = { ...a, containerId: `${a.containerId}-b`, netns: pod2 };
    const map = {
      'net.core.somaxconn': '1205',
      'net.ipv4.conf.IFNAME.rp_filter': '2',
      'net.ipv4.tcp_keepalive_time': '614',
    };
    const ours = addList(
      rt,
      bridgeList(dir, 'ours', [{ type: 'netns-cni', sysctl: map, dataDir: path.join(dir, 'data') }]),
      a,
    );
    const theirs = addList(rt, bridgeList(dir, 'theirs', [{ type: 'tuning', sysctl: map }]), b);
    for (const k of ['net.core.somaxconn', 'net.ipv4.conf.eth0.rp_filter', 'net.ipv4.tcp_keepalive_time'])
      t.equal(valueIn(a.netns, k), valueIn(b.netns, k), `${k}: the same as tuning's`);
    t.same(Object.keys(ours).sort(), Object.keys(theirs).sort(), 'both pass the result through');

    // A map with a value the kernel refuses (an ipv6 MTU above eth0's 1500).
    const bad = { 'net.ipv4.tcp_keepalive_time': '615', 'net.ipv6.conf.IFNAME.mtu': '9000' };
    const addBad = (type: string, prevResult: unknown, at: Attachment) =>
      execPlugin(
        rt,
        type,
        'ADD',
        { cniVersion: '1.0.0', name: type, type, sysctl: bad, prevResult },
        {
          ...at,
          containerId: `${at.containerId}-bad`,
        },
      );
    if (!noIpv6) {
      t.equal(addBad('netns-cni', ours, a).json?.code, 100, 'netns-cni fails the ADD');
      t.equal(valueIn(a.netns, 'net.ipv4.tcp_keepalive_time'), '614', 'and leaves the namespace as it was');
      const y = addBad('tuning', theirs, b);
      t.not(y.status, 0, 'tuning fails the ADD too');
      // tuning writes its map in Go's random order and undoes nothing: the keepalive written
      // before the failing key (when it came first) stays.
      t.comment(
        `tuning left tcp_keepalive_time = ${valueIn(b.netns, 'net.ipv4.tcp_keepalive_time')} (614 before; 615 when it came first)`,
      );
    }
    delList(
      rt,
      bridgeList(dir, 'ours', [{ type: 'netns-cni', sysctl: map, dataDir: path.join(dir, 'data') }]),
      a,
      ours,
    );
    delList(rt, bridgeList(dir, 'theirs', [{ type: 'tuning', sysctl: map }]), b, theirs);
  },
);
