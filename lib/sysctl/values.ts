// Sysctl values: parsing, formatting, comparison, and a typed catalogue of common keys.
import { invalid } from '../errors.js';

/** What an untyped key parses to: an integer, a list of integers, or text. */
export type SysctlValue = number | number[] | string;

/** A 0/1 switch. */
export type Switch = 0 | 1;

/** The value shapes the catalogue knows. */
export type Shape = 'int' | 'switch' | 'vec2' | 'vec3' | 'string';

/**
 * Typed catalogue of common keys: `get('net.ipv4.ip_local_port_range')` is typed
 * `[number, number]`, and key arguments autocomplete. Keys not listed still work and parse
 * to {@link SysctlValue}.
 */
export interface SysctlCatalog {
  'net.core.somaxconn': number;
  'net.core.netdev_max_backlog': number;
  'net.core.rmem_default': number;
  'net.core.rmem_max': number;
  'net.core.wmem_default': number;
  'net.core.wmem_max': number;
  'net.core.optmem_max': number;
  'net.core.default_qdisc': string;
  'net.core.busy_poll': number;
  'net.core.busy_read': number;
  'net.core.devconf_inherit_init_net': number;
  'net.ipv4.tcp_keepalive_time': number;
  'net.ipv4.tcp_keepalive_intvl': number;
  'net.ipv4.tcp_keepalive_probes': number;
  'net.ipv4.tcp_congestion_control': string;
  'net.ipv4.tcp_available_congestion_control': string;
  'net.ipv4.tcp_allowed_congestion_control': string;
  'net.ipv4.tcp_rmem': [number, number, number];
  'net.ipv4.tcp_wmem': [number, number, number];
  'net.ipv4.tcp_mem': [number, number, number];
  'net.ipv4.udp_mem': [number, number, number];
  'net.ipv4.ip_local_port_range': [number, number];
  'net.ipv4.ping_group_range': [number, number];
  'net.ipv4.ip_local_reserved_ports': string;
  'net.ipv4.ip_forward': Switch;
  'net.ipv4.ip_nonlocal_bind': Switch;
  'net.ipv4.ip_default_ttl': number;
  'net.ipv4.ip_no_pmtu_disc': number;
  'net.ipv4.ip_unprivileged_port_start': number;
  'net.ipv4.icmp_echo_ignore_all': Switch;
  'net.ipv4.icmp_echo_ignore_broadcasts': Switch;
  'net.ipv4.tcp_syncookies': number;
  'net.ipv4.tcp_fin_timeout': number;
  'net.ipv4.tcp_tw_reuse': number;
  'net.ipv4.tcp_max_syn_backlog': number;
  'net.ipv4.tcp_max_tw_buckets': number;
  'net.ipv4.tcp_fastopen': number;
  'net.ipv4.tcp_timestamps': number;
  'net.ipv4.tcp_sack': Switch;
  'net.ipv4.tcp_window_scaling': Switch;
  'net.ipv4.tcp_mtu_probing': number;
  'net.ipv4.tcp_no_metrics_save': Switch;
  'net.ipv4.tcp_slow_start_after_idle': Switch;
  'net.ipv4.tcp_syn_retries': number;
  'net.ipv4.tcp_synack_retries': number;
  'net.ipv4.tcp_retries1': number;
  'net.ipv4.tcp_retries2': number;
  'net.ipv4.tcp_notsent_lowat': number;
  'net.ipv4.tcp_ecn': number;
  'net.ipv4.udp_rmem_min': number;
  'net.ipv4.udp_wmem_min': number;
  'net.ipv4.conf.all.rp_filter': number;
  'net.ipv4.conf.default.rp_filter': number;
  'net.ipv4.conf.all.forwarding': Switch;
  'net.ipv4.conf.default.forwarding': Switch;
  'net.ipv6.conf.all.disable_ipv6': Switch;
  'net.ipv6.conf.default.disable_ipv6': Switch;
  'net.ipv6.conf.all.forwarding': Switch;
  'net.unix.max_dgram_qlen': number;
  'net.netfilter.nf_conntrack_max': number;
}

/** A catalogue key, or any other key string (still autocompletes catalogue keys). */
export type CatalogKey = keyof SysctlCatalog;
// eslint-disable-next-line @typescript-eslint/ban-types
export type AnyKey = CatalogKey | (string & {});

/** `a.b.c` written with slashes: `a/b/c` (catalogue keys have no '/' inside a component). */
type Slashed<S extends string> = S extends `${infer A}.${infer B}` ? `${A}/${Slashed<B>}` : S;
/** A catalogue key in slash form, as the API also accepts it: `net/ipv4/tcp_rmem`. */
export type CatalogKeySlashed = Slashed<CatalogKey>;

/**
 * The catalogue key a key argument names, or never. Dot form as listed; slash form
 * (`net/ipv4/tcp_rmem`) too, if it has no '.' (in slash form a dot is part of a file name).
 */
export type CatalogKeyOf<K> = K extends CatalogKey
  ? K
  : K extends `${string}.${string}`
    ? never
    : K extends CatalogKeySlashed
      ? { [C in CatalogKey]: Slashed<C> extends K ? C : never }[CatalogKey]
      : never;

/** What an uncatalogued key accepts: any value its text could be (the kernel judges it). */
export type GenericInput = string | number | bigint | boolean | readonly number[];

/** The inputs for a catalogue value type: numbers (or numeric text), tuples of the right length. */
export type InputFor<V> = [V] extends [Switch]
  ? Switch | boolean | '0' | '1'
  : [V] extends [[number, number, number]]
    ? readonly [number, number, number] | `${number} ${number} ${number}` | `${number}\t${number}\t${number}`
    : [V] extends [[number, number]]
      ? readonly [number, number] | `${number} ${number}` | `${number}\t${number}`
      : [V] extends [number]
        ? number | `${number}`
        : [V] extends [string]
          ? string
          : GenericInput;

/** The type `get(K)` returns: the catalogue's type (dot or slash form), else {@link SysctlValue}. */
export type ValueOf<K> = K extends unknown
  ? [CatalogKeyOf<K>] extends [never]
    ? SysctlValue
    : SysctlCatalog[CatalogKeyOf<K>]
  : never;

/**
 * What `set(K, v)` accepts. Numeric catalogue keys: a number, or numeric text
 * (`` `${number}` ``), never other text. Switches: 0, 1, '0', '1' or a boolean. Vector keys:
 * a tuple of the right length (readonly too), or its numbers separated by spaces or by tabs
 * (`` `${number} ${number}` ``). String keys: a string. Other keys: {@link GenericInput}.
 */
export type InputOf<K> = K extends unknown
  ? [CatalogKeyOf<K>] extends [never]
    ? GenericInput
    : InputFor<SysctlCatalog[CatalogKeyOf<K>]>
  : never;

/** The shape that matches a catalogue value type (keeps SHAPES and SysctlCatalog in step). */
type ShapeFor<V> = [V] extends [Switch]
  ? 'switch'
  : [V] extends [[number, number, number]]
    ? 'vec3'
    : [V] extends [[number, number]]
      ? 'vec2'
      : [V] extends [number]
        ? 'int'
        : 'string';

const SHAPES: { readonly [K in CatalogKey]: ShapeFor<SysctlCatalog[K]> } = {
  'net.core.somaxconn': 'int',
  'net.core.netdev_max_backlog': 'int',
  'net.core.rmem_default': 'int',
  'net.core.rmem_max': 'int',
  'net.core.wmem_default': 'int',
  'net.core.wmem_max': 'int',
  'net.core.optmem_max': 'int',
  'net.core.default_qdisc': 'string',
  'net.core.busy_poll': 'int',
  'net.core.busy_read': 'int',
  'net.core.devconf_inherit_init_net': 'int',
  'net.ipv4.tcp_keepalive_time': 'int',
  'net.ipv4.tcp_keepalive_intvl': 'int',
  'net.ipv4.tcp_keepalive_probes': 'int',
  'net.ipv4.tcp_congestion_control': 'string',
  'net.ipv4.tcp_available_congestion_control': 'string',
  'net.ipv4.tcp_allowed_congestion_control': 'string',
  'net.ipv4.tcp_rmem': 'vec3',
  'net.ipv4.tcp_wmem': 'vec3',
  'net.ipv4.tcp_mem': 'vec3',
  'net.ipv4.udp_mem': 'vec3',
  'net.ipv4.ip_local_port_range': 'vec2',
  'net.ipv4.ping_group_range': 'vec2',
  'net.ipv4.ip_local_reserved_ports': 'string',
  'net.ipv4.ip_forward': 'switch',
  'net.ipv4.ip_nonlocal_bind': 'switch',
  'net.ipv4.ip_default_ttl': 'int',
  'net.ipv4.ip_no_pmtu_disc': 'int',
  'net.ipv4.ip_unprivileged_port_start': 'int',
  'net.ipv4.icmp_echo_ignore_all': 'switch',
  'net.ipv4.icmp_echo_ignore_broadcasts': 'switch',
  'net.ipv4.tcp_syncookies': 'int',
  'net.ipv4.tcp_fin_timeout': 'int',
  'net.ipv4.tcp_tw_reuse': 'int',
  'net.ipv4.tcp_max_syn_backlog': 'int',
  'net.ipv4.tcp_max_tw_buckets': 'int',
  'net.ipv4.tcp_fastopen': 'int',
  'net.ipv4.tcp_timestamps': 'int',
  'net.ipv4.tcp_sack': 'switch',
  'net.ipv4.tcp_window_scaling': 'switch',
  'net.ipv4.tcp_mtu_probing': 'int',
  'net.ipv4.tcp_no_metrics_save': 'switch',
  'net.ipv4.tcp_slow_start_after_idle': 'switch',
  'net.ipv4.tcp_syn_retries': 'int',
  'net.ipv4.tcp_synack_retries': 'int',
  'net.ipv4.tcp_retries1': 'int',
  'net.ipv4.tcp_retries2': 'int',
  'net.ipv4.tcp_notsent_lowat': 'int',
  'net.ipv4.tcp_ecn': 'int',
  'net.ipv4.udp_rmem_min': 'int',
  'net.ipv4.udp_wmem_min': 'int',
  'net.ipv4.conf.all.rp_filter': 'int',
  'net.ipv4.conf.default.rp_filter': 'int',
  'net.ipv4.conf.all.forwarding': 'switch',
  'net.ipv4.conf.default.forwarding': 'switch',
  'net.ipv6.conf.all.disable_ipv6': 'switch',
  'net.ipv6.conf.default.disable_ipv6': 'switch',
  'net.ipv6.conf.all.forwarding': 'switch',
  'net.unix.max_dgram_qlen': 'int',
  'net.netfilter.nf_conntrack_max': 'int',
};

/** The catalogue's shape for a dot-form key, if it has one. */
export function shapeOf(key: string): Shape | undefined {
  return Object.hasOwn(SHAPES, key) ? SHAPES[key as CatalogKey] : undefined;
}

/** Every key the catalogue types. */
export function catalogKeys(): CatalogKey[] {
  return Object.keys(SHAPES) as CatalogKey[];
}

const INT = /^-?\d+$/;

function toInt(s: string): number | undefined {
  if (!INT.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * Parse the kernel's text. Integers become numbers; several whitespace-separated integers
 * (tabs or spaces) become an array; anything else stays text. Integers beyond 2^53 stay
 * text, so no precision is lost. One trailing newline is dropped.
 */
export function parseValue(raw: string): SysctlValue {
  return intOfText(raw) ?? parseText(raw.endsWith('\n') ? raw.slice(0, -1) : raw);
}

/**
 * The common case of parseValue, without trimming, slicing or a regular expression: "-?DIGITS"
 * (1 to 15 digits) with at most the kernel's one trailing newline. Undefined for anything else.
 */
function intOfText(raw: string): number | undefined {
  let end = raw.length;
  if (end > 0 && raw.charCodeAt(end - 1) === NL) end--;
  const neg = end > 0 && raw.charCodeAt(0) === MINUS;
  let i = neg ? 1 : 0;
  if (end - i < 1 || end - i > SAFE_DIGITS) return undefined;
  let v = 0;
  for (; i < end; i++) {
    const d = raw.charCodeAt(i) - ZERO;
    if (d < 0 || d > 9) return undefined;
    v = v * 10 + d;
  }
  return neg ? -v : v;
}

/** {@link parseValue} of text whose trailing newline is already gone. */
export function parseText(text: string): SysctlValue {
  const trimmed = text.trim();
  const single = toInt(trimmed);
  if (single !== undefined) return single;
  if (trimmed.length > 0 && /^-?\d+(?:[ \t]+-?\d+)+$/.test(trimmed)) {
    const out: number[] = [];
    for (const f of trimmed.split(/[ \t]+/)) {
      const n = toInt(f);
      if (n === undefined) return text;
      out.push(n);
    }
    return out;
  }
  return text;
}

const ZERO = 48,
  NINE = 57,
  MINUS = 45,
  SPACE = 32,
  TAB = 9,
  NL = 10;
/** Longest run of digits decoded as a number without a check (10^15 < 2^53). */
const SAFE_DIGITS = 15;

/**
 * {@link parseValue} of the bytes buf[0, n) as the kernel gave them, without making a string
 * when they hold integers: "-?DIGITS" or several separated by spaces/tabs, with the kernel's
 * one trailing newline, give the number or array parseValue would. Anything else (text, other
 * whitespace, more than 15 digits) is decoded as UTF-8 and given to parseValue.
 */
export function valueFromBytes(buf: Uint8Array, n: number): SysctlValue {
  const end = n > 0 && buf[n - 1] === NL ? n - 1 : n;
  // Most values are one integer: decoded here, in a loop without the vector's bookkeeping.
  const neg = end > 0 && buf[0] === MINUS;
  let i = neg ? 1 : 0;
  let v = 0;
  for (; i < end; i++) {
    const d = buf[i]! - ZERO;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
  }
  const digits = neg ? i - 1 : i;
  if (i === end && digits > 0 && digits <= SAFE_DIGITS) return neg ? -v : v;
  return vectorFromBytes(buf, n, end);
}

/** valueFromBytes past its one-integer case: several integers, or parseValue of the text. */
function vectorFromBytes(buf: Uint8Array, n: number, end: number): SysctlValue {
  let i = 0;
  let first: number | undefined;
  let more: number[] | undefined;
  while (i < end) {
    let neg = false;
    if (buf[i] === MINUS) {
      neg = true;
      i++;
    }
    const start = i;
    let v = 0;
    let c = buf[i]!;
    while (i < end && c >= ZERO && c <= NINE) {
      v = v * 10 + (c - ZERO);
      c = buf[++i]!;
    }
    if (i === start || i - start > SAFE_DIGITS) return slowValue(buf, n);
    if (neg) v = -v;
    if (first === undefined) first = v;
    else (more ??= [first]).push(v);
    if (i === end) break;
    // separators between numbers: at least one space or tab, and a number after them
    if (c !== SPACE && c !== TAB) return slowValue(buf, n);
    while (i < end && (buf[i] === SPACE || buf[i] === TAB)) i++;
    if (i === end) return slowValue(buf, n);
  }
  if (first === undefined) return slowValue(buf, n);
  return more ?? first;
}

function slowValue(buf: Uint8Array, n: number): SysctlValue {
  return parseValue(Buffer.from(buf.buffer, buf.byteOffset, n).toString('utf8'));
}

/** Strip the trailing newline the kernel adds. */
export function rawText(raw: string): string {
  return raw.endsWith('\n') ? raw.slice(0, -1) : raw;
}

/**
 * A plain copy of an array, its length and each element read exactly once (spreading reads
 * `length` at every step: a Proxy could grow it between the check and the use).
 */
export function copyArray(a: readonly unknown[]): unknown[] {
  const n = a.length;
  const out: unknown[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = a[i];
  return out;
}

/** Largest value text accepted for a write, in bytes (sysctl values are small). */
const MAX_VALUE_LENGTH = 4096;
// eslint-disable-next-line no-control-regex
const BAD_VALUE_CHARS = /[\u0000-\u0008\u000a-\u001f\u007f]/;

function formatInt(v: unknown, key: string): string {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) invalid('an integer', `the value of ${key}`, v, RangeError);
    return String(v);
  }
  if (typeof v === 'string' && INT.test(v.trim())) return v.trim();
  return invalid('an integer', `the value of ${key}`, v);
}

/**
 * Format a value as the kernel expects: integers in decimal, vectors separated by tabs,
 * switches as 0/1, text as given. Newlines, NUL and other control characters are refused
 * (a newline would let one write carry several values). `key` selects the catalogue shape.
 */
export function formatValue(value: unknown, key = 'the key'): string {
  const shape = shapeOf(key);
  let text: string;
  if (shape === 'switch') {
    if (value === true || value === 1 || value === '1') text = '1';
    else if (value === false || value === 0 || value === '0') text = '0';
    else return invalid('0, 1 or a boolean', `the value of ${key}`, value, RangeError);
  } else if (shape === 'vec2' || shape === 'vec3') {
    const n = shape === 'vec2' ? 2 : 3;
    // A copy: what is checked is what is written (a Proxy cannot change its length between).
    const arr =
      typeof value === 'string' ? value.trim().split(/[ \t]+/) : Array.isArray(value) ? copyArray(value) : value;
    if (!Array.isArray(arr) || arr.length !== n)
      return invalid(
        `an array of ${n} integers`,
        `the value of ${key}`,
        value,
        Array.isArray(value) ? RangeError : TypeError,
      );
    text = arr.map((x) => formatInt(x, key)).join('\t');
  } else if (shape === 'int') {
    text = formatInt(value, key);
  } else if (shape === 'string') {
    if (typeof value !== 'string') return invalid('a string', `the value of ${key}`, value);
    text = value;
  } else if (typeof value === 'number' || typeof value === 'bigint') {
    text = formatInt(value, key);
  } else if (typeof value === 'boolean') {
    text = value ? '1' : '0';
  } else if (Array.isArray(value)) {
    const arr = copyArray(value);
    if (arr.length === 0) return invalid('a non-empty array', `the value of ${key}`, value, RangeError);
    text = arr.map((x) => formatInt(x, key)).join('\t');
  } else if (typeof value === 'string') {
    text = value;
  } else {
    return invalid('a number, an array of numbers, a string or a boolean', `the value of ${key}`, value);
  }
  return checkedText(text, key, value);
}

/**
 * A value passed to the kernel as given, as sysctl(8) passes it: any string, the kernel
 * judges it (`'1024'` for a two-number key, `'5 pages'`, `'0x20'`). Only what could carry a
 * second value or break a line is refused: NUL, newlines and other control characters (a
 * tab is allowed), and over-long text.
 */
export function rawValue(value: unknown, key = 'the key'): string {
  if (typeof value !== 'string') return invalid('a string', `the value of ${key}`, value);
  return checkedText(value, key, value);
}

function checkedText(text: string, key: string, value: unknown): string {
  if (BAD_VALUE_CHARS.test(text))
    invalid('a value without newlines or control characters', `the value of ${key}`, value, RangeError);
  if (Buffer.byteLength(text) > MAX_VALUE_LENGTH)
    invalid(`a value of at most ${MAX_VALUE_LENGTH} bytes`, `the value of ${key}`, value, RangeError);
  return text;
}

/** Compare two values by value: numbers as numbers, vectors element-wise, text trimmed. */
export function valuesEqual(a: unknown, b: unknown): boolean {
  const na = normalise(a);
  const nb = normalise(b);
  if (Array.isArray(na) && Array.isArray(nb)) return na.length === nb.length && na.every((x, i) => x === nb[i]);
  return na === nb;
}

function normalise(v: unknown): SysctlValue {
  if (typeof v === 'string') {
    const p = parseValue(v.trim());
    return typeof p === 'string' ? p.replace(/\s+/g, ' ') : p;
  }
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint') return parseValue(v.toString());
  if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'number') return v[0];
  return v as SysctlValue;
}
