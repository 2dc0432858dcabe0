// NetNamespace: a handle that owns one O_CLOEXEC fd on a network namespace. The ways to get
// one live beside it: pid.ts (by pid), container.ts (a container's), open.ts (current, path,
// fd), named.ts (/run/netns), create.ts (new namespaces), list.ts (the host's namespaces).
import { ERRNO, closedError, invalid, netnsError, toNetnsError, wrap } from '../errors.js';
import { native } from '../native/index.js';
import { SwitchingBackend, type SysctlBackend } from '../sysctl/backend.js';
import { Sysctl } from '../sysctl/sysctl.js';
import type { RootlessHelper } from '../rootless/helper.js';
import { openPidNamespace } from './pid.js';
import { dupNamespaceFd, openCurrent, openPath } from './open.js';
import { openNamed, removeNamed } from './named.js';
import { createNamespace, type CreateOptions } from './create.js';
import { listNamespaces, type ListOptions, type NamespaceInfo } from './list.js';
import { openContainerNamespace, openFoundContainer } from './container.js';
import type { ContainerInfo, ContainerOptions } from '../container/types.js';

export { NETNS_RUN_DIRS } from './named.js';
export type { CreateOptions } from './create.js';
export type { NamespaceInfo, NamespaceContainer, ListOptions } from './list.js';

const C = native.constants;

const registry = new FinalizationRegistry<number>((fd) => {
  try {
    native.close(fd);
  } catch {
    /* already gone */
  }
});

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
  /**
   * For a handle from {@link fromContainer}, the container whose namespace it is, as its state
   * on disk recorded it when it was opened (say which one a query found: its runtime, id,
   * names, state file). Undefined for every other handle.
   */
  readonly container: ContainerInfo | undefined;

  /** Use the static constructors. (Takes ownership of `fd`, and of `rootless`.) */
  private constructor(
    fd: number,
    name?: string,
    backend?: SysctlBackend,
    rootless?: RootlessHelper,
    container?: ContainerInfo,
  ) {
    const info = wrap(() => native.nsInfo(fd));
    if (info.nsType !== C.CLONE_NEWNET) {
      native.close(fd);
      throw netnsError(ERRNO.EINVAL, 'setns', {
        message: 'EINVAL: not a network namespace',
        reason: 'not-a-netns',
        detail: 'Pass a network namespace fd',
      });
    }
    this.#fd = fd;
    this.dev = info.dev;
    this.ino = info.ino;
    this.id = `${info.dev}:${info.ino}`;
    this.name = name;
    this.rootless = rootless;
    this.container = container;
    registry.register(this, fd, this);
    this.sysctl = Sysctl.of(backend ?? new SwitchingBackend(() => this.fd, info), this.id);
  }

  /** The namespace of the calling JS thread (inside `runSync`, the namespace it runs in). */
  static current(): NetNamespace {
    return new NetNamespace(openCurrent());
  }

  /**
   * The namespace of process `pid`, race-free: if the process exits, or its pid is reused,
   * between lookup and opening, this throws ESRCH and never returns another process's
   * namespace. Uses a pidfd (Linux >= 5.3, and PIDFD_GET_NET_NAMESPACE on >= 6.11), else a
   * /proc/PID directory fd, which also stays bound to the one process.
   */
  static fromPid(pid: number): NetNamespace {
    return new NetNamespace(openPidNamespace(pid));
  }

  /**
   * A namespace from a file: `/proc/PID/ns/net`, `/proc/PID/task/TID/ns/net`,
   * `/run/netns/NAME`, or any other bind mount of one. Anything else (a regular file,
   * `/dev/null`, another kind of namespace) fails with EINVAL.
   */
  static fromPath(file: string, name?: string): NetNamespace {
    return new NetNamespace(openPath(file), name);
  }

  /**
   * The namespace of a running container, found in its runtime's state on disk (runc, crun,
   * Docker, containerd, Podman, CRI-O; no runtime binary or daemon is called). `id` is a full
   * id or a name (Docker's, Podman's, Kubernetes' container name or POD/CONTAINER), in any root
   * searched; only when nothing has that exact id or name, a unique prefix of a generated
   * 64-hex id (never of a name or of an id a person chose). Several matches: EINVAL listing them.
   * The handle's `container` says which one was found. Race-free: the recorded start time of the container's init process is checked
   * against the live process pinned by a pidfd, so a container that stopped or restarted
   * gives ESRCH, never another process's namespace. The handle's `name` is the container id.
   * `id` may also be a {@link ContainerInfo} from `listContainers()`: it is opened with the same
   * checks, without looking it up again.
   */
  static fromContainer(id: string | ContainerInfo, options: ContainerOptions = {}): NetNamespace {
    if (id !== null && typeof id === 'object')
      return new NetNamespace(openFoundContainer(id), id.id, undefined, undefined, id);
    const { fd, container } = openContainerNamespace(id, options);
    return new NetNamespace(fd, container.id, undefined, undefined, container);
  }

  /** A named namespace, as `ip netns` names them: /run/netns/NAME, then /var/run/netns/NAME. */
  static fromName(name: string): NetNamespace {
    return new NetNamespace(openNamed(name), name);
  }

  /** A handle on a namespace fd the caller owns. The fd is duplicated; the caller keeps theirs. */
  static fromFd(fd: number): NetNamespace {
    return new NetNamespace(dupNamespaceFd(fd));
  }

  /**
   * A new network namespace. The calling thread does not move: the namespace is made on a
   * short-lived thread the addon owns. Anonymous namespaces live as long as this handle (or
   * anything else) holds them. With `name`, it is also bind-mounted at /run/netns/NAME exactly
   * as `ip netns add` does, and outlives the handle until {@link NetNamespace.remove}.
   */
  static create(options: CreateOptions = {}): NetNamespace {
    const made = createNamespace(options);
    try {
      return new NetNamespace(made.fd, made.name, made.helper?.backend, made.helper);
    } catch (e) {
      made.helper?.close();
      throw e;
    }
  }

  /**
   * Delete a named namespace as `ip netns delete` does: lazy unmount, then unlink. The
   * namespace itself goes away once nothing else holds it.
   */
  static remove(name: string): void {
    removeNamed(name);
  }

  /**
   * Every network namespace on the host that is named (/run/netns) or that some process is
   * in, with its names, pids and the running containers in it (see {@link fromContainer} for
   * where they are looked up). Processes that cannot be inspected (no permission) are left out.
   */
  static list(options: ListOptions = {}): NamespaceInfo[] {
    return listNamespaces(options);
  }

  /** The owned fd. Valid until `close()`. Do not close it yourself. */
  get fd(): number {
    if (this.#closed) throw closedError('NetNamespace handle', 'setns');
    return this.#fd;
  }

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** True when both handles refer to the same namespace (same device and inode). */
  equals(other: NetNamespace): boolean {
    if (!(other instanceof NetNamespace)) invalid('a NetNamespace', 'other', other);
    if (this.#closed || other.closed) throw closedError('NetNamespace handle', 'setns');
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
