// RootlessHelper: the helper process (native/rootless/) behind a rootless namespace. It holds
// a user namespace of this user and the network namespace owned by it, opens /proc/sys/net
// files inside for the backend (backend.ts) and starts commands there (spawn.ts).
import { ERRNO, closedError, invalid, netnsError, toNetnsError } from '../errors.js';
import { native, isNativeErrno } from '../native/index.js';
import { copyArray } from '../sysctl/values.js';
import { RootlessBackend, closedHelperError, stopHelper, type HelperState } from './backend.js';
import type { RootlessChild } from './child.js';
import { spawnInHelper, type RootlessSpawnOptions } from './spawn.js';
import { userNamespaceSettings } from './support.js';

/** How long a request to the helper may take before it counts as hung. */
const REPLY_TIMEOUT_MS = 10_000;

/**
 * How long a request waits for the helper's reply: NETNS_ROOTLESS_TIMEOUT_MS (a positive
 * integer of milliseconds, read at each helper's start), else 10 s. A slow machine may want
 * more; the fault-injection test wants less than 10 s of waiting on a stopped helper.
 */
function replyTimeoutMs(): number {
  const v = process.env.NETNS_ROOTLESS_TIMEOUT_MS;
  if (v === undefined || v === '') return REPLY_TIMEOUT_MS;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 3_600_000)
    invalid('a whole number of milliseconds from 1 to 3600000', 'NETNS_ROOTLESS_TIMEOUT_MS', v, RangeError);
  return n;
}

const helpers = new FinalizationRegistry<HelperState>((st) => {
  try {
    stopHelper(st);
  } catch {
    /* nothing left to do */
  }
});

/**
 * The helper process behind a rootless namespace (`ns.rootless`). It holds a user namespace in
 * which this process's uid and gid are mapped to 0, and the network namespace owned by it; it
 * dies with this process (PR_SET_PDEATHSIG) and ends with `ns.close()`.
 */
export class RootlessHelper {
  /** The helper's pid. */
  readonly pid: number;
  /** `"DEV:INO"` of the user namespace that owns the network namespace. */
  readonly userNsId: string;
  /** This process's euid, mapped to uid 0 inside. */
  readonly uid: number;
  /** This process's egid, mapped to gid 0 inside. */
  readonly gid: number;
  /** @internal */
  readonly backend: RootlessBackend;
  readonly #st: HelperState;

  private constructor(st: HelperState, uid: number, gid: number, userNsId: string, backend: RootlessBackend) {
    this.#st = st;
    this.pid = st.pid;
    this.uid = uid;
    this.gid = gid;
    this.userNsId = userNsId;
    this.backend = backend;
    helpers.register(this, st, this);
  }

  /**
   * Start a helper: clone(CLONE_NEWUSER | CLONE_NEWNET), map ids, wait until it serves.
   * Returns it with an fd on its network namespace (owned by the caller).
   * @internal Use `NetNamespace.create({ rootless: true })`.
   */
  static start(): { helper: RootlessHelper; netnsFd: number } {
    const uid = process.geteuid?.() ?? 0;
    const gid = process.getegid?.() ?? 0;
    let r;
    try {
      r = native.rootlessStart(uid, gid, replyTimeoutMs());
    } catch (e) {
      if (!isNativeErrno(e)) throw e;
      throw toNetnsError(e, { op: 'start-rootless', userns: userNamespaceSettings() });
    }
    const st: HelperState = { sock: r.sock, pid: r.pid, pidfd: r.pidfd, fds: new Map(), closed: false };
    let netFd = -1;
    try {
      if (r.capEff === 0n)
        throw netnsError(ERRNO.EPERM, 'capget', { reason: 'no-caps', userns: userNamespaceSettings() });
      let userFd: number;
      try {
        [netFd, userFd] = native.rootlessIds(r.sock);
      } catch (e) {
        throw toNetnsError(e, { op: 'rootless-ids' });
      }
      const u = native.nsInfo(userFd);
      native.close(userFd);
      const n = native.nsInfo(netFd);
      const fdNow = netFd;
      const backend = new RootlessBackend(st, () => (st.closed ? -1 : fdNow), `${n.dev}:${n.ino}`);
      const helper = new RootlessHelper(st, uid, gid, `${u.dev}:${u.ino}`, backend);
      return { helper, netnsFd: netFd };
    } catch (e) {
      if (netFd >= 0) native.close(netFd);
      stopHelper(st);
      throw e;
    }
  }

  /** Whether the helper has been stopped. */
  get closed(): boolean {
    return this.#st.closed;
  }

  /**
   * Start `command` inside the namespace, as uid 0 of its user namespace (this user outside).
   * It is made by the helper (clone + execve: nothing runs in between that could observe a
   * half-set-up namespace) and is a child of this process. Differences from
   * `child_process.spawn`: failures to start (ENOENT, EACCES, a bad cwd) throw a NetnsError
   * synchronously instead of emitting 'error'; there is no shell option.
   */
  spawn(command: string, givenArgs: readonly string[] = [], options: RootlessSpawnOptions = {}): RootlessChild {
    if (typeof command !== 'string' || command.length === 0) invalid('a non-empty string', 'command', command);
    // Copy, then validate, then use: every argument is read once.
    const args = Array.isArray(givenArgs) ? copyArray(givenArgs) : undefined;
    if (args === undefined || args.some((a) => typeof a !== 'string'))
      invalid('an array of strings', 'args', givenArgs);
    if (options === null || typeof options !== 'object') invalid('an options object', 'options', options);
    if (this.#st.dead) throw toNetnsError(closedHelperError(this.#st));
    if (this.#st.closed) throw closedError('rootless NetNamespace handle', 'sendmsg');
    return spawnInHelper(this.#st.sock, command, args as string[], options);
  }

  /**
   * End the helper: it exits when its socket closes (SIGKILL after 2 s), and is reaped.
   * Cached key fds are closed. Idempotent. `NetNamespace#close()` calls this.
   * @internal
   */
  close(): void {
    if (this.#st.closed) return;
    helpers.unregister(this);
    stopHelper(this.#st);
  }
}
