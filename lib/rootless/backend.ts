// The SysctlBackend of a rootless namespace: per-key fds opened inside by the helper process
// and cached here; reads and writes are pread/pwrite on them, in this process.
import * as fs from 'node:fs';
import { ERRNO, sysError, withReason, type SysError } from '../errors.js';
import { native, isNativeErrno, rootlessWalk, type NativeErrno, type NativeOutcome, type WalkResult } from '../native/index.js';
import { holdNamespace, type SysctlBackend } from '../sysctl/backend.js';

/** Per-key fds kept open per namespace. */
const FD_CACHE_MAX = 1024;
/** Keys per OPEN request (SCM_RIGHTS carries at most 253 fds). */
const OPEN_BATCH = 200;

const { ENOENT, EACCES, ESRCH } = ERRNO;

/** An interface's own directory (not all/default), whose keys exist only with the interface. */
const IFACE_KEY = /^(ipv4|ipv6)\/(conf|neigh)\/([^/]+)\//;

/** Whether a key missing here is one the kernel hides in userns-owned namespaces (it exists in ours). */
function hiddenHere(rel: string): boolean {
  const m = IFACE_KEY.exec(rel);
  if (m && m[3] !== 'all' && m[3] !== 'default') return false; // no such interface here
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
}


export function closedHelperError(): SysError {
  return sysError(ESRCH, 'sendmsg', 'rootless helper', 'helper-closed');
}

/**
 * The SysctlBackend of a rootless namespace: per-key fds opened by the helper and cached here;
 * reads and writes are pread/pwrite on them. Promise forms resolve the same calls (microseconds
 * once a key's fd is cached).
 * @internal
 */
export class RootlessBackend implements SysctlBackend {
  readonly kind = 'rootless';
  nsId: string | undefined;
  readonly #st: HelperState;
  readonly #nsFd: () => number;

  constructor(st: HelperState, nsFd: () => number, nsId?: string) {
    this.#st = st;
    this.#nsFd = nsFd;
    this.nsId = nsId;
  }

  #sock(): number {
    if (this.#st.closed) throw closedHelperError();
    return this.#st.sock;
  }

  /** Open keys through the helper and cache them. Returns per key a CachedFd or an error. */
  #openMany(rels: string[]): (CachedFd | NativeErrno)[] {
    const out: (CachedFd | NativeErrno)[] = [];
    for (let i = 0; i < rels.length; i += OPEN_BATCH) {
      const part = rels.slice(i, i + OPEN_BATCH);
      const res = native.rootlessOpen(this.#sock(), part, part.map(() => 1));
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
    return out;
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
    if (this.#st.closed) throw closedHelperError();
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
        throw sysError(c.denyErr || EACCES, 'open', `/proc/sys/net/${rel}`, 'readonly-in-userns');
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

  walk(prefix: string, flags: number): WalkResult {
    return rootlessWalk(this.#sock(), prefix, flags);
  }

  open(rel: string, access: 0 | 1): [number, 0 | 1 | 2] {
    const c = this.#withFd(rel, (x) => x);
    if (access === 0 && c.granted === 2) throw sysError(c.denyErr || EACCES, 'open', `/proc/sys/net/${rel}`);
    return [native.dup(c.fd), c.granted];
  }

  readAsync(rel: string): Promise<string> {
    return settle(() => this.read(rel));
  }
  writeAsync(rel: string, value: string): Promise<string | null> {
    return settle(() => this.write(rel, value));
  }
  batchAsync(rels: string[], values: (string | null)[], stopOnError: boolean): Promise<NativeOutcome[]> {
    return settle(() => this.batch(rels, values, stopOnError));
  }
  walkAsync(prefix: string, flags: number): Promise<WalkResult> {
    return settle(() => this.walk(prefix, flags));
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

function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e);
  }
}
