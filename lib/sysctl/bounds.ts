// Bounded walks: at most so many interfaces and keys of one namespace. A tenant with
// CAP_NET_ADMIN in its own namespace makes 2,000 bridges in half a second, about 128 keys each
// (256,000 keys: a full walk takes seconds and hundreds of MB); whatever reads tenants'
// namespaces (the audit, diff, explain, an exporter's snapshot) reads a bounded part of them.
//
// The policy lives here; the native walk only applies a spec (core::WalkBounds in
// native/sysctl_core.h): in each directory that holds one entry per interface, `all`,
// `default`, `lo` and the interfaces the caller names are always walked, the others in the
// kernel's listing order (name order) while fewer than the limit were and the key bound is not
// reached; every interface not walked is reported by name, never opened. Keys of no interface
// (the namespace's own and host-wide ones) are always read: flooding interfaces cannot hide them.
import { invalid } from '../errors.js';
import { pathForm } from '../keypath.js';
import { native, WALK_KEEP, lazyWalk, type WalkResult } from '../native/index.js';

/** How much of one namespace a bounded read takes. */
export interface WalkLimits {
  /**
   * Interfaces read (default 256): `lo` and {@link devices} first, then the others in name
   * order (byte order, the kernel's listing order). An interface is read in full or not at all.
   */
  maxInterfaces?: number;
  /**
   * Keys read (default 50,000): once this many were read, no further interface is entered.
   * Keys of no interface are always read (a few hundred to about 1,100), whatever the bound.
   */
  maxKeys?: number;
  /** Interfaces always read (exact names, e.g. `['eth0']`), counted in maxInterfaces. */
  devices?: readonly string[];
}

/** The bounds used where none are given: no real container comes near them. */
export const DEFAULT_LIMITS: Readonly<Required<Omit<WalkLimits, 'devices'>>> = Object.freeze({
  maxInterfaces: 256,
  maxKeys: 50_000,
});

/** What a bounded read of a namespace left out: set only when it left something out. */
export interface Truncation {
  /** Interfaces the namespace has (by name, over every per-interface directory). */
  interfaces: number;
  /** Interfaces read, each in full. */
  interfacesRead: number;
  /** Keys read (interfaces' and the others). */
  keysRead: number;
  /** The bounds in effect. */
  maxInterfaces: number;
  maxKeys: number;
}

/**
 * The directories (relative to /proc/sys/net) that hold one subdirectory per interface, with
 * `all` and `default` beside them: ipv4 and ipv6 conf and neigh, MPLS, AX.25.
 */
export const DEVICE_DIRS: readonly string[] = [
  'ipv4/conf',
  'ipv4/neigh',
  'ipv6/conf',
  'ipv6/neigh',
  'mpls/conf',
  'ax25',
];

/** Entries of a per-interface directory that are not interfaces. */
const NOT_INTERFACES = new Set(['all', 'default']);

/** Estimates (generous) for the key bound: keys of no interface in a namespace; keys per interface. */
const KEYS_OF_NO_INTERFACE = 1500;
const KEYS_PER_INTERFACE = 150;

/** Limits checked and filled in. */
export interface Bounds {
  maxInterfaces: number;
  maxKeys: number;
  devices: readonly string[];
  /** The interfaces always read: `lo` and `devices`. */
  always: ReadonlySet<string>;
  /** The native walk's spec (core::WalkBounds). */
  spec: string;
}

function count(v: unknown, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff)
    return invalid('an integer from 0 to 4294967295', name, v, RangeError);
  return v;
}

/** An interface name as the kernel allows one (1-15 bytes, no '/', ':', whitespace or NUL). */
function deviceName(v: unknown, name: string): string {
  if (!isDeviceName(v))
    return invalid('an interface name (1-15 bytes, no "/", ":", whitespace or NUL)', name, v, RangeError);
  return v;
}

function isDeviceName(v: unknown): v is string {
  return (
    typeof v === 'string' &&
    v.length > 0 &&
    Buffer.byteLength(v) <= 15 &&
    !/[/:\s\0]/.test(v) &&
    v !== '.' &&
    v !== '..' &&
    !NOT_INTERFACES.has(v)
  );
}

/** `limits` checked, with the defaults filled in and the native spec made. */
export function boundsOf(limits: WalkLimits | undefined, name = 'limits'): Bounds {
  if (limits !== undefined && (limits === null || typeof limits !== 'object'))
    invalid('an object { maxInterfaces, maxKeys, devices }', name, limits);
  const maxInterfaces = count(limits?.maxInterfaces, `${name}.maxInterfaces`, DEFAULT_LIMITS.maxInterfaces);
  const maxKeys = count(limits?.maxKeys, `${name}.maxKeys`, DEFAULT_LIMITS.maxKeys);
  const given = limits?.devices;
  if (given !== undefined && !Array.isArray(given)) invalid('an array of interface names', `${name}.devices`, given);
  const devices = [...new Set((given ?? []).map((d, i) => deviceName(d, `${name}.devices[${i}]`)))];
  const always = [...new Set(['lo', ...devices])];
  // Interfaces the key bound leaves room for, at a generous estimate of a namespace's keys of
  // no interface and of an interface's keys (a bridge has 128 on 6.x kernels): so that the
  // native walk's own stop at maxKeys (checked as it enters each interface, directory by
  // directory) rarely has to leave an interface half read.
  const room = Math.floor(Math.max(0, maxKeys - KEYS_OF_NO_INTERFACE) / KEYS_PER_INTERFACE);
  const others = Math.max(0, Math.min(maxInterfaces - always.length, room));
  const names = ['all', 'default', ...always].map((n) => `${n}\0`).join('');
  const spec = `${maxKeys}\0` + DEVICE_DIRS.map((d) => `${d}\0${others}\0${names}\0`).join('');
  return { maxInterfaces, maxKeys, devices, always: new Set(always), spec };
}

/** The interfaces named by keys (dotted or path form): what a bounded read must not leave out. */
export function devicesOfKeys(keys: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const k of keys) {
    const rel = relOfKey(k);
    const d = deviceIn(rel);
    if (d !== undefined && isDeviceName(d.name)) out.add(d.name);
  }
  return [...out];
}

/** A key in either form as a path relative to /proc/sys/net. */
function relOfKey(k: string): string {
  const path = pathForm(k);
  return path.startsWith('net/') ? path.slice(4) : path;
}

/** The per-interface directory (its index in DEVICE_DIRS) and interface a path is under. */
function deviceIn(rel: string): { dir: number; name: string } | undefined {
  for (let i = 0; i < DEVICE_DIRS.length; i++) {
    const d = DEVICE_DIRS[i]!;
    if (rel.length > d.length && rel.startsWith(d) && rel.charCodeAt(d.length) === SLASH) {
      const end = rel.indexOf('/', d.length + 1);
      return { dir: i, name: end < 0 ? rel.slice(d.length + 1) : rel.slice(d.length + 1, end) };
    }
  }
  return undefined;
}
const SLASH = 47;

/** The mark of a skipped entry in a packed walk: its mode field is "-" (sysctl_core.h). */
const SKIPPED = '\0-\0\0';

/** The shortest entry of a packed WALK_READ walk ("a/b", "", "=1\n", three NULs). */
const MIN_ENTRY = 8;

/**
 * A bounded walk made whole: every interface is read in full or not at all, and the keys read
 * stay within maxKeys. When the native walk skipped interfaces, the entries it did read of an
 * interface skipped elsewhere (its ipv4 keys read, its ipv6 ones past the key bound) are
 * dropped; when more than maxKeys keys were read, the last interfaces by name are dropped
 * (never `lo` nor those named in `devices`); the skipped entries are taken out; the kept fds
 * (WALK_KEEP) of dropped entries are closed. `truncated` says what was left out (undefined:
 * nothing). The result is a packed walk like any other.
 */
export function completeWalk(w: WalkResult, b: Bounds): { walk: WalkResult; truncated?: Truncation } {
  const packed = w.packed;
  if (
    packed === undefined ||
    w.flags === undefined ||
    (!packed.includes(SKIPPED) && packed.length < b.maxKeys * MIN_ENTRY)
  )
    return { walk: w };
  const flags = w.flags;
  const keep = (flags & WALK_KEEP) !== 0;
  // Pass 1: every interface seen with its keys read, those skipped anywhere, and the total.
  const seen = new Map<string, number>();
  const drop = new Set<string>();
  let total = 0;
  eachEntry(packed, (_p, _z1, _z2, _z3, device, skipped) => {
    if (device !== undefined) {
      seen.set(device, (seen.get(device) ?? 0) + (skipped ? 0 : 1));
      if (skipped) drop.add(device);
    }
    if (!skipped) total++;
  });
  for (const d of drop) total -= seen.get(d)!;
  if (total > b.maxKeys) {
    const byName = [...seen.keys()].filter((d) => !drop.has(d) && !b.always.has(d)).sort();
    while (total > b.maxKeys && byName.length > 0) {
      const d = byName.pop()!;
      drop.add(d);
      total -= seen.get(d)!;
    }
  }
  if (drop.size === 0) return { walk: w };
  // Pass 2: the entries of the interfaces kept, and those of no interface, as runs (one slice
  // per run of kept entries, not one per entry).
  const parts: string[] = [];
  let run = 0;
  eachEntry(packed, (p, _z1, z2, z3, device, skipped) => {
    if (!skipped && (device === undefined || !drop.has(device))) return;
    if (p > run) parts.push(packed.slice(run, p));
    run = z3 + 1;
    if (keep && !skipped) {
      const fd = Number.parseInt(packed.slice(z2 + 1, z3), 10);
      if (fd >= 0) native.close(fd);
    }
  });
  if (packed.length > run) parts.push(packed.slice(run));
  return {
    walk: lazyWalk(parts.join(''), flags),
    truncated: {
      interfaces: seen.size,
      interfacesRead: seen.size - drop.size,
      keysRead: total,
      maxInterfaces: b.maxInterfaces,
      maxKeys: b.maxKeys,
    },
  };
}
const DASH = 45;

/**
 * Each entry of a packed walk: where it starts, its three NULs, the interface it belongs to
 * (undefined: none, or `all` / `default`) and whether it is a skipped one.
 */
function eachEntry(
  packed: string,
  fn: (p: number, z1: number, z2: number, z3: number, device: string | undefined, skipped: boolean) => void,
): void {
  // The last interface name met, and where: the next entry of the same interface (the usual
  // case: an interface's keys come together) is recognized in place, without a slice.
  let last: string | undefined;
  for (let p = 0, end = packed.length; p < end; ) {
    const z1 = packed.indexOf('\0', p);
    const z2 = packed.indexOf('\0', z1 + 1);
    const z3 = packed.indexOf('\0', z2 + 1);
    if (z1 < 0 || z2 < 0 || z3 < 0) return; // truncated: never produced by either backend
    let device: string | undefined;
    const from = deviceStart(packed, p, z1);
    if (from >= 0) {
      const slash = packed.indexOf('/', from);
      const to = slash < 0 || slash > z1 ? z1 : slash;
      if (last !== undefined && last.length === to - from && packed.startsWith(last, from)) device = last;
      else device = last = packed.slice(from, to);
      if (NOT_INTERFACES.has(device)) device = undefined;
    }
    fn(p, z1, z2, z3, device, z2 === z1 + 2 && packed.charCodeAt(z1 + 1) === DASH);
    p = z3 + 1;
  }
}

/** Where the interface name starts in the path packed[p, z1) when it is under a DEVICE_DIRS directory, else -1. */
function deviceStart(packed: string, p: number, z1: number): number {
  for (const d of DEVICE_DIRS) {
    const at = p + d.length;
    if (at + 1 < z1 && packed.charCodeAt(at) === SLASH && packed.startsWith(d, p)) return at + 1;
  }
  return -1;
}
