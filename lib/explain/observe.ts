// Observation that changes nothing: every key's presence, mode and value in one namespace, read
// through that namespace's sysctl backend in one walk; and compare(), built on it.
import { NetNamespace } from '../namespace/handle.js';
import { errnoName, invalid, wrap } from '../errors.js';
import { parseKey } from '../sysctl/keys.js';
import { valuesEqual } from '../sysctl/values.js';
import { sysctl } from '../sysctl/sysctl.js';
import type { SysctlBackend } from '../sysctl/backend.js';
import { WALK_MODE, WALK_READ, isNativeErrno, type NativeOutcome, type WalkResult } from '../native/index.js';
import { relToKey } from './rules.js';
import type { CompareEntry, SideObservation } from './types.js';

/** Equal by value (numbers as numbers, tab vs space ignored): the shared valuesEqual. */
export const sameValue = (a: string, b: string): boolean => valuesEqual(a, b);

/** Path below /proc/sys/net for a key in sysctl(8) syntax, validated by the shared parser. */
export const keyToRel = (key: string): string => parseKey(key, { allowRoot: true }).rel;

/** The text of one walk outcome (trailing newline removed), or its errno code. */
export function valueOf(o: NativeOutcome | undefined): { value?: string; error?: string } {
  if (o === undefined) return {};
  if (o === null) return { error: 'EACCES' };
  if (typeof o === 'string') return { value: o.replace(/\n$/, '') };
  if (isNativeErrno(o)) return { error: errnoName(o.errno) };
  return { error: 'EIO' };
}

/** Every key of one namespace: its mode and what reading it gave. */
export interface Snapshot {
  map: Map<string, { mode: number; out: NativeOutcome }>;
}

function snapshotOf(w: WalkResult): Snapshot {
  const map = new Map<string, { mode: number; out: NativeOutcome }>();
  w.keys.forEach((k, i) => map.set(k, { mode: w.modes[i] ?? 0, out: w.values[i] as NativeOutcome }));
  return { map };
}

/** The backend that reaches `ns` (the calling thread's own namespace when omitted). */
export function backendOf(ns?: NetNamespace): SysctlBackend {
  if (ns === undefined) return sysctl.backend;
  void ns.fd; // throws on a closed handle
  return ns.sysctl.backend;
}

/** Every key of the namespace, with modes and values, in one walk. */
export function observe(ns?: NetNamespace): Snapshot {
  const b = backendOf(ns);
  return snapshotOf(wrap(() => b.walk('', WALK_READ | WALK_MODE)));
}

/** One key's text in a namespace, or undefined when it cannot be read. */
export function readRel(b: SysctlBackend, rel: string): string | undefined {
  try {
    return b.read(rel).replace(/\n$/, '');
  } catch {
    return undefined;
  }
}

/** What a snapshot shows of one key. */
export function side(s: Snapshot, rel: string): SideObservation {
  const e = s.map.get(rel);
  if (!e) return { present: false };
  const o: SideObservation = { present: true, mode: (e.mode & 0o7777).toString(8), writable: (e.mode & 0o222) !== 0 };
  Object.assign(o, valueOf(e.out));
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
 * Every key present in either namespace, with its value in each and whether they are equal
 * by value. Reads both trees in one walk each; changes nothing.
 */
export function compare(a: NetNamespace, b: NetNamespace): CompareEntry[] {
  if (!(a instanceof NetNamespace)) invalid('a NetNamespace', 'a', a);
  if (!(b instanceof NetNamespace)) invalid('a NetNamespace', 'b', b);
  const sa = observe(a);
  const sb = observe(b);
  const rels = [...new Set([...sa.map.keys(), ...sb.map.keys()])].sort();
  return rels.map((rel) => {
    const va = valueOf(sa.map.get(rel)?.out);
    const vb = valueOf(sb.map.get(rel)?.out);
    const e: CompareEntry = {
      key: relToKey(rel),
      a: va.value ?? null,
      b: vb.value ?? null,
      equal: va.value !== undefined && vb.value !== undefined && sameValue(va.value, vb.value),
    };
    if (va.error) e.aError = va.error;
    if (vb.error) e.bError = vb.error;
    return e;
  });
}
