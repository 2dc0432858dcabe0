// Sysctl: sysctl(8) for one network namespace. Every operation reaches the namespace through a
// SysctlBackend in one native call: the calling thread (sync forms) or the addon's executor
// thread (Promise forms) switches in, opens/reads/writes, and switches back before the call
// returns. Batches make one switch. list/getAll/setMany are plans (plan.ts, set-many.ts).
import { ERRNO, type NetnsError, toNetnsError } from '../errors.js';
import { parseKeyCached as parsed, type InterfaceKey, type KeyInput, type ParsedKey } from './keys.js';
import {
  WALK_KEEP,
  WALK_READ,
  isNativeErrno,
  native,
  type NativeErrno,
  type NativeOutcome,
  type WalkResult,
} from '../native/index.js';
import { SwitchingBackend, type SysctlBackend } from './backend.js';
import { keyError } from './key-error.js';
import { boundedWalkPlan, drive, driveAsync, getAllPlan, listPlan, prefixOf, type SysctlSnapshot } from './plan.js';
import { boundsOf, type Truncation, type WalkLimits } from './bounds.js';
import { SysctlSnapshotHandle } from './snapshot.js';
import {
  prepareEntries,
  setManyOptions,
  setManyPlan,
  type CheckedEntries,
  type SetManyEntries,
  type SetManyOptions,
  type SetManyReport,
} from './set-many.js';
import { SysctlHandle } from './handle.js';
import { formatValue, parseValue, rawText, type AnyKey, type InputOf, type ValueOf } from './values.js';

export type { SysctlSnapshot } from './plan.js';
export type { Truncation, WalkLimits } from './bounds.js';
export type { CheckedEntries, EntryInputOf, SetManyEntries, SetManyOptions, SetManyReport } from './set-many.js';
export { undoEntries } from './set-many.js';
export { SysctlHandle } from './handle.js';
export { SysctlSnapshotHandle } from './snapshot.js';

/** sysctl(8) for one network namespace. Get one with `ns.sysctl`, or use `sysctl` for the calling thread's. */
export class Sysctl {
  /** @internal A Sysctl over `backend`; `nsId` undefined for the calling thread's namespace. */
  static of(backend: SysctlBackend, nsId: string | undefined): Sysctl {
    return new Sysctl(backend, nsId);
  }

  /** Get one with `ns.sysctl`, or use the exported `sysctl`. */
  private constructor(
    /** @internal */ readonly backend: SysctlBackend,
    /** The target namespace's id, or undefined for the calling thread's namespace. */
    readonly nsId: string | undefined,
  ) {}

  #fail(e: unknown, pk: ParsedKey, op: 'read' | 'write' | 'open', value?: string): never {
    if (isNativeErrno(e) && e.syscall !== 'setns')
      throw keyError(e, pk, op, value, this.nsId === undefined, this.backend.kind);
    throw toNetnsError(e, { key: pk.key });
  }

  /** The typed value of `key`. */
  get<K extends AnyKey | InterfaceKey>(key: K): ValueOf<K> {
    const pk = parsed(key);
    try {
      return this.backend.readValue(pk) as ValueOf<K>;
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
  set<K extends AnyKey | InterfaceKey>(key: K, value: InputOf<K>): ValueOf<K> {
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
    return drive(this.backend, listPlan(prefixOf(prefix), this.#keyError));
  }

  /**
   * Every readable key under `prefix`, typed; unreadable keys are reported apart. With
   * `limits` (e.g. `{}` for the defaults), at most so many interfaces and keys: a namespace
   * over them comes back with `truncated` (see {@link WalkLimits}).
   */
  getAll(prefix: AnyKey | KeyInput = 'net', limits?: WalkLimits): SysctlSnapshot {
    const b = limits === undefined ? undefined : boundsOf(limits);
    return drive(this.backend, getAllPlan(prefixOf(prefix), this.#keyError, b));
  }

  /**
   * @internal The bounded walk getAll(prefix, limits) makes, without its snapshot: for readers
   * that consume the packed walk in place (the audit's comparison), so that no object of every
   * key is built.
   */
  boundedWalk(prefix: AnyKey | KeyInput, limits: WalkLimits): { walk: WalkResult; truncated?: Truncation } {
    return drive(this.backend, boundedWalkPlan(prefixOf(prefix), WALK_READ, this.#keyError, boundsOf(limits)));
  }

  /**
   * Apply several keys as one transaction: validate every key and value, read the old
   * values, skip writes whose value already matches, apply the rest in the caller's order,
   * and on the first failure restore every key already written, then throw a NetnsError
   * naming the failing key, with `rolledBack` (and `notRestored`, if any) listing the others.
   */
  setMany<const E extends SetManyEntries, const O extends SetManyOptions = Record<never, never>>(
    entries: CheckedEntries<E, O>,
    options?: O,
  ): SetManyReport {
    const opts = setManyOptions(options === undefined ? {} : options);
    return drive(this.backend, setManyPlan(prepareEntries(entries, opts.raw === true), opts, this.#keyError));
  }

  /** A cached handle on one key: pread/pwrite on an fd opened inside the namespace. */
  open<K extends AnyKey | InterfaceKey>(key: K): SysctlHandle<ValueOf<K>, InputOf<K>> {
    const pk = parsed(key);
    let release: (() => void) | undefined;
    try {
      release = this.backend.hold();
      const [fd, granted] = this.backend.open(pk.rel, 1);
      return SysctlHandle.of<ValueOf<K>, InputOf<K>>(pk, fd, granted, release, this.nsId === undefined);
    } catch (e) {
      release?.();
      this.#fail(e, pk, 'open');
    }
  }

  /**
   * Every key under `prefix` (default: all of net) opened once inside the namespace, one
   * O_CLOEXEC fd per readable key (about 600 for a new namespace, 1,100 for a host), and
   * read. `refresh()` re-reads them all with pread in one native call, without a namespace
   * switch: for monitoring and exporters. It keeps the namespace alive until `close()`.
   * In a rootless namespace (and for a prefix that is one key) it holds no fds and each
   * refresh is a walk. With `limits`, it covers at most so many interfaces and keys (an
   * exporter's bound on what a tenant's namespace costs it): `truncated` then says what was
   * left out.
   */
  snapshot(prefix?: AnyKey | KeyInput, limits?: WalkLimits): SysctlSnapshotHandle;
  /**
   * Just these keys, each opened once inside the namespace (one O_CLOEXEC fd per key that
   * exists and opens for reading), and read. Keys absent in this namespace are left out of it
   * (its `keys` are those it covers); a key present but unreadable is kept, in `unreadable`.
   * `refresh()` and `readRaw()` re-read them with one pread per key in one native call: for
   * exporters that read a few keys of many namespaces.
   */
  snapshot(keys: readonly (AnyKey | KeyInput)[]): SysctlSnapshotHandle;
  snapshot(
    prefix: AnyKey | KeyInput | readonly (AnyKey | KeyInput)[] = 'net',
    limits?: WalkLimits,
  ): SysctlSnapshotHandle {
    if (Array.isArray(prefix)) return this.#snapshotOfKeys(prefix as readonly (AnyKey | KeyInput)[]);
    const pk = prefixOf(prefix as AnyKey | KeyInput);
    const b = limits === undefined ? undefined : boundsOf(limits);
    const keep = this.backend.kind === 'switching' ? WALK_KEEP : 0;
    const release = this.backend.hold();
    let w: WalkResult;
    let truncated;
    try {
      ({ walk: w, truncated } = drive(this.backend, boundedWalkPlan(pk, WALK_READ | keep, this.#keyError, b)));
    } catch (e) {
      release();
      throw e;
    }
    const h = SysctlSnapshotHandle.of(w, release, this.#keyError, () => this.getAll(pk.key, limits), truncated);
    // Out of fds (RLIMIT_NOFILE): a snapshot missing keys (and whole directories, which the
    // walk skips when they cannot be opened) would look complete. Refuse it.
    const full = w.values.find((o) => isNativeErrno(o) && (o.errno === ERRNO.EMFILE || o.errno === ERRNO.ENFILE));
    if (full !== undefined) {
      h.close();
      throw this.#keyError(full as NativeErrno, pk, 'open');
    }
    return h;
  }

  #snapshotOfKeys(list: readonly (AnyKey | KeyInput)[]): SysctlSnapshotHandle {
    const seen = new Set<string>();
    const pks: ParsedKey[] = [];
    const n = list.length;
    for (let i = 0; i < n; i++) {
      const pk = parsed(list[i]!);
      if (!seen.has(pk.rel)) {
        seen.add(pk.rel);
        pks.push(pk);
      }
    }
    const release = this.backend.hold();
    const rels: string[] = [];
    const fds: number[] = [];
    const outs: NativeOutcome[] = [];
    const closeOpened = (): void => {
      for (const fd of fds) if (fd >= 0) native.close(fd);
    };
    try {
      for (const pk of pks) {
        let fd: number;
        try {
          fd = this.backend.open(pk.rel, 0)[0];
        } catch (e) {
          if (!isNativeErrno(e) || e.syscall === 'setns') throw toNetnsError(e, { key: pk.key });
          // Absent here (or a path through a key): not covered, as a vanished interface's key is not.
          if (e.errno === ERRNO.ENOENT || e.errno === ERRNO.ENOTDIR) continue;
          // Out of fds: a snapshot missing keys would look complete. Refuse it.
          if (e.errno === ERRNO.EMFILE || e.errno === ERRNO.ENFILE) throw this.#keyError(e, pk, 'open');
          rels.push(pk.rel); // present, not readable (write-only, EACCES): kept as unreadable
          fds.push(-1);
          outs.push(e);
          continue;
        }
        rels.push(pk.rel);
        fds.push(fd);
        outs.push('');
      }
    } catch (e) {
      closeOpened();
      release();
      throw e;
    }
    return SysctlSnapshotHandle.ofKeys(rels, fds, outs, release, this.#keyError);
  }

  /** Promise form of {@link get}: runs on the addon's executor thread. */
  async getAsync<K extends AnyKey | InterfaceKey>(key: K): Promise<ValueOf<K>> {
    const pk = parsed(key);
    try {
      return parseValue(await this.backend.readAsync(pk.rel, pk.relBytes)) as ValueOf<K>;
    } catch (e) {
      this.#fail(e, pk, 'read');
    }
  }

  /** Promise form of {@link getRaw}. */
  async getRawAsync(key: AnyKey | KeyInput): Promise<string> {
    const pk = parsed(key);
    try {
      return rawText(await this.backend.readAsync(pk.rel, pk.relBytes));
    } catch (e) {
      this.#fail(e, pk, 'read');
    }
  }

  /** Promise form of {@link set}. */
  async setAsync<K extends AnyKey | InterfaceKey>(key: K, value: InputOf<K>): Promise<ValueOf<K>> {
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
    return driveAsync(this.backend, () => listPlan(prefixOf(prefix), this.#keyError));
  }

  /** Promise form of {@link getAll}: one namespace switch for the whole walk. */
  getAllAsync(prefix: AnyKey | KeyInput = 'net', limits?: WalkLimits): Promise<SysctlSnapshot> {
    return driveAsync(this.backend, () =>
      getAllPlan(prefixOf(prefix), this.#keyError, limits === undefined ? undefined : boundsOf(limits)),
    );
  }

  /**
   * Promise form of {@link setMany}: one switch per batch (old values, apply, rollback). It is
   * one operation in the call order: Promise forms called after it start once it has ended,
   * so none runs between its phases, and its rollback never undoes a later write.
   */
  setManyAsync<const E extends SetManyEntries, const O extends SetManyOptions = Record<never, never>>(
    entries: CheckedEntries<E, O>,
    options?: O,
  ): Promise<SetManyReport> {
    return driveAsync(this.backend, () => {
      const opts = setManyOptions(options === undefined ? {} : options);
      return setManyPlan(prepareEntries(entries, opts.raw === true), opts, this.#keyError);
    });
  }

  /**
   * Promise form of {@link open}. Opening takes microseconds and completes synchronously,
   * except in a rootless namespace, where the helper's answer is awaited off the JS thread.
   */
  async openAsync<K extends AnyKey | InterfaceKey>(key: K): Promise<SysctlHandle<ValueOf<K>, InputOf<K>>> {
    const pk = parsed(key);
    let release: (() => void) | undefined;
    try {
      release = this.backend.hold();
      const [fd, granted] = await this.backend.openAsync(pk.rel, 1);
      return SysctlHandle.of<ValueOf<K>, InputOf<K>>(pk, fd, granted, release, this.nsId === undefined);
    } catch (e) {
      release?.();
      this.#fail(e, pk, 'open');
    }
  }

  /** The error for a native failure on one key of this namespace, for plans. */
  readonly #keyError = (e: NativeErrno, pk: ParsedKey, op: 'read' | 'write' | 'open', value?: string): NetnsError =>
    keyError(e, pk, op, value, this.nsId === undefined, this.backend.kind);
}

/** sysctl for the calling thread's own namespace (the host, unless inside runSync). */
export const sysctl = Sysctl.of(new SwitchingBackend(() => -1), undefined);
