// Key syntax and value parsing/formatting: pure functions, no privilege needed.
import t from 'tap';
import { parseKey, parseValue, formatValue, valuesEqual, shapeOf, catalogKeys } from '../../lib/index.js';
import { checkInterfaceName } from '../../lib/sysctl/keys.js';
import { keyFromRel } from '../../lib/keypath.js';

t.test('dot and slash forms, first separator decides', async (t) => {
  t.same(parseKey('net.ipv4.tcp_keepalive_time'), {
    key: 'net.ipv4.tcp_keepalive_time',
    rel: 'ipv4/tcp_keepalive_time',
    parts: ['ipv4', 'tcp_keepalive_time'],
  });
  t.equal(parseKey('net/ipv4/tcp_keepalive_time').rel, 'ipv4/tcp_keepalive_time');
  t.equal(parseKey('net.ipv4.conf.eth0/100.rp_filter').rel, 'ipv4/conf/eth0.100/rp_filter');
  t.equal(parseKey('net/ipv4/conf/eth0.100/rp_filter').rel, 'ipv4/conf/eth0.100/rp_filter');
  t.equal(parseKey('net/ipv4/conf/eth0.100/rp_filter').key, 'net.ipv4.conf.eth0/100.rp_filter');
  t.equal(keyFromRel('ipv4/conf/d0.5/forwarding'), 'net.ipv4.conf.d0/5.forwarding');
  t.equal(parseKey({ family: 'ipv4', iface: 'eth0.100', key: 'rp_filter' }).rel, 'ipv4/conf/eth0.100/rp_filter');
  t.equal(
    parseKey({ family: 'ipv6', iface: 'lo', key: 'retrans_time_ms', section: 'neigh' }).rel,
    'ipv6/neigh/lo/retrans_time_ms',
  );
  t.equal(parseKey('net', { allowRoot: true }).rel, '');
});

t.test('escapes and junk are rejected before any open', async (t) => {
  const bad = [
    '',
    'net',
    'net.',
    '.net.ipv4',
    'net..ipv4',
    'net//ipv4',
    'net/ipv4/../../kernel/hostname',
    'net.ipv4.conf.../..',
    'net/./ipv4',
    '/proc/sys/net/ipv4/ip_forward',
    '/net/ipv4',
    'kernel.hostname',
    'vm.swappiness',
    'ipv4.tcp_keepalive_time',
    'net.ipv4.x\0y',
    'net.ipv4.x\ny',
    'net.ipv4.x\ty',
    'net.ipv4.x\ry',
    'net.ipv4.' + 'a'.repeat(256),
    'net.' + 'a.'.repeat(600) + 'b',
  ];
  for (const k of bad) t.throws(() => parseKey(k), RangeError, JSON.stringify(k).slice(0, 60));
  t.throws(() => parseKey(5 as unknown as string), TypeError);
  t.throws(() => parseKey({ family: 'ipv4', iface: '../x', key: 'rp_filter' }), RangeError);
  t.throws(() => parseKey({ family: 'ipv4', iface: 'a'.repeat(16), key: 'rp_filter' }), RangeError);
  t.throws(() => parseKey({ family: '../', iface: 'lo', key: 'rp_filter' }), RangeError);
  t.throws(() => parseKey({ family: 'ipv4', iface: 'lo', key: '../x' }), RangeError);
  t.throws(() => parseKey({ family: 'ipv4', iface: 'lo', key: 'x', section: 'y' as 'conf' }), RangeError);
  t.equal(checkInterfaceName('eth0.100'), 'eth0.100');
  for (const b of ['', '.', '..', 'a/b', 'a:b', 'a b', 'a\tb', 'x'.repeat(16), 'é'.repeat(8), 'à', '\udca0'])
    t.throws(() => checkInterfaceName(b), RangeError, JSON.stringify(b));
});

t.test('keys of interfaces a tenant named with control characters or bytes that are not UTF-8', async (t) => {
  // dev_valid_name() takes any byte but NUL, '/', ':' and isspace() (which counts 0xA0), so
  // these are real interface names, and their keys must be reachable.
  for (const iface of ['e\x1b[31m', 'c\u009bq', 'f\x7f\\g', 'b\udcffz', 'd\udc9bq', '\x07', 'é'.repeat(7)]) {
    t.equal(checkInterfaceName(iface), iface, JSON.stringify(iface));
    const p = parseKey(`net.ipv4.conf.${iface}.rp_filter`);
    t.same(p.parts, ['ipv4', 'conf', iface, 'rp_filter'], JSON.stringify(iface));
    t.same(parseKey({ family: 'ipv4', iface, key: 'rp_filter' }).rel, p.rel);
  }
  // Lengths are the kernel's, in bytes: a byte that is not UTF-8 is one byte, not U+FFFD's three.
  t.equal(checkInterfaceName('\udcff'.repeat(15)), '\udcff'.repeat(15));
  t.throws(() => checkInterfaceName('\udcff'.repeat(16)), RangeError);
  t.ok(parseKey(`net.ipv4.${'\udcff'.repeat(255)}`));
  t.throws(() => parseKey(`net.ipv4.${'\udcff'.repeat(256)}`), RangeError);
});

t.test('parseValue', async (t) => {
  t.equal(parseValue('7200\n'), 7200);
  t.equal(parseValue('-5\n'), -5);
  t.same(parseValue('32768\t60999\n'), [32768, 60999]);
  t.same(parseValue('4096\t131072\t6291456\n'), [4096, 131072, 6291456]);
  t.same(parseValue('0 2147483647\n'), [0, 2147483647]);
  t.equal(parseValue('bbr\n'), 'bbr');
  t.equal(parseValue('reno bbr cubic\n'), 'reno bbr cubic');
  t.equal(parseValue('18446744073709551615\n'), '18446744073709551615', 'beyond 2^53 stays text');
  t.equal(parseValue('1 x\n'), '1 x');
  t.equal(parseValue('\n'), '');
  t.equal(parseValue('00000000-00000000-00000000-00000000\n'), '00000000-00000000-00000000-00000000');
});

t.test('formatValue by catalogue shape', async (t) => {
  t.equal(formatValue([1024, 65000], 'net.ipv4.ip_local_port_range'), '1024\t65000');
  t.equal(formatValue('1024  65000', 'net.ipv4.ip_local_port_range'), '1024\t65000', 'spaces normalised to a tab');
  t.equal(formatValue([1, 2, 3], 'net.ipv4.tcp_rmem'), '1\t2\t3');
  t.throws(() => formatValue([1, 2], 'net.ipv4.tcp_rmem'), RangeError);
  t.throws(() => formatValue(5, 'net.ipv4.tcp_rmem'), TypeError);
  t.equal(formatValue(true, 'net.ipv4.ip_forward'), '1');
  t.equal(formatValue(0, 'net.ipv4.ip_forward'), '0');
  t.throws(() => formatValue(2, 'net.ipv4.ip_forward'), RangeError);
  t.equal(formatValue(600, 'net.ipv4.tcp_keepalive_time'), '600');
  t.equal(formatValue('600', 'net.ipv4.tcp_keepalive_time'), '600');
  t.throws(() => formatValue('abc', 'net.ipv4.tcp_keepalive_time'), TypeError);
  t.throws(() => formatValue(1.5, 'net.ipv4.tcp_keepalive_time'), RangeError);
  t.throws(() => formatValue(NaN, 'net.ipv4.tcp_keepalive_time'), RangeError);
  t.equal(formatValue('cubic', 'net.ipv4.tcp_congestion_control'), 'cubic');
  t.throws(() => formatValue(5, 'net.ipv4.tcp_congestion_control'), TypeError);
  t.throws(() => formatValue('cubic\nbbr', 'net.ipv4.tcp_congestion_control'), RangeError, 'newline refused');
  t.throws(() => formatValue('a\0b', 'net.x.y'), RangeError, 'NUL refused');
  t.throws(() => formatValue('x'.repeat(5000), 'net.x.y'), RangeError, 'huge refused');
  t.equal(formatValue(10n, 'net.x.y'), '10');
  t.equal(formatValue([1, 2], 'net.x.y'), '1\t2');
  t.equal(formatValue(false, 'net.x.y'), '0');
  t.throws(() => formatValue([], 'net.x.y'), RangeError);
  t.throws(() => formatValue({}, 'net.x.y'), TypeError);
  t.throws(() => formatValue(undefined, 'net.x.y'), TypeError);
  for (const k of catalogKeys()) t.ok(shapeOf(k), k);
  t.equal(shapeOf('net.unknown'), undefined);
});

t.test('valuesEqual compares by value', async (t) => {
  t.ok(valuesEqual('32768\t60999', '32768 60999'));
  t.ok(valuesEqual([32768, 60999], '32768    60999\n'));
  t.ok(valuesEqual(600, '600'));
  t.ok(valuesEqual(true, 1));
  t.ok(valuesEqual('bbr\n', 'bbr'));
  t.notOk(valuesEqual('10', '010x'));
  t.notOk(valuesEqual([1, 2], [1, 2, 3]));
  t.notOk(valuesEqual('600', 601));
});
