// spawnInNetns: a command started in a prepared namespace (the docker run --sysctl equivalent).
import t from 'tap';
import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { NetNamespace, NetnsError, spawnInNetns, sysctl } from '../lib/index.js';
import { RootlessChild } from '../lib/subpaths/rootless.js';
import {
  HOST_NS,
  checkThreadsAtEnd,
  childEnv,
  fdCount,
  inoOf,
  plainNode,
  stagedRoot,
  strayThreads,
} from './helpers.js';

// Needs: root (CAP_SYS_ADMIN) to create namespaces and to become nobody; /bin/sh and cat;
// unprivileged user namespaces (the nobody test); dist/ built (`npm run build:ts`).
checkThreadsAtEnd(t);

function collect(stream: NodeJS.ReadableStream | null): Promise<string> {
  return new Promise((resolve) => {
    let s = '';
    if (!stream) return resolve('');
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => (s += d));
    stream.on('end', () => resolve(s));
  });
}

// Warm up: the first child process (libuv's SIGCHLD plumbing) and the first sysctl access
// (the addon's O_PATH fd on /proc/sys/net) open fds for good; fd counts are taken after that.
await spawnInNetns('true', [], { sysctl: { 'net.core.somaxconn': 4096 } }).exited;

const file = (k: string): string => '/proc/sys/' + k.replaceAll('.', '/');

t.test('the command reads its presets with its first instruction', async (t) => {
  const presets = {
    'net.ipv4.tcp_keepalive_time': 600,
    'net.ipv4.tcp_keepalive_intvl': 10,
    'net.ipv4.tcp_keepalive_probes': 6,
    'net.core.somaxconn': 321,
  };
  const before = fdCount();
  // cat is the whole command: its first reads are the files themselves.
  const s = spawnInNetns('cat', Object.keys(presets).map(file), {
    sysctl: presets,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => s.child.kill('SIGKILL'));
  // The stdout pipe is the test's own, and Node keeps its fd until the stream has closed:
  // the child's 'close' event. That may come after 'exit' and after the stream's 'end' (it
  // does on Node 24), so the count waits for it; `exited` itself follows 'exit'.
  const closed = once(s.child, 'close');
  const out = await collect(s.child.stdout);
  t.same(out.trimEnd().split('\n'), Object.values(presets).map(String));
  t.same(s.sysctl.changed, Object.keys(presets));
  t.same(s.sysctl.values, presets);
  t.same(await s.exited, { code: 0, signal: null });
  t.ok(s.netns.closed, 'the namespace handle it made is closed once the command exited');
  t.equal(
    fdCount(),
    before + (s.child.stdout!.closed ? 0 : 1),
    'at exit, the one fd left open is the stdout pipe, until its stream closes',
  );
  await closed;
  t.equal(fdCount(), before, 'no fd left behind once stdio closed');
  t.not(sysctl.getRaw('net.core.somaxconn'), '321', 'the host is untouched');
  t.same(strayThreads(), []);
});

t.test('the command runs in the namespace, not the host', async (t) => {
  const s = spawnInNetns('readlink', ['/proc/self/ns/net'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ino = s.netns.ino;
  const out = await collect(s.child.stdout);
  await s.exited;
  t.equal(inoOf(out.trim()), ino);
  t.not(out.trim(), HOST_NS);
});

t.test('exit codes, signals and stdio pass through', async (t) => {
  const a = spawnInNetns('sh', ['-c', 'exit 7'], { stdio: 'ignore' });
  t.same(await a.exited, { code: 7, signal: null });
  t.equal(a.child.exitCode, 7);

  const b = spawnInNetns('sh', ['-c', 'kill -TERM $$'], { stdio: 'ignore' });
  t.same(await b.exited, { code: null, signal: 'SIGTERM' });

  const c = spawnInNetns('sh', ['-c', 'tr a-z A-Z; echo err >&2; exit 3'], { stdio: ['pipe', 'pipe', 'pipe'] });
  c.child.stdin!.end('hello\n');
  const [out, err] = await Promise.all([collect(c.child.stdout), collect(c.child.stderr)]);
  t.equal(out, 'HELLO\n');
  t.equal(err, 'err\n');
  t.same(await c.exited, { code: 3, signal: null });

  const d = spawnInNetns('sh', ['-c', 'echo "$FOO $(pwd)"'], {
    env: { FOO: 'bar', PATH: process.env.PATH ?? '/usr/bin:/bin' },
    cwd: '/tmp',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.equal(await collect(d.child.stdout), 'bar /tmp\n', 'env and cwd pass through');
  await d.exited;

  const e = spawnInNetns('sleep', ['30'], { stdio: 'ignore' });
  e.child.kill('SIGKILL');
  t.same(await e.exited, { code: null, signal: 'SIGKILL' });
});

t.test('a given namespace is used and left open', async (t) => {
  using ns = NetNamespace.create();
  const s = spawnInNetns('cat', [file('net.core.somaxconn')], {
    netns: ns,
    sysctl: { 'net.core.somaxconn': 222 },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.equal(s.netns, ns);
  t.equal((await collect(s.child.stdout)).trim(), '222');
  await s.exited;
  t.notOk(ns.closed, 'the caller still owns it');
  t.equal(ns.sysctl.get('net.core.somaxconn'), 222, 'the preset stays in the namespace');
  t.same(spawnInNetns('true', [], { netns: ns, sysctl: { 'net.core.somaxconn': 222 } }).sysctl.unchanged, [
    'net.core.somaxconn',
  ]);
});

t.test('a failed preset starts nothing and throws', async (t) => {
  const before = fdCount();
  let spawned = false;
  let caught: unknown;
  try {
    spawnInNetns('touch', ['/tmp/netns-spawn-test-should-not-exist'], {
      sysctl: [
        ['net.core.somaxconn', 100],
        ['net.ipv4.tcp_congestion_control', 'no-such-algorithm'],
      ],
    });
    spawned = true;
  } catch (e) {
    caught = e;
  }
  t.notOk(spawned);
  t.type(caught, NetnsError);
  t.equal((caught as NetnsError).key, 'net.ipv4.tcp_congestion_control');
  t.equal((caught as NetnsError).code, 'ENOENT');
  t.notOk(fs.existsSync('/tmp/netns-spawn-test-should-not-exist'));
  t.equal(fdCount(), before, 'the namespace it made was closed');
});

t.test('a command that cannot start: error event, exited settles, namespace closed', async (t) => {
  const s = spawnInNetns('/nonexistent/netns-test', [], { stdio: 'ignore' });
  const err = await new Promise<NodeJS.ErrnoException>((r) => s.child.once('error', r));
  t.equal(err.code, 'ENOENT');
  t.same(await s.exited, { code: null, signal: null });
  t.ok(s.netns.closed);
});

t.test('arguments are checked first', async (t) => {
  const before = fdCount();
  t.throws(() => spawnInNetns('', []), TypeError);
  t.throws(() => spawnInNetns('true', 'x' as unknown as string[]), TypeError);
  t.throws(() => spawnInNetns('true', [], { netns: 3 as unknown as NetNamespace }), TypeError);
  t.throws(() => spawnInNetns('true', [], { sysctl: { 'kernel.hostname': 'x' } }), RangeError);
  t.equal(fdCount(), before);
});

t.test('as nobody: a rootless namespace, presets seen by the first instruction, uid 0 inside', async (t) => {
  // Without CAP_SYS_ADMIN, NetNamespace.create() (inside spawnInNetns) goes rootless; the
  // command is started by the helper after setMany returned. The fixture imports dist/, from a
  // copy nobody can read (the checkout may be in a 0700 home).
  const fixture = stagedRoot() + 'test/fixtures/spawn-nobody.mjs';
  const host = ['tcp_keepalive_time', 'tcp_keepalive_intvl', 'tcp_keepalive_probes'].map((k) =>
    fs.readFileSync(`/proc/sys/net/ipv4/${k}`, 'utf8'),
  );
  const r = spawnSync(...plainNode([fixture]), {
    uid: 65534,
    gid: 65534,
    cwd: '/',
    env: childEnv(),
    encoding: 'utf8',
    timeout: 60_000,
  });
  t.equal(r.stderr, '', "nothing on stderr (tap's tracker does not reach the child)");
  t.equal(r.status, 0);
  const o = JSON.parse(r.stdout.trim().split('\n').pop()!);
  t.same([o.uid, o.gid, o.capSysAdmin], [65534, 65534, false], 'ran as nobody without CAP_SYS_ADMIN');
  t.equal(o.rootless, true, 'the namespace spawnInNetns made is rootless');
  t.equal(o.isRootlessChild, true, 'child is a RootlessChild');
  t.not(o.netnsId, `${fs.statSync('/proc/self/ns/net').dev}:${inoOf(HOST_NS)}`);
  t.same(o.report.changed, [
    'net.ipv4.tcp_keepalive_time',
    'net.ipv4.tcp_keepalive_intvl',
    'net.ipv4.tcp_keepalive_probes',
    'net.ipv4.ip_local_port_range',
  ]);
  // cat's own reads, in order: the four preset files, its /proc/self/status, its uid_map.
  const lines = o.first.stdout.split('\n');
  t.same(lines.slice(0, 4), ['600', '10', '6', '20000\t30000'], 'the command read the presets itself');
  t.match(o.first.stdout, /^Uid:\t0\t0\t0\t0$/m, 'it runs as uid 0 inside');
  t.match(o.first.stdout, /^Gid:\t0\t0\t0\t0$/m, 'and gid 0');
  t.match(o.first.stdout, /^\s*0\s+65534\s+1\s*$/m, 'uid 0 inside is nobody outside');
  t.equal(o.first.stderr, '');
  t.same(o.first.exit, { code: 0, signal: null });
  t.equal(o.closedAfterExit, true, 'the handle it made is closed once the command exited');
  t.equal(o.helperGone, true, 'and its helper process is gone');

  t.same(o.exit7, { code: 7, signal: null }, 'exit code passes through');
  t.same(o.term, { code: null, signal: 'SIGTERM' }, 'a signal the command raises passes through');
  t.same(o.killed, { code: null, signal: 'SIGKILL' }, 'child.kill() works');
  t.same(
    o.stdio,
    { stdout: 'HELLO\n', stderr: 'err\n', exit: { code: 3, signal: null } },
    'stdin, stdout, stderr pass through',
  );
  t.equal(o.envCwd, 'bar /tmp\n', 'env and cwd pass through');
  t.same(o.timeout, { code: null, signal: 'SIGUSR1' }, 'timeout kills with killSignal');
  t.same(o.aborted, { code: null, signal: 'SIGTERM' }, 'an AbortSignal kills it');

  t.same(
    o.given,
    { same: true, seen: '222', exit: { code: 0, signal: null }, open: true, after: 222 },
    'a given rootless namespace is used and left open',
  );

  t.match(o.enoent, { name: 'NetnsError', code: 'ENOENT', syscall: 'execve' }, 'a start failure is thrown');
  t.match(
    o.badPreset,
    { name: 'NetnsError', path: '/proc/sys/net/ipv4/tcp_congestion_control' },
    'a failed preset is thrown',
  );
  t.equal(o.touched, false, 'and nothing was started');
  for (const k of ['uid', 'shell', 'ipc']) t.equal(o[`refused_${k}`]?.name, 'TypeError', `${k} is refused`);
  t.equal(o.childrenAfterFailures, 0, 'failures leave no helper');
  t.same(o.children, [], 'no helper, command or zombie left');
  t.equal(o.fdsLeaked, 0, 'no fd left');
  t.equal(o.hostUnchanged, true);
  t.same(
    ['tcp_keepalive_time', 'tcp_keepalive_intvl', 'tcp_keepalive_probes'].map((k) =>
      fs.readFileSync(`/proc/sys/net/ipv4/${k}`, 'utf8'),
    ),
    host,
    'host untouched',
  );
});

t.test('root with a rootless namespace: RootlessChild, same shape', async (t) => {
  using ns = NetNamespace.create({ rootless: true });
  const s = spawnInNetns('cat', [file('net.ipv4.tcp_keepalive_time')], {
    netns: ns,
    sysctl: { 'net.ipv4.tcp_keepalive_time': 611 },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.type(s.child, RootlessChild);
  t.equal(s.netns, ns);
  t.equal((await collect(s.child.stdout)).trim(), '611');
  t.same(await s.exited, { code: 0, signal: null });
  t.notOk(ns.closed);
  t.same(s.sysctl.values, { 'net.ipv4.tcp_keepalive_time': 611 });
  t.throws(() => spawnInNetns('true', [], { netns: ns, uid: 0 }), TypeError);
});
