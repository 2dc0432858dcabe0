// Every hint: what to do about an error, chosen from one table by what happened (the errno
// code, the syscall, the operation, the key, the backend, and what the caller knew). Choosing
// one reads nothing: what a hint needs to know (the user-namespace settings, whether the key
// exists in the calling namespace) is passed in `Happened` by whoever raises the error.
import type { NativeReason } from './native/index.js';
import { keyFromRel } from './keypath.js';
import { printable, shellWord } from './printable.js';
import { APPARMOR_RESTRICTS, userNamespaceRefusalHint, type UserNamespaceSettings } from './userns.js';

/** What was being done when the error happened. */
export type Operation =
  /** Reading, writing or opening one sysctl key. */
  | 'read'
  | 'write'
  | 'open'
  /** Opening a namespace: by pid, by name, from an fd. */
  | 'open-pid'
  | 'open-name'
  | 'open-fd'
  /** Opening a container's namespace, found in its runtime's state on disk. */
  | 'open-container'
  /** Making a named namespace, removing one. */
  | 'create-named'
  | 'remove-name'
  /** Starting the rootless helper; it handing over its namespaces; starting a command there. */
  | 'start-rootless'
  | 'rootless-ids'
  | 'spawn'
  /** cloneNetns's child. */
  | 'clone'
  /** classify's probes; explain's lookup. */
  | 'probe'
  | 'explain';

/** Which backend reached the namespace. */
export type BackendKind = 'switching' | 'rootless';

/** What a backend or a check knew beyond the errno. */
export type Reason =
  /** What the addon knew (NativeReason): 'way-back-barred', a setns refused before entering. */
  | NativeReason
  /** A rootless namespace hides this key (it exists in the calling namespace). */
  | 'hidden-in-userns'
  /** A rootless namespace has this key read-only. */
  | 'readonly-in-userns'
  /** A handle (`detail` says which) was used after close(). */
  | 'closed'
  /** The rootless helper did not answer in time, so it was torn down. */
  | 'helper-timed-out'
  /** The rootless helper answered another request than the one asked, so it was torn down. */
  | 'helper-desynchronised'
  /** The rootless helper exited (or was killed), so it was reaped. */
  | 'helper-exited'
  /** This process's capabilities could not be read (/proc/self/status). */
  | 'caps-unknown'
  /** The rootless helper has no capabilities inside its user namespace. */
  | 'no-caps'
  /** The process is gone (exited, a zombie, or its pid was reused). */
  | 'gone'
  /** A listed namespace's pid or name now leads to another namespace (pid reused, name re-created). */
  | 'namespace-changed'
  /** The key's cached fd went stale (a SysctlHandle). */
  | 'stale-handle'
  /** The file or fd is not a network namespace; `detail` says what it is. */
  | 'not-a-netns'
  /** A fresh namespace's clone child ended before reporting. */
  | 'incomplete'
  /** A probe could not put a host value back. */
  | 'not-restored'
  /** The operation needs root. */
  | 'needs-root'
  /** No container matches the id, prefix or name (`detail` lists the containers found). */
  | 'container-unknown'
  /** More than one container matches. */
  | 'container-ambiguous'
  /** The container's init process exited, or its pid now names another process. */
  | 'container-gone'
  /** A state file not owned by root names a process that is not its owner's. */
  | 'container-foreign';

/** What happened, as far as choosing a hint goes. */
export interface Happened {
  code: string;
  syscall: string;
  op?: Operation;
  backend?: BackendKind;
  reason?: Reason;
  /** The key in dot form, and its path below /proc/sys/net. */
  key?: string;
  rel?: string;
  /** The value being written. */
  value?: string;
  path?: string;
  /** The target is the calling thread's own namespace. */
  sameAsCaller?: boolean;
  pid?: number;
  /** A namespace name, a command name, a file. */
  name?: string;
  /** A fact for the text (what a file is instead of a namespace, the PATH searched). */
  detail?: string;
  /** cloneNetns: a user namespace was asked for. */
  user?: boolean;
  /** The key (absent here) exists in the calling namespace: a host-only key. */
  inCaller?: boolean;
  /** The user-namespace settings, as the caller read them (rootless failures). */
  userns?: Partial<UserNamespaceSettings>;
}

type OneOrMany<T> = T | readonly T[];

interface HintRule {
  code?: OneOrMany<string>;
  syscall?: OneOrMany<string>;
  op?: OneOrMany<Operation | undefined>;
  backend?: BackendKind;
  reason?: OneOrMany<Reason>;
  when?: (h: Happened) => boolean;
  /** The advice; undefined means "no hint" (and stops the search). */
  hint: (h: Happened) => string | undefined;
}

const KEY_OPS = ['read', 'write', 'open'] as const;

const CAP_HINT =
  'This needs CAP_SYS_ADMIN over the target namespace: run as root (or with that capability), ' +
  'or use NetNamespace.create({ rootless: true }) for a namespace of your own';

const WAY_BACK_HINT =
  'This process could not come back to its own network namespace if it entered another one (it lacks CAP_SYS_ADMIN over the user namespace that owns its namespace: e.g. root of a user namespace of its own, as in a rootless container), so it did not enter. Use NetNamespace.create({ rootless: true }), whose keys are reached without entering';

const PTRACE_HINT = "Opening another process's namespace needs ptrace access to it (root, or CAP_SYS_PTRACE)";

function isRoot(): boolean {
  return typeof process.geteuid === 'function' && process.geteuid() === 0;
}

// Hints are text for a person: every key, name, value and detail they quote is printable().
const keyOf = (h: Happened): string =>
  (h.key ?? h.rel) === undefined ? 'the key' : printable(h.key ?? keyFromRel(h.rel!));
const quoted = (s: string | undefined): string => `"${printable(s ?? '')}"`;
const shown = (s: string | undefined): string => printable(s ?? '');

/** The table, searched in order; the first rule whose fields all match gives the hint. */
const HINTS: readonly HintRule[] = [
  // What a backend knew beyond the errno.
  { reason: 'way-back-barred', hint: () => WAY_BACK_HINT },
  {
    reason: 'hidden-in-userns',
    hint: (h) =>
      `Key ${keyOf(h)} does not exist in this rootless namespace: the kernel hides it in network namespaces owned by a non-initial user namespace (it exists in the calling namespace). Only root can reach it, in a namespace made without rootless mode`,
  },
  {
    reason: 'readonly-in-userns',
    hint: (h) => {
      const aa =
        h.userns?.apparmorRestrictUnprivilegedUserns === '1'
          ? ` (or AppArmor denies capabilities inside unprivileged user namespaces: ${APPARMOR_RESTRICTS})`
          : '';
      return `${keyOf(h)} is read-only in this rootless namespace: the kernel does not let a namespace owned by a non-initial user namespace change it${aa}. Only root can, in a namespace made without rootless mode`;
    },
  },
  {
    reason: 'closed',
    hint: (h) =>
      `This ${shown(h.detail ?? 'handle')} is closed: after close() (or the end of its \`using\` block) every use of it throws; get a new one`,
  },
  {
    reason: ['helper-timed-out', 'helper-desynchronised', 'helper-exited'],
    hint: (h) =>
      `The rootless helper ${h.reason === 'helper-timed-out' ? 'did not answer in time' : h.reason === 'helper-desynchronised' ? 'answered out of turn (a reply to another request)' : 'has exited'}, so it was stopped: a helper either answers the request it was asked, or it is dead. This namespace's keys can no longer be reached; close it and create another`,
  },
  {
    reason: 'caps-unknown',
    hint: (h) =>
      `Could not read this process's capabilities, so it cannot tell whether it may create an ordinary namespace${h.code === 'EMFILE' || h.code === 'ENFILE' ? ': the fd limit is reached; close some fds and try again' : ''}`,
  },
  {
    reason: 'stale-handle',
    hint: (h) => `${keyOf(h)} no longer exists: its interface was removed or its namespace was torn down`,
  },

  // One sysctl key.
  {
    op: KEY_OPS,
    code: 'ENOENT',
    syscall: 'write',
    hint: (h) =>
      `The kernel has nothing named ${quoted(h.value)} for ${keyOf(h)}` +
      (keyOf(h).endsWith('congestion_control')
        ? ' (see net.ipv4.tcp_available_congestion_control; a module may need loading)'
        : ''),
  },
  {
    op: KEY_OPS,
    code: 'ENOENT',
    hint: (h) =>
      `Key ${keyOf(h)} does not exist in this namespace` +
      (!h.sameAsCaller && h.inCaller === true
        ? ' (it exists in the calling namespace: a host-only key, not kept per namespace)'
        : ' (check the spelling, or its interface or module is absent)'),
  },
  {
    op: 'read',
    code: ['EACCES', 'EPERM'],
    hint: (h) => `${keyOf(h)} cannot be read here (it is write-only, or reading it needs root)`,
  },
  {
    op: KEY_OPS,
    code: ['EACCES', 'EPERM'],
    hint: (h) =>
      isRoot()
        ? `${keyOf(h)} is read-only in this namespace (the kernel makes some entries read-only outside the initial namespace, or in namespaces owned by a user namespace)`
        : `Writing ${keyOf(h)} needs root (or CAP_NET_ADMIN over the namespace's user namespace)`,
  },
  {
    op: KEY_OPS,
    code: 'EROFS',
    hint: () =>
      '/proc/sys is mounted read-only here (as inside most containers): write from outside, e.g. NetNamespace.fromPid(pid).sysctl.set(...), or remount /proc/sys read-write',
  },
  {
    op: 'write',
    code: 'EINVAL',
    hint: (h) => `The kernel rejected the value ${quoted(h.value)} for ${keyOf(h)}`,
  },
  {
    op: 'read',
    code: 'EIO',
    hint: (h) => `The kernel has no value to show for ${keyOf(h)} (e.g. stable_secret before one is set)`,
  },
  { op: KEY_OPS, code: 'EISDIR', hint: (h) => `${keyOf(h)} is a directory, not a key: use list('${keyOf(h)}')` },
  {
    op: KEY_OPS,
    code: 'ENOTDIR',
    hint: (h) => `Key ${keyOf(h)} does not exist: part of its path is a key (a file), not a directory`,
  },
  {
    op: KEY_OPS,
    code: ['ELOOP', 'EXDEV'],
    hint: (h) => `Refused: ${keyOf(h)} does not resolve to a file beneath /proc/sys/net without symlinks`,
  },
  {
    op: 'write',
    code: 'EBADF',
    backend: 'rootless',
    hint: (h) => hintFor({ ...h, op: undefined, reason: 'readonly-in-userns' }),
  },
  {
    op: 'write',
    code: 'EBADF',
    hint: (h) => `${keyOf(h)} was opened read-only here (it is not writable in this namespace)`,
  },
  { op: 'read', code: 'EBADF', hint: (h) => `${keyOf(h)} is write-only` },
  { op: KEY_OPS, hint: () => undefined },

  // Getting a container's namespace.
  {
    reason: 'container-unknown',
    hint: (h) =>
      h.detail === 'none'
        ? 'No container state was found there: pass { runtime, root } (--runtime, --container-root) or set NETNS_CONTAINER_ROOTS if the runtime keeps its state elsewhere; for a dockerd started with --exec-root / --data-root, pass { docker: { execRoot, dataRoot } } (--docker-exec-root, --docker-data-root, or NETNS_DOCKER_EXEC_ROOT / NETNS_DOCKER_DATA_ROOT)'
        : `Known containers: ${shown(h.detail)}. \`netns list\` shows them`,
  },
  {
    reason: 'container-ambiguous',
    hint: () =>
      'Give the full id, more of a generated id, or the name with its pod (POD/CONTAINER), or pass { runtime } or { root } (--runtime, --container-root) to choose',
  },
  {
    reason: 'container-gone',
    hint: () =>
      'Its state on disk is stale: the container has stopped (or was restarted under a new pid). Start it again, then look it up again',
  },
  {
    reason: 'container-foreign',
    hint: () =>
      "A rootless runtime's state (under that user's runtime directory) may only name that user's processes: this one is not a container of theirs. Use --pid if you meant that process",
  },

  // Getting a namespace.
  {
    reason: 'gone',
    hint: (h) => `Process ${h.pid} has exited (or is a zombie); there is no namespace to open`,
  },
  {
    reason: 'namespace-changed',
    hint: () =>
      'The namespace went away after it was listed, and what led to it now leads to another one: list (or audit) again',
  },
  { op: 'open-pid', code: ['EPERM', 'EACCES'], hint: () => PTRACE_HINT },
  {
    op: 'open-name',
    code: 'ENOENT',
    hint: (h) =>
      `No network namespace named ${quoted(h.name)} in ${shown(h.detail)}; create it with NetNamespace.create({ name }) or \`ip netns add ${shellWord(h.name ?? '')}\``,
  },
  { op: 'remove-name', code: 'ENOENT', hint: (h) => `No network namespace named ${quoted(h.name)}` },
  {
    op: 'create-named',
    code: 'EEXIST',
    hint: (h) =>
      `A namespace named ${quoted(h.name)} already exists; open it with NetNamespace.fromName(${quoted(h.name)}) or remove it first`,
  },
  { op: 'create-named', syscall: 'open', hint: () => undefined },
  { reason: 'not-a-netns', hint: (h) => (h.detail === undefined ? undefined : shown(h.detail)) },
  { op: 'open-fd', code: 'EBADF', hint: () => 'The fd is not open' },

  // Rootless mode.
  {
    reason: 'no-caps',
    hint: (h) =>
      `The rootless helper has no capabilities inside its user namespace. ${userNamespaceRefusalHint('EPERM', 'clone', h.userns)}`,
  },
  { op: 'start-rootless', hint: (h) => userNamespaceRefusalHint(h.code, h.syscall, h.userns) },
  { op: 'rootless-ids', hint: () => 'The rootless helper could not hand over its namespaces' },
  {
    op: 'spawn',
    syscall: 'spawn',
    code: 'ENOENT',
    hint: (h) => `${shown(h.name)} was not found in PATH (${shown(h.detail)})`,
  },

  // cloneNetns.
  {
    op: 'clone',
    syscall: 'clone',
    code: ['EPERM', 'ENOSPC'],
    hint: (h) =>
      h.user
        ? 'Unprivileged user namespaces are disabled or exhausted here (see user.max_user_namespaces and kernel.apparmor_restrict_unprivileged_userns)'
        : 'Creating a network namespace needs CAP_SYS_ADMIN: run as root, or pass { user: true } to create a user namespace too',
  },
  {
    op: 'clone',
    syscall: 'write',
    when: (h) => h.path?.includes('_map') === true,
    hint: () =>
      'The uid/gid map was refused: without CAP_SETUID/CAP_SETGID only your own effective uid/gid can be mapped',
  },
  { reason: 'incomplete', hint: () => 'Its results are incomplete; try again' },

  // classify / explain.
  { reason: 'needs-root', op: 'probe', hint: () => 'Probe mode changes sysctls and creates namespaces; it needs root' },
  {
    reason: 'not-restored',
    hint: (h) => `Could not restore the host value ${quoted(h.value)} after probing; set it back by hand`,
  },
  { op: 'explain', code: 'ENOENT', hint: () => 'No such key on the host or in a fresh namespace on this kernel' },

  // By errno and syscall alone.
  { code: 'EPERM', syscall: ['setns', 'unshare', 'mount', 'umount2'], hint: () => CAP_HINT },
  {
    code: 'EPERM',
    hint: () => 'Operation not permitted: this needs root or CAP_NET_ADMIN in the namespace that owns it',
  },
  { code: 'ESRCH', hint: () => 'The process has exited; look it up again if a new process now has that pid' },
  { code: 'ENOSYS', hint: () => 'This kernel lacks the system call' },
];

function matches<T>(want: OneOrMany<T> | undefined, got: T): boolean {
  if (want === undefined) return true;
  return Array.isArray(want) ? (want as readonly T[]).includes(got) : want === got;
}

/** The hint for what happened, or undefined when the errno says it all. */
export function hintFor(h: Happened): string | undefined {
  for (const r of HINTS) {
    if (!matches(r.code, h.code) || !matches(r.syscall, h.syscall) || !matches(r.op, h.op)) continue;
    if (r.backend !== undefined && r.backend !== h.backend) continue;
    if (r.reason !== undefined && (h.reason === undefined || !matches(r.reason, h.reason))) continue;
    if (r.when && !r.when(h)) continue;
    return r.hint(h);
  }
  return undefined;
}
