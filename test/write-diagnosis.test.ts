// The write diagnosis against real containers, each checked against what a write really does:
// a runc container (root, /proc/sys read-only as runc makes it), rootless runc containers run
// by nobody (a user namespace of their own, with and without CAP_NET_ADMIN, with and without a
// network namespace of their own), and `unshare -Urn` as nobody. Writes are only tried inside
// namespaces the test's containers own; the containers that share the host's network namespace
// are only diagnosed, never written to.
// Needs: root, runc, a static busybox, setpriv and unshare (util-linux), and unprivileged user
// namespaces for the rootless cases.
import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NetNamespace, explain } from '../lib/index.js';
import { diagnoseWrite, diagnoseWrites } from '../lib/explain/write-diagnosis.js';
import { busyboxRootfs, containerId, missing, runcBundle, runcExec, runcRun, tempDir } from './containers-env.js';
import { checkThreadsAtEnd, childEnv, plainNode } from './helpers.js';

checkThreadsAtEnd(t);
const why = missing(['runc', 'setpriv', 'unshare']);
const KEY = 'net.ipv4.tcp_keepalive_time';
const FILE = '/proc/sys/net/ipv4/tcp_keepalive_time';
const NOBODY = 65534;
const CLI = fileURLToPath(new URL('../dist/bin/netns.js', import.meta.url));
function netns(args: string[]) {
  const [cmd, a] = plainNode([CLI, ...args]);
  const r = spawnSync(cmd, a, { encoding: 'utf8', input: '', env: childEnv({}), timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const asNobody = ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'];

/** Unprivileged user namespaces work here (for the rootless cases). */
const noUserns =
  why ??
  (spawnSync(asNobody[0]!, [...asNobody.slice(1), 'unshare', '-Ur', 'true'], { stdio: 'ignore' }).status === 0
    ? undefined
    : 'unprivileged user namespaces are not available');

t.test('a runc container: /proc/sys is read-only inside, nsenter -n from the host works', { skip: why }, async (t) => {
  const dir = tempDir(t, 'netns-wd');
  const c = runcRun(t, containerId('wd'), runcBundle(dir), path.join(dir, 'state'));
  const target = { container: c.id, options: { root: c.root } };

  const d = diagnoseWrite(target, KEY, { value: '7000' });
  t.equal(d.inside.allowed, false, 'not writable inside');
  t.equal(d.inside.errno, 'EROFS');
  t.equal(d.inside.obstacles[0]?.code, 'read-only-mount', 'the read-only mount is the reason');
  t.same(d.facts.procSysMount, { mountPoint: '/proc/sys', fstype: 'proc', readOnly: true, root: '/sys' });
  // What a write inside really does (runc exec enters the container's mount namespace, as docker exec does).
  const inside = runcExec(c, ['/bin/busybox', 'sh', '-c', `echo 7000 > ${FILE}`]);
  t.not(inside.status, 0, 'a write inside fails');
  t.match(inside.stderr, /Read-only file system/, `the shell says so: ${inside.stderr.trim()}`);
  t.equal(d.fromHost.allowed, true);
  t.match(d.fromHost.why, /keeps the host's mount namespace/);
  t.match(d.fromHost.why, /resolves in the network namespace of the thread that opens it/);
  t.match(
    d.remedies.join('\n'),
    new RegExp(`netns sysctl --container ${c.id} -w ${KEY}=7000`),
    'remedy: from the host',
  );
  t.match(
    d.remedies.join('\n'),
    /docker run --sysctl net\.ipv4\.tcp_keepalive_time=7000/,
    'remedy: docker run --sysctl',
  );
  t.match(d.remedies.join('\n'), /securityContext: \{ sysctls:/, 'remedy: securityContext.sysctls');
  // And from the host, into the container's namespace only: it works and the container sees it.
  {
    using ns = NetNamespace.fromPid(c.pid);
    ns.sysctl.set(KEY, 7000);
  }
  t.equal(runcExec(c, ['/bin/busybox', 'cat', FILE]).stdout.trim(), '7000', 'set from the host, seen inside');

  const fwd = diagnoseWrite(target, 'net.ipv4.ip_forward');
  t.ok(
    fwd.inside.obstacles.some((o) => o.code === 'needs-cap-net-admin' && o.errno === 'EPERM'),
    'ip_forward: the container has no CAP_NET_ADMIN (devinet_sysctl_forward)',
  );

  const hostOnly = diagnoseWrite(target, 'net.core.netdev_max_backlog');
  t.equal(hostOnly.inside.obstacles[0]?.code, 'host-only', 'a host-only key: absent in the container');
  t.equal(hostOnly.inside.errno, 'ENOENT');
  t.equal(hostOnly.fromHost.allowed, false, 'nsenter -n does not help: the entry does not exist there');
  t.match(hostOnly.remedies.join('\n'), /No per-container setting exists/);
  t.match(hostOnly.remedies.join('\n'), /every container/, 'says what changing it on the host does');
  t.match(hostOnly.remedies.join('\n'), /no such file or directory/, 'says how runc refuses it at start');

  // The same diagnosis in explain(ns, keys) (the container found in the namespace) and in
  // `netns explain --container ID KEY`, human and --json.
  {
    using ns = NetNamespace.fromContainer(c.id, { root: c.root });
    const [k] = explain(ns, [KEY], { containers: { root: c.root } }).keys;
    t.equal(k?.write?.inside.errno, 'EROFS', "explain(ns, [KEY]).keys[0].write: the first container's diagnosis");
    t.equal(k?.write?.container?.id, c.id);
    t.equal(explain(ns, undefined, { containers: { root: c.root } }).keys[0]?.write, undefined, 'not without keys');
    t.throws(() => explain(ns, [KEY], { pid: process.pid }), RangeError, 'a pid outside the namespace is refused');
    t.equal(explain(ns, [KEY], { pid: c.pid }).keys[0]?.write?.inside.errno, 'EROFS', 'or the pid given');
  }
  const human = netns(['explain', '--container', c.id, '--container-root', c.root, KEY]);
  t.equal(human.status, 0, human.stderr);
  t.match(
    human.stdout,
    /write inside: +no \(EROFS\): \/proc\/sys is mounted read-only in the container's mount namespace/,
  );
  t.match(human.stdout, /from the host: +yes: as root on the host, `nsenter -t \d+ -n sysctl -w/);
  t.match(human.stdout, new RegExp(`what to do: +1\\. from the host, as root: netns sysctl --container ${c.id} -w`));
  t.match(human.stdout, /^ +2\. at start with Docker or Podman: docker run --sysctl/m);
  const j = netns(['explain', '--container', c.id, '--container-root', c.root, '--json', KEY]);
  t.equal(j.status, 0, j.stderr);
  const w = JSON.parse(j.stdout).keys[0].write;
  t.same([w.inside.allowed, w.inside.errno, w.inside.obstacles[0].code], [false, 'EROFS', 'read-only-mount']);
  t.equal(w.fromHost.allowed, true);
});

/** A rootless runc container run by nobody: its bundle and state in DIR, deleted at teardown. */
function rootlessRunc(
  t: Test,
  edit: (spec: {
    linux: { namespaces: { type: string }[]; readonlyPaths?: string[] };
    process: { capabilities: Record<string, string[]> };
  }) => void,
): { id: string; pid: number; exec: (args: string[]) => { status: number | null; stderr: string } } {
  const dir = tempDir(t, 'netns-wdr');
  fs.chmodSync(dir, 0o755);
  const bundle = path.join(dir, 'bundle');
  const state = path.join(dir, 'state');
  fs.mkdirSync(bundle);
  fs.mkdirSync(state);
  busyboxRootfs(bundle);
  const nobody = (args: string[]) =>
    spawnSync(asNobody[0]!, [...asNobody.slice(1), ...args], {
      cwd: bundle,
      encoding: 'utf8',
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/', XDG_RUNTIME_DIR: state },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
  spawnSync('chown', ['-R', `${NOBODY}:${NOBODY}`, dir]);
  const r0 = nobody(['runc', 'spec', '--rootless']);
  if (r0.status !== 0) throw new Error(`runc spec --rootless: ${r0.stderr}`);
  const file = path.join(bundle, 'config.json');
  const spec = JSON.parse(fs.readFileSync(file, 'utf8'));
  spec.process.terminal = false;
  spec.process.args = ['/bin/busybox', 'sleep', '600'];
  edit(spec);
  fs.writeFileSync(file, JSON.stringify(spec));
  spawnSync('chown', [`${NOBODY}:${NOBODY}`, file]);
  const id = containerId('wdr');
  t.teardown(() => {
    nobody(['runc', '--root', state, 'kill', id, 'KILL']);
    for (let i = 0; i < 50 && nobody(['runc', '--root', state, 'delete', '-f', id]).status !== 0; i++)
      spawnSync('sleep', ['0.1']);
  });
  // The detached container inherits runc's stdio: files, not pipes of ours (which would keep
  // spawnSync waiting as long as the container runs).
  const errFile = path.join(dir, 'run.err');
  const err = fs.openSync(errFile, 'w');
  let r: ReturnType<typeof spawnSync>;
  try {
    r = spawnSync(asNobody[0]!, [...asNobody.slice(1), 'runc', '--root', state, 'run', '-d', '--bundle', bundle, id], {
      cwd: bundle,
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/', XDG_RUNTIME_DIR: state },
      stdio: ['ignore', 'ignore', err],
      timeout: 60_000,
    });
  } finally {
    fs.closeSync(err);
  }
  if (r.status !== 0) throw new Error(`rootless runc run: ${fs.readFileSync(errFile, 'utf8')}`);
  const pid = (JSON.parse(nobody(['runc', '--root', state, 'state', id]).stdout) as { pid: number }).pid;
  return { id, pid, exec: (args) => nobody(['runc', '--root', state, 'exec', id, ...args]) };
}

t.test('a rootless container with a network namespace of its own', { skip: noUserns }, async (t) => {
  const own = (spec: Parameters<Parameters<typeof rootlessRunc>[1]>[0]) => {
    spec.linux.namespaces.push({ type: 'network' });
    // Leave /proc/sys writable, so the user-namespace check is the one a write meets.
    spec.linux.readonlyPaths = (spec.linux.readonlyPaths ?? []).filter((p) => p !== '/proc/sys');
  };
  const plain = rootlessRunc(t, own);
  const d = diagnoseWrite({ pid: plain.pid }, KEY);
  t.equal(d.facts.netnsOwner, 'process', 'its user namespace owns its network namespace');
  t.equal(d.facts.processInHostUserns, false);
  t.equal(d.facts.capNetAdmin, false, "runc's rootless spec gives no CAP_NET_ADMIN");
  t.equal(d.inside.obstacles[0]?.code, 'userns', 'the user-namespace reason');
  t.equal(d.inside.errno, 'EACCES');
  t.match(d.inside.obstacles[0]?.text, /no CAP_NET_ADMIN/);
  const w = plain.exec(['/bin/busybox', 'sh', '-c', `echo 7000 > ${FILE}`]);
  t.not(w.status, 0, 'a write inside fails');
  t.match(w.stderr, /Permission denied/, `as the diagnosis says: ${w.stderr.trim()}`);

  const admin = rootlessRunc(t, (spec) => {
    own(spec);
    for (const set of ['bounding', 'effective', 'permitted']) spec.process.capabilities[set]?.push('CAP_NET_ADMIN');
  });
  const ok = diagnoseWrite({ pid: admin.pid }, KEY);
  t.equal(ok.facts.capNetAdmin, true);
  t.equal(ok.inside.allowed, true, 'with CAP_NET_ADMIN in its user namespace: allowed');
  t.equal(admin.exec(['/bin/busybox', 'sh', '-c', `echo 7000 > ${FILE}`]).status, 0, 'and a write inside succeeds');
  {
    using ns = NetNamespace.fromPid(admin.pid);
    t.equal(ns.sysctl.getRaw(KEY), '7000', 'in its own namespace');
  }
  const hidden = diagnoseWrite({ pid: admin.pid }, 'net.ipv6.route.gc_interval');
  t.equal(
    hidden.inside.obstacles[0]?.code,
    'userns-hidden',
    'an entry the kernel does not export to a user-namespace-owned namespace',
  );
});

t.test("a rootless container in the host's network namespace (runc spec --rootless)", { skip: noUserns }, async (t) => {
  const c = rootlessRunc(t, () => {});
  const d = diagnoseWrite({ pid: c.pid }, KEY);
  t.equal(d.facts.hostNetwork, true);
  t.equal(d.facts.netnsOwner, 'host');
  const codes = d.inside.obstacles.map((o) => o.code);
  t.ok(codes.includes('userns'), `the user-namespace reason: ${codes.join(', ')}`);
  t.ok(codes.includes('read-only-mount'), 'and the read-only mount');
  t.ok(codes.includes('host-network'), 'and a warning that a write changes the host');
  t.match(d.inside.obstacles.find((o) => o.code === 'userns')?.text, /does not own the network namespace/);
  t.match(d.remedies.join('\n'), /host's network namespace/);
  // Not written to: it is the host's namespace.
});

t.test(
  'unshare -Urn as nobody: root of its own user namespace, which owns the network namespace',
  { skip: noUserns },
  async (t) => {
    // The process writes the key itself (the oracle), then becomes `sleep`, which is diagnosed.
    const child = spawn(
      asNobody[0]!,
      [...asNobody.slice(1), 'unshare', '-Urn', 'sh', '-c', `echo 7000 > ${FILE} && echo wrote; exec sleep 600`],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    t.teardown(() => {
      child.kill('SIGKILL');
    });
    const first = await new Promise<string>((resolve) => {
      let out = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        if (out.includes('\n')) resolve(out.trim());
      });
      child.once('exit', () => resolve(out.trim()));
    });
    t.equal(first, 'wrote', 'the process wrote its own key');
    const d = diagnoseWrite({ pid: child.pid! }, KEY);
    t.equal(d.inside.allowed, true, 'the diagnosis agrees: root of the user namespace that owns the network namespace');
    t.equal(d.facts.netnsOwner, 'process');
    t.equal(d.facts.processInHostUserns, false);
    t.equal(d.facts.procSysMount?.readOnly, false, "it sees the host's /proc, writable");
  },
);

t.test(
  'diagnoseWrites: several keys of one target, the process read once; argument errors first',
  { skip: why },
  async (t) => {
    const dir = tempDir(t, 'netns-wds');
    const c = runcRun(t, containerId('wds'), runcBundle(dir), path.join(dir, 'state'));
    const [a, b] = diagnoseWrites({ pid: c.pid }, [KEY, 'net.ipv4.conf.all.rp_filter']);
    t.equal(a?.key, KEY);
    t.equal(b?.key, 'net.ipv4.conf.all.rp_filter');
    t.equal(b?.inside.errno, 'EROFS');
    t.same(a?.facts.procSysMount, b?.facts.procSysMount);
    t.throws(() => diagnoseWrites({ pid: c.pid }, ['kernel.hostname']), 'a key outside net');
    t.throws(() => diagnoseWrite({ pid: 0x3fffffff }, KEY), /ESRCH|ENOENT/, 'no such process');
    t.throws(() => diagnoseWrite(null as never, KEY), TypeError);
  },
);
