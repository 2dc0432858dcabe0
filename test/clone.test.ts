// cloneNetns: clone(CLONE_NEWNET) child doing prepared sysctl reads/writes, reaped always.
import t from 'tap';
import * as fs from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NetNamespace, NetnsError, cloneNetns, sysctl } from '../lib/index.js';
import { testing } from '../lib/native/testing.js';
import {
  HOST_NS,
  checkThreadsAtEnd,
  childEnv,
  fdCount,
  inoOf,
  killWithMarker,
  plainNode,
  sh,
  stagedRoot,
  strayThreads,
  withMarker,
} from './helpers.js';

// Needs: root (CAP_SYS_ADMIN) for clone(CLONE_NEWNET); util-linux unshare as the oracle;
// unprivileged user namespaces for the `user: true` test run as nobody.
checkThreadsAtEnd(t);
const root = fileURLToPath(new URL('..', import.meta.url));

/** Values a fresh namespace gets, read by an independent tool: `unshare -n cat FILE…`. */
function oracle(keys: string[]): string[] {
  return sh('unshare', ['-n', 'cat', ...keys.map((k) => '/proc/sys/' + k.replaceAll('.', '/'))])
    .trimEnd()
    .split('\n');
}

/** Children of this process (any state), as [pid, state]. */
function myChildren(): [number, string][] {
  const out: [number, string][] = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[1]) === process.pid) out.push([Number(p), rest[0]!]);
    } catch {
      /* gone */
    }
  }
  return out;
}

async function until(cond: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return cond();
}

t.test('reads the keys in a fresh namespace, as unshare -n sees them', async (t) => {
  const keys = [
    'net.ipv4.tcp_congestion_control',
    'net.ipv4.tcp_keepalive_time',
    'net.core.somaxconn',
    'net.ipv4.ip_local_port_range',
  ];
  const before = fdCount();
  const r = await cloneNetns({ read: keys });
  t.same(Object.keys(r.values).sort(), [...keys].sort());
  t.same(
    keys.map((k) => r.values[k]),
    oracle(keys),
  );
  t.match(r.values['net.ipv4.ip_local_port_range'], /^\d+\t\d+$/, 'raw text, tab kept');
  t.same(r.errors, {});
  t.equal(r.user, false);
  t.match(r.netnsId, /^\d+:\d+$/);
  t.not(r.netnsId.split(':')[1], String(inoOf(HOST_NS)), 'not the host namespace');
  const host = NetNamespace.current();
  t.not(r.netnsId, host.id);
  host.close();
  t.ok(Number.isInteger(r.pid) && r.pid > 0);
  t.equal(fdCount(), before, 'no fd left behind');
  t.same(strayThreads(), []);
});

t.test('writes first, reads back, and keeps going after a failed key', async (t) => {
  const hostSomaxconn = sysctl.getRaw('net.core.somaxconn');
  const r = await cloneNetns({
    write: [
      ['net.core.somaxconn', 1234],
      ['net.ipv4.tcp_congestion_control', 'no-such-algorithm'],
      ['net/ipv4/ip_local_port_range', [20000, 30000]],
    ],
    read: ['net.core.somaxconn', 'net.ipv4.no_such_key'],
  });
  t.equal(r.values['net.core.somaxconn'], '1234');
  t.equal(r.values['net.ipv4.ip_local_port_range'], '20000\t30000', 'slash-form key, reported in dot form');
  const cc = r.errors['net.ipv4.tcp_congestion_control'];
  t.type(cc, NetnsError);
  t.equal(cc?.syscall, 'write');
  t.equal(cc?.key, 'net.ipv4.tcp_congestion_control');
  t.equal(cc?.code, 'ENOENT', 'the kernel answers ENOENT for an unknown algorithm');
  const missing = r.errors['net.ipv4.no_such_key'];
  t.equal(missing?.code, 'ENOENT');
  t.equal(missing?.path, '/proc/sys/net/ipv4/no_such_key');
  t.equal(sysctl.getRaw('net.core.somaxconn'), hostSomaxconn, 'the host was not touched');
});

t.test('arguments are checked before anything is cloned', async (t) => {
  await t.rejects(cloneNetns({ read: ['kernel.hostname'] }), RangeError);
  await t.rejects(cloneNetns({ read: ['net.ipv4.../x'] }), RangeError);
  await t.rejects(cloneNetns({ read: 'net.core.somaxconn' as unknown as string[] }), TypeError);
  await t.rejects(cloneNetns({ write: { 'net.core.somaxconn': 'many' } }), TypeError);
  await t.rejects(cloneNetns({ write: { 'net.ipv4.tcp_congestion_control': 'cubic\nreno' } }), RangeError);
  await t.rejects(cloneNetns({ user: { uid: -1 } }), RangeError);
  await t.rejects(cloneNetns(null as never), TypeError);
  t.same(myChildren(), [], 'no child made');
});

t.test('no zombie, and the namespace goes away with the child', async (t) => {
  const r = await cloneNetns({ read: ['net.core.somaxconn'] });
  t.notOk(fs.existsSync(`/proc/${r.pid}`), 'the child is reaped when the promise settles');
  t.same(myChildren(), []);
  // Nothing holds it: no process is in it, no fd of ours points at it, no name.
  t.notOk(
    NetNamespace.list().some((n) => n.id === r.netnsId),
    'no process or name holds the namespace',
  );
  const mine = fs.readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      return [fs.readlinkSync(`/proc/self/fd/${fd}`)];
    } catch {
      return [];
    }
  });
  t.notOk(mine.includes(`net:[${r.netnsId.split(':')[1]}]`), 'no fd of ours holds it');
});

t.test('dropped promises still reap their children', async (t) => {
  for (let i = 0; i < 20; i++) void cloneNetns({ read: ['net.core.somaxconn'] });
  t.ok(await until(() => myChildren().length === 0), 'every child reaped without anyone awaiting');
});

t.test('many at once resolve independently', async (t) => {
  const rs = await Promise.all(
    Array.from({ length: 30 }, (_, i) => cloneNetns({ write: { 'net.core.somaxconn': 1000 + i } })),
  );
  t.same(
    rs.map((r) => r.values['net.core.somaxconn']),
    rs.map((_, i) => String(1000 + i)),
  );
  t.equal(new Set(rs.map((r) => r.pid)).size, 30);
  t.same(myChildren(), []);
});

t.test('the event loop keeps running while the child works', async (t) => {
  let ticks = 0;
  const iv = setInterval(() => ticks++, 5);
  t.teardown(() => clearInterval(iv));
  await testing.cloneNetns(['core/somaxconn'], [null], null, 200); // the child holds 200 ms
  t.ok(ticks >= 10, `timers ran meanwhile (${ticks})`);
});

t.test('user: true as root makes a user namespace owning the network namespace', async (t) => {
  const r = await cloneNetns({
    read: ['net.ipv4.tcp_keepalive_time'],
    write: { 'net.core.somaxconn': 999 },
    user: true,
  });
  t.equal(r.user, true);
  t.equal(r.values['net.core.somaxconn'], '999');
  t.equal(r.values['net.ipv4.tcp_keepalive_time'], oracle(['net.ipv4.tcp_keepalive_time'])[0]);
});

function runAsNobody(script: string): { out: unknown[]; stderr: string; status: number | null } {
  // plain node: tap's loaders are in the checkout, which nobody may not be able to read.
  const r = spawnSync(...plainNode(['--input-type=module', '-e', script]), {
    encoding: 'utf8',
    uid: 65534,
    gid: 65534,
    cwd: '/',
    env: childEnv(),
  });
  return {
    out: r.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l)),
    stderr: r.stderr,
    status: r.status,
  };
}

t.test('as nobody: EPERM with a hint; user: true works rootless', async (t) => {
  const maxUserNs = Number(fs.readFileSync('/proc/sys/user/max_user_namespaces', 'utf8'));
  const { out, stderr } = runAsNobody(`
    import { cloneNetns } from ${JSON.stringify(stagedRoot() + 'dist/index.js')};
    try { await cloneNetns({ read: ['net.core.somaxconn'] }); console.log('{"unexpected":true}'); }
    catch (e) { console.log(JSON.stringify({ code: e.code, syscall: e.syscall, message: e.message })); }
    try {
      const r = await cloneNetns({ read: ['net.ipv4.tcp_keepalive_time'], write: { 'net.core.somaxconn': 777 }, user: true });
      console.log(JSON.stringify(r));
    } catch (e) { console.log(JSON.stringify({ code: e.code, syscall: e.syscall, message: e.message })); }
  `);
  t.equal(out.length, 2, stderr);
  const [denied, rootless] = out as [{ code: string; syscall: string; message: string }, Record<string, unknown>];
  t.equal(denied.code, 'EPERM');
  t.equal(denied.syscall, 'clone');
  t.match(denied.message, /CAP_SYS_ADMIN.*user: true/);
  if (maxUserNs === 0) {
    t.equal(rootless.code, 'ENOSPC', 'user namespaces disabled here');
    return;
  }
  t.equal(rootless.user, true, JSON.stringify(rootless));
  t.same(rootless.values, {
    'net.core.somaxconn': '777',
    'net.ipv4.tcp_keepalive_time': oracle(['net.ipv4.tcp_keepalive_time'])[0],
  });
  t.same(rootless.errors, {});
});

// The clone child is a copy of the node process: it has the same command line, marker included.
const holdScript = (how: string): string => `
  import { testing } from ${JSON.stringify(root + 'dist/native/testing.js')};
  testing.cloneNetns(['core/somaxconn'], [null], null, 60000);
  ${how}
`;

for (const [name, how] of [
  ['process.exit() while a child is alive', 'setTimeout(() => process.exit(0), 200);'],
  ['process.exit() right after the call', 'process.exit(0);'],
  ['a worker terminated while its child is alive', ''],
] as const) {
  t.test(`${name}: the child is killed, not left behind`, async (t) => {
    const marker = `netns-clone-test-${process.pid}-${Math.random().toString(36).slice(2)}`;
    const workerCode = `Promise.all([import(${JSON.stringify(root + 'dist/native/testing.js')}), import('node:worker_threads')])
      .then(([{ testing }, { parentPort }]) => {
        testing.cloneNetns(['core/somaxconn'], [null], null, 60000);
        parentPort.postMessage(1);
      });`;
    const script = name.startsWith('a worker')
      ? `
        import { Worker } from 'node:worker_threads';
        const w = new Worker(${JSON.stringify(workerCode)}, { eval: true });
        w.on('message', () => setTimeout(() => w.terminate(), 200));
      `
      : holdScript(how);
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, marker], {
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    killWithMarker(t, marker);
    const t0 = Date.now();
    const code = await new Promise((r) => child.on('exit', r));
    t.equal(code, 0, stderr);
    t.ok(Date.now() - t0 < 20000, 'did not wait for the 60 s hold');
    t.ok(await until(() => withMarker(marker).length === 0, 2000), 'no stray clone child');
  });
}

t.test('SIGKILL of the parent: the child dies with it (PR_SET_PDEATHSIG)', async (t) => {
  const marker = `netns-clone-test-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const child = spawn(
    process.execPath,
    ['--input-type=module', '-e', holdScript('setInterval(() => {}, 1000);'), marker],
    {
      env: childEnv(),
      stdio: 'ignore',
    },
  );
  killWithMarker(t, marker);
  t.ok(await until(() => withMarker(marker).length === 2), 'parent and clone child both alive');
  const [, grandchild] = withMarker(marker).sort((a, b) => a - b);
  t.not(fs.readlinkSync(`/proc/${grandchild}/ns/net`), HOST_NS, 'the clone child is in its own namespace');
  child.kill('SIGKILL');
  t.ok(await until(() => withMarker(marker).length === 0, 3000), 'the clone child died with its parent');
});
