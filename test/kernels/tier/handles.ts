// The kernel tier: opening namespaces every way, create/remove, pidfds and their fallback, and
// the confined open. Root. The matrix also runs this file under test/kernels/enosys.c (as on a
// kernel without openat2, pidfd_open and clone3): the same answers must come from the fallbacks,
// and strace shows which path each call took.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { NetNamespace, type NetnsError } from 'netns';
import { native } from '../../../dist/native/index.js';
import { ipNetns, LINE, ROOT, sleeper } from './common.js';

/** Running under the seccomp filter that makes openat2, pidfd_open and clone3 fail with ENOSYS. */
const ENOSYS = /^Seccomp:\s*2$/m.test(fs.readFileSync('/proc/self/status', 'utf8'));
const [major, minor] = LINE.split('.').map(Number) as [number, number];
const atLeast = (a: number, b: number): boolean => major > a || (major === a && minor >= b);
const inoOf = (link: string): number => Number(/\[(\d+)\]/.exec(link)![1]);

/** A small program run by a fresh node (inheriting the filter), traced: its stdout and the trace. */
function traced(code: string, calls: string): { out: string; trace: string } {
  const log = `/tmp/netns-kt-strace-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    const r = spawnSync(
      'strace',
      ['-f', '-qq', '-e', `trace=${calls}`, '-o', log, process.execPath, '--input-type=module', '-e', code],
      { encoding: 'utf8', cwd: ROOT },
    );
    assert.equal(r.status, 0, r.stderr);
    return { out: r.stdout, trace: fs.readFileSync(log, 'utf8') };
  } finally {
    fs.rmSync(log, { force: true });
  }
}
const dist = JSON.stringify(`${ROOT}dist/index.js`);

test(`${ENOSYS ? 'without openat2/pidfd_open/clone3: ' : ''}opening a namespace every way gives the same namespace`, async () => {
  const s = await sleeper();
  const named = ipNetns();
  try {
    const target = inoOf(fs.readlinkSync(`/proc/${s.pid}/ns/net`));
    using byPid = NetNamespace.fromPid(s.pid);
    using byPath = NetNamespace.fromPath(`/proc/${s.pid}/ns/net`);
    using byFd = NetNamespace.fromFd(byPath.fd);
    assert.equal(byPid.ino, target);
    assert.ok(byPid.equals(byPath) && byPath.equals(byFd));
    using byName = NetNamespace.fromName(named.name);
    assert.equal(byName.ino, fs.statSync(`/run/netns/${named.name}`).ino);
    assert.ok(!byName.equals(byPid));
    using cur = NetNamespace.current();
    assert.equal(cur.ino, inoOf(fs.readlinkSync('/proc/self/ns/net')));
    const listed = NetNamespace.list().find((i) => i.names.includes(named.name));
    assert.ok(listed, 'list() finds the named namespace');
    assert.ok(
      NetNamespace.list().some((i) => i.pids.includes(s.pid)),
      "list() finds the sleeper's namespace",
    );
  } finally {
    s.kill();
    named.remove();
  }
});

test('create() and remove(): anonymous and named, visible to ip netns, gone after remove', () => {
  using anon = NetNamespace.create();
  assert.equal(anon.sysctl.get('net.ipv4.tcp_keepalive_time'), 7200);
  const name = `kt-create-${process.pid}`;
  const ns = NetNamespace.create({ name });
  try {
    assert.match(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout, new RegExp(`^${name}\\b`, 'm'));
    assert.equal(
      spawnSync('ip', ['netns', 'exec', name, 'cat', '/proc/sys/net/ipv4/tcp_keepalive_time'], {
        encoding: 'utf8',
      }).stdout.trim(),
      '7200',
    );
  } finally {
    ns.close();
    NetNamespace.remove(name);
  }
  assert.ok(!fs.existsSync(`/run/netns/${name}`));
  assert.throws(() => NetNamespace.fromName(name), { code: 'ENOENT' });
});

test('fromPid: a process that has exited is ESRCH, never another namespace', () => {
  const r = spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' });
  const pid = Number(r.stdout.trim());
  assert.throws(
    () => NetNamespace.fromPid(pid),
    (e: NetnsError) => e.code === 'ESRCH',
  );
});

test(`fromPid on ${LINE}${ENOSYS ? ' without pidfd_open' : ''}: ${ENOSYS ? 'the /proc/PID fallback' : atLeast(6, 11) ? 'PIDFD_GET_NET_NAMESPACE' : 'a pidfd, then /proc/PID/ns/net checked alive through it'}`, async () => {
  const s = await sleeper();
  try {
    const { out, trace } = traced(
      `import { NetNamespace } from ${dist}; console.log(NetNamespace.fromPid(${s.pid}).ino);`,
      'pidfd_open,pidfd_send_signal,ioctl,openat',
    );
    assert.equal(Number(out.trim()), inoOf(fs.readlinkSync(`/proc/${s.pid}/ns/net`)));
    const open = trace.split('\n').filter((l) => l.includes(`pidfd_open(${s.pid}`));
    if (ENOSYS) {
      assert.ok(open.length > 0 && open.every((l) => /ENOSYS/.test(l)), 'pidfd_open answered ENOSYS');
      assert.match(trace, new RegExp(`openat\\([^)]*"/proc/${s.pid}"`), 'the /proc/PID directory fd');
    } else {
      assert.ok(
        open.some((l) => /= \d+$/.test(l.trim())),
        'a pidfd',
      );
      if (atLeast(6, 11))
        assert.match(trace, /ioctl\(\d+, (PIDFD_GET_NET_NAMESPACE|_IOC\(_IOC_NONE, 0xff, 0x4, 0\)|0xff04)[^=]*= \d+/);
      else
        assert.match(trace, /pidfd_send_signal\(\d+, 0, NULL, 0\) = 0/, 'the process checked alive through its pidfd');
    }
  } finally {
    s.kill();
  }
});

test(`${ENOSYS ? 'without openat2: ' : ''}the confined open never leaves /proc/sys/net`, () => {
  for (const rel of [
    '../../kernel/hostname',
    'ipv4/../../../etc/passwd',
    '/etc/passwd',
    'core/../../kernel/hostname',
  ]) {
    const e = (() => {
      try {
        native.sysctlRead(-1, rel);
      } catch (err) {
        return err as { errno: number };
      }
      return undefined;
    })();
    assert.ok(e, `${rel}: refused`);
    // openat2: EXDEV / ELOOP from RESOLVE_BENEATH; the component walk: EINVAL for "..", "/"
    assert.ok([18, 40, 22].includes(Math.abs(e.errno)), `${rel}: errno ${e.errno}`);
  }
  const { out, trace } = traced(
    `import { sysctl, NetNamespace } from ${dist}; const ns = NetNamespace.create(); console.log(sysctl.getRaw('net.ipv4.tcp_keepalive_time'), ns.sysctl.getRaw('net.core.somaxconn')); ns.close();`,
    'openat,openat2',
  );
  assert.match(out, /^\d+ \d+$/m);
  const keyOpens = trace
    .split('\n')
    .filter((l) => /"(tcp_keepalive_time|somaxconn|ipv4\/tcp_keepalive_time|core\/somaxconn)"/.test(l));
  assert.ok(keyOpens.length > 0, 'the key opens are in the trace');
  if (ENOSYS) {
    assert.match(trace, /openat2\([^)]*\) = -1 ENOSYS/, 'openat2 answered ENOSYS');
    const walked = keyOpens.filter((l) => !/ENOSYS/.test(l));
    assert.ok(
      walked.length > 0 && walked.every((l) => /^\d+\s+openat\(/.test(l) && /O_NOFOLLOW/.test(l)),
      `the component walk: ${keyOpens.join(' | ')}`,
    );
  } else {
    assert.ok(
      keyOpens.every((l) => /openat2\(/.test(l) && /RESOLVE_BENEATH/.test(l) && /RESOLVE_NO_SYMLINKS/.test(l)),
      `openat2, confined: ${keyOpens.join(' | ')}`,
    );
  }
});

test(`${ENOSYS ? 'without clone3/pidfd_open: ' : ''}a rootless namespace and a command started inside it`, async () => {
  using ns = NetNamespace.create({ rootless: true });
  assert.ok(ns.rootless, 'held by a rootless helper');
  assert.equal(ns.sysctl.get('net.ipv4.tcp_keepalive_time'), 7200);
  ns.sysctl.set('net.ipv4.tcp_keepalive_time', 600);
  const child = ns.rootless!.spawn('cat', ['/proc/sys/net/ipv4/tcp_keepalive_time']);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const code = await new Promise((res) => child.on('close', res));
  assert.equal(code, 0);
  assert.equal(out.trim(), '600', 'the command runs in that namespace');
});
