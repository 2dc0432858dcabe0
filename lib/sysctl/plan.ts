// Plans: list, getAll and setMany as generators of steps (a batch or a walk), so one plan runs
// both as a sync call and as a Promise; drive() and driveAsync() run one against a backend.
import { ERRNO, NetnsError, toNetnsError } from '../errors.js';
import { keyFromRel, parseKey, type KeyInput, type ParsedKey } from './keys.js';
import { WALK_READ, isNativeErrno, type NativeErrno, type NativeOutcome, type WalkResult } from '../native/index.js';
import type { SysctlBackend, SysctlSteps } from './backend.js';
import { parseValue, rawText, type AnyKey, type SysctlValue } from './values.js';

/** Every readable key under a prefix. */
export interface SysctlSnapshot {
  /** Typed values by dot-form key, sorted by key. */
  values: Record<string, SysctlValue>;
  /** Exact text by key (trailing newline removed). */
  raw: Record<string, string>;
  /** Keys present but unreadable (write-only `route.flush`, `stable_secret` answering EIO). */
  unreadable: Record<string, NetnsError>;
}


/** One native call of a plan: a batch of reads/writes, or a walk. */
export type Step =
  | { op: 'batch'; rels: string[]; values: (string | null)[]; stop: boolean }
  | { op: 'walk'; prefix: string; flags: number };
export type StepResult = NativeOutcome[] & WalkResult;
export type Plan<T> = Generator<Step, T, StepResult>;

/** Turns a native failure on one key into the NetnsError a plan throws or reports. */
export type KeyErrorOf = (e: NativeErrno, pk: ParsedKey, op: 'read' | 'write' | 'open', value?: string) => NetnsError;

function exec(b: SysctlBackend, s: Step): StepResult {
  if (s.op === 'batch') return b.batch(s.rels, s.values, s.stop) as StepResult;
  return b.walk(s.prefix, s.flags) as StepResult;
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
 * Run a plan with the backend's Promise forms, as ONE operation in the call order
 * (SysctlBackend.exclusive): Promise forms called after it start once it has ended, so none
 * runs between its steps. `make` builds the plan and validates the arguments: an argument
 * error rejects, it is never thrown.
 */
export function driveAsync<T>(b: SysctlBackend, make: () => Plan<T>): Promise<T> {
  let plan: Plan<T>;
  try {
    plan = make();
    return b.exclusive((steps) => driveSteps(steps, plan));
  } catch (e) {
    return Promise.reject(toNetnsError(e));
  }
}

async function driveSteps<T>(steps: SysctlSteps, plan: Plan<T>): Promise<T> {
  const exec = (s: Step): Promise<StepResult> =>
    (s.op === 'batch' ? steps.batchAsync(s.rels, s.values, s.stop) : steps.walkAsync(s.prefix, s.flags)) as Promise<StepResult>;
  let r = plan.next();
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

export function* walkPlan(pk: ParsedKey, flags: number, keyError: KeyErrorOf): Plan<WalkResult> {
  try {
    return yield { op: 'walk', prefix: pk.rel, flags };
  } catch (e) {
    if (isNativeErrno(e) && e.errno === ERRNO.ENOTDIR /* the prefix is a key */) {
      const one = yield { op: 'batch', rels: [pk.rel], values: [null], stop: false };
      const o = one[0];
      // Only a key that is there (readable or not) lists as itself; a path through a key
      // (net.core.somaxconn.x: ENOTDIR) or a vanished one names nothing.
      if (isNativeErrno(o) && (o.errno === ERRNO.ENOENT || o.errno === ERRNO.ENOTDIR)) throw keyError(o, pk, 'read');
      return { keys: [pk.rel], values: flags & WALK_READ ? one : [], modes: [] };
    }
    if (isNativeErrno(e) && e.syscall !== 'setns') throw keyError(e, pk, 'read');
    throw toNetnsError(e, { key: pk.key });
  }
}

export function* listPlan(pk: ParsedKey, keyError: KeyErrorOf): Plan<string[]> {
  const w = yield* walkPlan(pk, 0, keyError);
  return w.keys.map(keyFromRel).sort();
}

export function* getAllPlan(pk: ParsedKey, keyError: KeyErrorOf): Plan<SysctlSnapshot> {
  const w = yield* walkPlan(pk, WALK_READ, keyError);
  // Sorted by dot-form key: plain string sort (no comparator) and a map back to the entries.
  const index = new Map<string, number>();
  const keys = w.keys.map((rel, i) => {
    const key = keyFromRel(rel);
    index.set(key, i);
    return key;
  });
  keys.sort();
  const snap: SysctlSnapshot = { values: {}, raw: {}, unreadable: {} };
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0; // unreadable keys are reported as data: a stack would say nothing
  try {
    for (const key of keys) {
      const i = index.get(key)!;
      const v = w.values[i];
      if (typeof v === 'string') {
        snap.raw[key] = rawText(v);
        snap.values[key] = parseValue(v);
      } else if (isNativeErrno(v)) {
        snap.unreadable[key] = keyError(v, { key, rel: w.keys[i]!, parts: w.keys[i]!.split('/') }, 'read');
      }
    }
  } finally {
    Error.stackTraceLimit = limit;
  }
  return snap;
}
