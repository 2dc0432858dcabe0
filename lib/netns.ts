// NetNamespace: a handle that owns one O_CLOEXEC fd on a network namespace.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NetnsError, invalid, toNetnsError, wrap } from './errors.js';
import { native } from './native/index.js';
import { SwitchingBackend, type SysctlBackend } from './backend.js';
import { Sysctl } from './sysctl.js';
import { RootlessHelper, hasCapSysAdmin, rootlessSupport } from './rootless.js';

const C = native.constants;

/** Where iproute2 keeps named namespaces, in the order it looks. */
export const NETNS_RUN_DIRS = ['/run/netns', '/var/run/netns'] as const;

/** One network namespace found on the host by {@link NetNamespace.list}. */
export interface NamespaceInfo {
  /** `"DEV:INO"` of the namespace. */
  id: string;
  /** Names under /run/netns (or /var/run/netns) that are bind mounts of it. */
  names: string[];
  /** Processes whose main thread is in it, ascending. */
  pids: number[];
  /**
   * Command line of its first readable pid (arguments joined by spaces, as `ps -o args` shows them), or
   * `[comm]` for a kernel thread; absent when there is no pid or it cannot be read.
   */
  command?: string;
}

/** Options of {@link NetNamespace.create}. */
export interface CreateOptions {
  /** Also make it a named namespace, visible to `ip netns` as /run/netns/NAME. */
  name?: string;
  /**
   * Rootless mode: a namespace owned by a new user namespace of this user, held by a helper
   * process (see {@link NetNamespace.rootless}); needs no privilege. `true` forces it, `false`
   * forbids it. Left out, it is chosen for an anonymous namespace when this process lacks
   * CAP_SYS_ADMIN. Cannot be combined with `name`.
   */
  rootless?: boolean;
}

const registry = new FinalizationRegistry<number>((fd) => {
  try {
    native.close(fd);
  } catch {
    /* already gone */
  }
});

function checkPid(pid: unknown): number {
  if (typeof pid !== 'number' || !Number.isInteger(pid)) invalid('an integer', 'pid', pid);
  if (pid < 1 || pid > 0x3fffffff) invalid('a positive pid', 'pid', pid, RangeError);
  return pid;
}

/** Validate a namespace name as iproute2 would accept it (a single path component). */
export function checkName(name: unknown): string {
  if (typeof name !== 'string') invalid('a string', 'name', name);
  if (name.length === 0 || name.length > 255 || name === '.' || name === '..' || /[/\0]/.test(name))
    invalid('a namespace name (1-255 characters, no "/", NUL, "." or "..")', 'name', name, RangeError);
  return name;
}

function idOf(dev: number | bigint, ino: number | bigint): string {
  return `${dev}:${ino}`;
}

/**
 * A handle on one network namespace. It owns a close-on-exec fd that keeps the namespace
 * alive; `close()` releases it (idempotent), and so does a finalizer if the handle is
 * dropped. Every method throws after `close()`.
 */
export class NetNamespace implements Disposable {
  #fd: number;
  #closed = false;
  /** Device number of the nsfs inode. */
  readonly dev: number;
  /** Inode number of the namespace (what `readlink /proc/PID/ns/net` shows as net:[INO]). */
  readonly ino: number;
  /** `"DEV:INO"`: identifies the namespace while it is alive (inode numbers are reused later). */
  readonly id: string;
  /** The name it was opened or created by, if any. */
  readonly name: string | undefined;
  /** Read and write /proc/sys/net inside this namespace. */
  readonly sysctl: Sysctl;
  /**
   * For a rootless namespace, the helper process that holds it: `spawn()` starts commands
   * inside, `pid` and `userNsId` identify it. Undefined for every other handle.
   */
  readonly rootless: RootlessHelper | undefined;

  /** @internal Use the static constructors. Takes ownership of `fd` (and of `rootless`). */
  constructor(fd: number, name?: string, backend?: SysctlBackend, rootless?: RootlessHelper) {
    const info = wrap(() => native.nsInfo(fd));
    if (info.nsType !== C.CLONE_NEWNET) {
      native.close(fd);
      throw new NetnsError(22, 'setns', {
        message: 'EINVAL: not a network namespace',
        hint: 'Pass a network namespace fd',
      });
    }
    this.#fd = fd;
    this.dev = info.dev;
    this.ino = info.ino;
    this.id = idOf(info.dev, info.ino);
    this.name = name;
    this.rootless = rootless;
    registry.register(this, fd, this);
    this.sysctl = new Sysctl(backend ?? new SwitchingBackend(() => this.fd), this.id);
  }

  /** The namespace of the calling JS thread (inside `runSync`, the namespace it runs in). */
  static current(): NetNamespace {
    return new NetNamespace(wrap(() => native.open('/proc/thread-self/ns/net')));
  }

  /**
   * The namespace of process `pid`, race-free: if the process exits, or its pid is reused,
   * between lookup and opening, this throws ESRCH and never returns another process's
   * namespace. Uses a pidfd (Linux >= 5.3, and PIDFD_GET_NET_NAMESPACE on >= 6.11), else a
   * /proc/PID directory fd, which also stays bound to the one process.
   */
  static fromPid(pid: number): NetNamespace {
    checkPid(pid);
    const gone = (): NetnsError =>
      new NetnsError(3, 'open', {
        path: `/proc/${pid}/ns/net`,
        hint: `Process ${pid} has exited (or is a zombie); there is no namespace to open`,
      });
    let pidfd = -1;
    try {
      pidfd = native.pidfdOpen(pid);
    } catch (e) {
      const err = toNetnsError(e) as NetnsError;
      if (err.code === 'ESRCH') throw gone();
      if (err.code !== 'ENOSYS' && err.code !== 'EPERM') throw err;
    }
    if (pidfd < 0) return NetNamespace.#fromProcDir(pid, gone);
    try {
      let fd: number;
      try {
        fd = native.pidfdGetNetns(pidfd);
      } catch (e) {
        const err = toNetnsError(e) as NetnsError;
        if (err.code === 'ESRCH') throw gone();
        if (err.code === 'EPERM' || err.code === 'EACCES')
          throw new NetnsError(-err.errno, 'open', {
            path: `/proc/${pid}/ns/net`,
            hint: 'Opening another process\'s namespace needs ptrace access to it (root, or CAP_SYS_PTRACE)',
          });
        // Older kernel: open through /proc, then prove the pidfd's process is still alive,
        // so the path did not name a newer process that reused the pid.
        fd = NetNamespace.#openProcNs(pid, gone);
        try {
          native.pidfdSendSignal(pidfd, 0);
        } catch (e2) {
          const err2 = toNetnsError(e2) as NetnsError;
          if (err2.code !== 'EPERM') {
            native.close(fd);
            throw err2.code === 'ESRCH' ? gone() : err2;
          }
        }
      }
      return new NetNamespace(fd);
    } finally {
      native.close(pidfd);
    }
  }

  static #openProcNs(pid: number, gone: () => NetnsError): number {
    try {
      return native.open(`/proc/${pid}/ns/net`);
    } catch (e) {
      const err = toNetnsError(e) as NetnsError;
      if (err.code === 'ENOENT' || err.code === 'ESRCH') throw gone();
      if (err.code === 'EACCES' || err.code === 'EPERM')
        throw new NetnsError(-err.errno, 'open', {
          path: `/proc/${pid}/ns/net`,
          hint: 'Opening another process\'s namespace needs ptrace access to it (root, or CAP_SYS_PTRACE)',
        });
      throw err;
    }
  }

  static #fromProcDir(pid: number, gone: () => NetnsError): NetNamespace {
    let dir: number;
    try {
      dir = native.open(`/proc/${pid}`, C.O_DIRECTORY);
    } catch (e) {
      const err = toNetnsError(e) as NetnsError;
      throw err.code === 'ENOENT' ? gone() : err;
    }
    try {
      return new NetNamespace(native.openat(dir, 'ns/net'));
    } catch (e) {
      const err = toNetnsError(e) as NetnsError;
      throw err.code === 'ENOENT' || err.code === 'ESRCH' ? gone() : err;
    } finally {
      native.close(dir);
    }
  }

  /**
   * A namespace from a file: `/proc/PID/ns/net`, `/proc/PID/task/TID/ns/net`,
   * `/run/netns/NAME`, or any other bind mount of one. Anything else (a regular file,
   * `/dev/null`, another kind of namespace) fails with EINVAL.
   */
  static fromPath(file: string, name?: string): NetNamespace {
    if (typeof file !== 'string' || file.length === 0) invalid('a non-empty path', 'path', file);
    if (file.includes('\0')) invalid('a path without NUL bytes', 'path', file, RangeError);
    const fd = wrap(() => native.open(file, fs.constants.O_NONBLOCK), {
      path: file,
      hint: undefined,
    });
    const info = wrap(() => native.nsInfo(fd));
    if (info.nsType !== C.CLONE_NEWNET) {
      native.close(fd);
      const what =
        info.nsType > 0
          ? `it is a ${nsTypeName(info.nsType)} namespace, not a network namespace`
          : info.fsType === C.NSFS_MAGIC || info.fsType === C.PROC_SUPER_MAGIC
            ? 'it is not a namespace file'
            : 'it is not a namespace file (expected /proc/PID/ns/net or a bind mount of one, such as /run/netns/NAME)';
      throw new NetnsError(22, 'open', {
        path: file,
        message: `EINVAL: not a network namespace, open '${file}'`,
        hint: what.charAt(0).toUpperCase() + what.slice(1),
      });
    }
    return new NetNamespace(fd, name);
  }

  /** A named namespace, as `ip netns` names them: /run/netns/NAME, then /var/run/netns/NAME. */
  static fromName(name: string): NetNamespace {
    checkName(name);
    for (const dir of NETNS_RUN_DIRS) {
      const file = path.join(dir, name);
      if (!fs.existsSync(file)) continue;
      return NetNamespace.fromPath(file, name);
    }
    throw new NetnsError(2, 'open', {
      path: path.join(NETNS_RUN_DIRS[0], name),
      hint: `No network namespace named "${name}" in ${NETNS_RUN_DIRS.join(' or ')}; create it with NetNamespace.create({ name }) or \`ip netns add ${name}\``,
    });
  }

  /** A handle on a namespace fd the caller owns. The fd is duplicated; the caller keeps theirs. */
  static fromFd(fd: number): NetNamespace {
    if (typeof fd !== 'number' || !Number.isInteger(fd)) invalid('an integer', 'fd', fd);
    if (fd < 0 || fd > 0x7fffffff) invalid('an fd between 0 and 2147483647', 'fd', fd, RangeError);
    const mine = wrap(() => native.dup(fd), { hint: 'The fd is not open' });
    const info = wrap(() => native.nsInfo(mine));
    if (info.nsType !== C.CLONE_NEWNET) {
      native.close(mine);
      throw new NetnsError(22, 'setns', {
        message: `EINVAL: fd ${fd} is not a network namespace`,
        hint:
          info.nsType > 0
            ? `It is a ${nsTypeName(info.nsType)} namespace`
            : info.fsType === C.NSFS_MAGIC
              ? 'It is a namespace file opened with O_PATH, which setns(2) refuses: open it O_RDONLY'
              : 'It is not a namespace at all',
      });
    }
    return new NetNamespace(mine);
  }

  /**
   * A new network namespace. The calling thread does not move: the namespace is made on a
   * short-lived thread the addon owns. Anonymous namespaces live as long as this handle (or
   * anything else) holds them. With `name`, it is also bind-mounted at /run/netns/NAME exactly
   * as `ip netns add` does, and outlives the handle until {@link NetNamespace.remove}.
   */
  static create(options: CreateOptions = {}): NetNamespace {
    if (options === null || typeof options !== 'object') invalid('an options object', 'options', options);
    const name = options.name === undefined ? undefined : checkName(options.name);
    if (options.rootless !== undefined && typeof options.rootless !== 'boolean')
      invalid('a boolean', 'options.rootless', options.rootless);
    if (options.rootless === true && name !== undefined)
      invalid('no name with rootless: true (a rootless namespace cannot be mounted under /run/netns)', 'options.name', name);
    // Automatic rootless: without CAP_SYS_ADMIN, or when the thread could enter a namespace it
    // makes but never switch back (root of a user namespace of its own: rootless containers),
    // provided user namespaces are available there.
    if (
      options.rootless === true ||
      (options.rootless === undefined &&
        name === undefined &&
        (!hasCapSysAdmin() || (native.wayBack() !== 0 && rootlessSupport().available)))
    ) {
      const { helper, netnsFd } = RootlessHelper.start();
      try {
        return new NetNamespace(netnsFd, undefined, helper.backend, helper);
      } catch (e) {
        helper.close();
        throw e;
      }
    }
    if (name === undefined) {
      return new NetNamespace(wrap(() => native.createNetns(), { action: 'create a network namespace' }));
    }
    const dir = NETNS_RUN_DIRS[0];
    makeRunDir(dir);
    const file = path.join(dir, name);
    let created = false;
    let fd = -1;
    try {
      try {
        fs.closeSync(fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0));
        created = true;
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        throw new NetnsError(err.errno ?? 17, 'open', {
          path: file,
          hint:
            err.code === 'EEXIST'
              ? `A namespace named "${name}" already exists; open it with NetNamespace.fromName("${name}") or remove it first`
              : undefined,
        });
      }
      fd = wrap(() => native.createNetns(), { action: 'create a network namespace' });
      const owned = fd;
      wrap(() => native.mount(`/proc/self/fd/${owned}`, file, 'none', C.MS_BIND), { path: file });
      const ns = new NetNamespace(fd, name);
      fd = -1;
      return ns;
    } catch (e) {
      if (fd >= 0) native.close(fd);
      if (created) {
        try {
          fs.unlinkSync(file);
        } catch {
          /* best effort */
        }
      }
      throw e;
    }
  }

  /**
   * Delete a named namespace as `ip netns delete` does: lazy unmount, then unlink. The
   * namespace itself goes away once nothing else holds it.
   */
  static remove(name: string): void {
    checkName(name);
    let found = false;
    for (const dir of NETNS_RUN_DIRS) {
      const file = path.join(dir, name);
      if (!fs.existsSync(file)) continue;
      found = true;
      try {
        native.umount2(file, C.MNT_DETACH);
      } catch (e) {
        const err = toNetnsError(e, { path: file }) as NetnsError;
        if (err.code !== 'EINVAL') throw err; // EINVAL: not a mount point (a stale file)
      }
      try {
        fs.unlinkSync(file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      break;
    }
    if (!found)
      throw new NetnsError(2, 'unlink', {
        path: path.join(NETNS_RUN_DIRS[0], name),
        hint: `No network namespace named "${name}"`,
      });
  }

  /**
   * Every network namespace on the host that is named (/run/netns) or that some process is
   * in, with its names and pids. Processes that cannot be inspected (no permission) are left
   * out.
   */
  static list(): NamespaceInfo[] {
    const self = fs.statSync('/proc/self/ns/net');
    const nsfsDev = self.dev;
    const byId = new Map<string, NamespaceInfo>();
    const entry = (id: string): NamespaceInfo => {
      let e = byId.get(id);
      if (!e) byId.set(id, (e = { id, names: [], pids: [] }));
      return e;
    };
    const seenDirs = new Set<string>();
    for (const dir of NETNS_RUN_DIRS) {
      let real: string;
      let names: string[];
      try {
        real = fs.realpathSync(dir);
        if (seenDirs.has(real)) continue;
        seenDirs.add(real);
        names = fs.readdirSync(dir);
      } catch {
        continue;
      }
      for (const n of names) {
        try {
          const st = fs.statSync(path.join(dir, n));
          if (st.dev !== nsfsDev) continue; // a file that is not (or no longer) mounted
          const e = entry(idOf(st.dev, st.ino));
          if (!e.names.includes(n)) e.names.push(n);
        } catch {
          /* raced with removal */
        }
      }
    }
    for (const p of fs.readdirSync('/proc')) {
      if (!/^[0-9]+$/.test(p)) continue;
      try {
        const st = fs.statSync(`/proc/${p}/ns/net`);
        entry(idOf(st.dev, st.ino)).pids.push(Number(p));
      } catch {
        /* exited, kernel thread or no permission */
      }
    }
    const out = [...byId.values()];
    for (const e of out) {
      e.pids.sort((a, b) => a - b);
      e.names.sort();
      for (const pid of e.pids) {
        const command = commandOf(pid);
        if (command !== undefined) {
          e.command = command;
          break;
        }
      }
    }
    return out.sort((a, b) => (a.pids[0] ?? Infinity) - (b.pids[0] ?? Infinity) || a.id.localeCompare(b.id));
  }

  /** The owned fd. Valid until `close()`. Do not close it yourself. */
  get fd(): number {
    if (this.#closed) throw closedError();
    return this.#fd;
  }

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** True when both handles refer to the same namespace (same device and inode). */
  equals(other: NetNamespace): boolean {
    if (!(other instanceof NetNamespace)) invalid('a NetNamespace', 'other', other);
    if (this.#closed || other.closed) throw closedError();
    return this.dev === other.dev && this.ino === other.ino;
  }

  /**
   * Run `fn` synchronously with the calling JS thread inside this namespace, and switch back
   * before returning, even if `fn` throws. What `fn` does synchronously happens inside:
   * sockets it creates and processes it spawns (`child_process.spawn`) belong to this
   * namespace. Callbacks that run later, `await` continuations and libuv pool work
   * (`dns.lookup`, `fs.promises`) do not. Async functions are refused for that reason.
   */
  runSync<T>(fn: () => T): T {
    if (typeof fn !== 'function') invalid('a function', 'fn', fn);
    if (fn.constructor?.name === 'AsyncFunction' || fn.constructor?.name === 'AsyncGeneratorFunction')
      throw new TypeError(
        'Expected a synchronous function for fn but received an async function: only the part before its first await would run inside the namespace',
      );
    const fd = this.fd;
    try {
      return native.runIn(fd, fn);
    } catch (e) {
      throw toNetnsError(e, { action: 'enter the namespace' });
    }
  }

  /** Release the fd. Idempotent; returns `this`. */
  close(): this {
    if (!this.#closed) {
      this.#closed = true;
      registry.unregister(this);
      native.close(this.#fd);
      this.#fd = -1;
      this.rootless?.close();
    }
    return this;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** @internal */
  toJSON(): { id: string; name?: string } {
    return this.name === undefined ? { id: this.id } : { id: this.id, name: this.name };
  }
}

/** `/proc/PID/cmdline` with NULs as spaces, `[comm]` for a kernel thread, undefined if gone. */
function commandOf(pid: number): string | undefined {
  try {
    const args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    while (args.length > 0 && args[args.length - 1] === '') args.pop();
    if (args.length > 0) return args.join(' ');
    return `[${fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim()}]`;
  } catch {
    return undefined; // exited meanwhile, or not ours to read
  }
}

function closedError(): Error {
  return new Error('This NetNamespace handle is closed');
}

function nsTypeName(t: number): string {
  for (const [k, v] of Object.entries(C)) if (k.startsWith('CLONE_NEW') && v === t) return NS_NAMES[k] ?? k;
  return `0x${t.toString(16)}`;
}

const NS_NAMES: Record<string, string> = {
  CLONE_NEWNS: 'mount',
  CLONE_NEWCGROUP: 'cgroup',
  CLONE_NEWUTS: 'uts',
  CLONE_NEWIPC: 'ipc',
  CLONE_NEWUSER: 'user',
  CLONE_NEWPID: 'pid',
  CLONE_NEWTIME: 'time',
};

/** Make /run/netns exist and be a shared mount, as `ip netns add` does. */
function makeRunDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  let bound = false;
  for (;;) {
    try {
      native.mount('', dir, 'none', C.MS_SHARED | C.MS_REC);
      return;
    } catch (e) {
      const err = toNetnsError(e, { path: dir }) as NetnsError;
      if (err.code !== 'EINVAL' || bound) throw err;
      // Not a mount point yet: bind it onto itself, then make that shared.
      wrap(() => native.mount(dir, dir, 'none', C.MS_BIND | C.MS_REC), { path: dir });
      bound = true;
    }
  }
}
