// INTERIM (issue 4): the few sysctl helpers clone.ts and spawn.ts need, written against the
// native primitives until the sysctl layer (lib/keys.ts, lib/values.ts, lib/sysctl.ts) lands
// on main. Then: parseNetKey -> parseKey, formatPreset -> formatValue, applyPresets ->
// ns.sysctl.setMany, and this file goes away. Same rules as the lead's parseKey: sysctl(8)
// syntax, keys under "net" only, no "."/".."/empty components, no control characters.
import { fromNative, invalid, type NetnsError } from './errors.js';
import { isNativeErrno, native } from './native.js';

/** What a sysctl holds: an integer, several integers, or text. */
export type PresetValue = number | number[] | string;

/** Sysctl presets: an object or ordered [key, value] pairs. */
export type Presets = Record<string, PresetValue> | readonly (readonly [string, PresetValue])[];

/** A validated key: its dot form and its path relative to /proc/sys/net. */
export interface NetKey {
  key: string;
  rel: string;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Parse a key as sysctl(8) does: the first separator decides (dot form or slash form). */
export function parseNetKey(input: unknown): NetKey {
  if (typeof input !== 'string') invalid('a sysctl key string', 'key', input);
  if (input.length === 0) invalid('a non-empty key', 'key', input, RangeError);
  if (Buffer.byteLength(input) > 1024) invalid('a key of at most 1024 bytes', 'key', input, RangeError);
  if (CONTROL.test(input)) invalid('a key without NUL or control characters', 'key', input, RangeError);
  if (input.startsWith('/'))
    invalid('a relative key such as net/ipv4/tcp_keepalive_time, not an absolute path', 'key', input, RangeError);
  const dot = input.indexOf('.');
  const slash = input.indexOf('/');
  const parts =
    slash === -1 || (dot !== -1 && dot < slash)
      ? input.split('.').map((c) => c.replaceAll('/', '.'))
      : input.split('/');
  if (parts[0] !== 'net') invalid('a key under "net" (such as net.ipv4.tcp_keepalive_time)', 'key', input, RangeError);
  const rest = parts.slice(1);
  if (rest.length === 0) invalid('a key below "net"', 'key', input, RangeError);
  for (const c of rest) {
    if (c.length === 0) invalid('a key without empty components', 'key', input, RangeError);
    if (c === '.' || c === '..') invalid('a key without "." or ".." components', 'key', input, RangeError);
    if (Buffer.byteLength(c) > 255) invalid('key components of at most 255 bytes', 'key', input, RangeError);
  }
  return { key: ['net', ...rest.map((p) => p.replaceAll('.', '/'))].join('.'), rel: rest.join('/') };
}

function formatInt(x: unknown, key: string): string {
  if (typeof x === 'bigint') return x.toString();
  if (typeof x !== 'number' || !Number.isSafeInteger(x)) invalid('an integer', `the value of ${key}`, x);
  return String(x);
}

/** The exact text to write for a value: integers, tab-separated integer lists, or text. */
export function formatPreset(value: unknown, key: string): string {
  if (typeof value === 'number' || typeof value === 'bigint') return formatInt(value, key);
  if (Array.isArray(value)) {
    if (value.length === 0) invalid('a non-empty array', `the value of ${key}`, value, RangeError);
    return value.map((x) => formatInt(x, key)).join('\t');
  }
  if (typeof value === 'string') {
    if (value.includes('\0')) invalid('a value without NUL bytes', `the value of ${key}`, value, RangeError);
    return value;
  }
  return invalid('a number, an array of numbers or a string', `the value of ${key}`, value);
}

/** Validate presets into ordered [parsed key, text] pairs. */
export function normalizePresets(presets: unknown, name = 'sysctl'): [NetKey, string][] {
  if (presets === undefined) return [];
  let entries: [unknown, unknown][];
  if (Array.isArray(presets)) {
    entries = presets.map((e, i) => {
      if (!Array.isArray(e) || e.length !== 2) invalid('[key, value] pairs', `${name}[${i}]`, e);
      return [e[0], e[1]] as [unknown, unknown];
    });
  } else if (presets !== null && typeof presets === 'object') {
    entries = Object.entries(presets);
  } else {
    return invalid('an object of key: value or an array of [key, value] pairs', name, presets);
  }
  return entries.map(([k, v]) => {
    const key = parseNetKey(k);
    return [key, formatPreset(v, key.key)];
  });
}

/** Raw text with the single trailing newline the kernel adds removed. */
export function stripNewline(raw: string): string {
  return raw.endsWith('\n') ? raw.slice(0, -1) : raw;
}

/** Write presets inside namespace `nsfd` in order, stopping at the first failure (thrown). */
export function applyPresets(nsfd: number, presets: [NetKey, string][]): Record<string, string> {
  if (presets.length === 0) return {};
  const out = native.sysctlBatch(
    nsfd,
    presets.map(([k]) => k.rel),
    presets.map(([, v]) => v),
    true,
  );
  const applied: Record<string, string> = {};
  for (let i = 0; i < out.length; i++) {
    const key = presets[i]![0].key;
    const o = out[i];
    if (isNativeErrno(o)) throw keyError(o, key);
    applied[key] = o === null ? presets[i]![1] : stripNewline(o);
  }
  return applied;
}

/** Read one key's raw text inside namespace `nsfd` (-1: where the calling thread is). */
export function readRaw(nsfd: number, key: string): string {
  const k = parseNetKey(key);
  try {
    return stripNewline(native.sysctlRead(nsfd, k.rel));
  } catch (e) {
    throw isNativeErrno(e) ? keyError(e, k.key) : e;
  }
}

/** A native error about one key as a NetnsError. */
export function keyError(e: Parameters<typeof fromNative>[0], key: string): NetnsError {
  let hint: string | undefined;
  if (e.errno === 2) hint = `${key} does not exist in this namespace (some keys exist only in the initial namespace, or need a module loaded)`;
  else if (e.errno === 22) hint = `The kernel rejected the value for ${key}`;
  return fromNative(e, hint === undefined ? { key } : { key, hint });
}
