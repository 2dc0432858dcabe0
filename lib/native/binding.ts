// The private, typed contract of the native addon (native/*.cc): the production functions
// exactly as the addon returns them. Not part of the public API: everything here takes
// validated, positional arguments; policy lives in the callers. Test-only hooks are typed
// apart, in ./testing.ts.
import bindings from 'bindings';
import { fileURLToPath } from 'node:url';

/**
 * Why a failure happened, when the errno alone does not say:
 * - 'way-back-barred': a setns refused before entering, because this thread could not come
 *   back (root of a user namespace of its own: it may enter namespaces, never return).
 */
export type NativeReason = 'way-back-barred';

/** An error thrown by the addon: errno is positive here; NetnsError normalises it. */
export interface NativeErrno {
  message?: string;
  errno: number;
  syscall: string;
  path?: string;
  nativeErrno: true;
  reason?: NativeReason;
  /** Advice from a backend that knows more than the errno (e.g. the rootless backend). */
  hint?: string;
}

/** What a batch or walk entry holds: the value, null (written, not readable), or an error. */
export type NativeOutcome = string | null | NativeErrno;

export interface NsInfo {
  dev: number;
  ino: number;
  mode: number;
  fsType: number;
  /** CLONE_NEW* of the namespace, or -errno when the fd is not a namespace. */
  nsType: number;
}

/** A walk as both backends return it: the packed encoding of native/sysctl_core.h (decode with ./walk.ts). */
export type PackedWalk = string & { readonly __packedWalk: unique symbol };

/** What the clone child reported (native/clone.cc). */
export interface CloneReport {
  pid: number;
  /** Identity of the child's namespace, from its own stat of /proc/self/ns/net. */
  dev?: number;
  ino?: number;
  identError?: NativeErrno;
  /** One per requested op; undefined when the child died before reporting it. */
  results: (NativeOutcome | undefined)[];
  exitCode: number | null;
  signal: number | null;
  protocolError: boolean;
}

/** What rootlessStart returns: the helper process and our end of its socket. */
export interface RootlessStartResult {
  pid: number;
  /** pidfd on the helper, or -1 on kernels without pidfds. */
  pidfd: number;
  /** Our end of the SOCK_SEQPACKET socketpair. */
  sock: number;
  /** The helper's effective capability set inside its user namespace. */
  capEff: bigint;
}

export interface NativeConstants {
  CLONE_NEWNS: number;
  CLONE_NEWCGROUP: number;
  CLONE_NEWUTS: number;
  CLONE_NEWIPC: number;
  CLONE_NEWUSER: number;
  CLONE_NEWPID: number;
  CLONE_NEWNET: number;
  CLONE_NEWTIME: number;
  MS_BIND: number;
  MS_REC: number;
  MS_SHARED: number;
  MNT_DETACH: number;
  NSFS_MAGIC: number;
  PROC_SUPER_MAGIC: number;
  O_DIRECTORY: number;
  /** Walk flag: read each value. */
  WALK_READ: number;
  /** Walk flag: report each entry's permission bits. */
  WALK_MODE: number;
  /** Walk flag: with WALK_READ, keep each file's read fd open and report it (addon only). */
  WALK_KEEP: number;
}

export interface NativeBinding {
  constants: NativeConstants;
  /** Bytes as the string every native call hands out (native/bytes.cc; see ./bytes.ts). */
  fsdecode(bytes: Uint8Array): string;
  /** A string as the bytes every native call takes it for. */
  fsencode(text: string): Buffer;
  setns(fd: number, nstype: number): void;
  unshare(flags: number): void;
  pidfdOpen(pid: number): number;
  pidfdGetNetns(pidfd: number): number;
  pidfdSendSignal(pidfd: number, signal: number): void;
  open(path: string, extraFlags?: number): number;
  openat(dirfd: number, name: string): number;
  close(fd: number): void;
  dup(fd: number): number;
  nsInfo(fd: number): NsInfo;
  /** ioctl(NS_GET_USERNS): an owned fd on the user namespace that owns the namespace `fd`. */
  nsGetUserns(fd: number): number;
  createNetns(): number;
  mount(source: string | null, target: string, fstype: string | null, flags: number): void;
  umount2(target: string, flags: number): void;
  runIn<T>(fd: number, fn: () => T): T;
  /**
   * Where a Promise form called now without a target runs: -1 for the addon's home namespace,
   * else an owned dup of the namespace the JS thread is in (inside runSync).
   */
  callerNs(): number;
  /** 0 when the JS thread could switch back home after entering another namespace, else errno. */
  wayBack(): number;

  sysctlRead(nsfd: number, rel: string): string;
  sysctlWrite(nsfd: number, rel: string, value: string): string | null;
  sysctlBatch(nsfd: number, rels: string[], values: (string | null)[], stopOnError?: boolean): NativeOutcome[];
  /** `bounds`: a core::WalkBounds spec (lib/sysctl/bounds.ts makes it); absent for none. */
  sysctlWalk(nsfd: number, prefix: string, flags: number, bounds?: string): PackedWalk;
  sysctlOpen(nsfd: number, rel: string, access: 0 | 1): [fd: number, granted: 0 | 1 | 2];
  fdRead(fd: number): string;
  /** pread(callArea.fd, readBuffer, 4 KiB, 0): the byte count in callArea.n (use ./call.ts). */
  fdPread(): void;
  /** sysctlRead of callArea.rel in namespace callArea.fd into readBuffer, the count in callArea.n (./call.ts). */
  sysctlReadInto(): void;
  /** Where fdPread and sysctlReadInto leave the bytes (4 KiB, one per environment). */
  readBuffer: ArrayBuffer;
  /** fdPread's and sysctlReadInto's arguments and result (native/netns.h CallArea, ./call.ts). */
  callArea: ArrayBuffer;
  /** pread every fd from offset 0: NUL-terminated outcomes in order, "=value" or "!errno:read". */
  fdReadAll(fds: Int32Array): string;
  fdWrite(fd: number, value: string): void;
  /** `rel` as a string, or as its bytes (a hot key's `relBytes`: no string conversion). */
  sysctlReadAsync(nsfd: number, rel: string | Uint8Array): Promise<string>;
  sysctlWriteAsync(nsfd: number, rel: string, value: string): Promise<string | null>;
  sysctlBatchAsync(
    nsfd: number,
    rels: string[],
    values: (string | null)[],
    stopOnError?: boolean,
  ): Promise<NativeOutcome[]>;
  sysctlWalkAsync(nsfd: number, prefix: string, flags: number, bounds?: string): Promise<PackedWalk>;

  /** clone(CLONE_NEWNET [|CLONE_NEWUSER with maps "0 uid 1" / "0 gid 1"]) running the ops. */
  cloneNetns(rels: string[], values: (string | null)[], user: [uid: number, gid: number] | null): Promise<CloneReport>;

  // native/rootless/rootless.cc: the user-namespace helper process
  rootlessStart(uid: number, gid: number, timeoutMs: number): RootlessStartResult;
  /** Per key: [fd, granted 0 r / 1 rw / 2 w, errno of the refused stronger access or 0], or an error. */
  rootlessOpen(sock: number, rels: string[], access: (0 | 1)[]): ([number, 0 | 1 | 2, number] | NativeErrno)[];
  rootlessWalk(sock: number, prefix: string, flags: number, bounds?: string): PackedWalk;
  /** rootlessOpen with the exchange on a thread of its own. */
  rootlessOpenAsync(
    sock: number,
    rels: string[],
    access: (0 | 1)[],
  ): Promise<([number, 0 | 1 | 2, number] | NativeErrno)[]>;
  /** rootlessWalk with the exchange on a thread of its own. */
  rootlessWalkAsync(sock: number, prefix: string, flags: number, bounds?: string): Promise<PackedWalk>;
  /** [net namespace fd, user namespace fd] of the helper, both owned by the caller. */
  rootlessIds(sock: number): [number, number];
  /** [pid, pidfd] of a command started inside; it is a child of this process. */
  rootlessSpawn(
    sock: number,
    path: string,
    argv: string[],
    env: string[],
    cwd: string | null,
    stdio: [number, number, number],
    setsid: boolean,
  ): [number, number];
  /** Close sock, wait graceMs for the helper to exit, else SIGKILL; reap. Closes pidfd. */
  rootlessStop(sock: number, pid: number, pidfd: number, graceMs: number): boolean;
  pipe(): [number, number];
  /** Reap a child: [exit code, null] or [null, signal number]. Waits on a dedicated thread. */
  pidfdWait(pidfd: number, pid: number): Promise<[number | null, number | null]>;
}

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The loaded addon: a local build (`node-gyp rebuild`, build/Release/) when there is one, else
 * the prebuilt binary of this platform in the package (prebuilds/linux-x64/,
 * prebuilds/linux-arm64/; scripts/prebuild.sh). The rootless helper program is found next to
 * whichever addon loaded (native/rootless/rootless.cc).
 */
const loadOptions: bindings.Options & { prebuild: string } = {
  bindings: 'netns.node',
  module_root: root,
  // bindings joins each entry's parts, replacing a part that names an option by its value.
  prebuild: `${process.platform}-${process.arch}`,
  try: [
    ['module_root', 'build', 'Release', 'bindings'],
    ['module_root', 'prebuilds', 'prebuild', 'bindings'],
  ],
};
// A copy of the addon's exports with fast properties: N-API leaves that object in dictionary
// mode, where every `native.x` is a generic property lookup (bench/analysis.md).
export const native: NativeBinding = { ...(bindings(loadOptions) as NativeBinding) };

export function isNativeErrno(e: unknown): e is NativeErrno {
  return typeof e === 'object' && e !== null && (e as { nativeErrno?: unknown }).nativeErrno === true;
}
