// Typed access to /proc/sys/net inside one namespace.
//
// Every operation here reaches the namespace through a SysctlBackend in one native call: the
// calling thread (sync forms) or the addon's executor thread (Promise forms) switches in,
// opens/reads/writes, and switches back before the call returns. Batches make one switch.
import { existsSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { NetnsError, invalid, toNetnsError } from './errors.js';
import { keyFromRel, parseKey, type KeyInput, type ParsedKey } from './keys.js';
import { WALK_READ, isNativeErrno, native, type NativeErrno, type NativeOutcome, type WalkResult } from './native/index.js';
import { SwitchingBackend, type SysctlBackend } from './backend.js';
import {
  formatValue,
  parseValue,
  rawText,
  rawValue,
  valuesEqual,
  type AnyKey,
  type InputOf,
  type SysctlValue,
  type ValueOf,
} from './values.js';

const { ENOENT, ENOTDIR } = osConstants.errno;

/** Entries for {@link Sysctl.setMany}: an object, a Map, or [key, value] pairs in order. */
export type SetManyEntries =
  | Record<string, unknown>
  | Map<KeyInput, unknown>
  | Iterable<readonly [KeyInput, unknown]>;

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
}

/** Every readable key under a prefix. */
export interface SysctlSnapshot {
  /** Typed values by dot-form key, sorted by key. */
  values: Record<string, SysctlValue>;
  /** Exact text by key (trailing newline removed). */
  raw: Record<string, string>;
  /** Keys present but unreadable (write-only `route.flush`, `stable_secret` answering EIO). */
  unreadable: Record<string, NetnsError>;
}

type Step =
  | { op: 'batch'; rels: string[]; values: (string | null)[]; stop: boolean }
  | { op: 'walk'; prefix: string; flags: number };
type StepResult = NativeOutcome[] & WalkResult;
type Plan<T> = Generator<Step, T, StepResult>;

const keyCache = new Map<string, ParsedKey>();
function parsed(key: KeyInput): ParsedKey {
  if (typeof key !== 'string') return parseKey(key);
  let p = keyCache.get(key);
  if (p === undefined) {
    p = parseKey(key);
    if (keyCache.size >= 4096) keyCache.clear();
    keyCache.set(key, p);
  }
  return p;
}

function isRoot(): boolean {
  return typeof process.geteuid === 'function' && process.geteuid() === 0;
}

/**
 * Turn a native failure on one key into a NetnsError that says why and what to do.
 * `sameAsCaller` is true when the target is the calling thread's own namespace.
 */
export function keyError(
  e: NativeErrno,
  pk: ParsedKey,
  op: 'read' | 'write' | 'open',
  value: string | undefined,
  sameAsCaller: boolean,
): NetnsError {
  const base = toNetnsError(e, { key: pk.key }) as NetnsError;
  const code = base.code;
  let hint: string | undefined;
  const key = pk.key;
  if (e.hint) {
    hint = e.hint; // the backend knows better (e.g. a rootless namespace)
  } else if (code === 'ENOENT' && base.syscall === 'write') {
    // The file exists (it was opened): the kernel found no such name for the value.
    hint = `The kernel has nothing named ${JSON.stringify(value)} for ${key}`;
    if (key.endsWith('congestion_control')) hint += ' (see net.ipv4.tcp_available_congestion_control; a module may need loading)';
  } else if (code === 'ENOENT') {
    hint = `Key ${key} does not exist in this namespace`;
    if (!sameAsCaller && existsSync(`/proc/sys/net/${pk.rel}`))
      hint += ' (it exists in the calling namespace: a host-only key, not kept per namespace)';
    else hint += ' (check the spelling, or its interface or module is absent)';
  } else if (code === 'EACCES' || code === 'EPERM') {
    if (op === 'read') hint = `${key} cannot be read here (it is write-only, or reading it needs root)`;
    else if (isRoot())
      hint = `${key} is read-only in this namespace (the kernel makes some entries read-only outside the initial namespace, or in namespaces owned by a user namespace)`;
    else hint = `Writing ${key} needs root (or CAP_NET_ADMIN over the namespace's user namespace)`;
  } else if (code === 'EROFS') {
    hint = '/proc/sys is mounted read-only here (as inside most containers): write from outside, e.g. NetNamespace.fromPid(pid).sysctl.set(...), or remount /proc/sys read-write';
  } else if (code === 'EINVAL' && op === 'write') {
    hint = `The kernel rejected the value ${JSON.stringify(value)} for ${key}`;
  } else if (code === 'EIO' && op === 'read') {
    hint = `The kernel has no value to show for ${key} (e.g. stable_secret before one is set)`;
  } else if (code === 'EISDIR') {
    hint = `${key} is a directory, not a key: use list('${key}')`;
  } else if (code === 'ENOTDIR') {
    hint = `Key ${key} does not exist: part of its path is a key (a file), not a directory`;
  } else if (code === 'ELOOP' || code === 'EXDEV') {
    hint = `Refused: ${key} does not resolve to a file beneath /proc/sys/net without symlinks`;
  } else if (code === 'EBADF' && op === 'write') {
    hint = `${key} was opened read-only here (it is not writable in this namespace)`;
  } else if (code === 'EBADF' && op === 'read') {
    hint = `${key} is write-only`;
  }
  const opts: { key: string; hint?: string; path?: string } = { key };
  if (hint !== undefined) opts.hint = hint;
  if (base.path !== undefined) opts.path = base.path;
  return new NetnsError(-base.errno, base.syscall, opts);
}

/** sysctl(8) for one network namespace. Get one with `ns.sysctl`, or use `sysctl` for the calling thread's. */
export class Sysctl {
  /** @internal */
  constructor(
    /** @internal */ readonly backend: SysctlBackend,
    /** The target namespace's id, or undefined for the calling thread's namespace. */
    readonly nsId: string | undefined,
  ) {}

  #fail(e: unknown, pk: ParsedKey, op: 'read' | 'write' | 'open', value?: string): never {
    if (isNativeErrno(e) && e.syscall !== 'setns') throw keyError(e, pk, op, value, this.nsId === undefined);
    throw toNetnsError(e, { key: pk.key });
  }

  /** The typed value of `key`. */
  get<K extends AnyKey>(key: K | KeyInput): ValueOf<K> {
    const pk = parsed(key);
    try {
      return parseValue(this.backend.read(pk.rel)) as ValueOf<K>;
    } catch (e) {
      this.#fail(e, pk, 'read');
    }
  }

  /** The exact text of `key`, without the trailing newline. */
  getRaw(key: AnyKey | KeyInput): string {
    const pk = parsed(key);
    try {
      return rawText(this.backend.read(pk.rel));
    } catch (e) {
      this.#fail(e, pk, 'read');
    }
  }

  /**
   * Write `value` (one write() at offset 0 on a fresh fd), read it back, and return the value
   * now in effect. A value the kernel rounds (neighbour times kept in ticks) comes back as the
   * kernel has it. For a write-only key the written value is returned.
   */
  set<K extends AnyKey>(key: K | KeyInput, value: InputOf<K>): ValueOf<K> {
    const pk = parsed(key);
    const text = formatValue(value, pk.key);
    let back: string | null;
    try {
      back = this.backend.write(pk.rel, text + '\n');
    } catch (e) {
      this.#fail(e, pk, 'write', text);
    }
    return parseValue(back ?? text) as ValueOf<K>;
  }

  /** The keys present in this namespace under `prefix` (default: all of net), in dot form, sorted. */
  list(prefix: AnyKey | KeyInput = 'net'): string[] {
    return this.#drive(listPlan(prefixOf(prefix), this));
  }

  /** Every readable key under `prefix`, typed; unreadable keys are reported apart. */
  getAll(prefix: AnyKey | KeyInput = 'net'): SysctlSnapshot {
    return this.#drive(getAllPlan(prefixOf(prefix), this));
  }

  /**
   * Apply several keys as one transaction: validate every key and value, snapshot the old
   * values, skip writes whose value already matches, apply the rest in the caller's order,
   * and on the first failure restore every key already written, then throw a NetnsError
   * naming the failing key, with `rolledBack` (and `notRestored`, if any) listing the others.
   */
  setMany(entries: SetManyEntries, options: SetManyOptions = {}): SetManyReport {
    return this.#drive(setManyPlan(prepareEntries(entries, options.raw === true), options, this));
  }

  /** A cached handle on one key: pread/pwrite on an fd opened inside the namespace. */
  open(key: AnyKey | KeyInput): SysctlHandle {
    const pk = parsed(key);
    const release = this.backend.hold();
    try {
      const [fd, granted] = this.backend.open(pk.rel, 1);
      return new SysctlHandle(pk, fd, granted, release, this.nsId === undefined);
    } catch (e) {
      release();
      this.#fail(e, pk, 'open');
    }
  }

  /** Promise form of {@link get}: runs on the addon's executor thread. */
  async getAsync<K extends AnyKey>(key: K | KeyInput): Promise<ValueOf<K>> {
    const pk = parsed(key);
    try {
      return parseValue(await this.backend.readAsync(pk.rel)) as ValueOf<K>;
    } catch (e) {
      this.#fail(e, pk, 'read');
    }
  }

  /** Promise form of {@link getRaw}. */
  async getRawAsync(key: AnyKey | KeyInput): Promise<string> {
    const pk = parsed(key);
    try {
      return rawText(await this.backend.readAsync(pk.rel));
    } catch (e) {
      this.#fail(e, pk, 'read');
    }
  }

  /** Promise form of {@link set}. */
  async setAsync<K extends AnyKey>(key: K | KeyInput, value: InputOf<K>): Promise<ValueOf<K>> {
    const pk = parsed(key);
    const text = formatValue(value, pk.key);
    let back: string | null;
    try {
      back = await this.backend.writeAsync(pk.rel, text + '\n');
    } catch (e) {
      this.#fail(e, pk, 'write', text);
    }
    return parseValue(back ?? text) as ValueOf<K>;
  }

  /** Promise form of {@link list}. */
  listAsync(prefix: AnyKey | KeyInput = 'net'): Promise<string[]> {
    return this.#driveAsync(listPlan(prefixOf(prefix), this));
  }

  /** Promise form of {@link getAll}: one namespace switch for the whole walk. */
  getAllAsync(prefix: AnyKey | KeyInput = 'net'): Promise<SysctlSnapshot> {
    return this.#driveAsync(getAllPlan(prefixOf(prefix), this));
  }

  /** Promise form of {@link setMany}: one switch per batch (snapshot, apply, rollback). */
  setManyAsync(entries: SetManyEntries, options: SetManyOptions = {}): Promise<SetManyReport> {
    let prepared: Prepared[];
    try {
      prepared = prepareEntries(entries, options.raw === true);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#driveAsync(setManyPlan(prepared, options, this));
  }

  /** Promise form of {@link open} (opening takes microseconds; it completes synchronously). */
  async openAsync(key: AnyKey | KeyInput): Promise<SysctlHandle> {
    return this.open(key);
  }

  /** @internal error for a key, for plans */
  keyError(e: NativeErrno, pk: ParsedKey, op: 'read' | 'write' | 'open', value?: string): NetnsError {
    return keyError(e, pk, op, value, this.nsId === undefined);
  }

  #exec(s: Step): StepResult {
    if (s.op === 'batch') return this.backend.batch(s.rels, s.values, s.stop) as StepResult;
    return this.backend.walk(s.prefix, s.flags) as StepResult;
  }

  #execAsync(s: Step): Promise<StepResult> {
    if (s.op === 'batch') return this.backend.batchAsync(s.rels, s.values, s.stop) as Promise<StepResult>;
    return this.backend.walkAsync(s.prefix, s.flags) as Promise<StepResult>;
  }

  #drive<T>(plan: Plan<T>): T {
    let r = plan.next();
    while (!r.done) {
      let res: StepResult;
      try {
        res = this.#exec(r.value);
      } catch (e) {
        r = plan.throw(e);
        continue;
      }
      r = plan.next(res);
    }
    return r.value;
  }

  async #driveAsync<T>(plan: Plan<T>): Promise<T> {
    let r = plan.next();
    while (!r.done) {
      let res: StepResult;
      try {
        res = await this.#execAsync(r.value);
      } catch (e) {
        r = plan.throw(e);
        continue;
      }
      r = plan.next(res);
    }
    return r.value;
  }
}

function prefixOf(prefix: AnyKey | KeyInput): ParsedKey {
  return typeof prefix === 'string' ? parseKey(prefix, { allowRoot: true }) : parseKey(prefix);
}

function* walkPlan(pk: ParsedKey, flags: number, s: Sysctl): Plan<WalkResult> {
  try {
    return yield { op: 'walk', prefix: pk.rel, flags };
  } catch (e) {
    if (isNativeErrno(e) && e.errno === ENOTDIR /* the prefix is a key */) {
      const one = yield { op: 'batch', rels: [pk.rel], values: [null], stop: false };
      const o = one[0];
      // Only a key that is there (readable or not) lists as itself; a path through a key
      // (net.core.somaxconn.x: ENOTDIR) or a vanished one names nothing.
      if (isNativeErrno(o) && (o.errno === ENOENT || o.errno === ENOTDIR)) throw s.keyError(o, pk, 'read');
      return { keys: [pk.rel], values: flags & WALK_READ ? one : [], modes: [] };
    }
    if (isNativeErrno(e) && e.syscall !== 'setns') throw s.keyError(e, pk, 'read');
    throw toNetnsError(e, { key: pk.key });
  }
}

function* listPlan(pk: ParsedKey, s: Sysctl): Plan<string[]> {
  const w = yield* walkPlan(pk, 0, s);
  return w.keys.map(keyFromRel).sort();
}

function* getAllPlan(pk: ParsedKey, s: Sysctl): Plan<SysctlSnapshot> {
  const w = yield* walkPlan(pk, WALK_READ, s);
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
        snap.unreadable[key] = s.keyError(v, { key, rel: w.keys[i]!, parts: w.keys[i]!.split('/') }, 'read');
      }
    }
  } finally {
    Error.stackTraceLimit = limit;
  }
  return snap;
}

interface Prepared {
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

function prepareEntries(entries: SetManyEntries, raw: boolean): Prepared[] {
  return entryPairs(entries, 'entries').map((pair) => {
    let [key, value] = pair;
    let optional = false;
    if (typeof key === 'string' && key.startsWith('-')) {
      optional = true;
      key = key.slice(1);
    }
    const pk = parsed(key);
    return { pk, text: raw ? rawValue(value, pk.key) : formatValue(value, pk.key), optional };
  });
}

function* setManyPlan(entries: Prepared[], options: SetManyOptions, s: Sysctl): Plan<SetManyReport> {
  const report: SetManyReport = { changed: [], unchanged: [], skipped: [], values: {}, reasons: {} };
  if (entries.length === 0) return report;
  const ignoreMissing = options.ignoreMissing ?? false;
  // 1. Snapshot every distinct key in one switch.
  const rels = [...new Set(entries.map((e) => e.pk.rel))];
  let snapshot: NativeOutcome[];
  try {
    snapshot = yield { op: 'batch', rels, values: rels.map(() => null), stop: false };
  } catch (e) {
    throw toNetnsError(e);
  }
  const old = new Map<string, string | null>(); // rel -> old text (null: write-only)
  const current = new Map<string, string | null>();
  const skip = new Set<Prepared>();
  for (const e of entries) {
    const o = snapshot[rels.indexOf(e.pk.rel)];
    if (typeof o === 'string') {
      old.set(e.pk.rel, rawText(o));
    } else if (isNativeErrno(o)) {
      const err = s.keyError(o, e.pk, 'read');
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
  for (const [rel, v] of old) current.set(rel, v);
  // 2. Decide which writes are needed, in the caller's order.
  const pending: Prepared[] = [];
  for (const e of entries) {
    if (skip.has(e)) continue;
    const cur = current.get(e.pk.rel);
    if (!options.rewrite && cur !== null && cur !== undefined && valuesEqual(cur, e.text)) {
      if (!report.changed.includes(e.pk.key) && !report.unchanged.includes(e.pk.key)) report.unchanged.push(e.pk.key);
      report.values[e.pk.key] = parseValue(cur);
      continue;
    }
    pending.push(e);
    current.set(e.pk.rel, e.text);
  }
  // 2b. Writes the kernel propagates: 'all'/'default' entries of conf/neigh (and ip_forward,
  // which is conf.all.forwarding) change the same entry of every interface. A rollback that
  // only rewrote the keys written would leave those changed, so their values are kept too.
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
      if (typeof v === 'string' && names.has(rel.slice(rel.lastIndexOf('/') + 1)) && !old.has(rel)) coupled.set(rel, rawText(v));
    });
  }
  // 3. Apply, one switch per run of successful writes.
  const applied: Prepared[] = [];
  let i = 0;
  while (i < pending.length) {
    const slice = pending.slice(i);
    let res: NativeOutcome[];
    try {
      res = yield { op: 'batch', rels: slice.map((p) => p.pk.rel), values: slice.map((p) => p.text + '\n'), stop: true };
    } catch (e) {
      // The switch itself failed: nothing in this run was written.
      const err = toNetnsError(e) as NetnsError;
      yield* rollback(applied, old, coupled, err, s);
      throw err;
    }
    for (let j = 0; j < res.length; j++) {
      const p = slice[j]!;
      const o = res[j];
      if (isNativeErrno(o)) {
        const err = s.keyError(o, p.pk, 'write', p.text);
        if (p.optional) {
          report.skipped.push(p.pk.key);
          report.reasons[p.pk.key] = err;
          break;
        }
        yield* rollback(applied, old, coupled, err, s);
        throw err;
      }
      applied.push(p);
      report.unchanged = report.unchanged.filter((k) => k !== p.pk.key);
      if (!report.changed.includes(p.pk.key)) report.changed.push(p.pk.key);
      report.values[p.pk.key] = parseValue(o ?? p.text);
    }
    i += res.length;
  }
  return report;
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
  s: Sysctl,
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
    res.forEach((o, i) => (isNativeErrno(o) ? notRestored.push(keys[i]!) : rolledBack.push(keys[i]!)));
  }
  if (applied.length > 0 && coupled.size > 0) {
    // Interface entries the kernel changed as a side effect: put back those that differ.
    const crels = [...coupled.keys()];
    try {
      const now = yield { op: 'batch', rels: crels, values: crels.map(() => null), stop: false };
      const fix = crels.filter((rel, i) => typeof now[i] !== 'string' || rawText(now[i] as string) !== coupled.get(rel));
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
  void s;
}

/**
 * A cached handle on one key: an fd opened inside the namespace, read with pread and written
 * with pwrite at offset 0. It keeps its namespace alive until `close()`.
 */
export class SysctlHandle implements Disposable {
  /** The key, in dot form. */
  readonly key: string;
  /** Whether the key could be opened for writing here. */
  readonly writable: boolean;
  /** Whether the key could be opened for reading here. */
  readonly readable: boolean;
  #pk: ParsedKey;
  #fd: number;
  #release: () => void;
  #sameAsCaller: boolean;

  /** @internal */
  constructor(pk: ParsedKey, fd: number, granted: 0 | 1 | 2, release: () => void, sameAsCaller: boolean) {
    this.#pk = pk;
    this.key = pk.key;
    this.#fd = fd;
    this.readable = granted !== 2;
    this.writable = granted !== 0;
    this.#release = release;
    this.#sameAsCaller = sameAsCaller;
    handles.register(this, { fd, release }, this);
  }

  get #live(): number {
    if (this.#fd < 0) throw new Error(`This handle on ${this.key} is closed`);
    return this.#fd;
  }

  #fail(e: unknown, op: 'read' | 'write', value?: string): never {
    if (isNativeErrno(e)) {
      if (e.errno === ENOENT)
        throw new NetnsError(ENOENT, e.syscall, {
          key: this.key,
          hint: `${this.key} no longer exists: its interface was removed or its namespace was torn down`,
        });
      throw keyError(e, this.#pk, op, value, this.#sameAsCaller);
    }
    throw e;
  }

  /** The exact text, without the trailing newline. */
  readRaw(): string {
    const fd = this.#live;
    try {
      return rawText(native.fdRead(fd));
    } catch (e) {
      this.#fail(e, 'read');
    }
  }

  /** The typed value. */
  read(): SysctlValue {
    const fd = this.#live;
    try {
      return parseValue(native.fdRead(fd));
    } catch (e) {
      this.#fail(e, 'read');
    }
  }

  /** Write the value (pwrite at offset 0) and return the value read back. */
  write(value: unknown): SysctlValue {
    const fd = this.#live;
    const text = formatValue(value, this.key);
    try {
      native.fdWrite(fd, text + '\n');
      return this.readable ? parseValue(native.fdRead(fd)) : parseValue(text);
    } catch (e) {
      this.#fail(e, 'write', text);
    }
  }

  /** Promise form of {@link read} (a pread takes well under a microsecond). */
  async readAsync(): Promise<SysctlValue> {
    return this.read();
  }

  /** Promise form of {@link write}. */
  async writeAsync(value: unknown): Promise<SysctlValue> {
    return this.write(value);
  }

  /** Close the fd and release the namespace. Idempotent; returns `this`. */
  close(): this {
    if (this.#fd >= 0) {
      handles.unregister(this);
      const fd = this.#fd;
      this.#fd = -1;
      try {
        native.close(fd);
      } finally {
        this.#release();
      }
    }
    return this;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

const handles = new FinalizationRegistry<{ fd: number; release: () => void }>(({ fd, release }) => {
  try {
    native.close(fd);
  } catch {
    /* ignore */
  }
  release();
});

/** sysctl for the calling thread's own namespace (the host, unless inside runSync). */
export const sysctl = new Sysctl(new SwitchingBackend(() => -1), undefined);
