// NetNamespace handles: constructors, identity, iproute2 interop, lifecycle, runSync.
import t from 'tap';
import * as fs from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NetNamespace, NetnsError, setns, unshare, constants } from '../lib/index.js';
import {
  HOST_NS,
  plainNode,
  checkThreadsAtEnd,
  childEnv,
  cleanupName,
  exited,
  fdCount,
  inoOf,
  ipNetnsAdd,
  sh,
  stagedRoot,
  strayThreads,
  uniqueName,
  unshareSleep,
} from './helpers.js';

// Needs: root (CAP_SYS_ADMIN) for create/setns/mount, iproute2 and util-linux.
checkThreadsAtEnd(t);
const root = fileURLToPath(new URL('..', import.meta.url));

function statId(file: string): string {
  const st = fs.statSync(file);
  return `${st.dev}:${st.ino}`;
}

t.test('current() is the namespace of /proc/self/ns/net', async (t) => {
  using ns = NetNamespace.current();
  t.equal(ns.id, statId('/proc/self/ns/net'));
  t.equal(ns.ino, inoOf(HOST_NS));
  t.type(ns.fd, 'number');
  t.ok(ns.equals(NetNamespace.current()));
});

t.test('create() makes a new namespace without moving the JS thread', async (t) => {
  const before = fs.readlinkSync('/proc/thread-self/ns/net');
  const ns = NetNamespace.create();
  t.teardown(() => ns.close());
  t.equal(fs.readlinkSync('/proc/thread-self/ns/net'), before, 'JS thread did not move');
  t.not(ns.id, statId('/proc/self/ns/net'));
  const other = NetNamespace.create();
  t.notOk(ns.equals(other), 'two creates are two namespaces');
  other.close();
  const fdFlags = sh('sh', ['-c', `grep flags /proc/${process.pid}/fdinfo/${ns.fd}`]);
  // O_CLOEXEC is 02000000 in fdinfo's octal flags.
  t.ok((parseInt(fdFlags.trim().split(/\s+/)[1]!, 8) & 0o2000000) !== 0, 'fd is O_CLOEXEC');
});

t.test('fromPid() on `unshare -n sleep` matches /proc/PID/ns/net', async (t) => {
  const child = await unshareSleep(t);
  using ns = NetNamespace.fromPid(child.pid);
  t.equal(ns.id, statId(`/proc/${child.pid}/ns/net`));
  t.not(ns.id, statId('/proc/self/ns/net'));
  using self = NetNamespace.fromPid(process.pid);
  t.ok(self.equals(NetNamespace.current()));
  // The handle keeps the namespace alive after the process is gone.
  child.kill('SIGKILL');
  await exited(child);
  t.ok(ns.sysctl.get('net.core.somaxconn'), 'namespace still usable after its process died');
});

t.test('fromPid() on an exited process gives ESRCH', async (t) => {
  const p = spawnSync('true');
  const pid = p.pid!;
  t.throws(() => NetNamespace.fromPid(pid), { code: 'ESRCH', name: 'NetnsError' });
  t.throws(() => NetNamespace.fromPid(0x3ffffff0), { code: 'ESRCH' });
  // A zombie (exited, not yet reaped) has no namespace either.
  const z = spawn('sh', ['-c', 'exit 0'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 100));
  t.throws(() => NetNamespace.fromPid(z.pid!), { code: 'ESRCH' });
  await exited(z);
});

t.test('fromPid() argument errors are raised before native code', async (t) => {
  t.throws(() => NetNamespace.fromPid('1' as unknown as number), TypeError);
  t.throws(() => NetNamespace.fromPid(1.5), TypeError);
  t.throws(() => NetNamespace.fromPid(-1), RangeError);
  t.throws(() => NetNamespace.fromPid(0), RangeError);
});

t.test('fromPath() accepts namespace files and refuses others clearly', async (t) => {
  using a = NetNamespace.fromPath('/proc/self/ns/net');
  t.ok(a.equals(NetNamespace.current()));
  using b = NetNamespace.fromPath(`/proc/self/task/${process.pid}/ns/net`);
  t.ok(b.equals(a));
  const tmp = fs.mkdtempSync('/tmp/netns-test-');
  t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
  fs.writeFileSync(`${tmp}/regular`, 'x');
  const cases: [string, string][] = [
    [`${tmp}/regular`, 'EINVAL'],
    ['/dev/null', 'EINVAL'],
    ['/proc/self/ns/mnt', 'EINVAL'],
    ['/proc/self/ns/user', 'EINVAL'],
    [`${tmp}/missing`, 'ENOENT'],
  ];
  for (const [file, code] of cases) {
    const err = t.throws(() => NetNamespace.fromPath(file)) as NetnsError;
    t.ok(err instanceof NetnsError, `${file}: NetnsError`);
    t.equal(err.code, code, `${file}: ${code}`);
    t.equal(err.path, file);
    t.match(err.message, new RegExp(`^${code}: `));
  }
  const mnt = t.throws(() => NetNamespace.fromPath('/proc/self/ns/mnt')) as NetnsError;
  t.match(mnt.message, /mount namespace, not a network namespace/);
  t.throws(() => NetNamespace.fromPath(''), TypeError);
  t.throws(() => NetNamespace.fromPath('/tmp/a\0b'), RangeError);
});

t.test('fromFd() duplicates; the caller keeps its fd', async (t) => {
  const fd = fs.openSync('/proc/self/ns/net', 'r');
  const ns = NetNamespace.fromFd(fd);
  fs.closeSync(fd);
  t.ok(ns.equals(NetNamespace.current()), 'still valid after caller closed theirs');
  ns.close();
  const reg = fs.openSync('/proc/self/status', 'r');
  t.throws(() => NetNamespace.fromFd(reg), { code: 'EINVAL' });
  fs.closeSync(reg);
  t.throws(() => NetNamespace.fromFd(987654), { code: 'EBADF' });
  t.throws(() => NetNamespace.fromFd(-1), RangeError);
});

t.test('iproute2 interop: ip netns add -> fromName', async (t) => {
  const name = ipNetnsAdd(t, 'ntadd');
  using ns = NetNamespace.fromName(name);
  t.equal(ns.id, statId(`/run/netns/${name}`));
  t.equal(ns.name, name);
  const inside = sh('ip', ['netns', 'exec', name, 'readlink', '/proc/self/ns/net']).trim();
  t.equal(inoOf(inside), ns.ino);
});

t.test('iproute2 interop: create({ name }) -> ip netns list / exec; remove -> gone for both', async (t) => {
  const name = uniqueName('ntcreate');
  cleanupName(t, name);
  const ns = NetNamespace.create({ name });
  t.teardown(() => ns.close());
  t.match(sh('ip', ['netns', 'list']), new RegExp(`^${name}\\b`, 'm'));
  const inside = sh('ip', ['netns', 'exec', name, 'readlink', '/proc/self/ns/net']).trim();
  t.equal(inoOf(inside), ns.ino, 'ip netns exec runs in our namespace');
  const mi = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  t.match(mi, new RegExp(`/run/netns ${'/run/netns'.replace(/\//g, '\\/')} .*shared:`), '/run/netns is a shared mount');
  t.throws(() => NetNamespace.create({ name }), { code: 'EEXIST' });
  t.ok(
    NetNamespace.list().some((e) => e.names.includes(name) && e.id === ns.id),
    'list() shows the name',
  );
  NetNamespace.remove(name);
  t.notMatch(sh('ip', ['netns', 'list']), new RegExp(`^${name}\\b`, 'm'));
  t.notOk(fs.existsSync(`/run/netns/${name}`));
  t.throws(() => NetNamespace.fromName(name), { code: 'ENOENT' });
  t.throws(() => NetNamespace.remove(name), { code: 'ENOENT' });
  // And the reverse: a namespace we created and iproute2 deletes.
  const name2 = uniqueName('ntcreate');
  cleanupName(t, name2);
  NetNamespace.create({ name: name2 }).close();
  sh('ip', ['netns', 'del', name2]);
  t.throws(() => NetNamespace.fromName(name2), { code: 'ENOENT' });
});

t.test('names are validated', async (t) => {
  for (const bad of ['', '.', '..', 'a/b', '../x', 'a\0b', 'x'.repeat(256)])
    t.throws(() => NetNamespace.fromName(bad), RangeError, JSON.stringify(bad));
  t.throws(() => NetNamespace.create({ name: '../etc' }), RangeError);
  t.throws(() => NetNamespace.fromName(3 as unknown as string), TypeError);
});

t.test('create({ name }) undoes everything on failure', async (t) => {
  const name = uniqueName('ntfail');
  cleanupName(t, name);
  // Make the bind mount fail: a directory where the file must go makes open(O_EXCL) fail
  // with EEXIST, and nothing is left mounted.
  fs.mkdirSync('/run/netns', { recursive: true });
  fs.mkdirSync(`/run/netns/${name}`);
  t.teardown(() => fs.rmSync(`/run/netns/${name}`, { recursive: true, force: true }));
  t.throws(() => NetNamespace.create({ name }), { code: 'EEXIST' });
  t.ok(fs.statSync(`/run/netns/${name}`).isDirectory(), 'the existing entry was not touched');
});

t.test('list() finds namespaces held by processes and by names', async (t) => {
  const child = await unshareSleep(t);
  const name = ipNetnsAdd(t, 'ntlist');
  const all = NetNamespace.list();
  const mine = all.find((e) => e.pids.includes(process.pid));
  t.ok(mine, 'our own namespace is listed');
  t.equal(mine!.id, statId('/proc/self/ns/net'));
  const sleeper = all.find((e) => e.pids.includes(child.pid));
  t.equal(sleeper?.id, statId(`/proc/${child.pid}/ns/net`));
  const named = all.find((e) => e.names.includes(name));
  t.equal(named?.id, statId(`/run/netns/${name}`));
  t.same(named?.pids, [], 'nobody runs in a fresh named namespace');
});

t.test('close() is idempotent; use after close throws', async (t) => {
  const ns = NetNamespace.create();
  t.equal(ns.close(), ns);
  t.equal(ns.close(), ns);
  t.ok(ns.closed);
  t.throws(() => ns.fd, /closed/);
  t.throws(() => ns.runSync(() => 1), /closed/);
  t.throws(() => ns.equals(NetNamespace.current()), /closed/);
  t.throws(() => ns.sysctl.get('net.core.somaxconn'), /closed/);
  let seen: NetNamespace | undefined;
  {
    using d = NetNamespace.create();
    t.notOk(d.closed);
    seen = d;
  }
  t.ok(seen.closed, 'disposed at block end');
});

t.test('fd count is unchanged by 1,000 create/close cycles', async (t) => {
  NetNamespace.create().close(); // warm-up: lazily opened fds
  const before = fdCount();
  for (let i = 0; i < 1000; i++) NetNamespace.create().close();
  t.equal(fdCount(), before);
});

t.test('runSync runs inside and always switches back', async (t) => {
  using ns = NetNamespace.create();
  const inside = ns.runSync(() => fs.readlinkSync('/proc/thread-self/ns/net'));
  t.equal(inoOf(inside), ns.ino);
  t.equal(fs.readlinkSync('/proc/thread-self/ns/net'), HOST_NS, 'back home');
  t.throws(
    () =>
      ns.runSync(() => {
        throw new Error('boom');
      }),
    /boom/,
  );
  t.equal(fs.readlinkSync('/proc/thread-self/ns/net'), HOST_NS, 'home after a throw');
  // Nested: the inner call returns to the outer namespace, not the host.
  using other = NetNamespace.create();
  const seen = ns.runSync(() => {
    const innerLink = other.runSync(() => fs.readlinkSync('/proc/thread-self/ns/net'));
    return [innerLink, fs.readlinkSync('/proc/thread-self/ns/net')];
  });
  t.equal(inoOf(seen[0]!), other.ino);
  t.equal(inoOf(seen[1]!), ns.ino);
  // current() inside runSync is the namespace it runs in.
  t.ok(ns.runSync(() => NetNamespace.current().equals(ns)));
  t.throws(() => ns.runSync(async () => 1), TypeError, 'async functions refused');
  t.throws(() => ns.runSync(1 as unknown as () => void), TypeError);
  t.same(strayThreads(), []);
});

t.test('a child spawned inside runSync is in the namespace', async (t) => {
  using ns = NetNamespace.create();
  const child = ns.runSync(() => spawn('sleep', ['30'], { stdio: 'ignore' }));
  t.teardown(() => child.kill('SIGKILL'));
  t.equal(statId(`/proc/${child.pid}/ns/net`), ns.id);
  child.kill('SIGKILL');
  await exited(child);
});

t.test('raw setns/unshare move the JS thread; the library still returns to it', async (t) => {
  const home = fs.openSync('/proc/self/ns/net', 'r');
  t.teardown(() => fs.closeSync(home));
  using ns = NetNamespace.create();
  try {
    setns(ns.fd, constants.CLONE_NEWNET);
    t.equal(inoOf(fs.readlinkSync('/proc/thread-self/ns/net')), ns.ino, 'raw setns moved the thread');
    // Library calls made now treat this namespace as "where the thread is".
    using other = NetNamespace.create();
    other.runSync(() => 0);
    t.equal(inoOf(fs.readlinkSync('/proc/thread-self/ns/net')), ns.ino, 'runSync returned to the raw namespace');
    other.sysctl.get('net.core.somaxconn');
    t.equal(inoOf(fs.readlinkSync('/proc/thread-self/ns/net')), ns.ino, 'sysctl returned to the raw namespace');
    unshare(constants.CLONE_NEWNET);
    t.not(inoOf(fs.readlinkSync('/proc/thread-self/ns/net')), ns.ino, 'raw unshare moved the thread');
    // A raw setns inside runSync: runSync still returns to where it started, and leaks nothing.
    const fdsBefore = fdCount();
    for (let i = 0; i < 20; i++) other.runSync(() => setns(ns.fd, constants.CLONE_NEWNET));
    t.equal(fdCount(), fdsBefore, 'no fd leaked by raw setns inside runSync');
    t.not(inoOf(fs.readlinkSync('/proc/thread-self/ns/net')), ns.ino, 'runSync returned to the unshared namespace');
  } finally {
    setns(home, constants.CLONE_NEWNET);
  }
  t.equal(fs.readlinkSync('/proc/thread-self/ns/net'), HOST_NS);
  t.throws(() => setns(-1), TypeError);
  t.throws(() => unshare(0), TypeError);
  t.throws(() => setns(home, constants.CLONE_NEWUTS), { code: 'EINVAL' });
});

t.test('a failed switch back aborts the process loudly', async (t) => {
  const script = `
    import { NetNamespace } from ${JSON.stringify(root + 'dist/index.js')};
    import { testing } from ${JSON.stringify(root + 'dist/native/testing.js')};
    const ns = NetNamespace.create();
    testing.failSwitchBack(1);
    ns.sysctl.get('net.core.somaxconn');
    console.log('survived');
  `;
  const r = spawnSync(...plainNode(['--input-type=module', '-e', script]), { encoding: 'utf8', env: childEnv() });
  t.equal(r.signal, 'SIGABRT');
  t.notMatch(r.stdout, /survived/);
  t.match(r.stderr, /netns: FATAL: cannot switch thread \d+ back to its own network namespace/);
});

t.test('without CAP_SYS_ADMIN: EPERM with a hint', async (t) => {
  const script = `
    import { NetNamespace } from ${JSON.stringify(stagedRoot() + 'dist/index.js')};
    try { NetNamespace.create({ name: 'x' }); } catch (e) { console.log(JSON.stringify({ code: e.code, errno: e.errno, syscall: e.syscall, message: e.message })); }
    try { NetNamespace.fromPid(1).runSync(() => 0); } catch (e) { console.log(JSON.stringify({ code: e.code, syscall: e.syscall, message: e.message })); }
  `;
  const r = spawnSync(...plainNode(['--input-type=module', '-e', script]), {
    encoding: 'utf8',
    uid: 65534,
    gid: 65534,
    cwd: '/',
    env: childEnv(),
  });
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  t.equal(lines.length, 2, r.stderr);
  t.equal(lines[0].code, 'EPERM', 'cannot make /run/netns a shared mount as nobody');
  t.match(lines[0].message, /CAP_SYS_ADMIN/);
  t.ok(['EPERM', 'EACCES'].includes(lines[1].code), 'cannot enter or open pid 1 namespace as nobody');
  t.match(lines[1].message, /root|CAP_SYS_ADMIN|ptrace/);
});
