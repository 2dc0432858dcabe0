// How the sysctl layer reaches one namespace. The default backend switches the calling thread
// (or the addon's executor thread) into the namespace inside one native call; the rootless
// backend (a helper process) plugs in behind the same interface.
import { ERRNO } from '../errors.js';
import type { BackendKind } from '../hints.js';
import {
  isNativeErrno,
  native,
  readBuf,
  readInto,
  sysctlWalk,
  sysctlWalkAsync,
  type NativeOutcome,
  type WalkResult,
} from '../native/index.js';
import { Sequencer } from './sequencer.js';
import type { HotKey } from './keys.js';
import { parseValue, valueFromBytes, type SysctlValue } from './values.js';

/** The steps of a compound Promise operation, run inside {@link SysctlBackend.exclusive}. */
export interface SysctlSteps {
  batchAsync(rels: string[], values: (string | null)[], stopOnError: boolean): Promise<NativeOutcome[]>;
  walkAsync(prefix: string, flags: number, bounds?: string): Promise<WalkResult>;
}

export interface SysctlBackend {
  /** How it reaches the namespace, for hints. */
  readonly kind: BackendKind;
  read(rel: string): string;
  /** The typed value of one key: parseValue(read(pk.rel)), by the cheapest way the backend has. */
  readValue(pk: HotKey): SysctlValue;
  write(rel: string, value: string): string | null;
  batch(rels: string[], values: (string | null)[], stopOnError: boolean): NativeOutcome[];
  /** A walk; `bounds`: a bounds spec (bounds.ts), whose skipped entries it then holds. */
  walk(prefix: string, flags: number, bounds?: string): WalkResult;
  /** An fd on one key opened inside the namespace: [fd, granted access 0 r / 1 rw / 2 w]. */
  open(rel: string, access: 0 | 1): [number, 0 | 1 | 2];
  /** {@link open} as a Promise (the rootless backend waits for its helper off the JS thread). */
  openAsync(rel: string, access: 0 | 1): Promise<[number, 0 | 1 | 2]>;
  /** `relBytes`, when given, are rel's bytes (a hot key's): a backend may pass them on instead. */
  readAsync(rel: string, relBytes?: Uint8Array): Promise<string>;
  writeAsync(rel: string, value: string): Promise<string | null>;
  batchAsync(rels: string[], values: (string | null)[], stopOnError: boolean): Promise<NativeOutcome[]>;
  walkAsync(prefix: string, flags: number, bounds?: string): Promise<WalkResult>;
  /**
   * Run a compound Promise operation as one job as far as call order goes: its steps run
   * one after another, and Promise operations called after it start only once it has ended.
   */
  exclusive<T>(run: (steps: SysctlSteps) => Promise<T>): Promise<T>;
  /** Keep the namespace alive for a key handle; returns the release function. */
  hold(): () => void;
  /** The namespace's id ("DEV:INO"), or undefined for "wherever the caller is". */
  readonly nsId?: string | undefined;
}

/**
 * Every Promise form of the switching backends goes through the executor's one FIFO queue, so
 * they share one gate: a compound operation holds back every later one, whatever its namespace.
 */
const gate = new Sequencer();

/**
 * Backend over a namespace fd; `fd()` is -1 for "where the calling thread is". A handle on the
 * namespace the calling thread is already in needs no switch: when entering it is refused
 * (EPERM from setns, e.g. an unprivileged process on its own namespace), the call is made
 * without one.
 */
export class SwitchingBackend implements SysctlBackend {
  readonly kind = 'switching';
  /**
   * `identity` is the namespace's dev and inode, taken when its fd was opened: the refused-entry
   * fallback of a Promise form compares with it, never with the fd number, which the handle may
   * have closed (and the process reused) by the time the job failed.
   */
  constructor(
    private readonly fd: () => number,
    private readonly identity?: NsIdentity,
  ) {}

  #sync<T>(op: (fd: number) => T): T {
    const fd = this.fd();
    try {
      return op(fd);
    } catch (e) {
      if (fd >= 0 && refusedEntry(e) && isCallersNamespace(fd)) return op(-1);
      throw e;
    }
  }

  /** Submit now, or behind a compound operation with the target pinned at the time of the call. */
  #async<T>(op: (fd: number) => Promise<T>): Promise<T> {
    const fd = asyncTarget(this.fd());
    if (!gate.blocked) return retrying(fd, op, this.identity);
    let target: Pinned | undefined;
    return gate.single(
      // The pinned dup is released once the job is submitted: the fallback goes by identity.
      () => retrying(target!.fd, op, this.identity),
      () => {
        target = pinTarget(fd);
        return target.release;
      },
    );
  }

  read(rel: string): string {
    return this.#sync((fd) => native.sysctlRead(fd, rel));
  }
  readValue(pk: HotKey): SysctlValue {
    // #sync's work, written out: no closure per call on the hottest path.
    const fd = this.fd();
    let n: number;
    try {
      n = readInto(fd, pk.relBytes);
    } catch (e) {
      if (!(fd >= 0 && refusedEntry(e) && isCallersNamespace(fd))) throw e;
      n = readInto(-1, pk.relBytes);
    }
    // A value that fills the buffer may be longer: read it whole.
    return n < readBuf.length ? valueFromBytes(readBuf, n) : parseValue(this.read(pk.rel));
  }
  write(rel: string, value: string): string | null {
    return this.#sync((fd) => native.sysctlWrite(fd, rel, value));
  }
  batch(rels: string[], values: (string | null)[], stopOnError: boolean): NativeOutcome[] {
    return this.#sync((fd) => native.sysctlBatch(fd, rels, values, stopOnError));
  }
  walk(prefix: string, flags: number, bounds?: string): WalkResult {
    return this.#sync((fd) => sysctlWalk(fd, prefix, flags, bounds));
  }
  open(rel: string, access: 0 | 1): [number, 0 | 1 | 2] {
    return this.#sync((fd) => native.sysctlOpen(fd, rel, access));
  }
  async openAsync(rel: string, access: 0 | 1): Promise<[number, 0 | 1 | 2]> {
    return this.open(rel, access); // microseconds: no job
  }
  readAsync(rel: string, relBytes?: Uint8Array): Promise<string> {
    const path = relBytes ?? rel;
    return this.#async((fd) => native.sysctlReadAsync(fd, path));
  }
  writeAsync(rel: string, value: string): Promise<string | null> {
    return this.#async((fd) => native.sysctlWriteAsync(fd, rel, value));
  }
  batchAsync(rels: string[], values: (string | null)[], stopOnError: boolean): Promise<NativeOutcome[]> {
    return this.#async((fd) => native.sysctlBatchAsync(fd, rels, values, stopOnError));
  }
  walkAsync(prefix: string, flags: number, bounds?: string): Promise<WalkResult> {
    return this.#async((fd) => sysctlWalkAsync(fd, prefix, flags, bounds));
  }
  exclusive<T>(run: (steps: SysctlSteps) => Promise<T>): Promise<T> {
    // Every step targets the namespace of the moment of the call (inside runSync, the one it
    // runs in), however much later it is submitted, and even if the handle is closed meanwhile.
    const target = pinTarget(asyncTarget(this.fd()));
    return gate.exclusive(async () => {
      try {
        return await run({
          batchAsync: (rels, values, stop) =>
            retrying(target.fd, (fd) => native.sysctlBatchAsync(fd, rels, values, stop)),
          walkAsync: (prefix, flags, bounds) => retrying(target.fd, (fd) => sysctlWalkAsync(fd, prefix, flags, bounds)),
        });
      } finally {
        target.release();
      }
    });
  }
  hold(): () => void {
    return holdNamespace(this.fd());
  }
}

/**
 * Where a Promise form for `fd` goes. A process that could not come back from a switch (no
 * CAP_SYS_ADMIN over its own namespace) is refused entry even to the namespace it is in: that
 * case is decided here, before the job is queued, because a job refused and then made again
 * would run after Promise forms called later, out of call order. (retrying() stays as the
 * safety net for a refusal nobody could predict.)
 */
function asyncTarget(fd: number): number {
  return fd >= 0 && native.wayBack() !== 0 && isCallersNamespace(fd) ? -1 : fd;
}

/**
 * `op(fd)`, made again without a switch when entering was refused on the caller's own namespace.
 * `fd` is only valid while the op is being submitted, unless the caller pinned it: an unpinned
 * call passes the namespace's `identity`, and the check after the failure uses that.
 */
function retrying<T>(fd: number, op: (fd: number) => Promise<T>, identity?: NsIdentity): Promise<T> {
  return op(fd).catch((e: unknown) => {
    if (fd >= 0 && refusedEntry(e) && (identity ? isCallersIdentity(identity) : isCallersNamespace(fd))) return op(-1);
    throw e;
  });
}

function refusedEntry(e: unknown): boolean {
  return isNativeErrno(e) && e.syscall === 'setns' && e.errno === ERRNO.EPERM;
}

/** A namespace's identity while it is alive: the dev and inode of its nsfs file. */
export interface NsIdentity {
  readonly dev: number;
  readonly ino: number;
}

/** Whether `fd` is the namespace the calling thread is in. */
function isCallersNamespace(fd: number): boolean {
  return isCallersIdentity(native.nsInfo(fd));
}

/** Whether the namespace `id` is the one the calling thread is in. */
function isCallersIdentity(id: NsIdentity): boolean {
  const own = native.open('/proc/thread-self/ns/net');
  try {
    const b = native.nsInfo(own);
    return id.dev === b.dev && id.ino === b.ino;
  } finally {
    native.close(own);
  }
}

interface Pinned {
  fd: number;
  release: () => void;
}

/**
 * A private hold on where a job for `fd` must run, valid however late it is submitted: a dup
 * of `fd`, or for -1 ("where the calling thread is") the JS thread's namespace now (-1 again
 * outside runSync).
 */
function pinTarget(fd: number): Pinned {
  const mine = fd >= 0 ? native.dup(fd) : native.callerNs();
  let done = false;
  return {
    fd: mine,
    release: () => {
      if (!done && mine >= 0) native.close(mine);
      done = true;
    },
  };
}

/**
 * Keep the namespace behind `fd` alive with a private dup; returns the (idempotent) release.
 * -1 (the caller's own namespace) needs nothing.
 */
export function holdNamespace(fd: number): () => void {
  if (fd < 0) return () => {};
  const mine = native.dup(fd);
  let done = false;
  return () => {
    if (!done) {
      done = true;
      native.close(mine);
    }
  };
}
