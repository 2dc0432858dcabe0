// Bounded walks, the policy half (lib/sysctl/bounds.ts): the limits checked, the native spec
// they make, and a walk made whole (every interface read in full or not at all, the key bound
// kept) on packed walks written by hand. No root, no namespace.
import t from 'tap';
import { DEFAULT_LIMITS, DEVICE_DIRS, boundsOf, completeWalk, devicesOfKeys } from '../../lib/sysctl/bounds.js';
import { WALK_READ, lazyWalk } from '../../lib/native/index.js';

t.test('boundsOf: defaults, the spec, argument errors', async (t) => {
  const d = boundsOf(undefined);
  t.same([d.maxInterfaces, d.maxKeys, d.devices], [256, 50_000, []]);
  t.same(DEFAULT_LIMITS, { maxInterfaces: 256, maxKeys: 50_000 });
  t.same([...d.always], ['lo']);
  // MAXKEYS, then per directory: DIR, LIMIT (others), the names always walked, an empty name.
  const names = 'all\0default\0lo\0\0';
  t.equal(d.spec, `50000\0${DEVICE_DIRS.map((x) => `${x}\x00255\0${names}`).join('')}`);
  const e = boundsOf({ maxInterfaces: 3, devices: ['eth0', 'eth0', 'lo'] });
  t.same(e.devices, ['eth0', 'lo'], 'deduplicated');
  t.ok(e.spec.startsWith('50000\0ipv4/conf\x001\0all\0default\0lo\0eth0\0\0'), 'lo and eth0 count against 3');
  t.ok(boundsOf({ maxInterfaces: 1, devices: ['a', 'b'] }).spec.includes('ipv4/conf\x000\0'), 'never below 0');
  // The key bound leaves room for so many interfaces (at 150 keys each after 1,500 others).
  t.ok(boundsOf({ maxKeys: 5000 }).spec.includes('ipv4/conf\x0023\0'));
  t.ok(boundsOf({ maxKeys: 0 }).spec.includes('ipv4/conf\x000\0'));
  for (const bad of [-1, 1.5, Number.NaN, 2 ** 32, '5'])
    t.throws(() => boundsOf({ maxInterfaces: bad as number }), { name: 'RangeError', message: /maxInterfaces/ });
  t.throws(() => boundsOf({ maxKeys: -3 }), RangeError);
  t.throws(() => boundsOf(null as never), TypeError);
  t.throws(() => boundsOf({ devices: 'eth0' as never }), TypeError);
  for (const bad of ['', 'a/b', 'a b', 'a:b', 'x'.repeat(16), '..', 'all', 'default', 7])
    t.throws(() => boundsOf({ devices: [bad as string] }), RangeError, `device ${JSON.stringify(bad)}`);
  t.doesNotThrow(() => boundsOf({ devices: ['e\x1b[31m', 'é1'] }), 'any other byte is a name a tenant may choose');
});

t.test('devicesOfKeys: the interfaces keys name, in either form', async (t) => {
  t.same(
    devicesOfKeys([
      'net.ipv4.conf.eth0.rp_filter',
      'net/ipv6/conf/eth1/mtu',
      'net.ipv4.conf.eth0/100.rp_filter',
      'net.ipv4.neigh.veth9.gc_stale_time',
      'net.mpls.conf.m0.input',
      'net.ax25.ax0.ip_default_mode',
      'net.ipv4.conf.all.rp_filter',
      'net.ipv4.conf.default.rp_filter',
      'net.core.somaxconn',
      'net.ipv4.conf',
    ]),
    ['eth0', 'eth1', 'eth0.100', 'veth9', 'm0', 'ax0'],
  );
});

/** A packed WALK_READ walk of [path, value] pairs; value null: a skipped entry. */
function packed(entries: [string, string | null][]): string {
  return entries.map(([p, v]) => (v === null ? `${p}\0-\0\0` : `${p}\0\0=${v}\n\0`)).join('');
}

const dev = (d: string, n: number): [string, string][] =>
  ['ipv4/conf', 'ipv6/conf'].flatMap((dir) =>
    Array.from({ length: n }, (_, i) => [`${dir}/${d}/k${i}`, '1'] as [string, string]),
  );

t.test('completeWalk: nothing skipped is left as it is', async (t) => {
  const w = lazyWalk(packed([['core/somaxconn', '4096'], ...dev('lo', 2)]), WALK_READ);
  const r = completeWalk(w, boundsOf({}));
  t.equal(r.walk, w, 'the same walk');
  t.equal(r.truncated, undefined);
});

t.test('completeWalk: an interface skipped anywhere is dropped everywhere; skipped entries go', async (t) => {
  // br1's ipv4 keys were read, its ipv6 ones skipped (past the key bound): br1 is not kept.
  const w = lazyWalk(
    packed([
      ['core/somaxconn', '4096'],
      ['ipv4/conf/all/k0', '1'],
      ['ipv4/conf/br0/k0', '1'],
      ['ipv4/conf/br1/k0', '1'],
      ['ipv4/conf/br2', null],
      ['ipv4/conf/lo/k0', '1'],
      ['ipv4/tcp_keepalive_time', '7200'],
      ['ipv6/conf/br0/k0', '1'],
      ['ipv6/conf/br1', null],
      ['ipv6/conf/br2', null],
      ['ipv6/conf/lo/k0', '1'],
      ['unix/max_dgram_qlen', '512'],
    ]),
    WALK_READ,
  );
  const r = completeWalk(w, boundsOf({ maxInterfaces: 3 }));
  t.same(r.walk.keys, [
    'core/somaxconn',
    'ipv4/conf/all/k0',
    'ipv4/conf/br0/k0',
    'ipv4/conf/lo/k0',
    'ipv4/tcp_keepalive_time',
    'ipv6/conf/br0/k0',
    'ipv6/conf/lo/k0',
    'unix/max_dgram_qlen',
  ]);
  t.same(r.walk.values, ['4096\n', '1\n', '1\n', '1\n', '7200\n', '1\n', '1\n', '512\n']);
  t.same(r.truncated, { interfaces: 4, interfacesRead: 2, keysRead: 8, maxInterfaces: 3, maxKeys: 50_000 });
});

t.test('completeWalk: over maxKeys, the last interfaces by name go first, never lo or a named one', async (t) => {
  const w = lazyWalk(
    packed([['core/a', '1'], ...dev('a0', 5), ...dev('b0', 5), ...dev('lo', 5), ...dev('z9', 5)]),
    WALK_READ,
  );
  // 41 keys; a bound of 25 keeps core/a, lo (always) and z9 (named): 21 keys.
  const r = completeWalk(w, boundsOf({ maxKeys: 25, devices: ['z9'] }));
  t.same(r.truncated, { interfaces: 4, interfacesRead: 2, keysRead: 21, maxInterfaces: 256, maxKeys: 25 });
  t.notOk(
    r.walk.keys.some((k) => /\/(a0|b0)\//.test(k)),
    'a0 and b0 dropped',
  );
  const r2 = completeWalk(w, boundsOf({ maxKeys: 31 }));
  t.equal(r2.truncated?.keysRead, 31, 'z9 goes first: the last by name');
  t.ok(r2.walk.keys.some((k) => k.includes('/a0/')) && r2.walk.keys.some((k) => k.includes('/b0/')));
});
