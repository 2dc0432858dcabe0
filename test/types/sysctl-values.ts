// Type test: checked by `tsc -p test/types` (test/types.test.ts), never run. Each
// `@ts-expect-error` line must be an error; every other line must compile. An
// `@ts-expect-error` that is not needed is itself an error (TS2578), so a type that starts
// accepting a wrong value fails the test.
import { sysctl, type NetNamespace, type SysctlHandle, type SysctlValue, type Switch } from '../../lib/index.js';

/** true only when A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<A>(): <B>(value: B) => Equal<A, B> {
  return () => true as never;
}

declare const ns: NetNamespace;
declare const someKey: string;
declare const someString: string;
declare const numbers: number[];

export function numericKeys(): void {
  sysctl.set('net.ipv4.tcp_keepalive_time', 600);
  sysctl.set('net.ipv4.tcp_keepalive_time', '600');
  sysctl.set('net/ipv4/tcp_keepalive_time', 600);
  ns.sysctl.set('net.core.somaxconn', 4096);
  // @ts-expect-error: not a number
  sysctl.set('net.ipv4.tcp_keepalive_time', 'abc');
  // @ts-expect-error: not a number (slash form)
  sysctl.set('net/ipv4/tcp_keepalive_time', 'abc');
  // @ts-expect-error: any string is not numeric text
  sysctl.set('net.ipv4.tcp_keepalive_time', someString);
  // @ts-expect-error: a number, not a list
  sysctl.set('net.ipv4.tcp_keepalive_time', [600]);
  // @ts-expect-error: a boolean is for switches only
  ns.sysctl.set('net.core.somaxconn', true);
  // @ts-expect-error: Promise form too
  void ns.sysctl.setAsync('net.core.somaxconn', 'lots');
  const _a: true = expectType<number>()(sysctl.get('net.ipv4.tcp_keepalive_time'));
  const _b: true = expectType<number>()(sysctl.get('net/ipv4/tcp_keepalive_time'));
  const _c: true = expectType<number>()(sysctl.set('net.ipv4.tcp_keepalive_time', 600));
  void [_a, _b, _c];
}

export function switches(): void {
  sysctl.set('net.ipv4.tcp_sack', 1);
  sysctl.set('net.ipv4.tcp_sack', true);
  sysctl.set('net.ipv4.tcp_sack', '0');
  // @ts-expect-error: 0 or 1
  sysctl.set('net.ipv4.tcp_sack', 2);
  // @ts-expect-error: '0' or '1'
  sysctl.set('net.ipv4.tcp_sack', 'yes');
  const _a: true = expectType<Switch>()(sysctl.get('net.ipv4.tcp_sack'));
  void _a;
}

export function vectors(): void {
  sysctl.set('net.ipv4.tcp_rmem', [4096, 131072, 6291456]);
  sysctl.set('net.ipv4.tcp_rmem', [4096, 131072, 6291456] as const);
  sysctl.set('net.ipv4.tcp_wmem', '4096 16384 4194304');
  sysctl.set('net.ipv4.tcp_wmem', '4096\t16384\t4194304');
  sysctl.set('net.ipv4.ip_local_port_range', [32768, 60999]);
  sysctl.set('net/ipv4/ip_local_port_range', [32768, 60999]);
  sysctl.set('net.ipv4.ip_local_port_range', '32768 60999');
  ns.sysctl.set('net.ipv4.ping_group_range', [0, 2147483647]);
  const range: readonly [number, number] = [1024, 65535];
  sysctl.set('net.ipv4.ip_local_port_range', range);
  // @ts-expect-error: three numbers
  sysctl.set('net.ipv4.tcp_rmem', [4096, 131072]);
  // @ts-expect-error: three numbers, not four
  sysctl.set('net.ipv4.tcp_wmem', [1, 2, 3, 4]);
  // @ts-expect-error: two numbers
  sysctl.set('net.ipv4.ip_local_port_range', [32768]);
  // @ts-expect-error: two numbers (slash form)
  sysctl.set('net/ipv4/ip_local_port_range', [1, 2, 3]);
  // @ts-expect-error: two numbers in text
  sysctl.set('net.ipv4.ip_local_port_range', '32768');
  // @ts-expect-error: numbers in text
  sysctl.set('net.ipv4.ping_group_range', 'a b');
  // @ts-expect-error: a list of unknown length
  sysctl.set('net.ipv4.ping_group_range', numbers);
  // @ts-expect-error: a single number
  sysctl.set('net.ipv4.tcp_mem', 5);
  const _a: true = expectType<[number, number, number]>()(sysctl.get('net.ipv4.tcp_rmem'));
  const _b: true = expectType<[number, number]>()(sysctl.get('net/ipv4/ip_local_port_range'));
  const _c: true = expectType<[number, number]>()(ns.sysctl.set('net.ipv4.ping_group_range', [0, 0]));
  void [_a, _b, _c];
}

export async function strings(): Promise<void> {
  sysctl.set('net.ipv4.tcp_congestion_control', 'cubic');
  sysctl.set('net.core.default_qdisc', someString);
  // @ts-expect-error: a name, not a number
  sysctl.set('net.ipv4.tcp_congestion_control', 5);
  // @ts-expect-error: a name, not a list
  await ns.sysctl.setAsync('net.ipv4.tcp_congestion_control', [1]);
  const _a: true = expectType<string>()(sysctl.get('net.ipv4.tcp_congestion_control'));
  const _b: true = expectType<string>()(await ns.sysctl.getAsync('net.ipv4.tcp_congestion_control'));
  void [_a, _b];
}

export function uncatalogued(): void {
  // Every other key under net stays usable, with the generic value types.
  sysctl.set('net.ipv4.conf.lo.rp_filter', 2);
  sysctl.set('net.ipv4.conf.eth0/100.rp_filter', '2');
  sysctl.set('net/ipv4/conf/eth0.100/rp_filter', 2);
  sysctl.set('net.ipv4.neigh.default.gc_thresh1', 'anything the kernel judges');
  sysctl.set('net.ipv4.some_vector', [1, 2, 3, 4]);
  sysctl.set('net.ipv4.some_vector', numbers);
  sysctl.set('net.ipv4.some_switch', false);
  sysctl.set('net.ipv4.some_big', 2n ** 60n);
  sysctl.set(someKey, 'x');
  sysctl.set({ family: 'ipv4', iface: 'eth0.100', key: 'rp_filter' }, 1);
  // A dot in slash form is part of a file name: this is not the catalogue's tcp_rmem.
  sysctl.set('net/ipv4.tcp_rmem', 'x');
  // @ts-expect-error: not a sysctl value
  sysctl.set('net.ipv4.conf.lo.rp_filter', { value: 1 });
  // @ts-expect-error: not a sysctl value
  sysctl.set(someKey, null);
  const _a: true = expectType<SysctlValue>()(sysctl.get('net.ipv4.conf.lo.rp_filter'));
  const _b: true = expectType<SysctlValue>()(sysctl.get(someKey));
  const _c: true = expectType<SysctlValue>()(sysctl.get({ family: 'ipv6', iface: 'lo', key: 'mtu' }));
  void [_a, _b, _c];
}

export function setMany(): void {
  sysctl.setMany({ 'net.ipv4.tcp_keepalive_time': 600, 'net.ipv4.ip_local_port_range': '32768 60999' });
  sysctl.setMany({ '-net.ipv4.tcp_ecn': 1, 'net.ipv4.conf.lo.rp_filter': 2, 'net.ipv4.tcp_rmem': [1, 2, 3] });
  sysctl.setMany([
    ['net.ipv4.tcp_keepalive_time', 600],
    ['net.ipv4.ip_local_port_range', [1024, 65535]],
  ]);
  sysctl.setMany(new Map([['net.ipv4.tcp_keepalive_time', 600]]));
  const loose: Record<string, unknown> = {};
  sysctl.setMany(loose);
  const pairs: [string, string][] = [];
  sysctl.setMany(pairs, { raw: true });
  sysctl.setMany({ 'net.ipv4.ip_local_port_range': '1024' }, { raw: true });
  // @ts-expect-error: not a number
  sysctl.setMany({ 'net.ipv4.tcp_keepalive_time': 'abc' });
  // @ts-expect-error: not a number (optional key)
  sysctl.setMany({ '-net.ipv4.tcp_keepalive_time': 'abc' });
  // @ts-expect-error: two numbers
  void ns.sysctl.setManyAsync({ 'net.ipv4.ip_local_port_range': [1] });
  // @ts-expect-error: a name, not a number
  sysctl.setMany({ 'net.ipv4.tcp_congestion_control': 5 });
  // @ts-expect-error: 0 or 1
  sysctl.setMany({ 'net.ipv4.tcp_sack': 'yes' });
  // @ts-expect-error: raw values are strings
  sysctl.setMany({ 'net.ipv4.tcp_keepalive_time': 600 }, { raw: true });
}

export function handles(): void {
  using h = sysctl.open('net.ipv4.ip_local_port_range');
  h.write([1024, 65535]);
  const _a: true = expectType<[number, number]>()(h.read());
  // @ts-expect-error: two numbers
  h.write([1024]);
  using k = ns.sysctl.open('net.ipv4.tcp_keepalive_time');
  k.write('600');
  // @ts-expect-error: not a number
  k.write('abc');
  const _b: true = expectType<number>()(k.write(600));
  const any: SysctlHandle = ns.sysctl.open(someKey);
  any.write('x');
  const _c: true = expectType<SysctlValue>()(any.read());
  void [_a, _b, _c];
}
