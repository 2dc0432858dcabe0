// Plans: list, getAll and setMany as generators of steps (a batch or a walk), so one plan runs
// both as a sync call and as a Promise; drive() and driveAsync() run one against a backend.
import { ERRNO, type NetnsError, toNetnsError } from '../errors.js';
import { keyFromRel } from '../keypath.js';
import { parseKey, type KeyInput, type ParsedKey } from './keys.js';
import {
  WALK_READ,
  isNativeErrno,
  outcomeAt,
  type NativeErrno,
  type NativeOutcome,
  type WalkResult,
} from '../native/index.js';
import type { SysctlBackend, SysctlSteps } from './backend.js';
import { completeWalk, type Bounds, type Truncation } from './bounds.js';
import { parseText, type AnyKey, type SysctlValue } from './values.js';

/** Every readable key under a prefix. */
export interface SysctlSnapshot {
  /** Typed values by dot-form key, sorted by key. */
  values: Record<string, SysctlValue>;
  /** Exact text by key (trailing newline removed). */
  raw: Record<string, string>;
  /** Keys present but unreadable (write-only `route.flush`, `stable_secret` answering EIO). */
  unreadable: Record<string, NetnsError>;
  /** A bounded read ({@link WalkLimits}) that left interfaces out: what it read and what there is. */
  truncated?: Truncation;
}

/**
 * One native call of a plan: a batch of reads/writes, or a walk (bounded by a bounds spec).
 * `only`: the plan's first step is its only one, whatever it answers (a walk of the whole
 * tree: the root is a directory, so no fallback read can follow). Its Promise form is then a
 * single operation in the call order, not a compound one that holds back later calls.
 */
export type Step = (
  | { op: 'batch'; rels: string[]; values: (string | null)[]; stop: boolean }
  | { op: 'walk'; prefix: string; flags: number; bounds?: string | undefined }
) & { only?: boolean };
export type StepResult = NativeOutcome[] & WalkResult;
export type Plan<T> = Generator<Step, T, StepResult>;

/** Turns a native failure on one key into the NetnsError a plan throws or reports. */
export type KeyErrorOf = (e: NativeErrno, pk: ParsedKey, op: 'read' | 'write' | 'open', value?: string) => NetnsError;

function exec(b: SysctlBackend, s: Step): StepResult {
  if (s.op === 'batch') return b.batch(s.rels, s.values, s.stop) as StepResult;
  return b.walk(s.prefix, s.flags, s.bounds) as StepResult;
}

/** Run a plan with sync backend calls. */
export function drive<T>(b: SysctlBackend, plan: Plan<T>): T {
  let r = plan.next();
  while (!r.done) {
    let res: StepResult;
    try {
      res = exec(b, r.value);
    } catch (e) {
      r = plan.throw(e);
      continue;
    }
    r = plan.next(res);
  }
  return r.value;
}

/**
 * Run a plan with the backend's Promise forms, as ONE operation in the call order: a plan of
 * several steps runs inside SysctlBackend.exclusive (Promise forms called after it start once
 * it has ended, so none runs between its steps); a plan whose first step says it is the `only`
 * one is submitted at once like any single operation, so it does not hold back later calls
 * (walks of many namespaces then overlap with the JavaScript that consumes them). `make`
 * builds the plan and validates the arguments: an argument error rejects, it is never thrown.
 */
export function driveAsync<T>(b: SysctlBackend, make: () => Plan<T>): Promise<T> {
  let plan: Plan<T>;
  let first: IteratorResult<Step, T>;
  try {
    plan = make();
  } catch (e) {
    return Promise.reject(toNetnsError(e));
  }
  try {
    first = plan.next();
  } catch (e) {
    return Promise.reject(e);
  }
  if (!first.done && first.value.only === true) return driveSteps(b, plan, first);
  return b.exclusive((steps) => driveSteps(steps, plan, first));
}

async function driveSteps<T>(steps: SysctlSteps, plan: Plan<T>, first: IteratorResult<Step, T>): Promise<T> {
  const exec = (s: Step): Promise<StepResult> =>
    (s.op === 'batch'
      ? steps.batchAsync(s.rels, s.values, s.stop)
      : steps.walkAsync(s.prefix, s.flags, s.bounds)) as Promise<StepResult>;
  let r = first;
  while (!r.done) {
    let res: StepResult;
    try {
      res = await exec(r.value);
    } catch (e) {
      r = plan.throw(e);
      continue;
    }
    r = plan.next(res);
  }
  return r.value;
}

/** A prefix argument: '' and 'net' name the whole tree. */
export function prefixOf(prefix: AnyKey | KeyInput): ParsedKey {
  return typeof prefix === 'string' ? parseKey(prefix, { allowRoot: true }) : parseKey(prefix);
}

export function* walkPlan(pk: ParsedKey, flags: number, keyError: KeyErrorOf, bounds?: Bounds): Plan<WalkResult> {
  return (yield* boundedWalkPlan(pk, flags, keyError, bounds)).walk;
}

/**
 * A walk, bounded by `bounds` when given (bounds.ts): every interface read in full or not at
 * all, and `truncated` set when some were left out.
 */
export function* boundedWalkPlan(
  pk: ParsedKey,
  flags: number,
  keyError: KeyErrorOf,
  bounds: Bounds | undefined,
): Plan<{ walk: WalkResult; truncated?: Truncation }> {
  try {
    const w = yield { op: 'walk', prefix: pk.rel, flags, bounds: bounds?.spec, only: pk.rel === '' };
    return bounds === undefined ? { walk: w } : completeWalk(w, bounds);
  } catch (e) {
    // The prefix is a key (never the root: its walk was the plan's `only` step).
    if (isNativeErrno(e) && e.errno === ERRNO.ENOTDIR && pk.rel !== '') {
      const one = yield { op: 'batch', rels: [pk.rel], values: [null], stop: false };
      const o = one[0];
      // Only a key that is there (readable or not) lists as itself; a path through a key
      // (net.core.somaxconn.x: ENOTDIR) or a vanished one names nothing.
      if (isNativeErrno(o) && (o.errno === ERRNO.ENOENT || o.errno === ERRNO.ENOTDIR)) throw keyError(o, pk, 'read');
      return { walk: { keys: [pk.rel], values: flags & WALK_READ ? one : [], modes: [] } };
    }
    if (isNativeErrno(e) && e.syscall !== 'setns') throw keyError(e, pk, 'read');
    throw toNetnsError(e, { key: pk.key });
  }
}

export function* listPlan(pk: ParsedKey, keyError: KeyErrorOf): Plan<string[]> {
  const w = yield* walkPlan(pk, 0, keyError);
  return w.keys.map(keyFromRel).sort();
}

export function* getAllPlan(pk: ParsedKey, keyError: KeyErrorOf, bounds?: Bounds): Plan<SysctlSnapshot> {
  const { walk, truncated } = yield* boundedWalkPlan(pk, WALK_READ, keyError, bounds);
  const s = snapshotOfWalk(walk, keyError);
  if (truncated !== undefined) s.truncated = truncated;
  return s;
}

/**
 * The snapshot of a WALK_READ walk, sync or Promise, addon or rootless helper: read in place
 * from its packed form (snapshotOfPacked, the one decoder on this path), or from its decoded
 * arrays when it has none (a prefix that is one key) or is not in key order.
 */
export function snapshotOfWalk(w: WalkResult, keyError: KeyErrorOf): SysctlSnapshot {
  return (
    (w.packed !== undefined && w.flags === WALK_READ && snapshotOfPacked(w.packed, keyError)) ||
    snapshotOf(w.keys, w.values, keyError)
  );
}

/**
 * The paths and keys of the last walk decoded by snapshotOfPacked, by position: the same walk
 * comes back in the same order every time (a namespace's tree changes only when interfaces
 * come and go), so a path that matches its predecessor at the same position is neither sliced
 * nor hashed nor converted.
 */
const layout: { rels: string[]; keys: string[] } = { rels: [], keys: [] };

/**
 * snapshotOf() read in place from a packed WALK_READ walk (lib/native/walk.ts's encoding):
 * one slice per value (its newline dropped), none per path that matches the last walk's at
 * that position. Undefined when the walk is not in key order (the caller then sorts).
 */
export function snapshotOfPacked(packed: string, keyError: KeyErrorOf): SysctlSnapshot | undefined {
  const raw: Record<string, string> = {};
  const { rels, keys } = layout;
  let errs: (readonly [string, string, NativeErrno])[] | undefined;
  let last = '';
  let i = 0;
  for (let p = 0, end = packed.length; p < end; i++) {
    let rel = rels[i],
      key: string,
      z1: number;
    if (rel !== undefined && packed.charCodeAt(p + rel.length) === 0 && packed.startsWith(rel, p)) {
      z1 = p + rel.length;
      key = keys[i]!;
    } else {
      z1 = packed.indexOf('\0', p);
      if (z1 < 0) break; // truncated: never produced by either backend
      rel = packed.slice(p, z1);
      key = keyFromRel(rel);
      rels[i] = rel;
      keys[i] = key;
    }
    if (packed.charCodeAt(z1 + 1) !== 0) return undefined; // a mode field: not WALK_READ alone
    if (key < last) return undefined;
    last = key;
    const o = z1 + 2;
    const z3 = packed.indexOf('\0', o);
    if (z3 < 0) break;
    if (packed.charCodeAt(o) === EQUALS) raw[key] = packed.slice(o + 1, packed.charCodeAt(z3 - 1) === NL ? z3 - 1 : z3);
    else {
      const e = outcomeAt(packed, o, z3, rel);
      if (isNativeErrno(e)) (errs ??= []).push([key, rel, e]);
    }
    p = z3 + 1;
  }
  if (rels.length > i + 4096) {
    rels.length = i;
    keys.length = i;
  }
  return lazySnapshot(raw, unreadableOf(errs, keyError));
}
const EQUALS = 61;

/** Dot-form keys of walk paths, and the order that sorts them (undefined: already sorted). */
export interface KeyOrder {
  keys: string[];
  order: number[] | undefined;
}

/** The kernel lists every directory in name order, so a walk's keys usually come sorted already. */
export function keyOrder(rels: readonly string[]): KeyOrder {
  const n = rels.length;
  const keys: string[] = new Array(n);
  let sorted = true;
  for (let i = 0; i < n; i++) {
    const k = keyFromRel(rels[i]!);
    keys[i] = k;
    if (i > 0 && k < keys[i - 1]!) sorted = false;
  }
  if (sorted) return { keys, order: undefined };
  const order = keys.map((_, i) => i);
  order.sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : 0));
  return { keys, order };
}

/**
 * The snapshot of what a walk (or a snapshot handle's pass) read: `rels[i]` gave `outs[i]`
 * (undefined: left out). One pass: `raw` and `unreadable` filled directly in key order,
 * `values` parsed only when first read.
 */
export function snapshotOf(
  rels: readonly string[],
  outs: readonly (NativeOutcome | undefined)[],
  keyError: KeyErrorOf,
  ko: KeyOrder = keyOrder(rels),
): SysctlSnapshot {
  const { keys, order } = ko;
  const n = rels.length;
  const raw: Record<string, string> = {};
  let failed: number[] | undefined;
  for (let j = 0; j < n; j++) {
    const i = order === undefined ? j : order[j]!;
    const v = outs[i];
    if (typeof v === 'string') raw[keys[i]!] = v.charCodeAt(v.length - 1) === NL ? v.slice(0, -1) : v;
    else if (isNativeErrno(v)) (failed ??= []).push(i);
  }
  // The errors are made on first access too: each costs a message and a hint.
  const errs = failed?.map((i) => [keys[i]!, rels[i]!, outs[i] as NativeErrno] as const);
  return lazySnapshot(raw, unreadableOf(errs, keyError));
}

/** The `unreadable` record of a snapshot, made when first read: `errs` are [key, rel, errno]. */
function unreadableOf(
  errs: readonly (readonly [string, string, NativeErrno])[] | undefined,
  keyError: KeyErrorOf,
): () => Record<string, NetnsError> {
  return (): Record<string, NetnsError> => {
    const u: Record<string, NetnsError> = {};
    if (errs === undefined) return u;
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0; // unreadable keys are reported as data: a stack would say nothing
    try {
      for (const [key, rel, e] of errs) u[key] = keyError(e, { key, rel, parts: rel.split('/') }, 'read');
    } finally {
      Error.stackTraceLimit = limit;
    }
    return u;
  };
}

const NL = 10;

/**
 * A snapshot whose `values` are parsed from `raw`, and whose `unreadable` errors are made, on
 * first access (then kept, like plain properties).
 */
function lazySnapshot(raw: Record<string, string>, unreadable: () => Record<string, NetnsError>): SysctlSnapshot {
  const snap = {} as SysctlSnapshot;
  const lazy = <K extends 'values' | 'unreadable'>(name: K, make: () => SysctlSnapshot[K]): void => {
    const settle = (v: SysctlSnapshot[K]): void => {
      Object.defineProperty(snap, name, { value: v, writable: true, enumerable: true, configurable: true });
    };
    Object.defineProperty(snap, name, {
      enumerable: true,
      configurable: true,
      get(): SysctlSnapshot[K] {
        const v = make();
        settle(v);
        return v;
      },
      set: settle,
    });
  };
  lazy('values', () => {
    const values: Record<string, SysctlValue> = {};
    // raw lost exactly one trailing newline, which parseValue would drop: parse it as text
    for (const k in raw) values[k] = parseText(raw[k]!);
    return values;
  });
  snap.raw = raw;
  lazy('unreadable', unreadable);
  return snap;
}
