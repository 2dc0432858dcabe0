// Observation that changes nothing: every key's presence, mode and value in one namespace, read
// through that namespace's sysctl backend in one walk; and compare(), built on it.
import { NetNamespace } from '../namespace/handle.js';
import { errnoName, invalid, wrap } from '../errors.js';
import { keyFromRel, pathForm } from '../keypath.js';
import { valuesEqual } from '../sysctl/values.js';
import { sysctl } from '../sysctl/sysctl.js';
import type { SysctlBackend } from '../sysctl/backend.js';
import { keyOrder, type SysctlSnapshot } from '../sysctl/plan.js';
import { WALK_MODE, WALK_READ, isNativeErrno, type NativeOutcome, type WalkResult } from '../native/index.js';
import type { CompareEntry, SideObservation } from './types.js';

/** Equal by value (numbers as numbers, tab vs space ignored): the shared valuesEqual. */
export const sameValue = (a: string, b: string): boolean => valuesEqual(a, b);

/** The text of one walk outcome (trailing newline removed), or its errno code. */
export function outcomeValue(o: NativeOutcome | undefined): { value?: string; error?: string } {
  if (o === undefined) return {};
  if (o === null) return { error: 'EACCES' };
  if (typeof o === 'string') return { value: o.replace(/\n$/, '') };
  if (isNativeErrno(o)) return { error: errnoName(o.errno) };
  return { error: 'EIO' };
}

/** Every key of one namespace as observe() saw it: its mode and what reading it gave. */
export interface Observation {
  map: Map<string, { mode: number; out: NativeOutcome }>;
}

function observationOf(w: WalkResult): Observation {
  const map = new Map<string, { mode: number; out: NativeOutcome }>();
  for (const [i, k] of w.keys.entries()) map.set(k, { mode: w.modes[i] ?? 0, out: w.values[i] as NativeOutcome });
  return { map };
}

/** The backend that reaches `ns` (the calling thread's own namespace when omitted). */
export function backendOf(ns?: NetNamespace): SysctlBackend {
  if (ns === undefined) return sysctl.backend;
  void ns.fd; // throws on a closed handle
  return ns.sysctl.backend;
}

/** Every key of the namespace, with modes and values, in one walk. */
export function observe(ns?: NetNamespace): Observation {
  const b = backendOf(ns);
  return observationOf(wrap(() => b.walk('', WALK_READ | WALK_MODE)));
}

/** One key's text in a namespace, or undefined when it cannot be read. */
export function readRel(b: SysctlBackend, rel: string): string | undefined {
  try {
    return b.read(rel).replace(/\n$/, '');
  } catch {
    return undefined;
  }
}

/** What an observation shows of one key. */
export function side(s: Observation, rel: string): SideObservation {
  const e = s.map.get(rel);
  if (!e) return { present: false };
  const o: SideObservation = { present: true, mode: (e.mode & 0o7777).toString(8), writable: (e.mode & 0o222) !== 0 };
  Object.assign(o, outcomeValue(e.out));
  return o;
}

/** Whether two observations hold equal values; null when either has none. */
export function eqObs(a: SideObservation | undefined, b: SideObservation): boolean | null {
  if (!a || a.value === undefined || b.value === undefined) return null;
  return sameValue(a.value, b.value);
}

/** Init-only entries: if the observing namespace has one, it is the initial namespace. */
export const INIT_ONLY_MARKERS = ['core/netdev_max_backlog', 'core/devconf_inherit_init_net'];

/**
 * A side of {@link compare}: a namespace (walked when compared) or values already read: a
 * `getAll()` result or a snapshot handle's `refresh()`/`current` (for the host, read once and
 * compared against any number of namespaces).
 */
export type CompareSide = NetNamespace | SysctlSnapshot;

/** One side made ready: every key sorted, with its text or its error code. */
interface Prepared {
  keys: string[];
  values: (string | undefined)[];
  errors: (string | undefined)[];
  /** Each key's path below /proc/sys/net, made on first need (mergePacked). */
  rels?: string[];
}

/** Sides already prepared, by the snapshot object (a snapshot is data: it does not change). */
const prepared = new WeakMap<SysctlSnapshot, Prepared>();

function isSnapshot(x: unknown): x is SysctlSnapshot {
  if (typeof x !== 'object' || x === null) return false;
  const s = x as Partial<SysctlSnapshot>;
  return typeof s.raw === 'object' && s.raw !== null && typeof s.unreadable === 'object' && s.unreadable !== null;
}

function prepare(side: CompareSide, name: string): Prepared {
  if (side instanceof NetNamespace) return prepareWalk(wrap(() => backendOf(side).walk('', WALK_READ)));
  if (!isSnapshot(side)) return invalid('a NetNamespace or a SysctlSnapshot (getAll(), a snapshot handle)', name, side);
  let p = prepared.get(side);
  if (p === undefined) {
    const { raw, unreadable } = side;
    const keys = [...Object.keys(raw), ...Object.keys(unreadable)].sort();
    p = {
      keys,
      values: keys.map((k) => (Object.hasOwn(raw, k) ? raw[k] : undefined)),
      errors: keys.map((k) => (Object.hasOwn(raw, k) ? undefined : (unreadable[k]?.code ?? 'EIO'))),
    };
    prepared.set(side, p);
  }
  return p;
}

/** A walk (WALK_READ), in key order, without building a snapshot. */
function prepareWalk(w: WalkResult): Prepared {
  const { keys, order } = keyOrder(w.keys);
  const n = keys.length;
  const p: Prepared = { keys: order === undefined ? keys : new Array(n), values: new Array(n), errors: new Array(n) };
  for (let j = 0; j < n; j++) {
    const i = order === undefined ? j : order[j]!;
    if (order !== undefined) p.keys[j] = keys[i]!;
    const o = w.values[i];
    if (typeof o === 'string') p.values[j] = o.charCodeAt(o.length - 1) === NL ? o.slice(0, -1) : o;
    else p.errors[j] = outcomeValue(o).error;
  }
  return p;
}
const NL = 10;

/**
 * Every key present on either side, with its value on each and whether they are equal by
 * value, sorted by key. A namespace is read in one walk; a snapshot (`getAll()`, a snapshot
 * handle) is used as it is, so the host can be read once and compared against many
 * namespaces (see {@link comparer}). Changes nothing.
 */
export function compare(a: CompareSide, b: CompareSide): CompareEntry[] {
  return comparer(a)(b);
}

/**
 * compare() against one side prepared once: `comparer(host.sysctl.getAll())` returns a
 * function comparing any namespace (or snapshot) with it, reading only that namespace.
 */
export function comparer(a: CompareSide): (b: CompareSide) => CompareEntry[] {
  const pa = prepare(a, 'a');
  return (b) => {
    if (!(b instanceof NetNamespace)) return merge(pa, prepare(b, 'b'));
    const w = wrap(() => backendOf(b).walk('', WALK_READ));
    return (w.packed !== undefined && w.flags === WALK_READ && mergePacked(pa, w.packed)) || merge(pa, prepareWalk(w));
  };
}

/**
 * merge() of `a` with a packed WALK_READ walk, read in place: where the walk's next path is
 * `a`'s next key (the common case: a namespace has a subset of the host's keys, in the same
 * order) nothing is sliced, hashed or converted but the value. Undefined when the walk is not
 * in key order (the caller then decodes it and sorts).
 */
function mergePacked(a: Prepared, packed: string): CompareEntry[] | undefined {
  const rels = (a.rels ??= a.keys.map((k) => pathForm(k).slice(4))); // 'net/'
  const out: CompareEntry[] = [];
  const na = a.keys.length;
  const end = packed.length;
  let j = 0;
  let last = '';
  for (let p = 0; p < end; ) {
    const z1 = packed.indexOf('\0', p);
    if (z1 < 0 || packed.charCodeAt(z1 + 1) !== 0) return undefined; // not WALK_READ alone
    const o = z1 + 2;
    const z3 = packed.indexOf('\0', o);
    let vb: string | undefined, eb: string | undefined;
    if (packed.charCodeAt(o) === EQ) vb = packed.slice(o + 1, packed.charCodeAt(z3 - 1) === NL ? z3 - 1 : z3);
    else eb = errnoName(Number(packed.slice(o + 1, packed.indexOf(':', o))));
    const r = j < na ? rels[j]! : undefined;
    if (r !== undefined && r.length === z1 - p && packed.startsWith(r, p)) {
      out.push(entry(a.keys[j]!, a.values[j], vb, a.errors[j], eb));
      last = a.keys[j++]!;
    } else {
      const key = keyFromRel(packed.slice(p, z1));
      if (key < last) return undefined;
      last = key;
      while (j < na && a.keys[j]! < key) {
        out.push(entry(a.keys[j]!, a.values[j], undefined, a.errors[j], undefined));
        j++;
      }
      if (j < na && a.keys[j] === key) {
        out.push(entry(key, a.values[j], vb, a.errors[j], eb));
        j++;
      } else out.push(entry(key, undefined, vb, undefined, eb));
    }
    p = z3 + 1;
  }
  for (; j < na; j++) out.push(entry(a.keys[j]!, a.values[j], undefined, a.errors[j], undefined));
  return out;
}
const EQ = 61;

function entry(
  key: string,
  va: string | undefined,
  vb: string | undefined,
  ea: string | undefined,
  eb: string | undefined,
): CompareEntry {
  const onA = va !== undefined || ea !== undefined;
  const onB = vb !== undefined || eb !== undefined;
  const equal = va !== undefined && vb !== undefined && (va === vb || sameValue(va, vb));
  const e: CompareEntry = {
    key,
    a: va ?? null,
    b: vb ?? null,
    equal,
    status: equal
      ? 'equal'
      : !onB
        ? 'a-only'
        : !onA
          ? 'b-only'
          : va === undefined || vb === undefined
            ? 'unreadable'
            : 'different',
  };
  if (ea) e.aError = ea;
  if (eb) e.bError = eb;
  return e;
}

/** Both sides' sorted keys merged in one pass. */
function merge(a: Prepared, b: Prepared): CompareEntry[] {
  const out: CompareEntry[] = [];
  const na = a.keys.length,
    nb = b.keys.length;
  let i = 0,
    j = 0;
  while (i < na || j < nb) {
    const ka = i < na ? a.keys[i]! : undefined;
    const kb = j < nb ? b.keys[j]! : undefined;
    let key: string, va: string | undefined, vb: string | undefined, ea: string | undefined, eb: string | undefined;
    if (kb === undefined || (ka !== undefined && ka < kb)) {
      key = ka!;
      va = a.values[i];
      ea = a.errors[i++];
    } else if (ka === undefined || kb < ka) {
      key = kb;
      vb = b.values[j];
      eb = b.errors[j++];
    } else {
      key = ka;
      va = a.values[i];
      ea = a.errors[i++];
      vb = b.values[j];
      eb = b.errors[j++];
    }
    out.push(entry(key, va, vb, ea, eb));
  }
  return out;
}
