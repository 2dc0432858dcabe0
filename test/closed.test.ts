// A closed handle throws one kind of error everywhere: a NetnsError with code EBADF (errno -9),
// as the kernel answers for a closed fd and Node for a closed FileHandle, naming the handle.
// Each handle and each way of using it, sync and Promise forms. Needs: root for
// NetNamespace.create() (the ordinary namespace); unprivileged user namespaces (or root) for
// the rootless one.
import t, { type Test } from 'tap';
import { NetNamespace, NetnsError, compare, spawnInNetns, sysctl } from '../lib/index.js';
import { rootlessSupport } from '../lib/subpaths/rootless.js';
import { checkThreadsAtEnd, fdCount } from './helpers.js';

checkThreadsAtEnd(t);
const KEY = 'net.ipv4.tcp_keepalive_time';

type Use = [what: string, use: () => unknown];

/** Every use must throw (or reject with) EBADF from a NetnsError whose message says it is closed. */
async function allClosed(t: Test, uses: Use[], handle: RegExp): Promise<void> {
  for (const [what, use] of uses) {
    let got: unknown;
    try {
      const r = use();
      if (r instanceof Promise)
        await r.then(
          () => undefined,
          (e: unknown) => (got = e),
        );
    } catch (e) {
      got = e;
    }
    t.ok(got instanceof NetnsError, `${what}: a NetnsError (${String(got)})`);
    const e = got as NetnsError;
    t.match({ code: e.code, errno: e.errno }, { code: 'EBADF', errno: -9 }, `${what}: EBADF`);
    t.match(e.message, /^EBADF: bad file descriptor, \w+\. /, `${what}: Node's shape`);
    t.match(e.message, handle, `${what}: says which handle is closed`);
  }
}

/** The uses of a namespace handle (and of its sysctl) after close. */
function namespaceUses(ns: NetNamespace, other: NetNamespace): Use[] {
  return [
    ['.fd', () => ns.fd],
    ['.runSync()', () => ns.runSync(() => 1)],
    ['.equals()', () => other.equals(ns)],
    ['sysctl.get()', () => ns.sysctl.get(KEY)],
    ['sysctl.getRaw()', () => ns.sysctl.getRaw(KEY)],
    ['sysctl.set()', () => ns.sysctl.set(KEY, 600)],
    ['sysctl.list()', () => ns.sysctl.list('net.ipv4')],
    ['sysctl.getAll()', () => ns.sysctl.getAll('net.core')],
    ['sysctl.setMany()', () => ns.sysctl.setMany({ [KEY]: 600 })],
    ['sysctl.open()', () => ns.sysctl.open(KEY)],
    ['sysctl.snapshot()', () => ns.sysctl.snapshot('net.core')],
    ['sysctl.getAsync()', () => ns.sysctl.getAsync(KEY)],
    ['sysctl.setAsync()', () => ns.sysctl.setAsync(KEY, 600)],
    ['sysctl.getAllAsync()', () => ns.sysctl.getAllAsync('net.core')],
    ['sysctl.setManyAsync()', () => ns.sysctl.setManyAsync({ [KEY]: 600 })],
    ['sysctl.openAsync()', () => ns.sysctl.openAsync(KEY)],
    ['compare()', () => compare(other, ns)],
    ['spawnInNetns({ netns })', () => spawnInNetns('true', [], { netns: ns })],
  ];
}

t.test("NetNamespace (the calling thread's, no privilege needed)", async (t) => {
  const other = NetNamespace.current();
  t.teardown(() => other.close());
  const ns = NetNamespace.current();
  t.equal(ns.close(), ns, 'close() returns the handle');
  t.equal(ns.close(), ns, 'and is idempotent');
  t.equal(ns.closed, true);
  await sysctl.getAsync(KEY); // the executor thread and its fds exist from the first Promise form on
  const before = fdCount();
  await allClosed(t, namespaceUses(ns, other), /This NetNamespace handle is closed/);
  t.equal(fdCount(), before, 'no fd opened on the way');
});

t.test(
  'NetNamespace made by create()',
  { skip: process.geteuid?.() !== 0 && 'needs root (CAP_SYS_ADMIN)' },
  async (t) => {
    const other = NetNamespace.current();
    t.teardown(() => other.close());
    const ns = NetNamespace.create();
    ns.close();
    await allClosed(t, namespaceUses(ns, other), /This NetNamespace handle is closed/);
  },
);

t.test(
  'rootless NetNamespace, and its helper',
  { skip: !rootlessSupport().available && `no user namespaces: ${rootlessSupport().reason}` },
  async (t) => {
    const other = NetNamespace.current();
    t.teardown(() => other.close());
    const ns = NetNamespace.create({ rootless: true });
    const helper = ns.rootless!;
    ns.close();
    t.equal(helper.closed, true, 'closing the namespace stops its helper');
    const uses = namespaceUses(ns, other).filter(([what]) => what !== 'spawnInNetns({ netns })');
    await allClosed(t, uses, /This (NetNamespace )?handle is closed/);
    await allClosed(
      t,
      [
        ['rootless.spawn()', () => helper.spawn('true')],
        ['spawnInNetns({ netns })', () => spawnInNetns('true', [], { netns: ns })],
      ],
      /This (rootless NetNamespace |NetNamespace )handle is closed/,
    );
  },
);

t.test('SysctlHandle (open(key))', async (t) => {
  const h = sysctl.open(KEY);
  t.equal(typeof h.read(), 'number', 'reads while open');
  t.equal(h.close(), h);
  t.equal(h.close(), h, 'idempotent');
  await allClosed(
    t,
    [
      ['.read()', () => h.read()],
      ['.readRaw()', () => h.readRaw()],
      ['.write()', () => h.write(600)],
      ['.readAsync()', () => h.readAsync()],
      ['.writeAsync()', () => h.writeAsync(600)],
    ],
    new RegExp(`This SysctlHandle on ${KEY.replaceAll('.', '\\.')} is closed`),
  );
  let e: NetnsError | undefined;
  try {
    h.write(600);
  } catch (x) {
    e = x as NetnsError;
  }
  t.equal(e?.key, KEY, 'the error names the key');
  t.equal(e?.syscall, 'pwrite', 'and the call the fd was for');
});

t.test('SysctlSnapshotHandle (snapshot())', async (t) => {
  const s = sysctl.snapshot('net.core');
  t.ok(s.size > 0, 'holds fds while open');
  t.equal(s.close(), s);
  t.equal(s.close(), s, 'idempotent');
  t.equal(s.size, 0);
  await allClosed(
    t,
    [
      ['.refresh()', () => s.refresh()],
      ['.current', () => s.current],
    ],
    /This SysctlSnapshotHandle is closed/,
  );
});

t.test(
  'a snapshot or key handle outlives the namespace handle it came from',
  { skip: process.geteuid?.() !== 0 && 'needs root (CAP_SYS_ADMIN)' },
  async (t) => {
    // Closing a NetNamespace closes that handle only: what was opened from it stays usable.
    const ns = NetNamespace.create();
    const h = ns.sysctl.open(KEY);
    const s = ns.sysctl.snapshot('net.ipv4');
    ns.close();
    t.equal(h.read(), 7200);
    t.equal(s.refresh().values[KEY], 7200);
    h.close();
    s.close();
  },
);
