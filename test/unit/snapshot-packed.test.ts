// snapshotOfPacked (getAll's in-place decode of a packed walk, with its by-position layout of
// the last walk) gives what decodeWalk + snapshotOf give, whatever walk came before.
import t from 'tap';
import { decodeWalk, WALK_MODE, WALK_READ, type NativeErrno } from '../../lib/native/index.js';
import { snapshotOf, snapshotOfPacked, type KeyErrorOf } from '../../lib/sysctl/plan.js';
import { NetnsError } from '../../lib/errors.js';

const keyError: KeyErrorOf = (e: NativeErrno, pk) => new NetnsError(e.errno, e.syscall, { key: pk.key, path: e.path });
const pack = (entries: [string, string][]): string => entries.map(([rel, out]) => `${rel}\0\0${out}\0`).join('');
const reference = (packed: string) => {
  const w = decodeWalk(packed, WALK_READ);
  return snapshotOf(w.keys, w.values, keyError);
};
const plain = (s: { raw: object; values: object; unreadable: Record<string, Error> }) => ({
  raw: Object.entries(s.raw),
  values: Object.entries(s.values),
  unreadable: Object.entries(s.unreadable).map(([k, e]) => [k, e.message]),
});

const host: [string, string][] = [
  ['core/somaxconn', '=4096\n'],
  ['ipv4/conf/all/forwarding', '=0\n'],
  ['ipv4/conf/eth0.100/rp_filter', '=2\n'],
  ['ipv4/route/flush', '!13:open'],
  ['ipv4/tcp_rmem', '=4096\t131072\t6291456\n'],
  ['ipv6/conf/all/stable_secret', '!5:read'],
  ['unix/max_dgram_qlen', '=512'],
];
const shorter = host.filter((_, i) => i !== 2); // an interface gone: every later position shifts
const changed: [string, string][] = host.map(([r, v]) => [r.replace('core/somaxconn', 'core/rmem_max'), v]);

t.test('the same snapshot as decodeWalk + snapshotOf, across changing layouts', async (t) => {
  for (const [name, walk] of [
    ['host', host],
    ['host again (every path from the layout)', host],
    ['one entry fewer', shorter],
    ['host after it', host],
    ['a different first path, same length', changed],
    ['empty walk', []],
    ['host last', host],
  ] as const) {
    const packed = pack(walk as [string, string][]);
    const got = snapshotOfPacked(packed, keyError);
    t.ok(got, `${name}: decoded in place`);
    t.same(plain(got!), plain(reference(packed)), name);
  }
  const s = snapshotOfPacked(pack(host), keyError)!;
  t.same(Object.keys(s.raw), Object.keys(s.raw).slice().sort(), 'raw is in key order');
  t.equal(s.raw['net.ipv4.conf.eth0/100.rp_filter'], '2', 'a dot in a path is a slash in the key');
  t.equal(s.raw['net.unix.max_dgram_qlen'], '512', 'a value without a newline is kept whole');
  t.same(s.values['net.ipv4.tcp_rmem'], [4096, 131072, 6291456]);
  t.equal(s.unreadable['net.ipv6.conf.all.stable_secret']!.syscall, 'read');
  t.equal(s.unreadable['net.ipv4.route.flush']!.syscall, 'open');
});

t.test('refuses what it cannot decode in place: the caller falls back', async (t) => {
  t.equal(snapshotOfPacked(pack([...host].reverse()), keyError), undefined, 'not in key order');
  const withModes = host.map(([r, v]) => `${r}\x00420\x00${v}\x00`).join('');
  t.equal(snapshotOfPacked(withModes, keyError), undefined, 'a walk with modes');
  t.ok(decodeWalk(withModes, WALK_READ | WALK_MODE).keys.length === host.length, 'which decodeWalk reads');
  // a path that is a prefix of the layout's path at the same position is not taken for it
  snapshotOfPacked(pack(host), keyError);
  const prefixed: [string, string][] = [['core/somax', '=1\n'], ...host.slice(1)];
  t.same(plain(snapshotOfPacked(pack(prefixed), keyError)!), plain(reference(pack(prefixed))));
  // and the layout's path being a prefix of the walk's ('core/somax' then 'core/somaxconn')
  t.same(
    plain(snapshotOfPacked(pack(host), keyError)!),
    plain(reference(pack(host))),
    "a longer path than the layout's",
  );
});
