// The native core both backends share (native/sysctl_core.h): the walk flags, the packed walk
// and its one decoder (lib/native/walk.ts), and the confined open on kernels without openat2.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { constants as osConstants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { NetNamespace } from '../lib/index.js';
import {
  decodeWalk,
  isNativeErrno,
  native,
  sysctlWalk,
  sysctlWalkAsync,
  WALK_MODE,
  WALK_READ,
  type NativeOutcome,
} from '../lib/native/index.js';
import { testing } from '../lib/native/testing.js';
import { checkThreadsAtEnd, plainNode } from './helpers.js';

// Needs: /proc/sys/net. The namespace case needs root (CAP_SYS_ADMIN) and says so.
checkThreadsAtEnd(t);
const { EINVAL, ELOOP, ENAMETOOLONG, ENOTDIR, EXDEV } = osConstants.errno;
const NET = '/proc/sys/net';

/** Files under /proc/sys/net/<dir>, relative to /proc/sys/net, read with fs. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const visit = (rel: string): void => {
    for (const d of fs.readdirSync(path.join(NET, rel), { withFileTypes: true })) {
      const r = `${rel}/${d.name}`;
      if (d.isDirectory()) visit(r);
      else if (d.isFile()) out.push(r);
    }
  };
  visit(dir);
  return out.sort();
}

function fsOutcome(rel: string): string | { code: string } {
  try {
    return fs.readFileSync(path.join(NET, rel), 'latin1');
  } catch (e) {
    return { code: (e as NodeJS.ErrnoException).code! };
  }
}

function sameOutcome(native: NativeOutcome, fsSide: string | { code: string }): boolean {
  if (typeof fsSide === 'string') return native === fsSide;
  return isNativeErrno(native) && native.errno === (osConstants.errno as Record<string, number>)[fsSide.code];
}

/** What native.sysctlRead(-1, rel) threw, or undefined if it read. */
function readError(rel: string): { errno: number; syscall: string } | undefined {
  try {
    native.sysctlRead(-1, rel);
    return undefined;
  } catch (e) {
    if (!isNativeErrno(e)) throw e;
    return e;
  }
}

t.test('the walk flags come from the addon: two distinct single bits', async (t) => {
  t.equal(WALK_READ, native.constants.WALK_READ);
  t.equal(WALK_MODE, native.constants.WALK_MODE);
  for (const f of [WALK_READ, WALK_MODE]) t.ok(Number.isInteger(f) && f > 0 && (f & (f - 1)) === 0, `${f} is one bit`);
  t.not(WALK_READ, WALK_MODE);
});

t.test('decodeWalk: paths, modes, values and per-key errors', async (t) => {
  const packed = [
    'core/somaxconn',
    '420',
    '=4096\n',
    'ipv4/x',
    '128',
    '!13:open',
    'ipv4/y',
    '292',
    '=a!b:c=d',
    '',
  ].join('\0');
  t.same(decodeWalk(packed, WALK_READ | WALK_MODE), {
    keys: ['core/somaxconn', 'ipv4/x', 'ipv4/y'],
    modes: [420, 128, 292],
    values: ['4096\n', { errno: 13, syscall: 'open', path: '/proc/sys/net/ipv4/x', nativeErrno: true }, 'a!b:c=d'],
  });
  t.same(decodeWalk(['a/b', '', '', 'c', '', '', ''].join('\0'), 0), { keys: ['a/b', 'c'], modes: [], values: [] });
  t.same(decodeWalk('', WALK_READ | WALK_MODE), { keys: [], modes: [], values: [] });
  const [err] = decodeWalk(['k', '', '!22:read', ''].join('\0'), WALK_READ).values;
  t.ok(isNativeErrno(err) && err.errno === EINVAL && err.syscall === 'read', 'an errno and the step that failed');
});

t.test('a walk agrees with the filesystem: keys, modes, values and errors', async (t) => {
  const expected = filesUnder('core');
  const before = new Map(expected.map((r) => [r, fsOutcome(r)]));
  const w = sysctlWalk(-1, 'core', WALK_READ | WALK_MODE);
  const after = new Map(expected.map((r) => [r, fsOutcome(r)]));
  t.same([...w.keys].sort(), expected, 'the same files');
  t.equal(w.values.length, w.keys.length);
  t.equal(w.modes.length, w.keys.length);
  w.keys.forEach((rel, i) => {
    t.equal(w.modes[i], fs.statSync(path.join(NET, rel)).mode & 0o7777, `${rel}: mode`);
    const v = w.values[i]!;
    t.ok(sameOutcome(v, before.get(rel)!) || sameOutcome(v, after.get(rel)!), `${rel}: outcome as fs sees it`);
  });
  const a = await sysctlWalkAsync(-1, 'core', 0);
  t.same(a.keys.sort(), expected, 'the Promise form walks the same files');
  t.same(a.values, [], 'no values without WALK_READ');
  t.same(a.modes, [], 'no modes without WALK_MODE');
});

t.test('without openat2 (component walk): the same answers, still confined', async (t) => {
  const allKeys = sysctlWalk(-1, '', 0).keys.sort();
  const reads = (): string => native.sysctlRead(-1, 'core/somaxconn');
  const withOpenat2 = reads();
  const escapes = ['core/../../kernel/hostname', '../kernel/hostname', 'core/../../../etc/passwd'];
  // TypeScript rejects these before native code; the component walk refuses them too.
  const unusual = ['core/./somaxconn', 'core//somaxconn', './core/somaxconn', 'core/'];
  t.same(
    escapes.map((rel) => readError(rel)?.syscall),
    escapes.map(() => 'open'),
    'openat2 refuses every escape at open',
  );

  testing.forceOpenFallback(true);
  t.teardown(() => testing.forceOpenFallback(false));
  t.equal(reads(), withOpenat2, 'a read');
  t.same(sysctlWalk(-1, '', 0).keys.sort(), allKeys, 'a walk of the whole tree (prefix "" opens the root itself)');
  t.same(sysctlWalk(-1, 'core', 0).keys.sort(), filesUnder('core'), 'a walk of a directory');
  const [fd, granted] = native.sysctlOpen(-1, 'core/somaxconn', 1);
  try {
    t.ok(fd >= 0 && [0, 1].includes(granted), 'a key handle (read-write, or read-only when not writable here)');
    t.equal(native.fdRead(fd), withOpenat2, 'read through the handle');
  } finally {
    native.close(fd);
  }
  for (const rel of [...escapes, ...unusual])
    t.match(readError(rel), { errno: EINVAL, syscall: 'open' }, `${JSON.stringify(rel)}: EINVAL`);
  t.match(
    readError(`core/${'x'.repeat(300)}`),
    { errno: ENAMETOOLONG, syscall: 'open' },
    'a component longer than NAME_MAX',
  );

  const root = process.getuid?.() === 0;
  t.test(
    'inside a namespace',
    { skip: root ? false : 'needs root (CAP_SYS_ADMIN) to create a namespace' },
    async (t) => {
      const ns = NetNamespace.create();
      t.teardown(() => ns.close());
      t.equal(
        ns.sysctl.getRaw('net.ipv4.tcp_keepalive_time'),
        '7200',
        'a fresh namespace has the default, read by component walk',
      );
      t.ok(ns.sysctl.list('net.core').includes('net.core.somaxconn'), 'a walk inside');
    },
  );
});

t.test('without the NS_GET_NSTYPE ioctl (qemu-user): the type from the fd link, the same answers', async (t) => {
  const kinds = fs.readdirSync('/proc/self/ns').filter((k) => !k.endsWith('_for_children'));
  const fds = kinds.map((k) => fs.openSync(`/proc/self/ns/${k}`, 'r'));
  const opath = fs.openSync('/proc/self/ns/net', 0o10000000 /* O_PATH */);
  const regular = fs.openSync('/etc/hostname', 'r');
  t.teardown(() => {
    for (const fd of [...fds, opath, regular]) fs.closeSync(fd);
  });
  const all = [...fds, opath, regular];
  const withIoctl = all.map((fd) => native.nsInfo(fd));
  t.ok(
    withIoctl.slice(0, fds.length).every((i) => i.nsType > 0),
    `the ioctl names every kind: ${kinds.join(', ')}`,
  );
  testing.forceNsTypeFallback(true);
  t.teardown(() => testing.forceNsTypeFallback(false));
  const fromLink = all.map((fd) => native.nsInfo(fd));
  t.same(
    fromLink,
    withIoctl,
    'the same nsInfo for every namespace kind, an O_PATH fd (-EBADF) and a regular file (-ENOTTY)',
  );
  t.ok(
    fromLink.some((i) => i.nsType === native.constants.CLONE_NEWNET),
    'a network namespace among them',
  );
  using ns = NetNamespace.fromPath('/proc/self/ns/net');
  t.ok(ns.fd >= 0, 'a handle opens through the fallback');
});

// Every path of the addon that opens keys, each tried with escapes: the sync calls (at home and
// inside a namespace), their Promise forms (the executor), the clone child and the rootless
// helper (sync and Promise forms), in a process of its own (test/fixtures/confined-open.mjs).
// With openat2, and with openat2 failing with ENOSYS as before Linux 5.6 (a seccomp filter the
// clone child and the helper inherit): then each backend's fallback is the component walk, and
// its own errors say so ("..": EINVAL where openat2 says EXDEV). Symlinks: procfs sysctl trees
// hold none, so a mount namespace of the fixture's own has /proc bind-mounted over
// /proc/sys/net (self, thread-self and mounts then lie beneath the root).
const fixture = fileURLToPath(new URL('./fixtures/confined-open.mjs', import.meta.url));
const isRoot = process.getuid?.() === 0;
t.test(
  'the confined open refuses escapes by every path that opens keys, with and without openat2',
  { skip: isRoot ? false : 'needs root (mount namespace, namespaces, a rootless helper as root)' },
  async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netns-confined-'));
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.writeFileSync(path.join(dir, 'target'), 'marker\n');
    const expected = {
      openat2: { dotdot: EXDEV, absolute: EXDEV, symlinkDir: ELOOP, symlinkLast: ELOOP, threadSelf: ELOOP },
      // OpenByComponents: "" and ".." components are EINVAL; a symlink met as a directory is
      // ENOTDIR (O_PATH | O_DIRECTORY | O_NOFOLLOW), as the last component ELOOP (O_NOFOLLOW).
      fallback: { dotdot: EINVAL, absolute: EINVAL, symlinkDir: ENOTDIR, symlinkLast: ELOOP, threadSelf: ENOTDIR },
    };
    for (const bind of [false, true])
      for (const deny of [false, true]) {
        const flags = [...(bind ? ['--bind'] : []), ...(deny ? ['--deny-openat2'] : [])];
        const [cmd, args] = plainNode([fixture, dir, ...flags]);
        const r = spawnSync('unshare', ['--mount', '--propagation', 'private', cmd, ...args], {
          encoding: 'utf8',
          timeout: 60_000,
        });
        const name = `${bind ? '/proc over /proc/sys/net' : '/proc/sys/net'}, ${deny ? 'openat2 denied (ENOSYS)' : 'openat2'}`;
        t.equal(r.status, 0, `${name}: the fixture ran: ${r.stderr}`);
        const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
        const want = deny ? expected.fallback : expected.openat2;
        for (const [p, v] of Object.entries(out.good as Record<string, unknown>))
          t.ok(
            typeof v === 'string' || (v as { fd?: string } | null)?.fd === 'opened',
            `${name}: ${p} of a key beneath the root works: ${JSON.stringify(v)}`,
          );
        for (const [p, v] of Object.entries(out.goodWalks as Record<string, { keys?: number }>))
          t.ok((v.keys ?? 0) > 0, `${name}: ${p} of a directory beneath the root works`);
        for (const [p, got] of Object.entries(out.escapes as Record<string, Record<string, unknown>>)) {
          const kinds = Object.keys(got);
          t.same(
            got,
            Object.fromEntries(kinds.map((k) => [k, { errno: want[k as keyof typeof want], syscall: 'open' }])),
            `${name}: ${p} refuses ${kinds.join(', ')}`,
          );
        }
        for (const [p, got] of Object.entries(out.walks as Record<string, Record<string, unknown>>)) {
          const kinds = Object.keys(got);
          t.same(
            got,
            Object.fromEntries(kinds.map((k) => [k, { errno: want[k as keyof typeof want], syscall: 'open' }])),
            `${name}: ${p} refuses ${kinds.join(', ')}`,
          );
        }
        t.equal(out.target, 'marker\n', `${name}: the file outside was neither read nor written`);
      }
  },
);
