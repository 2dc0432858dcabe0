// spawnInNetns: a command started in a prepared namespace (the docker run --sysctl equivalent).
import t from 'tap';
import * as fs from 'node:fs';
import { NetNamespace, NetnsError, spawnInNetns, sysctl } from '../lib/index.js';
import { HOST_NS, checkThreadsAtEnd, fdCount, inoOf, strayThreads } from './helpers.js';

// Needs: root (CAP_SYS_ADMIN) to create namespaces; /bin/sh and cat.
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
  const s = spawnInNetns('cat', Object.keys(presets).map(file), { sysctl: presets, stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => s.child.kill('SIGKILL'));
  const out = await collect(s.child.stdout);
  t.same(out.trimEnd().split('\n'), Object.values(presets).map(String));
  t.same(s.sysctl.changed, Object.keys(presets));
  t.same(s.sysctl.values, presets);
  t.same(await s.exited, { code: 0, signal: null });
  t.ok(s.netns.closed, 'the namespace handle it made is closed once the command exited');
  t.equal(fdCount(), before, 'no fd left behind');
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

  const d = spawnInNetns('sh', ['-c', 'echo "$FOO $(pwd)"'], { env: { FOO: 'bar', PATH: process.env.PATH ?? '/usr/bin:/bin' }, cwd: '/tmp', stdio: ['ignore', 'pipe', 'inherit'] });
  t.equal(await collect(d.child.stdout), 'bar /tmp\n', 'env and cwd pass through');
  await d.exited;

  const e = spawnInNetns('sleep', ['30'], { stdio: 'ignore' });
  e.child.kill('SIGKILL');
  t.same(await e.exited, { code: null, signal: 'SIGKILL' });
});

t.test('a given namespace is used and left open', async (t) => {
  using ns = NetNamespace.create();
  const s = spawnInNetns('cat', [file('net.core.somaxconn')], { netns: ns, sysctl: { 'net.core.somaxconn': 222 }, stdio: ['ignore', 'pipe', 'inherit'] });
  t.equal(s.netns, ns);
  t.equal((await collect(s.child.stdout)).trim(), '222');
  await s.exited;
  t.notOk(ns.closed, 'the caller still owns it');
  t.equal(ns.sysctl.get('net.core.somaxconn'), 222, 'the preset stays in the namespace');
  t.same(spawnInNetns('true', [], { netns: ns, sysctl: { 'net.core.somaxconn': 222 } }).sysctl.unchanged, ['net.core.somaxconn']);
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
