// Snapshot handles (ns.sysctl.snapshot()): every key opened once inside the namespace, re-read
// with pread; and compare()/comparer() against a host read once. Checked against getAll(), the
// fd table (/proc/self/fd, fdinfo flags) and sysctl(8) inside the namespace.
import t from 'tap';
import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NetNamespace, compare, comparer, SysctlSnapshotHandle } from '../lib/index.js';
import { checkThreadsAtEnd, childEnv, fdCount, plainNode, sh } from './helpers.js';

// Needs: root (creates namespaces), iproute2 (a veth pair inside our own namespace).
checkThreadsAtEnd(t);
const K = 'net.ipv4.tcp_keepalive_time';

/** fds of this process open on /proc/sys/net files, with their fdinfo flags. */
function sysctlFds(): { fd: number; flags: number }[] {
  const out: { fd: number; flags: number }[] = [];
  for (const name of fs.readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = fs.readlinkSync(`/proc/self/fd/${name}`);
    } catch {
      continue;
    }
    if (!target.startsWith('/proc/sys/net/')) continue;
    const info = fs.readFileSync(`/proc/self/fdinfo/${name}`, 'utf8');
    out.push({ fd: Number(name), flags: parseInt(/flags:\s+(\d+)/.exec(info)![1]!, 8) });
  }
  return out;
}

t.test('one O_CLOEXEC fd per readable key; refresh() equals getAll(); close() gives them all back', async (t) => {
  const ns = NetNamespace.create();
  t.teardown(() => ns.close());
  ns.sysctl.getAll(); // the process's one /proc/sys/net root fd is opened by the first walk
  const before = fdCount();
  const baseFds = sysctlFds().length;
  const snap = ns.sysctl.snapshot();
  t.ok(snap instanceof SysctlSnapshotHandle);
  const all = ns.sysctl.getAll();
  const readable = Object.keys(all.raw).length;
  t.equal(
    snap.size,
    readable + Object.keys(all.unreadable).filter((k) => all.unreadable[k]!.code === 'EIO').length,
    'an fd for every key that opens for reading (stable_secret opens, then answers EIO)',
  );
  const held = sysctlFds();
  t.equal(held.length - baseFds, snap.size, 'the fds are in the fd table');
  t.ok(
    held.every((f) => (f.flags & 0o2000000) !== 0),
    'every one is O_CLOEXEC',
  );
  t.equal(fdCount() - before, snap.size + 1, 'plus one hold on the namespace');
  t.same(
    snap.keys,
    [...Object.keys(all.raw), ...Object.keys(all.unreadable)].sort(),
    'keys: sorted, as getAll has them',
  );
  t.same(snap.current.raw, all.raw, 'first read: the walk that opened them');
  t.same(Object.keys(snap.current.unreadable), Object.keys(all.unreadable));

  ns.runSync(() => sh('sysctl', ['-q', '-w', `${K}=1234`]));
  const r = snap.refresh();
  t.equal(r.raw[K], '1234', 'refresh sees a write made by sysctl(8)');
  t.equal(r.values[K], 1234, 'values are typed');
  const again = ns.sysctl.getAll();
  t.same(r.values, again.values, 'every value as getAll() gives it');
  t.same(Object.keys(r.raw), Object.keys(again.raw), 'raw in the same (key) order');
  t.same(
    Object.keys(r.unreadable),
    Object.keys(again.unreadable),
    'unreadable: the same keys, in order (held ones answering EIO, and route.flush never opened)',
  );
  t.same(
    Object.values(r.unreadable).map((e) => [e.code, e.syscall]),
    Object.values(again.unreadable).map((e) => [e.code, e.syscall]),
  );
  t.equal(snap.current, r, 'current is the last refresh');

  // The namespace stays alive while the snapshot is open.
  ns.close();
  t.equal(snap.refresh().raw[K], '1234', 'the snapshot holds its namespace');
  t.equal(snap.close(), snap, 'close() returns this');
  snap.close();
  snap[Symbol.dispose]();
  t.equal(snap.size, 0);
  t.equal(snap.closed, true);
  t.throws(() => snap.refresh(), /closed/);
  t.throws(() => snap.current, /closed/);
  t.equal(fdCount(), before - 1, 'every fd closed and the hold released (the namespace handle was closed above)');
  t.equal(sysctlFds().length, baseFds);
});

t.test('a key whose entry vanishes leaves the results; a prefix; a prefix that is one key', async (t) => {
  const ns = NetNamespace.create();
  t.teardown(() => ns.close());
  ns.runSync(() => sh('ip', ['link', 'add', 'snapd0', 'type', 'veth', 'peer', 'name', 'snapd1']));
  using snap = ns.sysctl.snapshot('net.ipv4.conf');
  t.ok(snap.keys.includes('net.ipv4.conf.snapd0.forwarding'));
  t.ok(
    snap.keys.every((k) => k.startsWith('net.ipv4.conf.')),
    'only keys under the prefix',
  );
  ns.runSync(() => sh('ip', ['link', 'del', 'snapd0']));
  const r = snap.refresh();
  t.notOk('net.ipv4.conf.snapd0.forwarding' in r.raw, 'gone from raw');
  t.notOk('net.ipv4.conf.snapd0.forwarding' in r.unreadable, 'and not reported unreadable');
  t.ok('net.ipv4.conf.all.forwarding' in r.raw, 'the others stay');

  using one = ns.sysctl.snapshot(K);
  t.equal(one.size, 0, 'a prefix that is one key holds no fd');
  ns.sysctl.set(K, 4321);
  t.same(one.refresh().raw, { [K]: '4321' }, 'and re-reads it by walking');
});

t.test(
  'snapshot(keys): just those keys, one fd each; absent ones left out; readRaw() in the order of keys',
  async (t) => {
    const ns = NetNamespace.create();
    t.teardown(() => ns.close());
    ns.runSync(() => sh('ip', ['link', 'add', 'snapk0', 'type', 'veth', 'peer', 'name', 'snapk1']));
    const fdsBefore = sysctlFds().length;
    const asked = [
      K,
      'net.core.somaxconn',
      'net/ipv4/conf/snapk0/forwarding', // slash form
      'net.ipv4.route.flush', // write-only: present, not readable
      'net.ipv4.no_such_key', // absent: left out
      K, // twice: once
    ];
    const snap = ns.sysctl.snapshot(asked);
    t.same(
      snap.keys,
      ['net.core.somaxconn', 'net.ipv4.conf.snapk0.forwarding', 'net.ipv4.route.flush', K],
      'the keys present, sorted, once each',
    );
    t.equal(snap.size, 3, 'one fd per readable key');
    t.equal(sysctlFds().length - fdsBefore, 3);
    for (const { flags } of sysctlFds()) t.ok(flags & 0o2000000, 'O_CLOEXEC');
    t.same(snap.current.raw, {
      'net.core.somaxconn': ns.sysctl.getRaw('net.core.somaxconn'),
      'net.ipv4.conf.snapk0.forwarding': '0',
      [K]: '7200',
    });
    t.equal(snap.current.unreadable['net.ipv4.route.flush']?.code, 'EACCES', 'the write-only key is unreadable');
    ns.sysctl.set(K, 601);
    t.same(snap.readRaw(), [ns.sysctl.getRaw('net.core.somaxconn'), '0', null, '601'], 'texts in the order of keys');
    t.equal(snap.current.raw[K], '601', 'current follows readRaw()');
    ns.sysctl.set(K, 602);
    t.equal(snap.refresh().raw[K], '602', 'refresh() as for a prefix');
    ns.runSync(() => sh('ip', ['link', 'del', 'snapk0']));
    t.equal(snap.readRaw()[1], undefined, "a vanished interface's key reads undefined");
    t.notOk('net.ipv4.conf.snapk0.forwarding' in snap.refresh().raw);
    snap.close();
    t.equal(sysctlFds().length, fdsBefore, 'close() gives the fds back');
    t.throws(() => snap.readRaw(), { code: 'EBADF' });
    t.throws(
      () => ns.sysctl.snapshot(['net.ipv4.tcp_keepalive_time', 'kernel.hostname']),
      RangeError,
      'keys are validated',
    );
    t.same(ns.sysctl.snapshot([]).keys, [], 'no keys: an empty snapshot');
  },
);

t.test('compare(snapshot, ns) and comparer(): the host read once, same entries as compare(host, ns)', async (t) => {
  const host = NetNamespace.current();
  const ns = NetNamespace.create();
  t.teardown(() => {
    host.close();
    ns.close();
  });
  ns.sysctl.set(K, 600);
  const direct = compare(host, ns);
  const hostSnap = host.sysctl.getAll();
  t.same(compare(hostSnap, ns), direct, 'a getAll() result as side a');
  using hs = host.sysctl.snapshot();
  const c = comparer(hs.current);
  t.same(c(ns), direct, 'comparer over a snapshot handle');
  const e = c(ns).find((x) => x.key === K)!;
  t.same([e.b, e.equal], ['600', false]);
  t.same(
    compare(ns, ns.sysctl.getAll()).filter((x) => !x.equal && x.a !== null),
    [],
    'a namespace equals its own snapshot',
  );
  t.throws(() => compare({} as never, ns), TypeError);
});

t.test('out of fds (RLIMIT_NOFILE 300): snapshot() throws EMFILE and leaves no fd open', async (t) => {
  const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
  const script = `
    import { NetNamespace } from ${JSON.stringify(dist)};
    import fs from 'node:fs';
    const ns = NetNamespace.create();
    ns.sysctl.getAll();
    const before = fs.readdirSync('/proc/self/fd').length;
    let code;
    try { ns.sysctl.snapshot().close(); code = 'none'; } catch (e) { code = e.code; }
    console.log(JSON.stringify({ code, leaked: fs.readdirSync('/proc/self/fd').length - before }));`;
  const [cmd, args] = plainNode(['--input-type=module', '-e', script]);
  const r = spawnSync('bash', ['-c', 'ulimit -n 300 && exec "$@"', 'bash', cmd, ...args], {
    encoding: 'utf8',
    env: childEnv(),
  });
  t.equal(r.status, 0, r.stderr);
  t.same(JSON.parse(r.stdout), { code: 'EMFILE', leaked: 0 });
});
