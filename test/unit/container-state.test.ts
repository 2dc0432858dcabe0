// Container state on disk, as runc, crun and containerd's runc shim write it, read from
// fabricated roots in a temporary directory: layouts, fields, names, and how a query resolves.
// Pure file reading: no root, no runtime. The live runtimes are in test/containers.test.ts.
import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
const geteuid = (): number => process.geteuid?.() ?? 0;
import * as path from 'node:path';
import {
  parseCrunStatus,
  parseRuncState,
  procStartTime,
  readRoot,
  kubernetesNames,
  startedAt,
} from '../../lib/container/read.js';
import { defaultRoots, rootsFor, rootsFromEnv } from '../../lib/container/roots.js';
import { findContainer, listContainers } from '../../lib/container/find.js';
import { openFoundContainer } from '../../lib/namespace/container.js';
import { auditHost, expectationsFrom, readTarget } from '../../lib/audit/audit.js';
import { spawn, spawnSync } from 'node:child_process';

const tmp = (t: Test): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'netns-cstate-'));
  t.teardown(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
};

const me = process.pid;
const myStart = procStartTime(me)!;

/** A runc state.json as libcontainer writes it (the fields the reader uses, and some others). */
function runcState(id: string, pid: number, start: number, bundle?: string, labels: string[] = []): unknown {
  return {
    id,
    init_process_pid: pid,
    init_process_start: start,
    created: '2026-01-02T03:04:05.123456789Z',
    config: {
      rootfs: '/x',
      labels: [...labels, ...(bundle ? [`bundle=${bundle}`] : [])],
      namespaces: [{ type: 'NEWNET', path: '' }],
    },
    rootless: false,
    namespace_paths: { NEWNET: `/proc/${pid}/ns/net` },
  };
}

/** crun's status file, field for field as libcrun's write_container_status writes it. */
function crunStatus(pid: number, start: number, bundle: string): unknown {
  return {
    pid,
    'process-start-time': start,
    'cgroup-path': '/c1',
    scope: '',
    rootfs: `${bundle}/rootfs`,
    'systemd-cgroup': false,
    bundle,
    created: '2026-01-02T03:04:05.000000000Z',
    owner: 'root',
    detached: true,
    external_descriptors: '["/dev/null","/dev/null","/dev/null"]',
  };
}

function write(file: string, v: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(v));
}

t.test('procStartTime: field 22 of /proc/PID/stat, undefined for a pid that is gone', async (t) => {
  const raw = fs.readFileSync(`/proc/${me}/stat`, 'utf8');
  t.equal(String(myStart), raw.slice(raw.lastIndexOf(')') + 2).split(' ')[19]);
  t.equal(procStartTime(0x3ffffff0), undefined);
  const d = tmp(t);
  fs.writeFileSync(path.join(d, 'stat'), '7 (a) b) c) Z 1 ' + '0 '.repeat(17) + '555');
  t.equal(procStartTime(7, path.join(d, 'stat')), undefined, 'a zombie has no namespace to open');
  fs.writeFileSync(path.join(d, 'stat'), '7 (a) b) c) S 1 ' + '0 '.repeat(17) + '555');
  t.equal(procStartTime(7, path.join(d, 'stat')), 555, 'comm with spaces and parentheses');
});

t.test('parseRuncState and parseCrunStatus: fields, bundle label, labels as annotations, bad input', async (t) => {
  const r = parseRuncState(runcState('abc', 10, 20, '/b', ['io.kubernetes.cri.container-name=web']), '/s')!;
  t.same(r, {
    oci: 'runc',
    id: 'abc',
    pid: 10,
    startTime: 20,
    stateFile: '/s',
    created: '2026-01-02T03:04:05.123456789Z',
    bundle: '/b',
    labels: { 'io.kubernetes.cri.container-name': 'web' },
  });
  t.equal(parseRuncState({ id: 'x', init_process_pid: 0, init_process_start: 1 }, '/s'), undefined, 'pid 0');
  t.equal(parseRuncState({ id: 'x', init_process_pid: 5 }, '/s'), undefined, 'no start time');
  t.equal(parseRuncState(null, '/s'), undefined);
  t.equal(parseRuncState([1], '/s'), undefined);
  const c = parseCrunStatus(crunStatus(11, 21, '/cb'), '/st', 'cid')!;
  t.same(c, {
    oci: 'crun',
    id: 'cid',
    pid: 11,
    startTime: 21,
    stateFile: '/st',
    created: '2026-01-02T03:04:05.000000000Z',
    bundle: '/cb',
    labels: {},
  });
  t.equal(parseCrunStatus({ pid: 3 }, '/st', 'x'), undefined);
});

t.test("kubernetesNames: the CRI plugin's annotations, CRI-O's, a sandbox", async (t) => {
  t.same(
    kubernetesNames({
      'io.kubernetes.cri.container-type': 'container',
      'io.kubernetes.cri.container-name': 'nginx',
      'io.kubernetes.cri.sandbox-name': 'web-0',
      'io.kubernetes.cri.sandbox-namespace': 'prod',
      'io.kubernetes.cri.sandbox-uid': 'u1',
      'io.kubernetes.cri.sandbox-id': 's1',
    }),
    {
      podNamespace: 'prod',
      podName: 'web-0',
      podUid: 'u1',
      sandboxId: 's1',
      type: 'container',
      containerName: 'nginx',
    },
  );
  t.same(
    kubernetesNames({
      'io.kubernetes.cri-o.ContainerType': 'sandbox',
      'io.kubernetes.pod.name': 'db-1',
      'io.kubernetes.pod.namespace': 'prod',
      'io.kubernetes.container.name': 'POD',
    }),
    { podNamespace: 'prod', podName: 'db-1', type: 'sandbox' },
    'a sandbox has no container name',
  );
  t.equal(kubernetesNames({ other: 'x' }), undefined);
});

t.test('readRoot: runc, crun and containerd layouts in one root; engines from annotations', async (t) => {
  const d = tmp(t);
  const bundle = path.join(d, 'bundles/p1');
  write(path.join(bundle, 'config.json'), { annotations: { 'io.container.manager': 'libpod', n: 1 } });
  const crioBundle = path.join(d, 'bundles/c1');
  write(path.join(crioBundle, 'config.json'), {
    annotations: {
      'io.kubernetes.cri-o.ContainerType': 'container',
      'io.kubernetes.container.name': 'app',
      'io.kubernetes.pod.name': 'p',
      'io.kubernetes.pod.namespace': 'ns',
    },
  });
  write(path.join(d, 'root/plain/state.json'), runcState('plain', me, myStart));
  write(path.join(d, 'root/pod1/state.json'), runcState('pod1', me, myStart, bundle));
  write(path.join(d, 'root/crio1/state.json'), runcState('crio1', me, myStart + 1, crioBundle));
  write(path.join(d, 'root/cr1/status'), crunStatus(me, myStart, bundle));
  write(path.join(d, 'root/k8s.io/ctd1/state.json'), runcState('ctd1', me, myStart));
  fs.mkdirSync(path.join(d, 'root/empty'));
  fs.writeFileSync(path.join(d, 'root/plain.lock'), '');
  write(path.join(d, 'root/broken/state.json'), '{');
  fs.writeFileSync(path.join(d, 'root/broken/state.json'), '{"id":');
  const all = readRoot({ runtime: 'runc', dir: path.join(d, 'root') });
  const by = Object.fromEntries(all.map((c) => [c.id, c]));
  t.same(
    Object.keys(by).sort(),
    ['cr1', 'crio1', 'ctd1', 'plain', 'pod1'],
    'half-written and empty entries are skipped',
  );
  t.equal(by.plain!.runtime, 'runc');
  t.equal(by.plain!.running, true, 'recorded start time matches the live process');
  t.equal(by.pod1!.runtime, 'podman', 'io.container.manager=libpod');
  t.same(by.pod1!.annotations, { 'io.container.manager': 'libpod' }, 'string annotations only');
  t.equal(by.crio1!.runtime, 'cri-o');
  t.equal(by.crio1!.name, 'app');
  t.equal(by.crio1!.running, false, 'start time differs: not the recorded process');
  t.equal(by.cr1!.oci, 'crun');
  t.equal(by.cr1!.runtime, 'podman');
  t.equal(by.ctd1!.runtime, 'containerd', "NAMESPACE/ID below a root is containerd's layout");
  t.equal(by.ctd1!.namespace, 'k8s.io');
  t.same(readRoot({ runtime: 'runc', dir: path.join(d, 'nope') }), [], 'a missing root is empty');
});

t.test(
  "a state file names only processes its owner may name: a user's own root cannot claim another user's process",
  async (t) => {
    // A rootless runtime's root (/run/user/UID/runc, read by default as root) is the user's to
    // write: a state.json there could name any pid with its true start time (readable by anyone).
    const d = tmp(t);
    const root = geteuid() === 0;
    const user = root ? 65534 : geteuid(); // as root, the state files are given to nobody
    const initStart = procStartTime(1)!;
    write(path.join(d, 'root/fake/state.json'), runcState('fake', 1, initStart));
    write(path.join(d, 'root/fake2/status'), crunStatus(1, initStart, path.join(d, 'b')));
    for (const f of ['root/fake/state.json', 'root/fake2/status']) if (root) fs.chownSync(path.join(d, f), user, user);
    const by = Object.fromEntries(listContainers({ root: path.join(d, 'root') }).map((c) => [c.id, c]));
    t.equal(by.fake?.running, false, `a state file of uid ${user} does not make pid 1 (uid 0) its container`);
    t.equal(by.fake2?.running, false, "crun's status file alike");
    t.throws(() => openFoundContainer(by.fake!), {
      code: 'EPERM',
      message: new RegExp(`owned by uid ${user}.*pid 1 `),
    });
    // A state.json whose id is not its directory's name is not runc's (runc names the directory by the id).
    write(path.join(d, 'root/abc/state.json'), runcState('../../../x', me, myStart));
    t.notOk(
      listContainers({ root: path.join(d, 'root') }).some((c) => c.id.includes('..')),
      'id must be the directory name',
    );
    // A symlinked state file is not read (it could lead to another root's file).
    write(path.join(d, 'elsewhere/state.json'), runcState('link', me, myStart));
    fs.mkdirSync(path.join(d, 'root/link'));
    fs.symlinkSync(path.join(d, 'elsewhere/state.json'), path.join(d, 'root/link/state.json'));
    t.notOk(
      listContainers({ root: path.join(d, 'root') }).some((c) => c.stateFile.includes('/link/')),
      'a symlinked state file is skipped',
    );
    if (!root) return t.comment("the owner's own process as another uid needs root (skipped: not root)");
    const child = spawn('sleep', ['30'], { uid: user, gid: user, stdio: 'ignore' });
    t.teardown(() => child.kill('SIGKILL'));
    let start: number | undefined;
    for (let i = 0; i < 100 && (start = procStartTime(child.pid!)) === undefined; i++)
      await new Promise((r) => setTimeout(r, 10));
    write(path.join(d, 'own/mine/state.json'), runcState('mine', child.pid!, start!));
    fs.chownSync(path.join(d, 'own/mine/state.json'), user, user);
    t.equal(
      listContainers({ root: path.join(d, 'own') })[0]?.running,
      true,
      "a process of the state file's owner is its container",
    );
  },
);

t.test('roots: defaults, NETNS_CONTAINER_ROOTS, options, duplicates and bad input', async (t) => {
  const dirs = defaultRoots({ XDG_RUNTIME_DIR: '/run/user/1000' }).map((r) => `${r.runtime}=${r.dir}`);
  for (const want of [
    'runc=/run/runc',
    'crun=/run/crun',
    'docker=/run/docker/runtime-runc/moby',
    'containerd=/run/containerd/runc',
    'runc=/run/user/1000/runc',
    'crun=/run/user/1000/crun',
  ])
    t.ok(dirs.includes(want), want);
  t.same(rootsFromEnv('docker=/a:/b::crun=/c'), [
    { runtime: 'docker', dir: '/a' },
    { runtime: 'runc', dir: '/b' },
    { runtime: 'crun', dir: '/c' },
  ]);
  t.throws(() => rootsFromEnv('lxc=/x'), RangeError);
  t.same(
    rootsFor({}, { NETNS_CONTAINER_ROOTS: '/a:/a/' }),
    [{ runtime: 'runc', dir: '/a' }],
    'the same directory once',
  );
  // A root that is a symlink to another (a user's /run/user/UID/runc -> /run/runc) is the same
  // directory: read once, or every container there would be found twice (ambiguous).
  const d = tmp(t);
  fs.mkdirSync(path.join(d, 'real'));
  fs.symlinkSync(path.join(d, 'real'), path.join(d, 'link'));
  t.same(
    rootsFor({}, { NETNS_CONTAINER_ROOTS: `${d}/real:crun=${d}/link` }),
    [{ runtime: 'runc', dir: `${d}/real` }],
    'a symlinked root once',
  );
  t.same(rootsFor({ runtime: 'docker' }, { NETNS_CONTAINER_ROOTS: 'runc=/a:docker=/b' }), [
    { runtime: 'docker', dir: '/b', dataRoot: '/var/lib/docker' },
  ]);
  t.same(
    rootsFor({ runtime: 'podman' }, { NETNS_CONTAINER_ROOTS: 'runc=/a:docker=/b:crun=/c' }).map((r) => r.dir),
    ['/a', '/c'],
    "Podman keeps its containers in runc's and crun's roots",
  );
  t.same(rootsFor({ root: '/r', runtime: 'crun' }), [{ runtime: 'crun', dir: '/r' }]);
  t.same(rootsFor({ roots: [{ runtime: 'docker', dir: '/d' }] }, {}), [
    { runtime: 'docker', dir: '/d', dataRoot: '/var/lib/docker' },
  ]);
  t.throws(() => rootsFor({ runtime: 'lxc' as never }), RangeError);
  t.throws(() => rootsFor({ root: '' }), TypeError);
  t.throws(() => rootsFor({ roots: 'x' as never }), TypeError);
  t.throws(() => rootsFor(null as never), TypeError);
});

t.test(
  'findContainer: exact id or name anywhere, then a prefix of a generated id only; unknown and ambiguous list what matched',
  async (t) => {
    const d = tmp(t);
    const b = path.join(d, 'b1');
    write(path.join(b, 'config.json'), {
      annotations: {
        'io.kubernetes.cri.container-type': 'container',
        'io.kubernetes.cri.container-name': 'nginx',
        'io.kubernetes.cri.sandbox-name': 'web-0',
        'io.kubernetes.cri.sandbox-namespace': 'prod',
      },
    });
    // containerd's CRI ids are 64 hex digits; bbbb is an id a person chose (ctr run ... bbbb).
    const h1 = 'aaaa1111'.padEnd(64, 'e');
    const h2 = 'aaaa2222'.padEnd(64, 'e');
    write(path.join(d, `root/k8s.io/${h1}/state.json`), runcState(h1, me, myStart, b));
    write(path.join(d, `root/k8s.io/${h2}/state.json`), runcState(h2, me, myStart));
    write(path.join(d, 'root/k8s.io/bbbb/state.json'), runcState('bbbb', me, myStart + 5));
    const o = { root: path.join(d, 'root') };
    t.equal(listContainers(o).length, 3);
    t.equal(findContainer(h1, o).id, h1);
    t.equal(findContainer('nginx', o).id, h1);
    t.equal(findContainer('web-0/nginx', o).id, h1);
    t.equal(findContainer('prod/web-0/nginx', o).id, h1);
    t.equal(findContainer(`k8s.io/${h2}`, o).id, h2);
    t.equal(findContainer('aaaa2', o).id, h2, 'a prefix of a generated id');
    t.equal(findContainer('k8s.io/aaaa2', o).id, h2, 'NAMESPACE/PREFIX');
    t.equal(findContainer('bbbb', o).id, 'bbbb', 'a stopped container is still found (opening it says it is gone)');
    t.throws(() => findContainer('bb', o), {
      code: 'ENOENT',
      message: /no container matches "bb".*it begins containerd k8s\.io\/bbbb.*matched whole/,
    });
    t.throws(
      () => findContainer('ngin', o),
      { code: 'ENOENT', message: /it begins .*prod\/web-0\/nginx/ },
      'names whole',
    );
    t.throws(() => findContainer('moby/aaaa2', o), { code: 'ENOENT' }, 'another containerd namespace');
    t.throws(() => findContainer('aaaa', o), {
      code: 'EINVAL',
      message:
        /"aaaa" matches 2 containers: containerd k8s\.io\/aaaa1111e+ \(prod\/web-0\/nginx\) in .*\/root\/k8s\.io; containerd k8s\.io\/aaaa2222e+ in .*Give the full id/,
    });
    t.throws(() => findContainer('zz', o), {
      code: 'ENOENT',
      message: /no container matches "zz" \(searched runc .*\/root\)\. Known containers: containerd k8s\.io\/aaaa1111/,
    });
    t.throws(() => findContainer('zz', { root: path.join(d, 'none') }), {
      code: 'ENOENT',
      message: /No container state was found there/,
    });
    t.throws(() => findContainer('', o), TypeError);
    // The same id in two containerd namespaces: ambiguous unless one of them is running.
    write(path.join(d, `root/moby/${h2}/state.json`), runcState(h2, me, myStart + 9));
    t.equal(findContainer(h2, o).namespace, 'k8s.io', 'the running one wins over a stale state directory');
    write(path.join(d, `root/moby/${h2}/state.json`), runcState(h2, me, myStart));
    t.throws(() => findContainer(h2, o), { code: 'EINVAL', message: /matches 2 containers/ });
  },
);

t.test(
  'findContainer across roots: an exact id or name anywhere beats any prefix; names are never prefixes',
  async (t) => {
    const d = tmp(t);
    // The case: nu-ctr in a root searched only when asked, nu-ctr2 in the default one.
    write(path.join(d, 'other/nu-ctr/state.json'), runcState('nu-ctr', me, myStart));
    write(path.join(d, 'run-runc/nu-ctr2/state.json'), runcState('nu-ctr2', me, myStart));
    const only = { roots: [{ runtime: 'runc' as const, dir: path.join(d, 'run-runc') }] };
    const both = { roots: [{ runtime: 'runc' as const, dir: path.join(d, 'other') }, ...only.roots] };
    t.throws(
      () => findContainer('nu-ctr', only),
      { code: 'ENOENT', message: /it begins runc nu-ctr2/ },
      'never nu-ctr2',
    );
    t.throws(() => findContainer('n', only), { code: 'ENOENT' });
    t.equal(findContainer('nu-ctr', both).id, 'nu-ctr', 'the exact id in the other root');
    t.equal(findContainer('nu-ctr2', both).id, 'nu-ctr2');
    // A Docker container whose generated id starts with what is another container's exact id.
    const hex = 'abc'.padEnd(64, '0');
    write(path.join(d, `moby/${hex}/state.json`), runcState(hex, me, myStart));
    write(path.join(d, 'run-runc/abc/state.json'), runcState('abc', me, myStart));
    const mixed = { roots: [{ runtime: 'docker' as const, dir: path.join(d, 'moby') }, ...only.roots] };
    t.equal(findContainer('abc', mixed).id, 'abc', 'the exact id, not the prefix of the generated one');
    t.equal(findContainer('abc0', mixed).id, hex, 'a longer prefix names the generated id');
    t.equal(findContainer('abc0', mixed).runtime, 'docker');
    // The same exact name in two roots, both running: ambiguous, each candidate with its root.
    write(path.join(d, 'run-runc/web/state.json'), runcState('web', me, myStart));
    write(path.join(d, 'other/web/state.json'), runcState('web', me, myStart));
    t.throws(() => findContainer('web', both), {
      code: 'EINVAL',
      message: /"web" matches 2 containers: runc web in .*other; runc web in .*run-runc/,
    });
  },
);

t.test('expectationsFrom: sysctl.d lines, net keys only, globs, exclusions', async (t) => {
  const ex = expectationsFrom(
    [
      '# c',
      'net.ipv4.tcp_keepalive_time = 600',
      'kernel.pid_max = 1',
      'net/core/somaxconn=4096',
      'net.ipv4.conf.*.rp_filter = 2',
      '-net.ipv4.tcp_keepalive_time',
      '-net.ipv4.ip_forward = 0',
    ].join('\n'),
    'f.conf',
  );
  t.same(
    [...ex.exact.keys()],
    ['net/core/somaxconn', 'net/ipv4/ip_forward'],
    'non-net keys ignored; a -KEY line removes an expectation',
  );
  t.same(ex.exact.get('net/core/somaxconn'), { key: 'net.core.somaxconn', value: '4096', where: 'f.conf:4' });
  t.equal(ex.globs.length, 1);
  t.ok(ex.globs[0]!.re.test('net/ipv4/conf/eth0/rp_filter'));
});

t.test('expectations on keys whose interface name holds a dot (VLAN eth0.100) keep their key', async (t) => {
  const text = [
    'net.ipv4.conf.nosuch0/100.rp_filter = 1',
    'net/ipv4/conf/nosuch1.7/arp_ignore = 2',
    'net.ipv4.conf.nosuch2.rp_filter = 1',
  ].join('\n');
  const ex = expectationsFrom(text, 'f.conf');
  t.equal(
    ex.exact.get('net/ipv4/conf/nosuch0.100/rp_filter')?.key,
    'net.ipv4.conf.nosuch0/100.rp_filter',
    'sysctl(8) form: the dot in the name becomes a slash',
  );
  t.equal(
    ex.exact.get('net/ipv4/conf/nosuch1.7/arp_ignore')?.key,
    'net.ipv4.conf.nosuch1/7.arp_ignore',
    'path form written in the file',
  );
  // The host lacks these interfaces: each exact expectation is a deviation (value null), none dropped.
  const r = auditHost({ expect: { text, file: 'f.conf' }, containers: { roots: [] }, classify: false });
  t.same(
    r.hostDeviations.map((d) => [d.key, d.value, d.where]),
    [
      ['net.ipv4.conf.nosuch0/100.rp_filter', null, 'f.conf:1'],
      ['net.ipv4.conf.nosuch1/7.arp_ignore', null, 'f.conf:2'],
      ['net.ipv4.conf.nosuch2.rp_filter', null, 'f.conf:3'],
    ],
  );
});

t.test(
  "the spec's sysctls: runc's state.json (what it applied) over config.json, crun's from config.json",
  async (t) => {
    const d = tmp(t);
    const bundle = path.join(d, 'bundles/b1');
    const withState = runcState('s1', me, myStart, bundle) as { config: Record<string, unknown> };
    withState.config.sysctl = { 'net.ipv4.tcp_keepalive_probes': '5', 'net/ipv4/tcp_keepalive_intvl': '30' };
    write(path.join(d, 'root/s1/state.json'), withState);
    const linux = { sysctl: { 'net.ipv4.tcp_keepalive_probes': '3', 'net.core.somaxconn': 1024 } };
    write(path.join(bundle, 'config.json'), { linux });
    write(path.join(d, 'root/s2/state.json'), runcState('s2', me, myStart, bundle));
    write(path.join(d, 'root/s3/state.json'), runcState('s3', me, myStart));
    write(path.join(d, 'root/cr1/status'), crunStatus(me, myStart, bundle));
    const by = Object.fromEntries(readRoot({ runtime: 'runc', dir: path.join(d, 'root') }).map((c) => [c.id, c]));
    t.same(by.s1!.sysctl, { 'net.ipv4.tcp_keepalive_probes': '5', 'net/ipv4/tcp_keepalive_intvl': '30' });
    t.equal(by.s1!.sysctlSource, path.join(d, 'root/s1/state.json'), 'what runc recorded at creation wins');
    t.same(by.s2!.sysctl, { 'net.ipv4.tcp_keepalive_probes': '3' }, "config.json's linux.sysctl, strings only");
    t.equal(by.s2!.sysctlSource, path.join(bundle, 'config.json'));
    t.same([by.s3!.sysctl, by.s3!.sysctlSource], [undefined, undefined], 'neither records one');
    t.same(by.cr1!.sysctl, { 'net.ipv4.tcp_keepalive_probes': '3' }, "crun's status has none: the bundle's");
    t.match(startedAt({ created: '2026-01-02T03:04:05.123456789Z', startTime: 1 }), /^2026-01-02T03:04:05/);
    const fromTicks = Date.parse(startedAt({ startTime: myStart })!);
    t.ok(Math.abs(fromTicks - (Date.now() - process.uptime() * 1000)) < 5000, 'else boot time + start ticks');
  },
);

t.test(
  'readTarget: a namespace whose pid exited or now leads elsewhere is a per-namespace error, not another namespace',
  async (t) => {
    const self = fs.statSync('/proc/self/ns/net');
    const here = `${self.dev}:${self.ino}`;
    const ok = readTarget({ id: here, names: [], pids: [me], containers: [] }, new Map());
    t.equal(ok.error, undefined);
    t.ok(ok.snapshot && Object.keys(ok.snapshot.raw).length > 50, 'the listed namespace is read');
    // Listed as namespace 0:1 with pid `me`, but pid `me` is in `here`: the pid was reused by
    // another process (or it moved) between the listing and the open.
    const moved = readTarget({ id: '0:1', names: [], pids: [me], containers: [] }, new Map());
    t.equal(moved.snapshot, undefined, 'no values of another namespace under the listed one');
    t.equal(moved.error?.code, 'ESRCH');
    t.match(moved.error?.message, new RegExp(`namespace 0:1 .*pid ${me} .*${here}.*list \\(or audit\\) again`));
    const exited = spawnSync('true').pid!;
    const gone = readTarget({ id: '0:1', names: [], pids: [exited], containers: [] }, new Map());
    t.equal(gone.error?.code, 'ESRCH', 'an exited process: an error for that namespace only');
  },
);

t.test("names: containers-storage (Podman, CRI-O) from containers.json, nerdctl's annotation", async (t) => {
  const d = tmp(t);
  const saved = process.env.XDG_DATA_HOME;
  process.env.XDG_DATA_HOME = path.join(d, 'share');
  t.teardown(() => {
    if (saved === undefined) delete process.env.XDG_DATA_HOME;
    else process.env.XDG_DATA_HOME = saved;
  });
  write(path.join(d, 'share/containers/storage/overlay-containers/containers.json'), [
    { id: 'p1', names: ['web'], image: 'i' },
    { id: 'p2', names: [] },
    'junk',
  ]);
  const bundle = path.join(d, 'b');
  write(path.join(bundle, 'config.json'), { annotations: { 'io.container.manager': 'libpod' } });
  const nb = path.join(d, 'nb');
  write(path.join(nb, 'config.json'), { annotations: { 'nerdctl/name': 'cache' } });
  write(path.join(d, 'root/p1/state.json'), runcState('p1', me, myStart, bundle));
  write(path.join(d, 'root/p2/state.json'), runcState('p2', me, myStart, bundle));
  write(path.join(d, 'root/default/n1/state.json'), runcState('n1', me, myStart, nb));
  const by = Object.fromEntries(listContainers({ root: path.join(d, 'root') }).map((c) => [c.id, c]));
  t.equal(by.p1?.name, 'web', "Podman's name from containers-storage");
  t.equal(by.p2?.name, undefined, 'no name kept');
  t.equal(by.n1?.name, 'cache');
  t.equal(findContainer('web', { root: path.join(d, 'root') }).id, 'p1');
});

t.test(
  'Docker roots: --exec-root and --data-root as options, NETNS_DOCKER_EXEC_ROOT / NETNS_DOCKER_DATA_ROOT, defaults',
  async (t) => {
    const docker = (o: Parameters<typeof rootsFor>[0], env: NodeJS.ProcessEnv) =>
      rootsFor({ ...o, runtime: 'docker' }, env);
    t.same(
      docker({}, {}),
      [{ runtime: 'docker', dir: '/run/docker/runtime-runc/moby', dataRoot: '/var/lib/docker' }],
      "Debian's docker.io defaults",
    );
    t.same(docker({}, { NETNS_DOCKER_EXEC_ROOT: '/e', NETNS_DOCKER_DATA_ROOT: '/d' }), [
      { runtime: 'docker', dir: '/e/runtime-runc/moby', dataRoot: '/d' },
    ]);
    t.same(
      docker({ docker: { execRoot: '/x' } }, { NETNS_DOCKER_EXEC_ROOT: '/e', NETNS_DOCKER_DATA_ROOT: '/d' }),
      [{ runtime: 'docker', dir: '/x/runtime-runc/moby', dataRoot: '/d' }],
      'options win, field by field',
    );
    t.same(
      docker({ docker: { dataRoot: '/y' } }, { NETNS_DOCKER_EXEC_ROOT: '' }),
      [{ runtime: 'docker', dir: '/run/docker/runtime-runc/moby', dataRoot: '/y' }],
      'an empty variable is unset',
    );
    t.same(
      docker({ root: '/r', docker: { execRoot: '/x', dataRoot: '/y' } }, {}),
      [{ runtime: 'docker', dir: '/r', dataRoot: '/y' }],
      'with one root: only the data-root applies',
    );
    t.same(
      rootsFor({ roots: [{ runtime: 'docker', dir: '/a', dataRoot: '/own' }], docker: { dataRoot: '/y' } }, {}),
      [{ runtime: 'docker', dir: '/a', dataRoot: '/own' }],
      "a root's own data-root stays",
    );
    t.same(
      rootsFor({ runtime: 'runc', docker: { dataRoot: '/y' } }, {}).filter((r) => r.dataRoot !== undefined),
      [],
      'only Docker roots get one',
    );
    t.throws(() => rootsFor({ docker: { execRoot: '' } }), { name: 'TypeError', message: /options\.docker\.execRoot/ });
    t.throws(() => rootsFor({ docker: { dataRoot: 5 as never } }), {
      name: 'TypeError',
      message: /options\.docker\.dataRoot/,
    });
    t.throws(() => rootsFor({ docker: 'x' as never }), { name: 'TypeError', message: /options\.docker/ });
  },
);

t.test('Docker names from DATA_ROOT/containers/ID/config.v2.json, found through the exec-root', async (t) => {
  const d = tmp(t);
  const id = 'c0ffee'.padEnd(64, '0');
  const other = 'bad0'.padEnd(64, '1');
  // As a dockerd with --exec-root d/exec --data-root d/data lays them out.
  const bundle = path.join(d, 'exec/containerd/daemon/io.containerd.runtime.v2.task/moby', id);
  write(path.join(bundle, 'config.json'), { linux: { sysctl: { 'net.ipv4.tcp_keepalive_time': '600' } } });
  write(path.join(d, 'exec/runtime-runc/moby', id, 'state.json'), runcState(id, me, myStart, bundle));
  write(path.join(d, 'exec/runtime-runc/moby', other, 'state.json'), runcState(other, me, myStart));
  write(path.join(d, 'data/containers', id, 'config.v2.json'), { ID: id, Name: '/web', State: { Pid: me } });
  write(path.join(d, 'data/containers', other, 'config.v2.json'), { ID: id, Name: '/impostor' });
  const o = { runtime: 'docker' as const, docker: { execRoot: path.join(d, 'exec'), dataRoot: path.join(d, 'data') } };
  const by = Object.fromEntries(listContainers(o).map((c) => [c.id, c]));
  t.same(Object.keys(by).sort(), [id, other].sort());
  t.equal(by[id]?.runtime, 'docker');
  t.equal(by[id]?.name, 'web', "Docker's name, without its leading slash");
  t.equal(by[id]?.bundle, bundle, "the bundle in the daemon's containerd state, from runc's bundle= label");
  t.equal(by[other]?.name, undefined, 'a config.v2.json that records another id names nothing');
  t.equal(findContainer('web', o).id, id);
  t.equal(
    listContainers({
      runtime: 'docker',
      roots: [{ runtime: 'docker', dir: path.join(d, 'exec/runtime-runc/moby') }],
    })[0]?.name,
    undefined,
    'names are not looked for in another data-root',
  );
  t.equal(
    listContainers({
      root: path.join(d, 'exec/runtime-runc/moby'),
      runtime: 'docker',
      docker: { dataRoot: path.join(d, 'data') },
    }).find((c) => c.id === id)?.name,
    'web',
  );
});

t.test(
  'Podman names beside its bundle: GRAPHROOT/DRIVER-containers/containers.json, whatever --root and driver',
  async (t) => {
    const d = tmp(t);
    const graph = path.join(d, 'graph');
    const id = 'ab12'.padEnd(64, 'f');
    const vid = 'cd34'.padEnd(64, 'e');
    const stray = 'ef56'.padEnd(64, 'd');
    const bundleOf = (i: string) => path.join(graph, 'vfs-containers', i, 'userdata');
    for (const i of [id, vid, stray])
      write(path.join(bundleOf(i), 'config.json'), { annotations: { 'io.container.manager': 'libpod' } });
    write(path.join(graph, 'vfs-containers/containers.json'), [{ id, names: ['db'] }]);
    write(path.join(graph, 'vfs-containers/volatile-containers.json'), [{ id: vid, names: ['tmp-1'] }]);
    write(path.join(d, 'root', id, 'state.json'), runcState(id, me, myStart, bundleOf(id)));
    write(path.join(d, 'root', vid, 'state.json'), runcState(vid, me, myStart, bundleOf(vid)));
    // A bundle that is not ID/userdata below a DRIVER-containers directory is not looked beside.
    const elsewhere = path.join(d, 'elsewhere', stray, 'userdata');
    write(path.join(elsewhere, 'config.json'), { annotations: { 'io.container.manager': 'libpod' } });
    write(path.join(d, 'elsewhere/containers.json'), [{ id: stray, names: ['nope'] }]);
    write(path.join(d, 'root', stray, 'state.json'), runcState(stray, me, myStart, elsewhere));
    const by = Object.fromEntries(listContainers({ root: path.join(d, 'root') }).map((c) => [c.id, c]));
    t.equal(by[id]?.runtime, 'podman');
    t.equal(by[id]?.name, 'db');
    t.equal(by[vid]?.name, 'tmp-1', 'a transient store (volatile-containers.json) too');
    t.equal(by[stray]?.name, undefined);
    t.equal(findContainer('db', { root: path.join(d, 'root') }).id, id);
  },
);

t.test('a bundle whose config.json is a FIFO or huge does not stop the scan', async (t) => {
  const d = tmp(t);
  const fifo = path.join(d, 'fifo-bundle');
  fs.mkdirSync(fifo);
  t.equal(spawnSync('mkfifo', [path.join(fifo, 'config.json')]).status, 0, 'mkfifo');
  write(path.join(d, 'root/f1/state.json'), runcState('f1', me, myStart, fifo));
  const huge = path.join(d, 'huge-bundle');
  write(path.join(huge, 'config.json'), { annotations: { big: 'yes' } });
  fs.truncateSync(path.join(huge, 'config.json'), 65 << 20); // sparse: no disk used
  write(path.join(d, 'root/h1/state.json'), runcState('h1', me, myStart, huge));
  const all = listContainers({ root: path.join(d, 'root') });
  t.same(
    all.map((c) => [c.id, c.annotations]),
    [
      ['f1', {}],
      ['h1', {}],
    ],
    'read without blocking, nor past 64 MiB: no annotations',
  );
});
