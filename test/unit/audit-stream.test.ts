// The audit's streamed comparison (lib/audit/stream.ts) on packed walks made here: what it
// reports against the host, in place (key order) and through its fallback (a walk out of key
// order), with unreadable keys, a truncated side, expectations and the values it keeps.
import t from 'tap';
import { compareWalk, hostKeys, type StreamOptions } from '../../lib/audit/stream.js';
import { WALK_READ, lazyWalk } from '../../lib/native/index.js';
import { deviceOf } from '../../lib/keypath.js';
import type { SysctlSnapshot, Truncation } from '../../lib/sysctl/sysctl.js';

/** A packed WALK_READ walk: [path, value] (value null: unreadable, EACCES). */
const packed = (entries: [string, string | null][]): string =>
  entries.map(([rel, v]) => (v === null ? `${rel}\0\0!13:open\0` : `${rel}\0\0=${v}\n\0`)).join('');

const snapshot = (raw: Record<string, string>, unreadable: string[] = []): SysctlSnapshot =>
  ({ raw, unreadable: Object.fromEntries(unreadable.map((k) => [k, new Error(k)])) }) as unknown as SysctlSnapshot;

const host = hostKeys(
  snapshot(
    {
      'net.core.somaxconn': '4096',
      'net.ipv4.conf.all.forwarding': '0',
      'net.ipv4.conf.eth0.forwarding': '1',
      'net.ipv4.tcp_keepalive_time': '7200',
      'net.ipv4.tcp_rmem': '4096\t131072\t6291456',
      'net.unix.max_dgram_qlen': '512',
    },
    ['net.ipv4.route.flush'],
  ),
  undefined,
);

const options = (o: Partial<StreamOptions> = {}): StreamOptions => ({
  expected: undefined,
  globs: false,
  wanted: new Set(),
  oneSided: true,
  capture: new Set(),
  ...o,
});

const walk = packed([
  ['core/somaxconn', '128'],
  ['ipv4/conf/all/forwarding', '0'],
  ['ipv4/conf/d/forwarding', '1'],
  ['ipv4/conf/d-1/forwarding', '0'], // the kernel lists d before d-1; as keys, d-1 sorts first
  ['ipv4/route/flush', null],
  ['ipv4/tcp_keepalive_time', '600'],
  ['ipv4/tcp_rmem', '4096 131072 6291456'],
]);

t.test('differences, one-sided keys both ways, unreadable keys, the values kept', async (t) => {
  const r = compareWalk(
    host,
    lazyWalk(walk, WALK_READ),
    undefined,
    options({ capture: new Set(['net.ipv4.conf.d.forwarding']) }),
  );
  t.same(
    r.diffs,
    [
      { key: 'net.core.somaxconn', host: '4096', value: '128' },
      { key: 'net.ipv4.tcp_keepalive_time', host: '7200', value: '600' },
    ],
    'by value: tabs and spaces alike; an unreadable key on both sides is no difference',
  );
  t.same(
    r.sides.map((s) => [s.key, s.host, s.value, s.onHost]),
    [
      ['net.ipv4.conf.d-1.forwarding', null, '0', false],
      ['net.ipv4.conf.d.forwarding', null, '1', false],
      ['net.ipv4.conf.eth0.forwarding', '1', null, true],
      ['net.unix.max_dgram_qlen', '512', null, true],
    ],
    'sorted by key',
  );
  t.same(
    r.kept,
    {
      'net.core.somaxconn': '128',
      'net.ipv4.conf.all.forwarding': '0',
      'net.ipv4.conf.d.forwarding': '1',
      'net.ipv4.tcp_keepalive_time': '600',
      'net.ipv4.tcp_rmem': '4096 131072 6291456',
    },
    'keys of no interface (all included) and the captured ones; not d-1 nor the unreadable key',
  );
  t.equal(r.truncated, undefined);
});

t.test('a walk out of key order gives what the same walk in key order gives', async (t) => {
  const o = options({ capture: new Set(['net.ipv4.conf.d-1.forwarding']) });
  const a = compareWalk(host, lazyWalk(walk, WALK_READ), undefined, o);
  const sorted = packed([
    ['core/somaxconn', '128'],
    ['ipv4/conf/all/forwarding', '0'],
    ['ipv4/conf/d-1/forwarding', '0'],
    ['ipv4/conf/d/forwarding', '1'],
    ['ipv4/route/flush', null],
    ['ipv4/tcp_keepalive_time', '600'],
    ['ipv4/tcp_rmem', '4096 131072 6291456'],
  ]);
  t.same(compareWalk(host, lazyWalk(sorted, WALK_READ), undefined, o), a);
  t.same(compareWalk(host, { ...lazyWalk(walk, WALK_READ), packed: undefined }, undefined, o), a, 'and decoded');
});

t.test('expectations: exact keys (absent or unreadable too), globs over the keys read', async (t) => {
  const exact = new Map([
    ['net.core.somaxconn', '128'],
    ['net.ipv4.route.flush', '1'],
    ['net.ipv4.tcp_fin_timeout', '30'],
  ]);
  const expected = (key: string) => {
    const v = exact.get(key) ?? (/^net\.ipv4\.conf\.[^.]+\.forwarding$/.test(key) ? '0' : undefined);
    return v === undefined ? undefined : { value: v, where: 'x.conf:1' };
  };
  const r = compareWalk(
    host,
    lazyWalk(walk, WALK_READ),
    undefined,
    options({ expected, globs: true, wanted: new Set(exact.keys()), oneSided: false }),
  );
  t.same(
    r.devs.map((d) => [d.key, d.expected, d.value]),
    [
      ['net.ipv4.conf.d.forwarding', '0', '1'],
      ['net.ipv4.route.flush', '1', null],
      ['net.ipv4.tcp_fin_timeout', '30', null],
    ],
  );
  t.same(r.sides, [], 'no one-sided keys unless asked');
});

t.test('a truncated side: keys of interfaces it did not read are on no list', async (t) => {
  const truncated: Truncation = { interfaces: 3, interfacesRead: 1, keysRead: 6, maxInterfaces: 1, maxKeys: 50_000 };
  const r = compareWalk(
    host,
    lazyWalk(walk, WALK_READ),
    truncated,
    options({
      expected: (k) => (k === 'net.ipv4.conf.eth0.forwarding' ? { value: '1', where: 'x:1' } : undefined),
      wanted: new Set(['net.ipv4.conf.eth0.forwarding']),
    }),
  );
  t.equal(r.truncated, truncated);
  t.notOk(
    r.sides.some((s) => s.key === 'net.ipv4.conf.eth0.forwarding'),
    "the host's eth0: not known here",
  );
  t.same(r.devs, [], 'nor a deviation of it');
  // The host truncated: the namespace's interfaces the host did not read are not "child-only".
  const h = hostKeys(snapshot({ 'net.core.somaxconn': '4096' }), (k) => deviceOf(k) !== undefined);
  t.same(
    compareWalk(h, lazyWalk(walk, WALK_READ), undefined, options())
      .sides.filter((s) => !s.onHost)
      .map((s) => s.key),
    ['net.ipv4.conf.all.forwarding', 'net.ipv4.route.flush', 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_rmem'],
  );
});
