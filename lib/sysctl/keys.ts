// Sysctl key syntax (sysctl(8), sysctl.d(5)) and confinement to /proc/sys/net.
import { invalid } from '../errors.js';
import { keyFromRel, pathForm } from '../keypath.js';
import { byteLength, fsencode } from '../native/index.js';

/** A per-interface key given structurally, so that nothing needs escaping. */
export interface InterfaceKey {
  /** Protocol family directory: 'ipv4', 'ipv6', 'mpls'… */
  family: string;
  /** Interface name exactly as the kernel has it, e.g. 'eth0.100', or 'all' / 'default'. */
  iface: string;
  /** The entry, e.g. 'rp_filter'. */
  key: string;
  /** The table: 'conf' (default) or 'neigh'. */
  section?: 'conf' | 'neigh';
}

/** A key as accepted by every sysctl call: dot form, slash form, or structured. */
export type KeyInput = string | InterfaceKey;

/** A validated key. */
export interface ParsedKey {
  /** Dot form, as `sysctl -a` prints it: dots in file names shown as '/'. */
  key: string;
  /** Path relative to /proc/sys/net (never empty for a key; '' for the whole tree as a prefix). */
  rel: string;
  /** Path components below /proc/sys/net, as file names. */
  parts: string[];
}

/** Longest key accepted, in bytes. */
const MAX_KEY_LENGTH = 1024;
const MAX_COMPONENT = 255;
const IFNAMSIZ = 16;
// NUL ends a path, and no name under /proc/sys/net holds a line break or a tab (an interface
// name may hold any byte but NUL, '/', ':' and whitespace: the kernel's dev_valid_name()).
// Other control characters may be in an interface's name, so in its keys: they are accepted,
// and confined beneath /proc/sys/net like any other name.
const NOT_IN_KEY = /[\0\t\n\v\f\r]/;

function checkComponent(c: string, input: string): void {
  if (c.length === 0) invalid('a key without empty components', 'key', input, RangeError);
  if (c === '.' || c === '..') invalid('a key without "." or ".." components', 'key', input, RangeError);
  if (byteLength(c) > MAX_COMPONENT)
    invalid(`key components of at most ${MAX_COMPONENT} bytes`, 'key', input, RangeError);
}

function fromParts(parts: string[], input: string, allowRoot: boolean): ParsedKey {
  if (parts[0] !== 'net') invalid('a key under "net" (such as net.ipv4.tcp_keepalive_time)', 'key', input, RangeError);
  const rest = parts.slice(1);
  if (rest.length === 0 && !allowRoot) invalid('a key below "net"', 'key', input, RangeError);
  for (const c of rest) checkComponent(c, input);
  const rel = rest.join('/');
  return { key: keyFromRel(rel), rel, parts: rest };
}

/**
 * Parse a key the way sysctl(8) does. The first separator decides the form: with a dot,
 * components are separated by dots and a '/' inside one stands for a '.' in the file name
 * (`net.ipv4.conf.eth0/100.rp_filter` is `ipv4/conf/eth0.100/rp_filter`); with a slash,
 * components are separated by slashes and dots are literal. Only keys under `net` are
 * accepted; `..`, empty components, absolute paths and NUL are rejected before any file is
 * opened, and so are NUL, tabs and line breaks. Any other byte an interface name may hold is accepted (as the kernel names it; a
 * byte that is not UTF-8 as the lone surrogate U+DC80 + (byte - 0x80), see fsdecode).
 */
export function parseKey(input: KeyInput, options: { allowRoot?: boolean } = {}): ParsedKey {
  const allowRoot = options.allowRoot ?? false;
  if (typeof input === 'object' && input !== null) return parseInterfaceKey(input);
  if (typeof input !== 'string') invalid('a sysctl key string', 'key', input);
  if (input.length === 0) invalid('a non-empty key', 'key', input, RangeError);
  if (byteLength(input) > MAX_KEY_LENGTH) invalid(`a key of at most ${MAX_KEY_LENGTH} bytes`, 'key', input, RangeError);
  if (NOT_IN_KEY.test(input)) invalid('a key without NUL, tabs or line breaks', 'key', input, RangeError);
  if (input.startsWith('/'))
    invalid('a relative key such as net/ipv4/tcp_keepalive_time, not an absolute path', 'key', input, RangeError);
  return fromParts(pathForm(input).split('/'), input, allowRoot);
}

/** Bytes dev_valid_name() refuses: NUL, '/', ':' and the kernel's isspace() (which counts 0xA0). */
const NOT_IN_IFNAME = new Set([0x00, 0x2f, 0x3a, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0]);

/** Validate an interface name as the kernel's dev_valid_name() does, on its bytes. */
export function checkInterfaceName(iface: unknown): string {
  if (typeof iface !== 'string') invalid('an interface name string', 'iface', iface);
  const bytes = fsencode(iface);
  if (
    bytes.length === 0 ||
    bytes.length >= IFNAMSIZ ||
    iface === '.' ||
    iface === '..' ||
    bytes.some((b) => NOT_IN_IFNAME.has(b))
  )
    invalid('an interface name (1-15 bytes, no "/", ":" or whitespace, not "." or "..")', 'iface', iface, RangeError);
  return iface;
}

function parseInterfaceKey(input: InterfaceKey): ParsedKey {
  // Copy, then validate, then use: each field is read exactly once, so a getter or a Proxy
  // that changes its answer cannot pass the checks with one value and be used with another.
  const { family, iface, key, section: given } = input;
  const k = { family, iface, key, ...(given === undefined ? {} : { section: given }) };
  const label = JSON.stringify(k);
  if (typeof family !== 'string' || !/^[a-z0-9_]+$/.test(family))
    invalid('a family such as "ipv4" or "ipv6"', 'family', family, RangeError);
  checkInterfaceName(iface);
  if (typeof key !== 'string' || key.length === 0 || /[/.]/.test(key) || NOT_IN_KEY.test(key))
    invalid('an entry name such as "rp_filter"', 'key', key, RangeError);
  const section = given ?? 'conf';
  if (section !== 'conf' && section !== 'neigh') invalid('"conf" or "neigh"', 'section', section, RangeError);
  return fromParts(['net', family, section, iface, key], label, false);
}

/** A key as the hot paths keep it: parsed, with the bytes of its path (fsencode) (lib/native/call.ts). */
export interface HotKey extends ParsedKey {
  readonly relBytes: Uint8Array;
}

function hotKey(key: KeyInput): HotKey {
  const p = parseKey(key);
  return { key: p.key, rel: p.rel, parts: p.parts, relBytes: fsencode(p.rel) };
}

const keyCache = new Map<string, HotKey>();

/** parseKey for the hot paths: string keys are parsed (and encoded) once, up to 4096 kept. */
export function parseKeyCached(key: KeyInput): HotKey {
  if (typeof key !== 'string') return hotKey(key);
  // The key of the last call first: a loop over one key skips the Map's hashing and probing.
  if (key === lastKey) return lastParsed!;
  let p = keyCache.get(key);
  if (p === undefined) {
    p = hotKey(key);
    if (keyCache.size >= 4096) keyCache.clear();
    keyCache.set(key, p);
  }
  lastKey = key;
  lastParsed = p;
  return p;
}
let lastKey: string | undefined;
let lastParsed: HotKey | undefined;
