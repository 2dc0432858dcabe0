// Finding containers (every root, one root, or by id / prefix / name) and opening the network
// namespace of one, race-free against its init process exiting or its pid being reused.
import * as path from 'node:path';
import { ERRNO, invalid, netnsError, type NetnsError } from '../errors.js';
import { native } from '../native/index.js';
import { openPidNamespace } from '../namespace/pid.js';
import { NameSources, ownerMayName, procStartTime, readRoot, readStateDir } from './read.js';
import { rootsFor } from './roots.js';
import type { ContainerInfo, ContainerOptions } from './types.js';

/** Every container the roots' state on disk records (running or not), sorted by runtime and id. */
export function listContainers(options: ContainerOptions = {}): ContainerInfo[] {
  const roots = rootsFor(options);
  const names = new NameSources();
  const all = roots.flatMap((r) => readRoot(r, names));
  const only = options.runtime;
  return (only === undefined || options.root !== undefined ? all : all.filter((c) => c.runtime === only)).sort(
    (a, b) => a.runtime.localeCompare(b.runtime) || (a.namespace ?? '').localeCompare(b.namespace ?? '') || a.id.localeCompare(b.id),
  );
}

/** "containerd k8s.io/3f2a… (web)": how errors name a container. */
export function label(c: ContainerInfo): string {
  const k = c.kubernetes;
  const name = k?.podName !== undefined ? `${k.podNamespace ?? ''}/${k.podName}${k.containerName ? `/${k.containerName}` : ''}` : c.name;
  return `${c.runtime} ${c.namespace !== undefined ? `${c.namespace}/` : ''}${c.id}${name !== undefined ? ` (${name})` : ''}`;
}

/** The names a query may give: the name, and for Kubernetes POD/CONTAINER and PODNS/POD/CONTAINER. */
function namesOf(c: ContainerInfo): string[] {
  const out: string[] = [];
  if (c.name !== undefined) out.push(c.name);
  const k = c.kubernetes;
  if (k?.podName !== undefined && k.containerName !== undefined) {
    out.push(`${k.podName}/${k.containerName}`);
    if (k.podNamespace !== undefined) out.push(`${k.podNamespace}/${k.podName}/${k.containerName}`);
  }
  if (c.namespace !== undefined) out.push(`${c.namespace}/${c.id}`);
  return out;
}

/**
 * The one container `query` names: a full id, else a name (Docker's, Podman's, Kubernetes'
 * container name, POD/CONTAINER, PODNS/POD/CONTAINER, or NAMESPACE/ID for containerd), else a
 * unique id prefix. Unknown and ambiguous queries throw, listing what matched.
 */
export function findContainer(query: string, options: ContainerOptions = {}): ContainerInfo {
  if (typeof query !== 'string' || query === '') invalid('a container id, id prefix or name', 'id', query);
  const all = listContainers(options);
  // A running container wins over stopped ones that state directories still record.
  const pick = (m: ContainerInfo[]): ContainerInfo[] => (m.filter((c) => c.running).length === 1 ? m.filter((c) => c.running) : m);
  for (const matches of [all.filter((c) => c.id === query), all.filter((c) => namesOf(c).includes(query)), all.filter((c) => c.id.startsWith(query))]) {
    const m = pick(matches);
    if (m.length === 1) return m[0]!;
    if (m.length > 1)
      throw netnsError(ERRNO.EINVAL, 'open', {
        op: 'open-container',
        reason: 'container-ambiguous',
        name: query,
        message: `EINVAL: "${query}" matches ${m.length} containers: ${m.map(label).join(', ')}`,
      });
  }
  const roots = rootsFor(options).map((r) => `${r.runtime} ${r.dir}`);
  throw netnsError(ERRNO.ENOENT, 'open', {
    op: 'open-container',
    reason: 'container-unknown',
    name: query,
    detail: all.length === 0 ? 'none' : all.slice(0, 10).map(label).join(', ') + (all.length > 10 ? ` and ${all.length - 10} more` : ''),
    message: `ENOENT: no container matches "${query}" (searched ${roots.join(', ') || 'no roots'})`,
  });
}

/** An error opening container `c` (its state file as the path). */
function containerError(c: ContainerInfo, errno: number, reason: 'container-gone' | 'container-foreign', message: string, detail?: string): NetnsError {
  return netnsError(errno, 'open', { path: c.stateFile, op: 'open-container', reason, name: c.id, pid: c.pid, message, ...(detail !== undefined ? { detail } : {}) });
}

function goneError(c: ContainerInfo, why: string): NetnsError {
  return containerError(c, ERRNO.ESRCH, 'container-gone', `ESRCH: container ${label(c)} is not running: ${why}`, why);
}

function foreignError(c: ContainerInfo, owner: number): NetnsError {
  const message = `EPERM: container ${label(c)}: its state file is owned by uid ${owner}, and pid ${c.pid} is not a process of that user`;
  return containerError(c, ERRNO.EPERM, 'container-foreign', message);
}

/** Why the recorded init process is not the live one, or undefined when it is. */
function notRunning(c: ContainerInfo, statFile?: string): string | undefined {
  const now = procStartTime(c.pid, statFile);
  if (now === c.startTime) return undefined;
  return now === undefined
    ? `its init process ${c.pid} has exited`
    : `pid ${c.pid} now belongs to another process (started at tick ${now}, the container's init at ${c.startTime})`;
}

/**
 * An fd on the network namespace of container `query`, and the container. The recorded init
 * start time is checked against the live process after a pidfd (or /proc/PID directory fd)
 * pins it, and the state file is read again after opening: a container that exited or was
 * restarted meanwhile gives ESRCH, never another process's namespace.
 */
export function openContainerNamespace(query: string, options: ContainerOptions = {}): { fd: number; container: ContainerInfo } {
  let c = findContainer(query, options);
  try {
    return { fd: openFoundContainer(c), container: c };
  } catch (e) {
    if ((e as NetnsError).code !== 'EAGAIN') throw e;
    c = findContainer(query, options); // restarted between the lookup and the open: once more
    return { fd: openFoundContainer(c), container: c };
  }
}

/**
 * An fd on the network namespace of a container found by {@link listContainers}, checked as
 * {@link openContainerNamespace} does. EAGAIN: its state changed meanwhile (look it up again).
 */
export function openFoundContainer(c: ContainerInfo): number {
  const why = notRunning(c);
  if (why !== undefined) throw goneError(c, why);
  const rec = readStateDir(path.dirname(c.stateFile));
  if (rec?.pid !== c.pid || rec.startTime !== c.startTime || rec.owner === undefined) throw restartedError(c);
  const owner = rec.owner;
  let refused: NetnsError | undefined;
  let fd: number;
  try {
    fd = openPidNamespace(c.pid, (statFile) => {
      const w = notRunning(c, statFile);
      if (w !== undefined) throw (refused = goneError(c, w));
      if (!ownerMayName(owner, path.dirname(statFile))) throw (refused = foreignError(c, owner));
    });
  } catch (e) {
    if (e !== refused && (e as NetnsError).code === 'ESRCH') throw goneError(c, `its init process ${c.pid} has exited`);
    throw e;
  }
  const again = readStateDir(path.dirname(c.stateFile));
  if (again?.pid === c.pid && again.startTime === c.startTime && again.owner === owner) return fd;
  native.close(fd);
  throw restartedError(c);
}

function restartedError(c: ContainerInfo): NetnsError {
  return containerError(c, ERRNO.EAGAIN, 'container-gone', `EAGAIN: container ${label(c)} was restarted while its namespace was being opened`);
}
