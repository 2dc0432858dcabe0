// The audit's comparison of one namespace with the host, streamed: the namespace's bounded walk
// is read in place (its packed form, lib/native/walk.ts) and merged with the host's keys in key
// order, so that no object of the namespace's keys is built: what stays is the walk's one
// string and what the comparison reports. Memory is then the walk (about 45 bytes a key,
// within the bounds) plus the report, whatever the namespace holds.
import { deviceOf, keyFromRel, pathForm } from '../keypath.js';
import { valuesEqual } from '../sysctl/values.js';
import { keyOrder, type SysctlSnapshot } from '../sysctl/plan.js';
import type { Truncation } from '../sysctl/bounds.js';
import { WALK_READ, type WalkResult } from '../native/index.js';

/** The host's keys in key order, prepared once for every comparison with it. */
export interface HostKeys {
  keys: string[];
  /** Each key's path below /proc/sys/net. */
  rels: string[];
  /** Each key's text; undefined where the host cannot read it. */
  values: (string | undefined)[];
  /** Whether a truncated host may hold `key` without having read it. */
  unknown: ((key: string) => boolean) | undefined;
}

/** A key present on one side only; `onHost`: the side that has it is the host. */
export interface OneSided {
  key: string;
  host: string | null;
  value: string | null;
  onHost: boolean;
}

/** A key whose value differs from the expected one (or that is absent), before classification. */
export interface Deviation {
  key: string;
  expected: string;
  value: string | null;
  where: string;
}

/** What the audit asks of each namespace. */
export interface StreamOptions {
  /** The expectation for one key, or undefined (the audit's sysctl.d file). */
  expected: ((key: string) => { value: string; where: string } | undefined) | undefined;
  /** Whether the expectations have globs: then every key read is matched against them. */
  globs: boolean;
  /** The keys the expectations name that must be checked even when absent. */
  wanted: ReadonlySet<string>;
  oneSided: boolean;
  /** Keys whose values are kept (in `kept`) even when they are an interface's. */
  capture: ReadonlySet<string>;
}

/** One namespace compared with the host: everything its audit target reports but the classes. */
export interface Compared {
  diffs: { key: string; host: string; value: string }[];
  devs: Deviation[];
  sides: OneSided[];
  /**
   * The values of the keys of no interface (`all` and `default` included: a few hundred to
   * about 1,100, what an interface's key may come from) and of the keys `capture` names; the
   * namespace's other values are not kept.
   */
  kept: Record<string, string>;
  truncated?: Truncation;
}

/** The host's snapshot as sorted arrays (readable keys and unreadable ones alike). */
export function hostKeys(s: SysctlSnapshot, unknown: HostKeys['unknown']): HostKeys {
  const { raw, unreadable } = s;
  const keys = [...Object.keys(raw), ...Object.keys(unreadable)].sort();
  return {
    keys,
    rels: keys.map((k) => pathForm(k).slice(4)), // 'net/'
    values: keys.map((k) => (Object.hasOwn(raw, k) ? raw[k] : undefined)),
    unknown,
  };
}

/** The merge of one namespace's keys with the host's, fed one key at a time in key order. */
class Merge {
  readonly out: Compared = { diffs: [], devs: [], sides: [], kept: {} };
  /** Host keys the namespace lacks (indexes), with oneSided. */
  readonly hostOnly: number[] = [];
  /** Wanted keys seen in the namespace. */
  readonly seen = new Set<string>();
  /** The interfaces the namespace's keys were read of (only when it was truncated). */
  readonly devices: Set<string> | undefined;
  j = 0;
  last = '';

  constructor(
    readonly host: HostKeys,
    readonly o: StreamOptions,
    truncated: Truncation | undefined,
  ) {
    if (truncated !== undefined) {
      this.out.truncated = truncated;
      this.devices = new Set();
    }
  }

  /** The host's next key when the walk's path at packed[p, z1) is its path: no slice, no conversion. */
  fastKey(packed: string, p: number, z1: number): string | undefined {
    const r = this.host.rels[this.j];
    return r !== undefined && r.length === z1 - p && packed.startsWith(r, p) ? this.host.keys[this.j] : undefined;
  }

  /** One key of the namespace, with its text (undefined: unreadable). False when out of key order. */
  feed(key: string, v: string | undefined): boolean {
    if (key < this.last) return false;
    this.last = key;
    const h = this.host;
    const o = this.o;
    while (this.j < h.keys.length && h.keys[this.j]! < key) {
      if (o.oneSided) this.hostOnly.push(this.j);
      this.j++;
    }
    if (this.j < h.keys.length && h.keys[this.j] === key) {
      const hv = h.values[this.j++];
      if (hv !== undefined && v !== undefined && hv !== v && !valuesEqual(hv, v))
        this.out.diffs.push({ key, host: hv, value: v });
    } else if (o.oneSided && h.unknown?.(key) !== true)
      this.out.sides.push({ key, host: null, value: v ?? null, onHost: false });
    const device = this.deviceFor(key);
    if (device !== undefined) this.devices?.add(device);
    if (v !== undefined && (device === undefined || o.capture.has(key))) this.out.kept[key] = v;
    if (o.expected !== undefined) {
      const wanted = o.wanted.has(key);
      if (wanted) this.seen.add(key);
      if (wanted || (o.globs && v !== undefined)) {
        const e = o.expected(key);
        if (e !== undefined && (v === undefined || !valuesEqual(v, e.value)))
          this.out.devs.push({ key, expected: e.value, value: v ?? null, where: e.where });
      }
    }
    return true;
  }

  /** The last key prefix up to an interface's name ("net.ipv4.conf.eth0"), and that interface. */
  #prefix = '';
  #device: string | undefined;

  /** The interface `key` belongs to, as deviceOf() gives it (undefined: none, `all`, `default`), without its regular expression on every key. */
  deviceFor(key: string): string | undefined {
    const p = this.#prefix;
    // The keys of one interface come together: most keys are of the interface the last one was.
    if (p !== '' && key.length > p.length && key.charCodeAt(p.length) === DOT && key.startsWith(p)) return this.#device;
    const m = DEVICE_KEY.exec(key);
    if (m === null) return undefined;
    this.#prefix = m[0].slice(0, -1);
    const name = m[1]!.replaceAll('/', '.');
    this.#device = name === 'all' || name === 'default' ? undefined : name;
    return this.#device;
  }

  /** The report, once every key was fed. */
  end(): Compared {
    const h = this.host;
    const o = this.o;
    const unknown = this.devices === undefined ? undefined : unknownOf(this.devices);
    if (o.oneSided) {
      for (; this.j < h.keys.length; this.j++) this.hostOnly.push(this.j);
      for (const i of this.hostOnly) {
        const key = h.keys[i]!;
        if (unknown?.(key) !== true) this.out.sides.push({ key, host: h.values[i] ?? null, value: null, onHost: true });
      }
      this.out.sides.sort(byKey);
    }
    if (o.expected !== undefined)
      for (const key of o.wanted)
        if (!this.seen.has(key) && unknown?.(key) !== true) {
          const e = o.expected(key);
          if (e !== undefined) this.out.devs.push({ key, expected: e.value, value: null, where: e.where });
        }
    this.out.devs.sort(byKey);
    return this.out;
  }
}

/** A key of an interface, as deviceOf() sees one (dot form): its prefix up to the name, and the name. */
const DEVICE_KEY = /^net\.ipv[46]\.(?:conf|neigh)\.([^.]+)\./;
const DOT = 46;

const byKey = (a: { key: string }, b: { key: string }): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** Whether a key belongs to an interface that a truncated read left out (`read`: the interfaces read). */
function unknownOf(read: ReadonlySet<string>): (key: string) => boolean {
  return (key) => {
    const d = deviceOf(key);
    return d !== undefined && !read.has(d);
  };
}

/**
 * Compare a namespace's bounded walk (WALK_READ) with the host, in one pass over it: in place
 * when it is packed and in key order (the common case), else over its decoded keys sorted.
 */
export function compareWalk(
  host: HostKeys,
  walk: WalkResult,
  truncated: Truncation | undefined,
  o: StreamOptions,
): Compared {
  if (walk.packed !== undefined && walk.flags === WALK_READ) {
    const m = new Merge(host, o, truncated);
    if (feedPacked(m, walk.packed)) return m.end();
  }
  // Not in key order (a dotted interface name: eth0.100 sorts before eth0 as a path, after it
  // as a key), or not packed: the decoded walk, sorted.
  const m = new Merge(host, o, truncated);
  const { keys, order } = keyOrder(walk.keys);
  for (let n = 0; n < keys.length; n++) {
    const i = order === undefined ? n : order[n]!;
    const out = walk.values[i];
    m.feed(keys[i]!, typeof out === 'string' ? chomp(out) : undefined);
  }
  return m.end();
}

/** Feed a packed walk's entries ("path\0\0=value\n\0" or "path\0\0!errno:syscall\0"); false when out of key order. */
function feedPacked(m: Merge, packed: string): boolean {
  for (let p = 0, end = packed.length; p < end; ) {
    const z1 = packed.indexOf('\0', p);
    if (z1 < 0 || packed.charCodeAt(z1 + 1) !== 0) return false; // not WALK_READ alone
    const o = z1 + 2;
    const z3 = packed.indexOf('\0', o);
    if (z3 < 0) return false;
    const key = m.fastKey(packed, p, z1) ?? keyFromRel(packed.slice(p, z1));
    const v =
      packed.charCodeAt(o) === EQUALS ? packed.slice(o + 1, packed.charCodeAt(z3 - 1) === NL ? z3 - 1 : z3) : undefined;
    if (!m.feed(key, v)) return false;
    p = z3 + 1;
  }
  return true;
}
const EQUALS = 61;
const NL = 10;

const chomp = (v: string): string => (v.charCodeAt(v.length - 1) === NL ? v.slice(0, -1) : v);
