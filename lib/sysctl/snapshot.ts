// SysctlSnapshotHandle: every key under a prefix opened once inside its namespace (one fd per
// key), re-read with pread in one native call: a whole namespace for about the cost of C's
// cached-fd pass, for monitoring and exporters. It keeps the namespace alive until close().
import { ERRNO, closedError } from '../errors.js';
import { native, outcomeAt, type NativeOutcome, type WalkResult } from '../native/index.js';
import { keyOrder, snapshotOf, type KeyErrorOf, type KeyOrder, type SysctlSnapshot } from './plan.js';
import type { Truncation } from './bounds.js';

/**
 * Every key under a prefix, each held open: `refresh()` re-reads them all with one pread per
 * key and no namespace switch. Costs one fd per readable key (see docs/api.md). Keys that
 * appear later (a new interface) are not in it: take a new snapshot; keys that vanish leave
 * its results.
 */
export class SysctlSnapshotHandle implements Disposable {
  /** The keys it covers, in dot form, sorted (those unreadable when it was taken included). */
  readonly keys: readonly string[];
  /** Taken with limits that left interfaces out: what it covers and what there was. */
  readonly truncated: Truncation | undefined;
  #rels: string[];
  #outs: (NativeOutcome | undefined)[];
  #ko: KeyOrder;
  /** Indexes (into #rels) of the keys held open, and their fds, in the same order. */
  #held: number[];
  #fds: Int32Array;
  #release: () => void;
  #keyError: KeyErrorOf;
  /** Without kept fds (a rootless namespace, a prefix that is one key): a fresh walk per refresh. */
  #rewalk: (() => SysctlSnapshot) | undefined;
  /** What `current` returns; undefined until asked after a readRaw(). */
  #current: SysctlSnapshot | undefined;
  #closed = false;

  /** @internal Takes ownership of the walk's fds; `release` lets the namespace go. */
  static of(
    w: WalkResult,
    release: () => void,
    keyError: KeyErrorOf,
    rewalk: (() => SysctlSnapshot) | undefined,
    truncated?: Truncation,
  ): SysctlSnapshotHandle {
    return new SysctlSnapshotHandle(w, release, keyError, rewalk, truncated);
  }

  /**
   * @internal A snapshot of chosen keys (`sysctl.snapshot(keys)`): `rels[i]` was opened as
   * `fds[i]` (-1: present but not readable, `outs[i]` says why). Takes ownership of the fds,
   * reads them once.
   */
  static ofKeys(
    rels: string[],
    fds: number[],
    outs: NativeOutcome[],
    release: () => void,
    keyError: KeyErrorOf,
  ): SysctlSnapshotHandle {
    const h = new SysctlSnapshotHandle(
      { keys: rels, values: outs, modes: [], fds },
      release,
      keyError,
      undefined,
      undefined,
    );
    try {
      if (h.#fds.length > 0) h.#readAll();
    } catch (e) {
      h.close();
      throw e;
    }
    return h;
  }

  /** Get one with `sysctl.snapshot()`. */
  private constructor(
    w: WalkResult,
    release: () => void,
    keyError: KeyErrorOf,
    rewalk: (() => SysctlSnapshot) | undefined,
    truncated: Truncation | undefined,
  ) {
    this.truncated = truncated;
    this.#rels = w.keys;
    this.#outs = w.values;
    this.#ko = keyOrder(w.keys);
    this.#release = release;
    this.#keyError = keyError;
    const held: number[] = [];
    const fds = w.fds ?? [];
    for (let i = 0; i < fds.length; i++) if (fds[i]! >= 0) held.push(i);
    this.#held = held;
    this.#fds = Int32Array.from(held, (i) => fds[i]!);
    this.#rewalk = w.fds === undefined ? rewalk : undefined;
    const { keys, order } = this.#ko;
    this.keys = order === undefined ? keys : order.map((i) => keys[i]!);
    snapshots.register(this, { fds: this.#fds, release }, this);
    try {
      this.#current = this.#marked(snapshotOf(this.#rels, this.#outs, keyError, this.#ko));
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** How many fds it holds open (one per readable key). */
  get size(): number {
    return this.#closed ? 0 : this.#fds.length;
  }

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** What the last read gave (at first, what was read when the snapshot was taken). */
  get current(): SysctlSnapshot {
    this.#live();
    return (this.#current ??= this.#marked(snapshotOf(this.#rels, this.#outs, this.#keyError, this.#ko)));
  }

  /**
   * Read every key again, as `refresh()` does (one pread per key, one native call), and return
   * only the texts, in the order of `keys`: the value without its trailing newline; `null` for
   * a key present but not readable; `undefined` for a key whose entry is gone (its interface
   * was removed). No snapshot object is made (`current` makes one when asked): for exporters
   * that read a few keys of many namespaces at every scrape.
   */
  readRaw(): (string | null | undefined)[] {
    this.#live();
    const rels = this.#rels,
      outs = this.#outs;
    if (this.#rewalk !== undefined) {
      const snap = this.refresh();
      return this.keys.map((k) => snap.raw[k] ?? (Object.hasOwn(snap.unreadable, k) ? null : undefined));
    }
    this.#readAll(true);
    const { order } = this.#ko;
    const n = rels.length;
    const out: (string | null | undefined)[] = new Array(n);
    for (let j = 0; j < n; j++) {
      const v = outs[order === undefined ? j : order[j]!];
      out[j] = typeof v === 'string' || v === undefined ? v : null;
    }
    return out;
  }

  /**
   * Read every key again (pread at offset 0 on each held fd, in one native call) and return
   * the values now in effect, shaped like `getAll()`. A key whose entry is gone (an interface
   * removed) is left out.
   */
  refresh(): SysctlSnapshot {
    this.#live();
    if (this.#rewalk !== undefined) return (this.#current = this.#rewalk());
    this.#readAll();
    return (this.#current = this.#marked(snapshotOf(this.#rels, this.#outs, this.#keyError, this.#ko)));
  }

  /**
   * pread every held fd (one native call) into #outs; `current` is made again when next asked.
   * `trim`: values lose their trailing newline here, in the one slice made of each (snapshotOf
   * takes them either way).
   */
  #readAll(trim = false): void {
    const packed = native.fdReadAll(this.#fds);
    const held = this.#held,
      rels = this.#rels,
      outs = this.#outs;
    let p = 0;
    for (let j = 0; j < held.length; j++) {
      const i = held[j]!;
      const nul = packed.indexOf('\0', p);
      if (trim && packed.charCodeAt(p) === EQUALS)
        outs[i] = packed.slice(p + 1, packed.charCodeAt(nul - 1) === NL ? nul - 1 : nul);
      else {
        const o = outcomeAt(packed, p, nul, rels[i]!);
        // ENOENT: the entry was unregistered (its interface or namespace is gone)
        outs[i] = typeof o === 'object' && o !== null && o.errno === ERRNO.ENOENT ? undefined : o;
      }
      p = nul + 1;
    }
    this.#current = undefined;
  }

  /** Close every fd and release the namespace. Idempotent; returns `this`. */
  close(): this {
    if (!this.#closed) {
      this.#closed = true;
      snapshots.unregister(this);
      try {
        closeAll(this.#fds);
      } finally {
        this.#release();
      }
    }
    return this;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** `s` with the handle's truncation (a read of the kept keys leaves out what they did). */
  #marked(s: SysctlSnapshot): SysctlSnapshot {
    if (this.truncated !== undefined) s.truncated = this.truncated;
    return s;
  }

  #live(): void {
    if (this.#closed) throw closedError('SysctlSnapshotHandle', 'pread');
  }
}

/** Close each fd (the first failure is thrown after all were tried). */
function closeAll(fds: Int32Array): void {
  let first: unknown;
  for (const fd of fds) {
    try {
      native.close(fd);
    } catch (e) {
      first ??= e;
    }
  }
  if (first !== undefined) throw first;
}

const NL = 10;
const EQUALS = 61;

const snapshots = new FinalizationRegistry<{ fds: Int32Array; release: () => void }>(({ fds, release }) => {
  try {
    closeAll(fds);
  } catch {
    /* ignore */
  }
  release();
});
