// NetNamespace.fromContainer: the network namespace of a container found in its runtime's
// state on disk (container/), opened race-free against its init process exiting or its pid
// being reused: beside pid.ts, as vishvananda/netns keeps GetFromDocker beside GetFromPid.
import * as path from 'node:path';
import { ERRNO, netnsError, type NetnsError } from '../errors.js';
import { native } from '../native/index.js';
import { findContainer, containerLabel } from '../container/find.js';
import { ownerMayName, procStartTime, readStateDir } from '../container/read.js';
import type { ContainerInfo, ContainerOptions } from '../container/types.js';
import { openPidNamespace } from './pid.js';

/** An error opening container `c` (its state file as the path). */
function containerError(
  c: ContainerInfo,
  errno: number,
  reason: 'container-gone' | 'container-foreign',
  message: string,
  detail?: string,
): NetnsError {
  return netnsError(errno, 'open', {
    path: c.stateFile,
    op: 'open-container',
    reason,
    name: c.id,
    pid: c.pid,
    message,
    ...(detail !== undefined ? { detail } : {}),
  });
}

function goneError(c: ContainerInfo, why: string): NetnsError {
  return containerError(
    c,
    ERRNO.ESRCH,
    'container-gone',
    `ESRCH: container ${containerLabel(c)} is not running: ${why}`,
    why,
  );
}

function foreignError(c: ContainerInfo, owner: number): NetnsError {
  const message = `EPERM: container ${containerLabel(c)}: its state file is owned by uid ${owner}, and pid ${c.pid} is not a process of that user`;
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
export function openContainerNamespace(
  query: string,
  options: ContainerOptions = {},
): { fd: number; container: ContainerInfo } {
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
  return containerError(
    c,
    ERRNO.EAGAIN,
    'container-gone',
    `EAGAIN: container ${containerLabel(c)} was restarted while its namespace was being opened`,
  );
}
