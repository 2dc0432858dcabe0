// Rootless mode: a network namespace owned by a user namespace of our own, held by a helper
// process (native/rootless/). The helper opens /proc/sys/net files inside and passes the fds
// back; reads and writes then run in this process through those fds, at the normal speed.
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { constants as osConstants } from 'node:os';
import * as path from 'node:path';
import { getSystemErrorMap } from 'node:util';
import { NetnsError, invalid, toNetnsError } from './errors.js';
import { native, rootlessWalk, isNativeErrno, type NativeErrno, type NativeOutcome, type WalkResult } from './native/index.js';
import { holdNamespace, type SysctlBackend } from './backend.js';

const CAP_SYS_ADMIN = 21;
/** How long a request to the helper may take before it counts as hung. */
const REPLY_TIMEOUT_MS = 10_000;
/** How long close() waits for the helper to exit by itself before SIGKILL. */
const STOP_GRACE_MS = 2_000;
/** Per-key fds kept open per namespace. */
const FD_CACHE_MAX = 1024;
/** Keys per OPEN request (SCM_RIGHTS carries at most 253 fds). */
const OPEN_BATCH = 200;

const { ENOENT, EACCES, EBADF, EPERM, ESRCH } = osConstants.errno;

/**
 * Whether this process has CAP_SYS_ADMIN in its effective set (bit 21 of CapEff in
 * /proc/self/status): what `NetNamespace.create()` needs for an ordinary namespace.
 */
export function hasCapSysAdmin(): boolean {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (!m) return false;
    return ((BigInt('0x' + m[1]) >> BigInt(CAP_SYS_ADMIN)) & 1n) === 1n;
  } catch {
    return false;
  }
}

function readSetting(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The kernel settings that decide whether an unprivileged user may make user namespaces. */
export interface UserNamespaceSettings {
  /** `kernel.unprivileged_userns_clone` (Debian/Ubuntu kernels only); undefined when absent. */
  unprivilegedUsernsClone: string | undefined;
  /** `user.max_user_namespaces` of the caller's user namespace. */
  maxUserNamespaces: string | undefined;
  /** `user.max_net_namespaces` of the caller's user namespace. */
  maxNetNamespaces: string | undefined;
  /** `kernel.apparmor_restrict_unprivileged_userns` (Ubuntu >= 23.10); undefined when absent. */
  apparmorRestrictUnprivilegedUserns: string | undefined;
}

/** Read the settings that govern unprivileged user namespaces. Does not create anything. */
export function userNamespaceSettings(): UserNamespaceSettings {
  return {
    unprivilegedUsernsClone: readSetting('/proc/sys/kernel/unprivileged_userns_clone'),
    maxUserNamespaces: readSetting('/proc/sys/user/max_user_namespaces'),
    maxNetNamespaces: readSetting('/proc/sys/user/max_net_namespaces'),
    apparmorRestrictUnprivilegedUserns: readSetting('/proc/sys/kernel/apparmor_restrict_unprivileged_userns'),
  };
}

/**
 * Why the kernel refused to start a rootless namespace, as advice. `code` and `syscall` are
 * those of the failure; `s` the settings at the time (read fresh when omitted).
 * @internal Exported for tests.
 */
export function userNamespaceRefusalHint(
  code: string,
  syscall: string,
  s: UserNamespaceSettings = userNamespaceSettings(),
): string {
  const asRoot = 'as root';
  if (syscall === 'clone') {
    if (code === 'EPERM' || code === 'EACCES') {
      if (s.unprivilegedUsernsClone === '0')
        return `Unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0). Enable them ${asRoot} with \`sysctl -w kernel.unprivileged_userns_clone=1\`, or run as root (rootless mode is not needed then)`;
      if (s.apparmorRestrictUnprivilegedUserns === '1')
        return `AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1). Allow them for node with an AppArmor profile that grants \`userns\`, or ${asRoot} set that sysctl to 0`;
      return 'The kernel refused to create a user namespace for this unprivileged process: a seccomp filter (container runtimes block it by default), a chroot, or a security module forbids it. Run as root, or allow user namespaces in the sandbox';
    }
    if (code === 'ENOSPC' || code === 'EUSERS') {
      if (s.maxUserNamespaces === '0')
        return `User namespaces are disabled: user.max_user_namespaces = 0. Raise it ${asRoot}, e.g. \`sysctl -w user.max_user_namespaces=15000\``;
      if (s.maxNetNamespaces === '0')
        return `Network namespaces are disabled for this user: user.max_net_namespaces = 0. Raise it ${asRoot}`;
      return `The limit on user or network namespaces is reached (user.max_user_namespaces = ${s.maxUserNamespaces ?? '?'}, user.max_net_namespaces = ${s.maxNetNamespaces ?? '?'}, or the nesting depth of 32): close unused namespaces or raise the limits ${asRoot}`;
    }
    if (code === 'EINVAL') return 'This kernel has no user namespace support (CONFIG_USER_NS)';
    if (code === 'ENOMEM') return 'Out of memory, or the pid limit of this user is reached';
    if (code === 'EAGAIN') return 'The process limit of this user (RLIMIT_NPROC) is reached';
  }
  if (syscall === 'write' && (code === 'EPERM' || code === 'EACCES'))
    return `The kernel refused to map this user's uid/gid to root in the new user namespace${s.apparmorRestrictUnprivilegedUserns === '1' ? ' (AppArmor restricts unprivileged user namespaces: kernel.apparmor_restrict_unprivileged_userns = 1)' : ''}`;
  if (code === 'ETIMEDOUT') return 'The rootless helper process did not answer';
  if (code === 'ESRCH') return 'The rootless helper process exited during setup';
  return 'Could not start the rootless helper process';
}

/** Whether rootless namespaces look possible here, judged from the settings alone. */
export function rootlessSupport(): { available: boolean; reason?: string } {
  const s = userNamespaceSettings();
  if (s.unprivilegedUsernsClone === '0') return { available: false, reason: userNamespaceRefusalHint('EPERM', 'clone', s) };
  if (s.maxUserNamespaces === '0' || s.maxNetNamespaces === '0')
    return { available: false, reason: userNamespaceRefusalHint('ENOSPC', 'clone', s) };
  if (s.apparmorRestrictUnprivilegedUserns === '1')
    return { available: false, reason: userNamespaceRefusalHint('EPERM', 'clone', s) };
  if (!fs.existsSync('/proc/self/ns/user')) return { available: false, reason: userNamespaceRefusalHint('EINVAL', 'clone', s) };
  return { available: true };
}

function nativeErr(errno: number, syscall: string, file?: string, hint?: string): NativeErrno {
  const e = new Error(getSystemErrorMap().get(-errno)?.[1] ?? `errno ${errno}`) as unknown as NativeErrno;
  e.errno = errno;
  e.syscall = syscall;
  if (file !== undefined) e.path = file;
  e.nativeErrno = true;
  if (hint !== undefined) e.hint = hint;
  return e;
}

/** `net.ipv4.conf.eth0/100.rp_filter` from `ipv4/conf/eth0.100/rp_filter`. */
function dotted(rel: string): string {
  return 'net.' + rel.split('/').map((c) => c.replace(/\./g, '/')).join('.');
}

/** An interface's own directory (not all/default), whose keys exist only with the interface. */
const IFACE_KEY = /^(ipv4|ipv6)\/(conf|neigh)\/([^/]+)\//;

function missingHint(rel: string): string | undefined {
  const m = IFACE_KEY.exec(rel);
  if (m && m[3] !== 'all' && m[3] !== 'default') return undefined; // no such interface here: the generic hint fits
  if (!fs.existsSync(`/proc/sys/net/${rel}`)) return undefined;
  return `Key ${dotted(rel)} does not exist in this rootless namespace: the kernel hides it in network namespaces owned by a non-initial user namespace (it exists in the calling namespace). Only root can reach it, in a namespace made without rootless mode`;
}

function readOnlyHint(rel: string): string {
  const aa =
    readSetting('/proc/sys/kernel/apparmor_restrict_unprivileged_userns') === '1'
      ? ' (or AppArmor denies capabilities inside unprivileged user namespaces: kernel.apparmor_restrict_unprivileged_userns = 1)'
      : '';
  return `${dotted(rel)} is read-only in this rootless namespace: the kernel does not let a namespace owned by a non-initial user namespace change it${aa}. Only root can, in a namespace made without rootless mode`;
}

interface CachedFd {
  fd: number;
  granted: 0 | 1 | 2;
  denyErr: number;
}

/** Everything a helper owns. Kept apart from the RootlessHelper object so a finalizer can free it. */
interface HelperState {
  sock: number;
  pid: number;
  pidfd: number;
  fds: Map<string, CachedFd>;
  closed: boolean;
}

function stopHelper(st: HelperState): boolean {
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
  return native.rootlessStop(sock, st.pid, st.pidfd, STOP_GRACE_MS);
}

const helpers = new FinalizationRegistry<HelperState>((st) => {
  try {
    stopHelper(st);
  } catch {
    /* nothing left to do */
  }
});

function closedHelperError(): NativeErrno {
  return nativeErr(ESRCH, 'sendmsg', 'rootless helper', 'This rootless namespace handle is closed');
}

/**
 * The SysctlBackend of a rootless namespace: per-key fds opened by the helper and cached here;
 * reads and writes are pread/pwrite on them. Promise forms resolve the same calls (microseconds
 * once a key's fd is cached).
 * @internal
 */
export class RootlessBackend implements SysctlBackend {
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
          if (r.errno === ENOENT) {
            const h = missingHint(part[j]!);
            if (h) r.hint = h;
          }
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
      if (c.granted === 2) throw nativeErr(c.denyErr || EACCES, 'open', `/proc/sys/net/${rel}`);
      return native.fdRead(c.fd);
    });
  }

  write(rel: string, value: string): string | null {
    return this.#withFd(rel, (c) => {
      if (c.granted === 0)
        throw nativeErr(c.denyErr || EACCES, 'open', `/proc/sys/net/${rel}`, readOnlyHint(rel));
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
    if (access === 0 && c.granted === 2) throw nativeErr(c.denyErr || EACCES, 'open', `/proc/sys/net/${rel}`);
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
  if (isNativeErrno(e) && e.errno === EBADF && e.syscall === 'write' && e.hint === undefined) e.hint = readOnlyHint(rel);
  return e;
}

function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e);
  }
}

/** How one of a rootless command's stdin/stdout/stderr is connected. */
export type RootlessStdio = 'pipe' | 'inherit' | 'ignore' | number;

/** Options of {@link RootlessHelper.spawn}, a subset of `child_process.spawn`'s. */
export interface RootlessSpawnOptions {
  /** Working directory of the command (default: this process's). */
  cwd?: string;
  /** Environment (default: `process.env`). `PATH` in it is used to find the command. */
  env?: NodeJS.ProcessEnv;
  /** `argv[0]` of the command (default: `command`). */
  argv0?: string;
  /** `'pipe'` (default), `'inherit'`, `'ignore'`, an fd; one value or one per stream. */
  stdio?: RootlessStdio | [RootlessStdio, RootlessStdio, RootlessStdio];
  /** Start the command in a new session (setsid), as `child_process`'s `detached`. */
  detached?: boolean;
}

/** How a command ended: an exit code, or the signal that killed it. */
export interface RootlessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const signalNames = new Map<number, NodeJS.Signals>(
  Object.entries(osConstants.signals).map(([k, v]) => [v as number, k as NodeJS.Signals]),
);

/**
 * A command started inside a rootless namespace: a `ChildProcess`-like object. It is a child
 * of this process (the helper starts it with CLONE_PARENT), reaped here. Events: `'exit'`
 * (code, signal) and `'close'` (code, signal) once stdout/stderr have closed too.
 */
export class RootlessChild extends EventEmitter {
  /** Its pid (the same number in this process's pid namespace). */
  readonly pid: number;
  /** Writable end of its stdin when `'pipe'`, else null. */
  readonly stdin: net.Socket | null;
  /** Readable end of its stdout when `'pipe'`, else null. */
  readonly stdout: net.Socket | null;
  /** Readable end of its stderr when `'pipe'`, else null. */
  readonly stderr: net.Socket | null;
  /** `[stdin, stdout, stderr]`. */
  readonly stdio: [net.Socket | null, net.Socket | null, net.Socket | null];
  /** Exit code once it has exited normally, else null. */
  exitCode: number | null = null;
  /** Name of the signal that killed it, else null. */
  signalCode: NodeJS.Signals | null = null;
  /** Whether kill() delivered a signal. */
  killed = false;
  /** Resolves when it has exited (and has been reaped). Never rejects for a normal exit. */
  readonly exited: Promise<RootlessExit>;
  #pidfd: number;

  /** @internal */
  constructor(pid: number, pidfd: number, streams: [net.Socket | null, net.Socket | null, net.Socket | null]) {
    super();
    this.pid = pid;
    this.#pidfd = pidfd;
    this.stdio = streams;
    [this.stdin, this.stdout, this.stderr] = streams;
    const readers = [this.stdout, this.stderr].filter((s): s is net.Socket => s !== null);
    const closed = Promise.all(
      readers.map((s) => new Promise<void>((res) => (s.closed ? res() : s.once('close', () => res())))),
    );
    this.exited = native.pidfdWait(pidfd, pid).then(
      ([code, sig]) => {
        this.#release();
        this.exitCode = code;
        this.signalCode = sig === null ? null : (signalNames.get(sig) ?? (`SIG${sig}` as NodeJS.Signals));
        const r: RootlessExit = { code: this.exitCode, signal: this.signalCode };
        if (this.stdin && !this.stdin.destroyed) this.stdin.destroy();
        this.emit('exit', r.code, r.signal);
        void closed.then(() => this.emit('close', r.code, r.signal));
        return r;
      },
      (e: unknown) => {
        this.#release();
        const err = toNetnsError(e);
        this.emit('error', err);
        throw err;
      },
    );
    // 'error' listeners are optional; an unobserved rejection of `exited` must not crash.
    this.exited.catch(() => {});
  }

  #release(): void {
    if (this.#pidfd >= 0) {
      native.close(this.#pidfd);
      this.#pidfd = -1;
    }
  }

  /** Send a signal (default SIGTERM) through its pidfd. Returns false once it has exited. */
  kill(signal: NodeJS.Signals | number = 'SIGTERM'): boolean {
    const n = typeof signal === 'number' ? signal : (osConstants.signals as Record<string, number>)[signal];
    if (n === undefined || !Number.isInteger(n)) invalid('a signal name or number', 'signal', signal);
    if (this.#pidfd < 0) return false;
    try {
      native.pidfdSendSignal(this.#pidfd, n);
      if (n !== 0) this.killed = true;
      return true;
    } catch {
      return false;
    }
  }
}

function resolveCommand(command: string, env: NodeJS.ProcessEnv, cwd: string | undefined): string {
  const base = cwd ?? process.cwd();
  if (command.includes('/')) return path.resolve(base, command);
  const dirs = (env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':');
  for (const d of dirs) {
    const p = path.resolve(base, d || '.', command);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      /* next */
    }
  }
  throw new NetnsError(ENOENT, 'spawn', {
    path: command,
    hint: `${command} was not found in PATH (${dirs.join(':')})`,
  });
}

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
      r = native.rootlessStart(uid, gid, REPLY_TIMEOUT_MS);
    } catch (e) {
      if (!isNativeErrno(e)) throw e;
      const code = (toNetnsError(e) as NetnsError).code;
      const opts: { hint: string; path?: string } = { hint: userNamespaceRefusalHint(code, e.syscall) };
      if (e.path !== undefined) opts.path = e.path;
      throw new NetnsError(e.errno, e.syscall, opts);
    }
    const st: HelperState = { sock: r.sock, pid: r.pid, pidfd: r.pidfd, fds: new Map(), closed: false };
    let netFd = -1;
    try {
      if (r.capEff === 0n)
        throw new NetnsError(EPERM, 'capget', {
          hint: `The rootless helper has no capabilities inside its user namespace. ${userNamespaceRefusalHint('EPERM', 'clone')}`,
        });
      let userFd: number;
      try {
        [netFd, userFd] = native.rootlessIds(r.sock);
      } catch (e) {
        throw toNetnsError(e, { hint: 'The rootless helper could not hand over its namespaces' });
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
  spawn(command: string, args: readonly string[] = [], options: RootlessSpawnOptions = {}): RootlessChild {
    if (typeof command !== 'string' || command.length === 0) invalid('a non-empty string', 'command', command);
    if (!Array.isArray(args) || args.some((a) => typeof a !== 'string')) invalid('an array of strings', 'args', args);
    if (options === null || typeof options !== 'object') invalid('an options object', 'options', options);
    if (this.#st.closed) throw new Error('This rootless namespace handle is closed');
    const env = options.env ?? process.env;
    const cwd = options.cwd;
    if (cwd !== undefined && typeof cwd !== 'string') invalid('a string', 'options.cwd', cwd);
    const file = resolveCommand(command, env, cwd);
    const argv = [options.argv0 ?? command, ...args];
    const envList = Object.entries(env)
      .filter((kv): kv is [string, string] => kv[1] !== undefined)
      .map(([k, v]) => `${k}=${v}`);
    for (const s of [file, ...argv, ...envList, cwd ?? ''])
      if (s.includes('\0')) invalid('strings without NUL bytes', 'command, args, env and cwd', s, RangeError);
    const spec = options.stdio ?? 'pipe';
    const specs: RootlessStdio[] = Array.isArray(spec) ? [...spec] : [spec, spec, spec];
    if (specs.length !== 3) invalid('one stdio value or three', 'options.stdio', spec);

    const childFds: number[] = [];
    const toClose: number[] = [];
    const parentFds: (number | null)[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const s = specs[i];
        if (s === 'pipe') {
          const [r, w] = native.pipe();
          const mine = i === 0 ? w : r;
          const theirs = i === 0 ? r : w;
          parentFds.push(mine);
          childFds.push(theirs);
          toClose.push(theirs);
        } else if (s === 'inherit') {
          parentFds.push(null);
          childFds.push(i);
        } else if (s === 'ignore') {
          const fd = fs.openSync('/dev/null', i === 0 ? 'r' : 'w');
          parentFds.push(null);
          childFds.push(fd);
          toClose.push(fd);
        } else if (typeof s === 'number' && Number.isInteger(s) && s >= 0) {
          parentFds.push(null);
          childFds.push(s);
        } else invalid("'pipe', 'inherit', 'ignore' or an fd", `options.stdio[${i}]`, s);
      }
      let pid: number, pidfd: number;
      try {
        [pid, pidfd] = native.rootlessSpawn(
          this.#st.sock,
          file,
          argv,
          envList,
          cwd ?? null,
          childFds as [number, number, number],
          options.detached === true,
        );
      } catch (e) {
        throw toNetnsError(e);
      }
      const streams = parentFds.map((fd, i) =>
        fd === null ? null : new net.Socket({ fd, readable: i !== 0, writable: i === 0 }),
      ) as [net.Socket | null, net.Socket | null, net.Socket | null];
      parentFds.length = 0; // owned by the sockets now
      return new RootlessChild(pid, pidfd, streams);
    } finally {
      for (const fd of toClose) native.close(fd);
      for (const fd of parentFds) if (fd !== null) native.close(fd);
    }
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
