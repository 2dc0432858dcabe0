// setMany as a plan: validate, read the old values, skip writes that match, apply in order, and on the
// first failure restore every key already written (and what the kernel propagated).
import { type NetnsError, invalid, toNetnsError } from '../errors.js';
import { keyFromRel } from '../keypath.js';
import { parseKeyCached, type KeyInput, type ParsedKey } from './keys.js';
import { WALK_READ, isNativeErrno, type NativeOutcome, type WalkResult } from '../native/index.js';
import type { KeyErrorOf, Plan } from './plan.js';
import { formatValue, parseValue, rawText, rawValue, valuesEqual, type InputOf, type SysctlValue } from './values.js';

/** Entries for {@link Sysctl.setMany}: an object, a Map, or [key, value] pairs in order. */
export type SetManyEntries = Record<string, unknown> | Map<KeyInput, unknown> | Iterable<readonly [KeyInput, unknown]>;

/** The input type of one setMany entry key: as {@link InputOf}, a leading '-' (optional) aside. */
export type EntryInputOf<K> = K extends `-${infer R}` ? InputOf<R> : InputOf<K>;

/**
 * The type setMany's `entries` must have. An object literal gets each value checked against
 * its key, as `set()` does (with `raw: true`, every value must be a string): a value that
 * fits keeps its own type, one that does not is reported against the type its key takes.
 * Maps, pairs, records with arbitrary keys (`Record<string, unknown>`) and other iterables
 * are checked at run time only.
 */
export type CheckedEntries<E, O = SetManyOptions> =
  E extends ReadonlyMap<unknown, unknown>
    ? E
    : E extends Iterable<unknown>
      ? E
      : string extends keyof E
        ? E
        : { [P in keyof E]: E[P] extends RawOr<O, EntryInputOf<P>> ? E[P] : RawOr<O, EntryInputOf<P>> };

/** With `raw: true` (or a raw that may be true) values are strings, passed as given. */
type RawOr<O, T> = 'raw' extends keyof O ? (true extends O[keyof O & 'raw'] ? string : T) : T;

export interface SetManyOptions {
  /**
   * Skip keys that do not exist in this namespace instead of failing, as `sysctl -p` does for
   * lines prefixed with '-'. A single key can also be made optional by writing it with a
   * leading '-' (`'-net.ipv4.tcp_ecn'`): then any failure to set it is ignored too.
   */
  ignoreMissing?: boolean;
  /**
   * Pass every value to the kernel as the string given, unchecked against the catalogue's
   * shapes, as sysctl(8) does (the kernel is the judge: a single number for a two-number key,
   * text after a number, hex). Values must be strings; NUL, newlines and other control
   * characters are still refused.
   */
  raw?: boolean;
  /**
   * Write every value, also one already in place (by default such writes are skipped), as
   * sysctl(8) does: the kernel sees each write (a conf/DEV entry written is marked as set by
   * the kernel and no longer follows conf/default).
   */
  rewrite?: boolean;
}

/** What {@link Sysctl.setMany} did. */
export interface SetManyReport {
  /** Keys written, in order. */
  changed: string[];
  /** Keys that already held the value (not written). */
  unchanged: string[];
  /** Keys left alone: absent here (with ignoreMissing or '-'), or optional keys that failed. */
  skipped: string[];
  /** The value in effect for every changed or unchanged key, as read back. */
  values: Record<string, SysctlValue>;
  /** Why each skipped key was skipped. */
  reasons: Record<string, NetnsError>;
  /**
   * The text every changed key held before (exact, trailing newline removed); null for a
   * write-only key, whose old value cannot be read (it cannot be restored either). With
   * `propagated`, what {@link undoEntries} writes back to undo the transaction.
   */
  previous: Record<string, string | null>;
  /**
   * Entries the kernel changed as a side effect of a write (an `all`/`default` entry of
   * conf or neigh, or `ip_forward`, copied to every interface), with the text each held
   * before; empty when no such write changed any.
   */
  propagated: Record<string, string>;
}

/**
 * The entries that undo a setMany transaction, for another setMany (with `raw: true`): the
 * changed keys' previous values in reverse order, then the interface entries the kernel
 * changed as a side effect. Keys whose previous value is unknown (write-only) are left out.
 * Values changed by someone else since are overwritten: undo soon after.
 */
export function undoEntries(report: Pick<SetManyReport, 'changed' | 'previous' | 'propagated'>): [string, string][] {
  const out: [string, string][] = [];
  for (const k of [...report.changed].reverse()) {
    const v = report.previous[k];
    if (typeof v === 'string') out.push([k, v]);
  }
  for (const [k, v] of Object.entries(report.propagated)) out.push([k, v]);
  return out;
}

export interface Prepared {
  pk: ParsedKey;
  text: string;
  optional: boolean;
}

/** The [key, value] pairs of setMany-style entries, in order, shape-checked. */
export function entryPairs(entries: SetManyEntries, name: string): [KeyInput, unknown][] {
  if (entries === null || typeof entries !== 'object') invalid('an object, a Map or [key, value] pairs', name, entries);
  const pairs: unknown[] =
    entries instanceof Map || Symbol.iterator in entries
      ? [...(entries as Iterable<unknown>)]
      : Object.entries(entries);
  for (const pair of pairs) if (!Array.isArray(pair) || pair.length !== 2) invalid('[key, value] pairs', name, pair);
  return pairs as [KeyInput, unknown][];
}

/** setMany's options, read once and checked. */
export function setManyOptions(options: unknown): SetManyOptions {
  if (options === null || typeof options !== 'object') invalid('an options object', 'options', options);
  const { ignoreMissing, raw, rewrite } = options as SetManyOptions;
  const out: SetManyOptions = {};
  for (const [name, v] of [
    ['ignoreMissing', ignoreMissing],
    ['raw', raw],
    ['rewrite', rewrite],
  ] as const) {
    if (v === undefined) continue;
    if (typeof v !== 'boolean') invalid('a boolean', `options.${name}`, v);
    out[name] = v;
  }
  return out;
}

export function prepareEntries(entries: SetManyEntries, raw = false): Prepared[] {
  return entryPairs(entries, 'entries').map((pair) => {
    let [key, value] = pair;
    let optional = false;
    if (typeof key === 'string' && key.startsWith('-')) {
      optional = true;
      key = key.slice(1);
    }
    const pk = parseKeyCached(key);
    return { pk, text: raw ? rawValue(value, pk.key) : formatValue(value, pk.key), optional };
  });
}

/**
 * The setMany transaction: read the old values in one switch, skip writes whose value
 * already matches, apply the rest in the caller's order, and on the first failure restore
 * every key already written.
 */
export function* setManyPlan(entries: Prepared[], options: SetManyOptions, keyError: KeyErrorOf): Plan<SetManyReport> {
  const report: SetManyReport = {
    changed: [],
    unchanged: [],
    skipped: [],
    values: {},
    reasons: {},
    previous: {},
    propagated: {},
  };
  if (entries.length === 0) return report;
  const { old, skip } = yield* oldValuesPlan(entries, options.ignoreMissing ?? false, keyError, report);
  const pending = pendingWrites(entries, skip, old, report, options.rewrite === true);
  const coupled = yield* coupledPlan(pending, old);
  yield* applyPlan(pending, old, coupled, keyError, report);
  for (const k of report.changed) report.previous[k] = old.get(parseKeyCached(k).rel) ?? null;
  if (report.changed.length > 0 && coupled.size > 0) yield* propagatedPlan(coupled, report);
  return report;
}

/** 4. The interface entries the kernel changed as a side effect of the writes, with their old text. */
function* propagatedPlan(coupled: Map<string, string>, report: SetManyReport): Plan<void> {
  const rels = [...coupled.keys()];
  let now: NativeOutcome[];
  try {
    now = yield { op: 'batch', rels, values: rels.map(() => null), stop: false };
  } catch {
    return; // the writes are done; the side effects are only unreported
  }
  rels.forEach((rel, i) => {
    const v = now[i];
    const before = coupled.get(rel)!;
    if (typeof v === 'string' && !valuesEqual(rawText(v), before)) report.propagated[keyFromRel(rel)] = before;
  });
}

/** 1. The old text of every distinct key (null: write-only), in one switch; keys to skip. */
function* oldValuesPlan(
  entries: Prepared[],
  ignoreMissing: boolean,
  keyError: KeyErrorOf,
  report: SetManyReport,
): Plan<{ old: Map<string, string | null>; skip: Set<Prepared> }> {
  const rels = [...new Set(entries.map((e) => e.pk.rel))];
  let read: NativeOutcome[];
  try {
    read = yield { op: 'batch', rels, values: rels.map(() => null), stop: false };
  } catch (e) {
    throw toNetnsError(e);
  }
  const old = new Map<string, string | null>();
  const skip = new Set<Prepared>();
  for (const e of entries) {
    const o = read[rels.indexOf(e.pk.rel)];
    if (typeof o === 'string') {
      old.set(e.pk.rel, rawText(o));
    } else if (isNativeErrno(o)) {
      const err = keyError(o, e.pk, 'read');
      const writeOnly = err.code === 'EACCES' || err.code === 'EIO';
      if (writeOnly) {
        old.set(e.pk.rel, null);
      } else if ((err.code === 'ENOENT' && ignoreMissing) || e.optional) {
        skip.add(e);
        report.skipped.push(e.pk.key);
        report.reasons[e.pk.key] = err;
      } else {
        throw err; // nothing written yet
      }
    }
  }
  return { old, skip };
}

/** 2. The writes needed, in the caller's order; keys that already hold their value are reported unchanged. */
function pendingWrites(
  entries: Prepared[],
  skip: Set<Prepared>,
  old: Map<string, string | null>,
  report: SetManyReport,
  rewrite = false,
): Prepared[] {
  const current = new Map(old);
  const pending: Prepared[] = [];
  for (const e of entries) {
    if (skip.has(e)) continue;
    const cur = current.get(e.pk.rel);
    if (!rewrite && cur !== null && cur !== undefined && valuesEqual(cur, e.text)) {
      if (!report.changed.includes(e.pk.key) && !report.unchanged.includes(e.pk.key)) report.unchanged.push(e.pk.key);
      report.values[e.pk.key] = parseValue(cur);
      continue;
    }
    pending.push(e);
    current.set(e.pk.rel, e.text);
  }
  return pending;
}

/**
 * 2b. Writes the kernel propagates: 'all'/'default' entries of conf/neigh (and ip_forward,
 * which is conf.all.forwarding) change the same entry of every interface. A rollback that
 * only rewrote the keys written would leave those changed, so their values are kept too.
 */
function* coupledPlan(pending: Prepared[], old: Map<string, string | null>): Plan<Map<string, string>> {
  const coupled = new Map<string, string>();
  const dirs = new Map<string, Set<string>>();
  for (const p of pending) {
    const c = propagates(p.pk.rel);
    if (c) dirs.set(c.dir, (dirs.get(c.dir) ?? new Set()).add(c.name));
  }
  for (const [dir, names] of dirs) {
    let w: WalkResult;
    try {
      w = yield { op: 'walk', prefix: dir, flags: WALK_READ };
    } catch (e) {
      throw toNetnsError(e); // nothing written yet
    }
    w.keys.forEach((rel, k) => {
      const v = w.values[k];
      if (typeof v === 'string' && names.has(rel.slice(rel.lastIndexOf('/') + 1)) && !old.has(rel))
        coupled.set(rel, rawText(v));
    });
  }
  return coupled;
}

/** 3. Apply, one switch per run of successful writes; on a failure roll back and throw. */
function* applyPlan(
  pending: Prepared[],
  old: Map<string, string | null>,
  coupled: Map<string, string>,
  keyError: KeyErrorOf,
  report: SetManyReport,
): Plan<void> {
  const applied: Prepared[] = [];
  let i = 0;
  while (i < pending.length) {
    const slice = pending.slice(i);
    let res: NativeOutcome[];
    try {
      res = yield {
        op: 'batch',
        rels: slice.map((p) => p.pk.rel),
        values: slice.map((p) => p.text + '\n'),
        stop: true,
      };
    } catch (e) {
      // The switch itself failed: nothing in this run was written.
      const err = toNetnsError(e) as NetnsError;
      yield* rollback(applied, old, coupled, err);
      throw err;
    }
    for (let j = 0; j < res.length; j++) {
      const p = slice[j]!;
      const o = res[j];
      if (isNativeErrno(o)) {
        const err = keyError(o, p.pk, 'write', p.text);
        if (p.optional) {
          report.skipped.push(p.pk.key);
          report.reasons[p.pk.key] = err;
          break;
        }
        yield* rollback(applied, old, coupled, err);
        throw err;
      }
      applied.push(p);
      report.unchanged = report.unchanged.filter((k) => k !== p.pk.key);
      if (!report.changed.includes(p.pk.key)) report.changed.push(p.pk.key);
      report.values[p.pk.key] = parseValue(o ?? p.text);
    }
    i += res.length;
  }
}

/** Where the kernel copies a write to `rel` to: the same entry of every interface in `dir`. */
function propagates(rel: string): { dir: string; name: string } | undefined {
  if (rel === 'ipv4/ip_forward') return { dir: 'ipv4/conf', name: 'forwarding' };
  const m = /^(ipv4|ipv6)\/(conf|neigh)\/(all|default)\/([^/]+)$/.exec(rel);
  return m ? { dir: `${m[1]}/${m[2]}`, name: m[4]! } : undefined;
}

function* rollback(
  applied: Prepared[],
  old: Map<string, string | null>,
  coupled: Map<string, string>,
  err: NetnsError,
): Plan<void> {
  const rels: string[] = [];
  const values: string[] = [];
  const keys: string[] = [];
  const notRestored: string[] = [];
  const seen = new Set<string>();
  for (const p of [...applied].reverse()) {
    if (seen.has(p.pk.rel)) continue;
    seen.add(p.pk.rel);
    const v = old.get(p.pk.rel);
    if (v === null || v === undefined) {
      notRestored.push(p.pk.key);
      continue;
    }
    rels.push(p.pk.rel);
    values.push(v + '\n');
    keys.push(p.pk.key);
  }
  const rolledBack: string[] = [];
  if (rels.length > 0) {
    let res: NativeOutcome[] = [];
    try {
      res = yield { op: 'batch', rels, values, stop: false };
    } catch {
      notRestored.push(...keys);
    }
    for (const [i, o] of res.entries()) (isNativeErrno(o) ? notRestored : rolledBack).push(keys[i]!);
  }
  if (applied.length > 0 && coupled.size > 0) {
    // Interface entries the kernel changed as a side effect: put back those that differ.
    const crels = [...coupled.keys()];
    try {
      const now = yield { op: 'batch', rels: crels, values: crels.map(() => null), stop: false };
      const fix = crels.filter(
        (rel, i) => typeof now[i] !== 'string' || rawText(now[i] as string) !== coupled.get(rel),
      );
      if (fix.length > 0) {
        const res = yield { op: 'batch', rels: fix, values: fix.map((rel) => coupled.get(rel)! + '\n'), stop: false };
        res.forEach((o, i) => {
          if (isNativeErrno(o)) notRestored.push(keyFromRel(fix[i]!));
        });
      }
    } catch {
      notRestored.push(...crels.map(keyFromRel));
    }
  }
  err.rolledBack = rolledBack;
  if (notRestored.length > 0) err.notRestored = notRestored;
  const parts = [`${err.message}`];
  parts.push(rolledBack.length ? `Rolled back: ${rolledBack.join(', ')}` : 'Nothing had been written before it');
  if (notRestored.length) parts.push(`Could not restore: ${notRestored.join(', ')}`);
  err.message = `setMany failed at ${err.key}: ` + parts.join('. ');
}
