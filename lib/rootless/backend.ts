// The SysctlBackend of a rootless namespace: per-key fds opened inside by the helper process
// and cached here; reads and writes are pread/pwrite on them, in this process. A helper either
// answers the request it was asked, or it is dead: one that does not answer in time, exits, or
// answers another request is torn down at once, and the calls waiting for it reject.
import * as fs from 'node:fs';
import { ERRNO, sysError, withReason, type SysError } from '../errors.js';
import type { Reason } from '../hints.js';
import { deviceOf } from '../keypath.js';
import {
  native,
  isNativeErrno,
  rootlessWalk,
  rootlessWalkAsync,
  type NativeErrno,
  type NativeOutcome,
  type WalkResult,
} from '../native/index.js';
import { holdNamespace, type SysctlBackend, type SysctlSteps } from '../sysctl/backend.js';
import { Sequencer } from '../sysctl/sequencer.js';
import type { HotKey } from '../sysctl/keys.js';
import { parseValue, type SysctlValue } from '../sysctl/values.js';
import { userNamespaceSettings } from './support.js';

/** Per-key fds kept open per namespace. */
const FD_CACHE_MAX = 1024;
/** Keys per OPEN request (SCM_RIGHTS carries at most 253 fds). */
const OPEN_BATCH = 200;

const { EBADF, ENOENT, EACCES, ESRCH, EPROTO, ETIMEDOUT } = ERRNO;

/** How long close() waits for the helper to exit by itself before SIGKILL. */
const STOP_GRACE_MS = 2_000;

/** Whether a key missing here is one the kernel hides in userns-owned namespaces (it exists in ours). */
function hiddenHere(rel: string): boolean {
  // An interface's own keys exist only with the interface: absent here, it is not hidden.
  if (deviceOf(rel) !== undefined) return false;
  return fs.existsSync(`/proc/sys/net/${rel}`);
}

export interface CachedFd {
  fd: number;
  granted: 0 | 1 | 2;
  denyErr: number;
}

/** Everything a helper owns. Kept apart from the RootlessHelper object so a finalizer can free it. */
export interface HelperState {
  sock: number;
  pid: number;
  pidfd: number;
  fds: Map<string, CachedFd>;
  closed: boolean;
  /** Why the helper was torn down, when it was (see isHelperFailure). */
  dead?: Reason;
}

/** End the helper (SIGKILL after `graceMs`), reap it, close its cached key fds. Idempotent. */
export function stopHelper(st: HelperState, graceMs = STOP_GRACE_MS): boolean {
  if (st.closed) return true;
  st.closed = true;
  for (const c of st.fds.values()) {
    try {
      native.close(c.fd);
    } catch {
      /* already closed */
    }
  }
  st.fds.clear();
  const sock = st.sock;
  st.sock = -1;
  return native.rootlessStop(sock, st.pid, st.pidfd, graceMs);
}

export function closedHelperError(st?: HelperState): SysError {
  // Dead: the helper exited or was stopped (ESRCH, and why). Else the handle was closed.
  return st?.dead !== undefined
    ? sysError(ESRCH, 'sendmsg', 'rootless helper', st.dead)
    : sysError(EBADF, 'sendmsg', undefined, 'closed');
}

/** Whether the exchange with the helper failed (the helper itself, not one key). */
function isHelperFailure(e: unknown): e is NativeErrno {
  return (
    isNativeErrno(e) &&
    (e.syscall === 'recvmsg' || e.syscall === 'sendmsg') &&
    (e.path ?? '').startsWith('rootless helper')
  );
}

function deathOf(e: NativeErrno): Reason {
  return e.errno === ETIMEDOUT ? 'helper-timed-out' : e.errno === EPROTO ? 'helper-desynchronised' : 'helper-exited';
}

/**
 * Thrown while a Promise form runs its synchronous part on cached fds and meets a key whose fd
 * must be opened (again): the helper is never called from the JS thread there.
 */
class NeedsHelper {
  constructor(readonly rel: string) {}
}

/**
 * The SysctlBackend of a rootless namespace: per-key fds opened by the helper and cached here;
 * reads and writes are pread/pwrite on them (microseconds once a key's fd is cached). Promise
 * forms run one at a time in call order; their exchanges with the helper wait on a thread of
 * their own, never on the JS thread.
 * @internal
 */
export class RootlessBackend implements SysctlBackend {
  readonly kind = 'rootless';
  nsId: string | undefined;
  readonly #st: HelperState;
  readonly #nsFd: () => number;
  /** Every Promise form is exclusive: there is no native queue to order them. */
  readonly #seq = new Sequencer();
  /** Set while a Promise form runs its synchronous part: the helper must not be called then. */
  #offline = false;
  /** Why the keys a Promise form opened off the JS thread failed to open. */
  readonly #openErrors = new Map<string, NativeErrno>();

  constructor(st: HelperState, nsFd: () => number, nsId?: string) {
    this.#st = st;
    this.#nsFd = nsFd;
    this.nsId = nsId;
  }

  #sock(): number {
    if (this.#st.closed) throw closedHelperError(this.#st);
    return this.#st.sock;
  }

  /** The exchange with the helper failed: tear it down; later calls fail saying why. */
  #die(cause: NativeErrno): void {
    if (this.#st.closed) return;
    this.#st.dead = deathOf(cause);
    withReason(cause, this.#st.dead);
    stopHelper(this.#st, 0);
  }

  #talk<T>(fn: (sock: number) => T): T {
    try {
      return fn(this.#sock());
    } catch (e) {
      if (isHelperFailure(e)) this.#die(e);
      throw e;
    }
  }

  async #talkAsync<T>(fn: (sock: number) => Promise<T>): Promise<T> {
    try {
      return await fn(this.#sock());
    } catch (e) {
      if (isHelperFailure(e)) this.#die(e);
      throw e;
    }
  }

  /** Cache the helper's answers to OPEN into `out`: per key a CachedFd or an error. */
  #take(part: string[], res: ([number, 0 | 1 | 2, number] | NativeErrno)[], out: (CachedFd | NativeErrno)[]): void {
    res.forEach((r, j) => {
      if (isNativeErrno(r)) {
        if (r.errno === ENOENT && hiddenHere(part[j]!)) withReason(r, 'hidden-in-userns', part[j]);
        out.push(r);
        return;
      }
      const c: CachedFd = { fd: r[0], granted: r[1], denyErr: r[2] };
      this.#remember(part[j]!, c);
      out.push(c);
    });
  }

  /** Open keys through the helper and cache them. Returns per key a CachedFd or an error. */
  #openMany(rels: string[]): (CachedFd | NativeErrno)[] {
    if (this.#offline) {
      // Inside a Promise form: its keys were opened already; report their errors as they were.
      return rels.map((rel) => {
        const e = this.#openErrors.get(rel);
        if (e) return e;
        throw new NeedsHelper(rel);
      });
    }
    const out: (CachedFd | NativeErrno)[] = [];
    for (let i = 0; i < rels.length; i += OPEN_BATCH) {
      const part = rels.slice(i, i + OPEN_BATCH);
      this.#take(
        part,
        this.#talk((sock) =>
          native.rootlessOpen(
            sock,
            part,
            part.map(() => 1),
          ),
        ),
        out,
      );
    }
    return out;
  }

  /** #openMany for every key of `rels` not cached yet, off the JS thread. */
  async #ensureAsync(rels: string[]): Promise<void> {
    const missing = [...new Set(rels.filter((r) => !this.#st.fds.has(r)))];
    for (let i = 0; i < missing.length; i += OPEN_BATCH) {
      const part = missing.slice(i, i + OPEN_BATCH);
      const res = await this.#talkAsync((sock) =>
        native.rootlessOpenAsync(
          sock,
          part,
          part.map(() => 1),
        ),
      );
      const out: (CachedFd | NativeErrno)[] = [];
      this.#take(part, res, out);
      out.forEach((r, j) => {
        if (isNativeErrno(r)) this.#openErrors.set(part[j]!, r);
      });
    }
  }

  /**
   * A Promise form: in call order, alone. The keys' fds are opened off the JS thread first,
   * then `op` (the sync form) runs on the cached fds without calling the helper. A stale fd
   * (its interface was re-created) sends it back for one more open.
   */
  #async<T>(rels: string[], op: () => T): Promise<T> {
    return this.#seq.exclusive(() => this.#run(rels, op));
  }

  async #run<T>(rels: string[], op: () => T): Promise<T> {
    this.#openErrors.clear();
    for (let attempt = 0; ; attempt++) {
      if (this.#st.closed) throw closedHelperError(this.#st);
      await this.#ensureAsync(rels);
      this.#offline = true;
      try {
        return op();
      } catch (e) {
        if (!(e instanceof NeedsHelper)) throw e;
        if (attempt > 0) throw sysError(ENOENT, 'open', `/proc/sys/net/${e.rel}`);
        rels = [...rels, e.rel];
      } finally {
        this.#offline = false;
      }
    }
  }

  #remember(rel: string, c: CachedFd): void {
    const old = this.#st.fds.get(rel);
    if (old) {
      this.#st.fds.delete(rel);
      native.close(old.fd);
    }
    while (this.#st.fds.size >= FD_CACHE_MAX) {
      const [k, v] = this.#st.fds.entries().next().value as [string, CachedFd];
      this.#st.fds.delete(k);
      native.close(v.fd);
    }
    this.#st.fds.set(rel, c);
  }

  #forget(rel: string): void {
    const c = this.#st.fds.get(rel);
    if (c) {
      this.#st.fds.delete(rel);
      native.close(c.fd);
    }
  }

  #get(rel: string): CachedFd {
    if (this.#st.closed) throw closedHelperError(this.#st);
    const c = this.#st.fds.get(rel);
    if (c) return c;
    const r = this.#openMany([rel])[0]!;
    if (isNativeErrno(r)) throw r;
    return r;
  }

  /** Run `op` on the key's fd; on ENOENT (a stale fd: its interface was re-created) reopen once. */
  #withFd<T>(rel: string, op: (c: CachedFd) => T): T {
    const fresh = !this.#st.fds.has(rel);
    const c = this.#get(rel);
    try {
      return op(c);
    } catch (e) {
      if (!isNativeErrno(e) || e.errno !== ENOENT || fresh) throw withPath(e, rel);
      this.#forget(rel);
      try {
        return op(this.#get(rel));
      } catch (e2) {
        throw withPath(e2, rel);
      }
    }
  }

  readValue(pk: HotKey): SysctlValue {
    return parseValue(this.read(pk.rel));
  }

  read(rel: string): string {
    // Fast path: a cached readable fd (a Map lookup and one pread).
    const cached = this.#st.fds.get(rel);
    if (cached !== undefined && cached.granted !== 2) {
      try {
        return native.fdRead(cached.fd);
      } catch (e) {
        if (!isNativeErrno(e) || e.errno !== ENOENT) throw withPath(e, rel);
        this.#forget(rel); // stale: reopen below
      }
    }
    return this.#withFd(rel, (c) => {
      if (c.granted === 2) throw sysError(c.denyErr || EACCES, 'open', `/proc/sys/net/${rel}`);
      return native.fdRead(c.fd);
    });
  }

  write(rel: string, value: string): string | null {
    return this.#withFd(rel, (c) => {
      if (c.granted === 0)
        throw sysError(
          c.denyErr || EACCES,
          'open',
          `/proc/sys/net/${rel}`,
          'readonly-in-userns',
          userNamespaceSettings(),
        );
      native.fdWrite(c.fd, value);
      if (c.granted === 2) return null;
      try {
        return native.fdRead(c.fd);
      } catch {
        return null; // a failed read-back is not a failed write
      }
    });
  }

  batch(rels: string[], values: (string | null)[], stopOnError: boolean): NativeOutcome[] {
    // Open every key not cached yet in one round trip (or a few for huge batches).
    const missing = [...new Set(rels.filter((r) => !this.#st.fds.has(r)))];
    const failed = new Map<string, NativeErrno>();
    if (missing.length > 0) {
      this.#openMany(missing).forEach((r, i) => {
        if (isNativeErrno(r)) failed.set(missing[i]!, r);
      });
    }
    const out: NativeOutcome[] = [];
    for (let i = 0; i < rels.length; i++) {
      const rel = rels[i]!;
      const v = values[i];
      let o: NativeOutcome;
      const pre = failed.get(rel);
      if (pre) o = pre;
      else {
        try {
          o = v === null || v === undefined ? this.read(rel) : this.write(rel, v);
        } catch (e) {
          if (!isNativeErrno(e)) throw e;
          o = e;
        }
      }
      out.push(o);
      if (stopOnError && isNativeErrno(o)) break;
    }
    return out;
  }

  walk(prefix: string, flags: number, bounds?: string): WalkResult {
    return this.#talk((sock) => rootlessWalk(sock, prefix, flags, bounds));
  }

  open(rel: string, access: 0 | 1): [number, 0 | 1 | 2] {
    const c = this.#withFd(rel, (x) => x);
    if (access === 0 && c.granted === 2) throw sysError(c.denyErr || EACCES, 'open', `/proc/sys/net/${rel}`);
    return [native.dup(c.fd), c.granted];
  }

  openAsync(rel: string, access: 0 | 1): Promise<[number, 0 | 1 | 2]> {
    return this.#async([rel], () => this.open(rel, access));
  }
  readAsync(rel: string): Promise<string> {
    return this.#async([rel], () => this.read(rel));
  }
  writeAsync(rel: string, value: string): Promise<string | null> {
    return this.#async([rel], () => this.write(rel, value));
  }
  batchAsync(rels: string[], values: (string | null)[], stopOnError: boolean): Promise<NativeOutcome[]> {
    return this.#async(rels, () => this.batch(rels, values, stopOnError));
  }
  walkAsync(prefix: string, flags: number, bounds?: string): Promise<WalkResult> {
    return this.#seq.exclusive(() => this.#walkAsync(prefix, flags, bounds));
  }
  #walkAsync(prefix: string, flags: number, bounds?: string): Promise<WalkResult> {
    return this.#talkAsync((sock) => rootlessWalkAsync(sock, prefix, flags, bounds));
  }
  exclusive<T>(run: (steps: SysctlSteps) => Promise<T>): Promise<T> {
    return this.#seq.exclusive(() =>
      run({
        batchAsync: (rels, values, stop) => this.#run(rels, () => this.batch(rels, values, stop)),
        walkAsync: (prefix, flags, bounds) => this.#walkAsync(prefix, flags, bounds),
      }),
    );
  }

  /** Keep the namespace alive for a key handle (a dup of the namespace fd). */
  hold(): () => void {
    return holdNamespace(this.#nsFd());
  }
}

function withPath(e: unknown, rel: string): unknown {
  if (isNativeErrno(e) && e.path === undefined) e.path = `/proc/sys/net/${rel}`;
  return e;
}
