// Why a write to a key fails inside a container, and why it works from the host: the
// container's mount of /proc/sys (its init's mountinfo), the process's credentials against the
// user namespace that owns the network namespace (NS_GET_USERNS), the entry's mode in that
// namespace and the kernel rule behind it. diagnoseWriteFrom() is the pure part; diagnoseWrite()
// gathers the facts of a running process.
//
// The kernel's checks, in the order a write meets them (6.1 and 6.12, the same in 5.10):
//   1. path lookup in the process's mount namespace: a masked /proc/sys (tmpfs, /dev/null) or an
//      entry the namespace does not register -> ENOENT;
//   2. open(O_WRONLY|O_TRUNC) (a shell's `>`, sysctl(8)): mnt_want_write on a read-only mount
//      -> EROFS (fs/namei.c do_open); without O_TRUNC the permission check comes first;
//   3. proc_sys_permission -> sysctl_perm (fs/proc/proc_sysctl.c test_perm): the owner bits for
//      euid 0 of the initial user namespace, the group bits for gid 0, else the other bits;
//      net_ctl_permissions (net/sysctl_net.c) gives the owner bits to a process with
//      CAP_NET_ADMIN in the user namespace that owns the network namespace -> EACCES;
//   4. the handler: devinet_sysctl_forward (net/ipv4/devinet.c) wants CAP_NET_ADMIN there for
//      ipv4 forwarding and ip_forward (6.1 and 6.12; 5.10 does not check) -> EPERM.
import * as fs from 'node:fs';
import { ERRNO, invalid, netnsError } from '../errors.js';
import { deviceOf } from '../keypath.js';
import { native, WALK_MODE } from '../native/index.js';
import { NetNamespace } from '../namespace/handle.js';
import { findContainer, containerLabel } from '../container/find.js';
import { procStartTime } from '../container/read.js';
import type { ContainerInfo, ContainerOptions } from '../container/types.js';
import { parseKey, type KeyInput } from '../sysctl/keys.js';
import { defaultContext, findRule, ruleEvidence } from './rules.js';
import { printable } from '../printable.js';
import { remediesFor, shellWord } from './remedies.js';
import type { RuleClass } from './types.js';

/** One line of /proc/PID/mountinfo. */
export interface MountEntry {
  id: number;
  parent: number;
  /** The path inside the filesystem that is mounted (`/null` for a /dev/null bind). */
  root: string;
  /** Where, relative to the process's root. */
  mountPoint: string;
  /** Per-mount options (`ro`, `nosuid`, ...). */
  options: string[];
  fstype: string;
  source: string;
  /** Superblock options. */
  superOptions: string[];
}

/** Undo mountinfo's octal escapes (\040 space, \011 tab, \012 newline, \134 backslash). */
function unmangle(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

/** Parse /proc/PID/mountinfo (proc(5)); malformed lines are skipped. */
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-', 6);
    if (f.length < 10 || sep < 0 || f.length < sep + 4) continue;
    out.push({
      id: Number(f[0]),
      parent: Number(f[1]),
      root: unmangle(f[3]!),
      mountPoint: unmangle(f[4]!),
      options: f[5]!.split(','),
      fstype: f[sep + 1]!,
      source: unmangle(f[sep + 2]!),
      superOptions: f[sep + 3]!.split(','),
    });
  }
  return out;
}

/** `a` is `b` or a directory above it, by whole components. */
function covers(a: string, b: string): boolean {
  return a === '/' || a === b || b.startsWith(`${a}/`);
}

/**
 * The mount a path resolves to in a mount table, as the kernel's path walk finds it: from the
 * root mount, component by component; where a component is a mount point of the current mount,
 * into the mount there (the last of several), and on into whatever is stacked on its root. A
 * mount made over a parent of an earlier one hides it.
 */
export function mountOf(mounts: readonly MountEntry[], path: string): MountEntry | undefined {
  const ids = new Set(mounts.map((m) => m.id));
  let cur =
    mounts.filter((m) => m.mountPoint === '/' && !ids.has(m.parent)).at(-1) ?? mounts.find((m) => m.mountPoint === '/');
  if (!cur) return undefined;
  for (let guard = 0; guard <= mounts.length; guard++) {
    const here: MountEntry = cur;
    const kids = mounts.filter((m) => m.parent === here.id && m.id !== here.id && covers(m.mountPoint, path));
    const stacked = kids.filter((k) => k.mountPoint === here.mountPoint);
    const below = kids.filter((k) => k.mountPoint.length > here.mountPoint.length);
    if (stacked.length > 0) cur = stacked.at(-1)!;
    else if (below.length > 0) {
      const first = Math.min(...below.map((k) => k.mountPoint.length));
      cur = below.filter((k) => k.mountPoint.length === first).at(-1)!;
    } else break;
  }
  return cur;
}

/** What /proc/PID/status says about a process's credentials. */
export interface ProcessCredentials {
  /** Effective uid and gid, as the reader's user namespace sees them. */
  euid: number;
  egid: number;
  /** Supplementary groups. */
  groups: number[];
  /** Effective capability set. */
  capEff: bigint;
}

/** Parse the credential lines of /proc/PID/status. */
export function parseStatus(text: string): ProcessCredentials {
  const field = (name: string): string[] =>
    new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim().split(/\s+/) ?? [];
  const cap = field('CapEff')[0];
  return {
    euid: Number(field('Uid')[1] ?? Number.NaN),
    egid: Number(field('Gid')[1] ?? Number.NaN),
    groups: field('Groups')
      .filter((g) => g !== '')
      .map(Number),
    capEff: cap !== undefined && /^[0-9a-f]+$/i.test(cap) ? BigInt(`0x${cap}`) : 0n,
  };
}

export const CAP_NET_ADMIN = 12;

/** Why a write is refused, or what it does that is worth knowing. */
export type WriteObstacleCode =
  | 'absent'
  | 'host-only'
  | 'userns-hidden'
  | 'no-proc'
  | 'masked'
  | 'read-only-mount'
  | 'read-only-key'
  | 'userns'
  | 'not-root'
  | 'needs-cap-net-admin'
  | 'host-network'
  | 'shared';

/** One finding of {@link diagnoseWrite}. */
export interface WriteObstacle {
  code: WriteObstacleCode;
  /** It makes the write fail (false: a warning, the write would go through). */
  blocks: boolean;
  /** The errno the write meets, when it fails. */
  errno?: 'ENOENT' | 'EROFS' | 'EACCES' | 'EPERM';
  /** What and why, in a sentence (names as printable() shows them). */
  text: string;
  /** The kernel function (file) or the runtime behind it. */
  source: string;
}

/** The facts {@link diagnoseWriteFrom} decides on. */
export interface WriteFacts {
  /** Dotted key and its path below /proc/sys/net. */
  key: string;
  rel: string;
  pid: number;
  /** The container, when the target was one. */
  container?: { id: string; runtime: string; label: string };
  /** The process's mount table (its /proc/PID/mountinfo), or null when it could not be read. */
  mounts: MountEntry[] | null;
  credentials: ProcessCredentials;
  /** The process is in the caller's (the host's) user namespace. */
  processInHostUserns: boolean;
  /** Which user namespace owns the network namespace, or 'unknown' (NS_GET_USERNS failed). */
  netnsOwner: 'host' | 'process' | 'other' | 'unknown';
  /** The network namespace is the caller's own (the container shares the host's network). */
  hostNetwork: boolean;
  /** The entry in the target namespace: absent, or its mode. */
  entry: { present: false } | { present: true; mode: number };
  /** The entry on the host (the caller's namespace). */
  onHost: { present: false } | { present: true; mode: number };
  /** The kernel rule's class and source, when a rule matches. */
  rule?: {
    id: string;
    class: RuleClass;
    fn: string;
    file: string;
    userns?: 'hidden' | 'readonly';
    /** Dotted key the value is copied or computed from when a namespace is created. */
    sourceKey?: string;
  };
  /** Kernel version [major, minor]. */
  kernel: [number, number];
  /** The value to show in suggested commands (default VALUE). */
  value?: string;
}

/** What {@link diagnoseWrite} found. */
export interface WriteDiagnosis {
  key: string;
  pid: number;
  container?: { id: string; runtime: string; label: string };
  inside: {
    /** A write by the target process (or `docker exec`, `kubectl exec` into it) would succeed. */
    allowed: boolean;
    /** The errno the first blocking obstacle gives (a shell's `>` and sysctl(8) open with O_TRUNC). */
    errno?: string;
    /** Every obstacle found, the blocking ones first, in the order the kernel checks them. */
    obstacles: WriteObstacle[];
  };
  /** From the host: `nsenter -t PID -n` / `netns sysctl --pid PID`, as root. */
  fromHost: { allowed: boolean; command: string; why: string };
  /** What to do, most direct first. */
  remedies: string[];
  /** The facts the diagnosis rests on. */
  facts: {
    procSysMount: { mountPoint: string; fstype: string; readOnly: boolean; root: string } | null;
    euid: number;
    capNetAdmin: boolean;
    processInHostUserns: boolean;
    netnsOwner: WriteFacts['netnsOwner'];
    hostNetwork: boolean;
    entry: { present: boolean; mode?: string };
    class?: RuleClass;
    rule?: string;
  };
}

const FORWARD_HANDLER = /^ipv4\/(conf\/[^/]+\/forwarding|ip_forward)$/;

/** Whether the kernel's sysctl permission check lets the process write a file of `mode` (test_perm). */
function permits(mode: number, c: ProcessCredentials, capOverNet: boolean): boolean {
  let bits: number;
  if (capOverNet || c.euid === 0) bits = (mode >> 6) & 7;
  else if (c.egid === 0 || c.groups.includes(0)) bits = (mode >> 3) & 7;
  else bits = mode & 7;
  return (bits & 2) !== 0;
}

/** The diagnosis from facts already gathered (no I/O). */
export function diagnoseWriteFrom(f: WriteFacts): WriteDiagnosis {
  const obstacles: WriteObstacle[] = [];
  const add = (o: WriteObstacle): void => {
    obstacles.push(o);
  };
  const path = `/proc/sys/net/${f.rel}`;
  // Text for a person: the key, device and mount point (a tenant's names) as printable() shows them.
  const key = printable(f.key);
  const dev = deviceOf(f.rel);
  const hasCap = (f.credentials.capEff & (1n << BigInt(CAP_NET_ADMIN))) !== 0n;
  // ns_capable(net->user_ns): the process's caps count in its own user namespace and in those
  // below it; the caller's (host's) namespace is above every other one.
  const capOverNet = hasCap && (f.processInHostUserns || f.netnsOwner === 'process');
  const cls = f.rule?.class;

  // 1. Does the path exist in the process's view?
  const mount = f.mounts ? mountOf(f.mounts, path) : undefined;
  const mp = mount ? printable(mount.mountPoint) : '';
  if (!f.entry.present) {
    if (f.onHost.present && f.rule?.userns === 'hidden' && f.netnsOwner !== 'host')
      add({
        code: 'userns-hidden',
        blocks: true,
        errno: 'ENOENT',
        text: `${key} is not registered in a network namespace owned by a user namespace: the kernel does not export it to unprivileged users`,
        source: `${f.rule.fn} (${f.rule.file})`,
      });
    else if (f.onHost.present)
      add({
        code: 'host-only',
        blocks: true,
        errno: 'ENOENT',
        text: dev
          ? `${key} belongs to the host's interface "${printable(dev)}", which the container's namespace does not have`
          : `${key} exists only in the host's initial namespace: it is one global value, and no container has an entry for it`,
        source: f.rule ? `${f.rule.fn} (${f.rule.file})` : 'observation: present on the host, absent in the namespace',
      });
    else
      add({
        code: 'absent',
        blocks: true,
        errno: 'ENOENT',
        text: `${key} exists neither in the container's namespace nor on the host (a missing interface or module)`,
        source: 'observation',
      });
  }
  if (f.mounts) {
    if (!mount || !covers('/proc', mount.mountPoint) || (mount.fstype !== 'proc' && mount.mountPoint === '/proc'))
      add({
        code: 'no-proc',
        blocks: true,
        errno: 'ENOENT',
        text: 'the container has no procfs mounted at /proc: /proc/sys does not exist in its view',
        source: 'its /proc/PID/mountinfo',
      });
    else if (mount.fstype !== 'proc')
      add({
        code: 'masked',
        blocks: mount.root !== '/null',
        ...(mount.root !== '/null' ? { errno: 'ENOENT' as const } : {}),
        text:
          mount.root === '/null'
            ? `${mp} is masked with /dev/null in the container: a write "succeeds" and is thrown away`
            : `${mp} is masked with an empty ${printable(mount.fstype)} in the container (the runtime's maskedPaths): the entry does not exist in its view`,
        source: 'its /proc/PID/mountinfo (the OCI runtime masks linux.maskedPaths this way)',
      });
    else if (mount.options.includes('ro') || mount.superOptions.includes('ro'))
      add({
        code: 'read-only-mount',
        blocks: true,
        errno: 'EROFS',
        text: `${mp} is mounted read-only in the container's mount namespace (the OCI runtime's readonlyPaths: runc, Docker, containerd and CRI-O make /proc/sys read-only for every container that is not privileged)`,
        source: `its /proc/PID/mountinfo: ${mp} ${printable(mount.options.join(','))}`,
      });
  }
  // 3. The entry's mode and the process's credentials (proc_sys_permission).
  if (f.entry.present) {
    const mode = f.entry.mode;
    if ((mode & 0o222) === 0)
      add({
        code: 'read-only-key',
        blocks: true,
        errno: 'EACCES',
        text:
          f.rule?.userns === 'readonly' && f.netnsOwner !== 'host'
            ? `${key} is read-only in a network namespace owned by a user namespace`
            : `${key} is read-only (mode ${mode.toString(8)}) ${f.onHost.present && (f.onHost.mode & 0o222) !== 0 ? "in every namespace but the host's" : "in every namespace, the host's included"}: ${cls === 'readonly' ? 'it mirrors one global value' : 'the kernel registers it without write bits there'}`,
        source: f.rule
          ? `${f.rule.fn} (${f.rule.file})`
          : 'ensure_safe_net_sysctl (net/sysctl_net.c) or the table mode',
      });
    else if (!permits(mode, f.credentials, capOverNet))
      add(
        !f.processInHostUserns
          ? {
              code: 'userns',
              blocks: true,
              errno: 'EACCES',
              text:
                f.netnsOwner === 'process'
                  ? `the process is in a user namespace that owns the network namespace but has no CAP_NET_ADMIN there (its capabilities were dropped), and its uid is not the host's root: only the "other" permission bits apply (mode ${mode.toString(8)})`
                  : `the process is root only in its own user namespace, which does not own the network namespace (${f.netnsOwner === 'host' ? "it is owned by the host's user namespace" : 'it is owned by another user namespace'}): it has no CAP_NET_ADMIN over it and is not the host's root, so only the "other" permission bits apply (mode ${mode.toString(8)})`,
              source: 'net_ctl_permissions (net/sysctl_net.c), test_perm (fs/proc/proc_sysctl.c)',
            }
          : {
              code: 'not-root',
              blocks: true,
              errno: 'EACCES',
              text: `the process runs as uid ${f.credentials.euid} without CAP_NET_ADMIN: only the ${f.credentials.egid === 0 ? 'group' : '"other"'} permission bits apply (mode ${mode.toString(8)})`,
              source: 'test_perm (fs/proc/proc_sysctl.c), net_ctl_permissions (net/sysctl_net.c)',
            },
      );
    if (FORWARD_HANDLER.test(f.rel) && !capOverNet && (f.kernel[0] > 5 || (f.kernel[0] === 5 && f.kernel[1] > 10)))
      add({
        code: 'needs-cap-net-admin',
        blocks: true,
        errno: 'EPERM',
        text: `writing ${key} needs CAP_NET_ADMIN in the user namespace that owns the network namespace, whatever the file's mode (read in 6.1 and 6.12; 5.10 does not check)`,
        source: 'devinet_sysctl_forward (net/ipv4/devinet.c)',
      });
  }
  if (f.hostNetwork)
    add({
      code: 'host-network',
      blocks: false,
      text: "the container shares the host's network namespace: there is no per-container value, and a write changes the host's own",
      source: "the namespaces of the process (/proc/PID/ns/net is the caller's)",
    });
  if (cls === 'shared' && f.entry.present)
    add({
      code: 'shared',
      blocks: false,
      text: `${key} is one kernel-wide value: a write from any namespace changes it for every namespace`,
      source: f.rule ? `${f.rule.fn} (${f.rule.file})` : 'rule',
    });

  // The kernel meets them in this order: lookup, mount, permission, handler.
  const order: WriteObstacleCode[] = [
    'no-proc',
    'masked',
    'absent',
    'host-only',
    'userns-hidden',
    'read-only-mount',
    'read-only-key',
    'userns',
    'not-root',
    'needs-cap-net-admin',
    'host-network',
    'shared',
  ];
  obstacles.sort((a, b) => Number(b.blocks) - Number(a.blocks) || order.indexOf(a.code) - order.indexOf(b.code));
  const first = obstacles.find((o) => o.blocks);
  const inside: WriteDiagnosis['inside'] = { allowed: first === undefined, obstacles };
  if (first?.errno) inside.errno = first.errno;

  // From the host: the host's /proc (writable), /proc/sys/net resolved in the entered namespace,
  // root of the host's user namespace (CAP_NET_ADMIN over every network namespace).
  const value = f.value ?? 'VALUE';
  const hostCmd = `nsenter -t ${f.pid} -n sysctl -w ${shellWord(`${f.key}=${value}`)}`;
  const netnsCmd = [
    'netns',
    'sysctl',
    ...(f.container ? ['--container', f.container.id] : ['--pid', String(f.pid)]),
    '-w',
    `${f.key}=${value}`,
  ]
    .map(shellWord)
    .join(' ');
  const hostWritable = f.entry.present && (f.entry.mode & 0o200) !== 0;
  const fromHost = {
    allowed: hostWritable,
    command: netnsCmd,
    why: hostWritable
      ? `${f.hostNetwork ? "it would change the host's own value (the container uses the host's network namespace). " : ''}as root on the host, \`${hostCmd}\` (or \`${netnsCmd}\`) works: nsenter -n enters only the network namespace and keeps the host's mount namespace, so /proc/sys is the host's writable proc mount, /proc/sys/net resolves in the network namespace of the thread that opens it (the container's), and the host's root has CAP_NET_ADMIN over every network namespace. docker exec and kubectl exec enter the container's mount namespace too (read-only /proc/sys) with the container's capabilities, so they fail as the container does.`
      : f.entry.present
        ? `not from the host either: the entry is read-only (mode ${f.entry.mode.toString(8)}) in the container's namespace for everyone, root included`
        : `not from the host either: after nsenter -n, ${printable(path)} resolves in the container's namespace, which has no such entry`,
  };

  const remedies: string[] = [];
  const perNamespace = f.entry.present && (f.entry.mode & 0o222) !== 0 && cls !== 'shared' && !f.hostNetwork;
  if (perNamespace) {
    if (!inside.allowed) remedies.push(`from the host, as root: ${netnsCmd} (or ${hostCmd})`);
    const r = remediesFor({ key: f.key, class: cls ?? 'default', value, ...(dev ? { device: dev } : {}) });
    if (r.docker.command) remedies.push(`at start with Docker or Podman: ${r.docker.command} (${r.docker.text})`);
    if (r.kubernetes.securityContext)
      remedies.push(`at start in Kubernetes: ${r.kubernetes.securityContext} (${r.kubernetes.text})`);
    if (obstacles.some((o) => o.code === 'userns'))
      remedies.push(
        "for a rootless container: give it a network namespace of its own (created inside its user namespace), or set the key from the host as root; the container's own root cannot gain CAP_NET_ADMIN over a namespace its user namespace does not own",
      );
    if (obstacles.some((o) => o.code === 'read-only-mount'))
      remedies.push(
        'not recommended: a privileged container (or an unmasked procMount) gets a writable /proc/sys, and with it the power to change kernel-wide keys (kernel.*, vm.*, the host-only net.* ones) for the whole host',
      );
  } else {
    const readOnly = f.entry.present && (f.entry.mode & 0o222) === 0;
    const hidden = obstacles.some((o) => o.code === 'userns-hidden');
    // The class remediesFor speaks for: what the container's namespace does with the key.
    const as = f.hostNetwork ? 'shared' : readOnly && cls !== 'shared' ? 'readonly' : (cls ?? 'host-only');
    const r = remediesFor({ key: f.key, class: as, value, ...(dev ? { device: dev } : {}) });
    const source = f.rule?.sourceKey;
    if (f.hostNetwork)
      remedies.push(
        "the container uses the host's network namespace: set the key on the host (it is the container's too), or give the container a network namespace of its own",
      );
    if (hidden)
      remedies.push(
        `${key} exists only in network namespaces owned by the host's user namespace; a rootless container's namespace (owned by its user namespace) never has it: run the container with a network namespace the host's root creates (a rootful runtime), then set it at start or from the host as root (${netnsCmd})`,
      );
    else if (readOnly && source !== undefined && source !== f.key)
      remedies.push(
        `No write can change it, inside or from the host: the kernel fixes it when the namespace is created, from ${printable(source)} of the namespace that creates it (the host's, for a container a runtime starts). Set ${printable(source)} on the host before the container starts, knowing it applies to every namespace created afterwards.`,
      );
    else if (r.instead) remedies.push(r.instead);
    // What the runtime does with it at start (runc 1.1 writes linux.sysctl inside the
    // container's namespace; docker and the kubelet pass any net.* name through to it).
    const refused = (why: string): string =>
      `${hidden ? `docker run --sysctl cannot set ${key} in a rootless container` : r.docker.text}: runc refuses to start a container whose linux.sysctl names it ("open ${printable(path)}: ${why}")`;
    const atStart = !f.entry.present
      ? refused('no such file or directory')
      : readOnly
        ? refused('permission denied')
        : f.hostNetwork
          ? "docker and runc refuse net.* sysctls for a container in the host's network namespace"
          : `docker run --sysctl and linux.sysctl would write ${key} at start, changing it for every namespace on the host`;
    remedies.push(`${atStart}; ${r.kubernetes.text}`);
  }

  const facts: WriteDiagnosis['facts'] = {
    procSysMount: mount
      ? {
          mountPoint: mount.mountPoint,
          fstype: mount.fstype,
          readOnly: mount.options.includes('ro') || mount.superOptions.includes('ro'),
          root: mount.root,
        }
      : null,
    euid: f.credentials.euid,
    capNetAdmin: hasCap,
    processInHostUserns: f.processInHostUserns,
    netnsOwner: f.netnsOwner,
    hostNetwork: f.hostNetwork,
    entry: f.entry.present ? { present: true, mode: f.entry.mode.toString(8) } : { present: false },
  };
  if (cls !== undefined) facts.class = cls;
  if (f.rule) facts.rule = f.rule.id;
  const out: WriteDiagnosis = { key: f.key, pid: f.pid, inside, fromHost, remedies, facts };
  if (f.container) out.container = f.container;
  return out;
}

/** What {@link diagnoseWrite} is asked about: a process, or a container found in its runtime's state. */
export type WriteTarget = { pid: number } | { container: string | ContainerInfo; options?: ContainerOptions };

/** Options of {@link diagnoseWrite}. */
export interface DiagnoseWriteOptions {
  /** The value to show in suggested commands (default VALUE). */
  value?: string;
}

/** The process side of the facts, read once for any number of keys. */
export type WriteContext = Omit<WriteFacts, 'key' | 'rel' | 'entry' | 'onHost' | 'rule' | 'value'>;

/** "DEV:INO" of a file (a namespace's), or undefined when it cannot be stat()ed (the process is gone). */
export function statId(path: string): string | undefined {
  try {
    const s = fs.statSync(path);
    return `${s.dev}:${s.ino}`;
  } catch {
    return undefined;
  }
}

/** The target's process and container, checked to be running. */
function resolveTarget(target: WriteTarget): { pid: number; started: number | undefined; found?: ContainerInfo } {
  if (target === null || typeof target !== 'object') invalid('{ pid } or { container }', 'target', target);
  if ('pid' in target) return { pid: target.pid, started: procStartTime(target.pid) };
  const c =
    typeof target.container === 'string' ? findContainer(target.container, target.options ?? {}) : target.container;
  if (!c.running)
    throw netnsError(ERRNO.ESRCH, 'open', {
      op: 'open-container',
      reason: 'container-gone',
      name: c.id,
      message: `ESRCH: container ${containerLabel(c)} is not running`,
    });
  return { pid: c.pid, started: c.startTime, found: c };
}

/**
 * Read the process side: its credentials and mounts from /proc/PID, the owner of the namespace
 * `ns` (the process's, opened by the caller) and whether it is the caller's own. The process's
 * start time, taken before `ns` was opened, is checked again before and after, so a pid reused
 * meanwhile is an error (ESRCH), never another process's facts.
 */
function readContext(
  pid: number,
  started: number | undefined,
  ns: NetNamespace,
  host: NetNamespace,
  found?: ContainerInfo,
): WriteContext {
  const gone = () => netnsError(ERRNO.ESRCH, 'open', { path: `/proc/${pid}/status`, reason: 'gone', pid });
  if (started === undefined || procStartTime(pid) !== started) throw gone();
  const read = (file: string): string | undefined => {
    try {
      return fs.readFileSync(`/proc/${pid}/${file}`, 'utf8');
    } catch {
      return undefined;
    }
  };
  const status = read('status');
  const mountinfo = read('mountinfo');
  const procUser = statId(`/proc/${pid}/ns/user`);
  if (status === undefined || procStartTime(pid) !== started) throw gone();
  const selfUser = statId('/proc/self/ns/user');
  let owner: WriteFacts['netnsOwner'] = 'unknown';
  try {
    const fd = native.nsGetUserns(ns.fd);
    try {
      const i = native.nsInfo(fd);
      const id = `${i.dev}:${i.ino}`;
      owner = id === selfUser ? 'host' : id === procUser ? 'process' : 'other';
    } finally {
      native.close(fd);
    }
  } catch {
    /* NS_GET_USERNS refused (an owner outside ours) or unknown to this kernel (< 4.9) */
  }
  const ctx: WriteContext = {
    pid,
    mounts: mountinfo === undefined ? null : parseMountinfo(mountinfo),
    credentials: parseStatus(status),
    processInHostUserns: procUser !== undefined && procUser === selfUser,
    netnsOwner: owner,
    hostNetwork: ns.equals(host),
    kernel: defaultContext().kernel,
  };
  if (found) ctx.container = { id: found.id, runtime: found.runtime, label: containerLabel(found) };
  return ctx;
}

/** The facts of one key, from the process side and each side's entry. */
function factsFor(
  ctx: WriteContext,
  key: KeyInput,
  entries: (rel: string) => { entry: WriteFacts['entry']; onHost: WriteFacts['onHost'] },
  options: DiagnoseWriteOptions,
): WriteFacts {
  const { rel, key: dotted } = parseKey(key);
  const rc = defaultContext();
  const facts: WriteFacts = { ...ctx, key: dotted, rel, ...entries(rel) };
  if (options.value !== undefined) facts.value = options.value;
  const rule = findRule(rel, rc);
  if (rule) {
    const ev = ruleEvidence(rule, rel, rc);
    facts.rule = {
      id: ev.id,
      class: ev.class,
      fn: ev.fn,
      file: ev.file,
      ...(ev.userns ? { userns: ev.userns } : {}),
      ...(ev.sourceKey !== undefined ? { sourceKey: ev.sourceKey } : {}),
    };
  }
  return facts;
}

/**
 * Would a write of `key` from inside the target process's container succeed, and if not, why;
 * why it works from the host (`nsenter -n`), and what to do. Reads the process's mountinfo,
 * credentials and namespaces (root, or the process's owner, may), never writes anything.
 */
export function diagnoseWrite(target: WriteTarget, key: KeyInput, options: DiagnoseWriteOptions = {}): WriteDiagnosis {
  return diagnoseWrites(target, [key], options)[0]!;
}

/**
 * {@link diagnoseWrite} for several keys of one target: the process is read once, and each
 * side's entries in one walk of the keys' directories.
 */
export function diagnoseWrites(
  target: WriteTarget,
  keys: readonly KeyInput[],
  options: DiagnoseWriteOptions = {},
): WriteDiagnosis[] {
  if (!Array.isArray(keys)) invalid('an array of keys', 'keys', keys);
  const rels = keys.map((k) => parseKey(k).rel); // argument errors before anything is opened
  const { pid, started, found } = resolveTarget(target);
  // A container's namespace is opened against its recorded init (never a reused pid's).
  using ns = found ? NetNamespace.fromContainer(found) : NetNamespace.fromPid(pid);
  using host = NetNamespace.current();
  const ctx = readContext(pid, started, ns, host, found);
  const inNs = modesIn(ns, rels);
  const onHost = modesIn(host, rels);
  const entry = (m: Map<string, number>, rel: string) => {
    const mode = m.get(rel);
    return mode === undefined ? { present: false as const } : { present: true as const, mode };
  };
  return keys.map((k) =>
    diagnoseWriteFrom(factsFor(ctx, k, (rel) => ({ entry: entry(inNs, rel), onHost: entry(onHost, rel) }), options)),
  );
}

/** The modes of the entries `rels` name in a namespace (absent ones left out): one walk per directory. */
function modesIn(ns: NetNamespace, rels: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  const dirs = new Set(rels.map((rel) => (rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '')));
  for (const dir of dirs) {
    try {
      const w = ns.sysctl.backend.walk(dir, WALK_MODE);
      w.keys.forEach((k, i) => {
        out.set(k, (w.modes[i] ?? 0) & 0o7777);
      });
    } catch {
      /* the directory is absent there */
    }
  }
  return out;
}
