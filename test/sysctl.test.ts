// sysctl inside namespaces, checked against nsenter/sysctl(8) as the oracle.
import t from 'tap';
import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NetNamespace, type NetnsError, sysctl, parseValue } from '../lib/index.js';
import { native, sysctlWalk, sysctlWalkAsync, WALK_READ } from '../lib/native/index.js';
import { snapshotOfWalk } from '../lib/sysctl/plan.js';
import {
  checkThreadsAtEnd,
  childEnv,
  plainNode,
  ipNetnsAdd,
  nsenterCat,
  sh,
  stagedRoot,
  strayThreads,
  unshareSleep,
} from './helpers.js';

// Needs: root, iproute2 (ip, veth), util-linux nsenter/unshare, procps sysctl.
checkThreadsAtEnd(t);
const root = fileURLToPath(new URL('..', import.meta.url));
const K = 'net.ipv4.tcp_keepalive_time';
const F = '/proc/sys/net/ipv4/tcp_keepalive_time';

t.test('reads equal what nsenter sees (unshare -n and ip netns add)', async (t) => {
  const child = await unshareSleep(t);
  const name = ipNetnsAdd(t, 'ntsys');
  const targets: [string, NetNamespace][] = [
    [`/proc/${child.pid}/ns/net`, NetNamespace.fromPid(child.pid)],
    [`/run/netns/${name}`, NetNamespace.fromName(name)],
  ];
  let v = 1000;
  for (const [path, ns] of targets) {
    t.teardown(() => ns.close());
    // Make the value differ from the host's (and from the other namespace) with the real tool.
    sh('nsenter', [`--net=${path}`, 'sysctl', '-q', '-w', `${K}=${++v}`]);
    sh('nsenter', [`--net=${path}`, 'sysctl', '-q', '-w', `net.ipv4.ip_local_port_range=2000 ${3000 + v}`]);
    t.equal(ns.sysctl.get(K), v, `${path}: typed`);
    t.equal(ns.sysctl.getRaw(K), nsenterCat(path, F));
    t.same(ns.sysctl.get('net.ipv4.ip_local_port_range'), [2000, 3000 + v]);
    t.equal(
      ns.sysctl.getRaw('net.ipv4.ip_local_port_range'),
      nsenterCat(path, '/proc/sys/net/ipv4/ip_local_port_range'),
    );
    t.equal(ns.sysctl.getRaw('net/ipv4/tcp_keepalive_time'), String(v), 'slash form');
    t.not(sysctl.get(K), v, 'host value differs');
    t.equal(await ns.sysctl.getAsync(K), v, 'Promise form');
    t.equal(await ns.sysctl.getRawAsync(K), String(v));
  }
  t.equal(sysctl.getRaw(K), fs.readFileSync(F, 'utf8').trimEnd(), 'current namespace = host');
});

t.test('writes are seen by nsenter; set returns the value in effect', async (t) => {
  const name = ipNetnsAdd(t, 'ntw');
  using ns = NetNamespace.fromName(name);
  const path = `/run/netns/${name}`;
  t.equal(ns.sysctl.set(K, 1234), 1234);
  t.equal(nsenterCat(path, F), '1234');
  t.same(ns.sysctl.set('net.ipv4.ip_local_port_range', [10000, 20000]), [10000, 20000]);
  t.equal(nsenterCat(path, '/proc/sys/net/ipv4/ip_local_port_range'), '10000\t20000');
  t.same(ns.sysctl.set('net.ipv4.ip_local_port_range', '11000   21000'), [11000, 21000], 'spaces normalised');
  t.same(await ns.sysctl.setAsync('net.ipv4.tcp_rmem', [4096, 87380, 1000000]), [4096, 87380, 1000000]);
  t.equal(nsenterCat(path, '/proc/sys/net/ipv4/tcp_rmem'), '4096\t87380\t1000000');
  t.same(ns.sysctl.set('net.ipv4.ping_group_range', [0, 100]), [0, 100]);
  t.equal(ns.sysctl.set('net.ipv4.tcp_congestion_control', 'reno'), 'reno');
  t.equal(nsenterCat(path, '/proc/sys/net/ipv4/tcp_congestion_control'), 'reno');
  t.equal(ns.sysctl.set('net.ipv4.ip_forward', true), 1);
  t.equal(nsenterCat(path, '/proc/sys/net/ipv4/ip_forward'), '1');
  // Neighbour times are kept in jiffies: the kernel's rounding comes back, not an error.
  const back = ns.sysctl.set('net.ipv4.neigh.lo.retrans_time_ms', 1001) as number;
  t.equal(String(back), nsenterCat(path, '/proc/sys/net/ipv4/neigh/lo/retrans_time_ms'), 'kernel value returned');
  t.not(fs.readFileSync(F, 'utf8').trim(), '1234', 'host untouched');
});

t.test('getAll() of a fresh namespace equals sysctl -a inside it', async (t) => {
  const name = ipNetnsAdd(t, 'ntall');
  using ns = NetNamespace.fromName(name);
  const out = sh('nsenter', [`--net=/run/netns/${name}`, 'sysctl', '-a']);
  const oracle = new Map<string, string>();
  for (const line of out.split('\n')) {
    const m = /^(net\.\S+) = ?(.*)$/.exec(line);
    if (m) oracle.set(m[1]!, m[2]!);
  }
  const snap = ns.sysctl.getAll();
  const norm = (s: string) => s.replace(/\s+/g, ' ').trim();
  const ours = Object.keys(snap.raw);
  t.ok(ours.length > 400, `${ours.length} keys`);
  // procps hides two deprecated neighbour entries from -a (its DEPRECATED list); we list them.
  const deprecated = ours.filter((k) => /\.(base_reachable_time|retrans_time)$/.test(k));
  t.ok(deprecated.length > 0, 'deprecated neighbour entries are listed by us');
  t.same(ours.filter((k) => !deprecated.includes(k)).sort(), [...oracle.keys()].sort(), 'same keys');
  const diffs = ours.filter((k) => !deprecated.includes(k) && norm(snap.raw[k]!) !== norm(oracle.get(k) ?? '<absent>'));
  t.same(diffs, [], 'same values');
  t.same(Object.keys(snap.unreadable).sort(), [
    'net.ipv4.route.flush',
    'net.ipv6.conf.all.stable_secret',
    'net.ipv6.conf.default.stable_secret',
    'net.ipv6.conf.lo.stable_secret',
    'net.ipv6.route.flush',
  ]);
  t.equal(snap.unreadable['net.ipv4.route.flush']!.code, 'EACCES');
  t.equal(snap.unreadable['net.ipv6.conf.lo.stable_secret']!.code, 'EIO');
  t.equal(snap.values['net.core.somaxconn'], parseValue(snap.raw['net.core.somaxconn']!));
  const asy = await ns.sysctl.getAllAsync();
  t.same(Object.keys(asy.values), Object.keys(snap.values), 'Promise form: same keys');
  t.same(
    [asy.raw, Object.keys(asy.unreadable)],
    [snap.raw, Object.keys(snap.unreadable)],
    'Promise form: same values, same unreadable keys',
  );
  // One decoder: the Promise walk comes back packed, as the sync one does, and getAllAsync reads
  // it in place with getAll's snapshotOfPacked (it used to decode every entry first).
  const walks = [sysctlWalk(ns.fd, '', WALK_READ), await sysctlWalkAsync(ns.fd, '', WALK_READ)];
  t.same(
    walks.map((w) => [typeof w.packed, w.flags]),
    [
      ['string', WALK_READ],
      ['string', WALK_READ],
    ],
    'both walks packed',
  );
  t.same(Object.keys(snapshotOfWalk(walks[1]!, () => new Error('x') as never).raw), Object.keys(snap.raw));
  const core = ns.sysctl.getAll('net.core');
  t.ok(Object.keys(core.values).every((k) => k.startsWith('net.core.')));
  t.same(ns.sysctl.list('net.core'), Object.keys(core.values).concat(Object.keys(core.unreadable)).sort());
  t.same(ns.sysctl.list(K), [K], 'a key as prefix lists itself');
  t.same(await ns.sysctl.listAsync('net.unix'), ['net.unix.max_dgram_qlen']);
  t.throws(() => ns.sysctl.list('net.nonexistent'), { code: 'ENOENT' });
});

t.test('dotted interface names (veth d0.5 inside a test namespace)', async (t) => {
  const name = ipNetnsAdd(t, 'ntif');
  sh('ip', ['-n', name, 'link', 'add', 'd0.5', 'type', 'veth', 'peer', 'name', 'p0']);
  using ns = NetNamespace.fromName(name);
  const file = '/proc/sys/net/ipv4/conf/d0.5/forwarding';
  t.ok(ns.sysctl.list('net.ipv4.conf').includes('net.ipv4.conf.d0/5.forwarding'));
  t.equal(ns.sysctl.set('net.ipv4.conf.d0/5.forwarding', 1), 1);
  t.equal(nsenterCat(`/run/netns/${name}`, file), '1');
  t.equal(ns.sysctl.get({ family: 'ipv4', iface: 'd0.5', key: 'forwarding' }), 1, 'structured key');
  t.equal(ns.sysctl.get('net/ipv4/conf/d0.5/forwarding'), 1, 'slash form');
  const all = ns.sysctl.getAll('net.ipv4.conf');
  t.equal(all.values['net.ipv4.conf.d0/5.forwarding'], 1);
  // sysctl(8) agrees on the dot form.
  t.match(
    sh('ip', ['netns', 'exec', name, 'sysctl', 'net.ipv4.conf.d0/5.forwarding']),
    /^net\.ipv4\.conf\.d0\/5\.forwarding = 1$/m,
  );
});

t.test('setMany: transaction, skip unchanged, rollback on failure', async (t) => {
  using ns = NetNamespace.create();
  const before = {
    time: ns.sysctl.get(K),
    intvl: ns.sysctl.get('net.ipv4.tcp_keepalive_intvl'),
    range: ns.sysctl.getRaw('net.ipv4.ip_local_port_range'),
  };
  const r = ns.sysctl.setMany({
    [K]: 600,
    'net.ipv4.tcp_keepalive_intvl': before.intvl, // already right: not written
    'net.ipv4.ip_local_port_range': [1024, 2048],
  });
  t.same(r.changed, [K, 'net.ipv4.ip_local_port_range']);
  t.same(r.unchanged, ['net.ipv4.tcp_keepalive_intvl']);
  t.same(r.values[K], 600);
  // Failure in the middle: earlier writes are restored, later ones never happen.
  const snapshot = ns.sysctl.getAll('net.ipv4').raw;
  const err = t.throws(() =>
    ns.sysctl.setMany([
      [K, 700],
      ['net.ipv4.ip_local_port_range', [3000, 4000]],
      ['net.ipv4.tcp_keepalive_probes', -1], // EINVAL
      ['net.ipv4.tcp_keepalive_intvl', 33],
    ]),
  ) as NetnsError;
  t.equal(err.code, 'EINVAL');
  t.equal(err.key, 'net.ipv4.tcp_keepalive_probes');
  t.same(err.rolledBack, ['net.ipv4.ip_local_port_range', K]);
  t.match(err.message, /setMany failed at net\.ipv4\.tcp_keepalive_probes: EINVAL.*Rolled back/);
  t.same(ns.sysctl.getAll('net.ipv4').raw, snapshot, 'namespace byte-identical to the snapshot');
  // Async form rolls back too.
  await t.rejects(ns.sysctl.setManyAsync({ [K]: 800, 'net.ipv4.tcp_keepalive_probes': -1 }), { code: 'EINVAL' });
  t.equal(ns.sysctl.get(K), 600);
  // Validation happens before anything is written.
  t.throws(() => ns.sysctl.setMany({ [K]: 900, 'kernel.hostname': 'x' }), RangeError);
  t.throws(() => ns.sysctl.setMany({ [K]: 900, 'net.ipv4.ip_local_port_range': [1] as never }), RangeError);
  t.equal(ns.sysctl.get(K), 600);
  // A key absent here fails the whole batch unless asked to skip it.
  t.throws(() => ns.sysctl.setMany({ [K]: 901, 'net.core.netdev_max_backlog': 5 }), { code: 'ENOENT' });
  t.equal(ns.sysctl.get(K), 600);
  const s = ns.sysctl.setMany({ [K]: 902, 'net.core.netdev_max_backlog': 5 }, { ignoreMissing: true });
  t.same(s.skipped, ['net.core.netdev_max_backlog']);
  t.equal(s.reasons['net.core.netdev_max_backlog']!.code, 'ENOENT');
  // '-' prefix: ignore any failure for that key.
  const o = ns.sysctl.setMany({ [K]: 903, '-net.ipv4.tcp_keepalive_probes': -1, 'net.ipv4.tcp_keepalive_intvl': 34 });
  t.same(o.changed, [K, 'net.ipv4.tcp_keepalive_intvl']);
  t.same(o.skipped, ['net.ipv4.tcp_keepalive_probes']);
  t.same(ns.sysctl.setMany({}), {
    changed: [],
    unchanged: [],
    skipped: [],
    values: {},
    reasons: {},
    previous: {},
    propagated: {},
  });
  t.same(ns.sysctl.setMany(new Map([[K, 904]])).changed, [K]);
  t.equal(before.range.length > 0, true);
});

t.test('open() handles: pread/pwrite inside, alive while held, clear error when gone', async (t) => {
  const child = await unshareSleep(t);
  let ns: NetNamespace | undefined = NetNamespace.fromPid(child.pid);
  const h = ns.sysctl.open(K);
  t.ok(h.readable && h.writable);
  t.equal(h.write(4321), 4321);
  t.equal(nsenterCat(`/proc/${child.pid}/ns/net`, F), '4321');
  t.equal(h.read(), 4321);
  t.equal(h.readRaw(), '4321');
  t.equal(await h.readAsync(), 4321);
  // The handle keeps the namespace alive after the handle and the process are gone.
  ns.close();
  ns = undefined;
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  t.equal(h.read(), 4321, 'still readable');
  h.close();
  h.close();
  t.throws(() => h.read(), /closed/);
  // Per-interface key whose interface disappears: a clear ENOENT.
  const name = ipNetnsAdd(t, 'nth');
  sh('ip', ['-n', name, 'link', 'add', 'v0.1', 'type', 'veth', 'peer', 'name', 'v1']);
  using named = NetNamespace.fromName(name);
  const hi = named.sysctl.open('net.ipv4.conf.v0/1.forwarding');
  t.teardown(() => hi.close());
  t.equal(hi.read(), 0);
  sh('ip', ['-n', name, 'link', 'del', 'v0.1']);
  const gone = t.throws(() => hi.read()) as NetnsError;
  t.equal(gone.code, 'ENOENT');
  t.match(gone.message, /no longer exists/);
  // Read-only here: the handle opens read-only and says so on write.
  const ro = named.sysctl.open('net.core.rmem_max');
  t.teardown(() => ro.close());
  t.notOk(ro.writable);
  t.throws(() => ro.write(1), { code: 'EBADF' });
  t.throws(() => named.sysctl.open('net.core.netdev_max_backlog'), { code: 'ENOENT' });
});

t.test('Promise forms: many in flight, right values, no thread left outside', async (t) => {
  const spaces = [NetNamespace.create(), NetNamespace.create(), NetNamespace.create()];
  t.teardown(() => {
    for (const s of spaces) s.close();
  });
  for (const [i, s] of spaces.entries()) s.sysctl.set(K, 5000 + i);
  const ops: Promise<void>[] = [];
  for (let n = 0; n < 3000; n++) {
    const i = n % 3;
    ops.push(
      spaces[i]!.sysctl.getAsync(K).then((v) => {
        if (v !== 5000 + i) throw new Error(`namespace ${i} read ${v}`);
      }),
    );
  }
  await Promise.all(ops);
  t.pass('3000 concurrent reads all correct');
  const writes = await Promise.all(spaces.map((s, i) => s.sysctl.setAsync(K, 6000 + i)));
  t.same(writes, [6000, 6001, 6002]);
  t.same(strayThreads(), [], 'every thread is home');
  // Promise-form operations run in the order they were issued.
  const order = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map((v) => spaces[0]!.sysctl.setAsync(K, 7000 + v)));
  t.same(order, [7001, 7002, 7003, 7004, 7005, 7006, 7007, 7008]);
  t.equal(spaces[0]!.sysctl.get(K), 7008, 'the last write issued is the one in effect');
  await t.rejects(spaces[0]!.sysctl.getAsync('net.core.netdev_max_backlog'), { code: 'ENOENT', name: 'NetnsError' });
  await t.rejects(spaces[0]!.sysctl.setAsync(K, 'x' as unknown as number), TypeError);
});

t.test('confinement: the native layer refuses to leave /proc/sys/net', async (t) => {
  // Bypass TypeScript validation to test the kernel-enforced second line of defence.
  for (const rel of ['../../kernel/hostname', 'ipv4/../../../etc/passwd', '/etc/passwd', '../net/ipv4/ip_forward']) {
    const e = t.throws(() => native.sysctlRead(-1, rel)) as unknown as { errno: number };
    t.ok([18 /* EXDEV */, 40 /* ELOOP */].includes(e.errno), `${rel}: refused (${e.errno})`);
  }
  const log = `/tmp/netns-strace-${process.pid}.log`;
  t.teardown(() => fs.rmSync(log, { force: true }));
  const tr = spawnSync(
    'strace',
    [
      '-f',
      '-e',
      'trace=open,openat,openat2',
      '-o',
      log,
      'env',
      '-u',
      'NODE_OPTIONS',
      process.execPath,
      '--input-type=module',
      '-e',
      `
      import { sysctl } from ${JSON.stringify(root + 'dist/index.js')};
      for (const k of ['net/ipv4/../../kernel/hostname', 'net.ipv4.conf.../../../etc.passwd', 'kernel.hostname', '/etc/passwd', 'net.ipv4.conf.a/b/c']) {
        try { sysctl.get(k); } catch {}
      }
      sysctl.get('net.ipv4.tcp_keepalive_time');
    `,
    ],
    { encoding: 'utf8', env: childEnv() },
  );
  const trace = fs.readFileSync(log, 'utf8');
  t.equal(tr.status, 0, tr.stderr);
  const opens = trace.split('\n').filter((l) => /openat2\(/.test(l));
  t.ok(opens.length >= 1, 'the real key was opened with openat2');
  t.ok(
    opens.every((l) => /RESOLVE_BENEATH/.test(l) && /RESOLVE_NO_SYMLINKS/.test(l)),
    'always confined',
  );
  t.notMatch(trace, /hostname|passwd|sys\/kernel/, 'no escape attempt reached the kernel');
});

t.test('errors say why', async (t) => {
  using ns = NetNamespace.create();
  const hostOnly = t.throws(() => ns.sysctl.get('net.core.netdev_max_backlog')) as NetnsError;
  t.equal(hostOnly.code, 'ENOENT');
  t.equal(hostOnly.errno, -2);
  t.equal(hostOnly.syscall, 'open');
  t.equal(hostOnly.path, '/proc/sys/net/core/netdev_max_backlog');
  t.match(hostOnly.message, /^ENOENT: .*host-only/);
  const missing = t.throws(() => ns.sysctl.get('net.ipv4.no_such_key')) as NetnsError;
  t.match(missing.message, /does not exist in this namespace \(check the spelling/);
  const ro = t.throws(() => ns.sysctl.set('net.core.rmem_max', 1 << 20)) as NetnsError;
  t.equal(ro.code, 'EACCES');
  t.match(ro.message, /read-only in this namespace/);
  const inval = t.throws(() => ns.sysctl.set('net.ipv4.tcp_keepalive_probes', -1)) as NetnsError;
  t.equal(inval.code, 'EINVAL');
  t.match(inval.message, /rejected the value "-1"/);
  const wo = t.throws(() => ns.sysctl.get('net.ipv4.route.flush')) as NetnsError;
  t.equal(wo.code, 'EACCES');
  t.match(wo.message, /write-only/);
  const eio = t.throws(() => ns.sysctl.get('net.ipv6.conf.lo.stable_secret')) as NetnsError;
  t.equal(eio.code, 'EIO');
  const dir = t.throws(() => ns.sysctl.get('net.ipv4.conf')) as NetnsError;
  t.equal(dir.code, 'EISDIR');
  t.match(dir.message, /directory/);
  t.throws(() => ns.sysctl.set('net.ipv4.tcp_congestion_control', 'cubic\nreno'), RangeError);
  const noCa = t.throws(() => ns.sysctl.set('net.ipv4.tcp_congestion_control', 'no-such-algo')) as NetnsError;
  t.equal(noCa.code, 'ENOENT');
  t.equal(noCa.syscall, 'write');
  t.match(noCa.message, /nothing named "no-such-algo".*tcp_available_congestion_control/);
  // A write-only key: set returns what was written.
  t.equal(ns.sysctl.set('net.ipv4.route.flush', 1), 1);
});

t.test('EACCES as an unprivileged user, EROFS on a read-only /proc/sys', async (t) => {
  const script = `
    import { sysctl } from ${JSON.stringify(stagedRoot() + 'dist/index.js')};
    const out = {};
    try { sysctl.set('net.ipv4.tcp_keepalive_time', sysctl.get('net.ipv4.tcp_keepalive_time') + 1); out.set = 'ok'; }
    catch (e) { out.set = e.code; out.msg = e.message; }
    try { out.same = sysctl.setMany({ 'net.ipv4.tcp_keepalive_time': sysctl.get('net.ipv4.tcp_keepalive_time') }).unchanged; }
    catch (e) { out.same = e.code; }
    console.log(JSON.stringify(out));
  `;
  const asNobody = spawnSync(...plainNode(['--input-type=module', '-e', script]), {
    encoding: 'utf8',
    uid: 65534,
    gid: 65534,
    cwd: '/',
    env: childEnv(),
  });
  const n = JSON.parse(asNobody.stdout);
  t.equal(n.set, 'EACCES', asNobody.stderr);
  t.match(n.msg, /needs root/);
  t.same(n.same, ['net.ipv4.tcp_keepalive_time'], 'matching values need no write, so no permission');
  // A private mount namespace where /proc/sys is read-only, as in containers. The host's
  // mounts are not touched (the unshare'd namespace is private and dies with the command).
  const ro = spawnSync(
    'unshare',
    [
      '-m',
      '--propagation',
      'private',
      'sh',
      '-c',
      `mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys && exec "$0" --input-type=module -e "$1"`,
      process.execPath,
      script,
    ],
    { encoding: 'utf8', env: childEnv() },
  );
  const r = JSON.parse(ro.stdout);
  t.equal(r.set, 'EROFS', ro.stderr);
  t.match(r.msg, /read-only/);
  t.same(r.same, ['net.ipv4.tcp_keepalive_time'], 'setMany with right values succeeds on read-only /proc/sys');
});

t.test('the calling namespace: top-level sysctl reads the host', async (t) => {
  t.equal(sysctl.get('net.core.somaxconn'), Number(fs.readFileSync('/proc/sys/net/core/somaxconn', 'utf8')));
  t.equal(sysctl.nsId, undefined);
  using ns = NetNamespace.create();
  ns.sysctl.set(K, 777);
  t.equal(
    ns.runSync(() => sysctl.get(K)),
    777,
    'inside runSync, "current" is the namespace it runs in',
  );
  t.equal(await ns.runSync(() => sysctl.getAsync(K)), 777, 'Promise form started inside runSync too');
});
