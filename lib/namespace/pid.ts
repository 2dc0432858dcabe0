// NetNamespace.fromPid: the namespace of a process, race-free against pid reuse.
import { ERRNO, netnsError, invalid, toNetnsError, type NetnsError } from '../errors.js';
import { native } from '../native/index.js';

function checkPid(pid: unknown): number {
  if (typeof pid !== 'number' || !Number.isInteger(pid)) invalid('an integer', 'pid', pid);
  if (pid < 1 || pid > 0x3fffffff) invalid('a positive pid', 'pid', pid, RangeError);
  return pid;
}

/**
 * Called once the process is pinned (by a pidfd or a /proc/PID directory fd), before its
 * namespace is opened, with a stat file of that process; throws to refuse it. Whatever it reads
 * there describes the process whose namespace is then opened (or the open fails with ESRCH).
 */
export type PinnedCheck = (statFile: string) => void;

/**
 * An fd on the network namespace of process `pid`. If the process exits, or its pid is reused,
 * between lookup and opening, this throws ESRCH and never returns another process's namespace.
 * Uses a pidfd (Linux >= 5.3, and PIDFD_GET_NET_NAMESPACE on >= 6.11), else a /proc/PID
 * directory fd, which also stays bound to the one process. `check` (a container's recorded
 * start time) runs once the process is pinned.
 */
export function openPidNamespace(pid: number, check?: PinnedCheck): number {
  checkPid(pid);
  const gone = (): NetnsError => netnsError(ERRNO.ESRCH, 'open', { path: `/proc/${pid}/ns/net`, reason: 'gone', pid });
  let pidfd = -1;
  try {
    pidfd = native.pidfdOpen(pid);
  } catch (e) {
    const err = toNetnsError(e) as NetnsError;
    if (err.code === 'ESRCH') throw gone();
    if (err.code !== 'ENOSYS' && err.code !== 'EPERM') throw err;
  }
  if (pidfd < 0) return openThroughProcDir(pid, gone, check);
  try {
    // The pidfd's process is the one /proc/PID shows as long as it lives; opening through the
    // pidfd below fails if it has exited since.
    check?.(`/proc/${pid}/stat`);
    return openThroughPidfd(pid, pidfd, gone);
  } finally {
    native.close(pidfd);
  }
}

function openThroughPidfd(pid: number, pidfd: number, gone: () => NetnsError): number {
  try {
    return native.pidfdGetNetns(pidfd);
  } catch (e) {
    const err = toNetnsError(e) as NetnsError;
    if (err.code === 'ESRCH') throw gone();
    if (err.code === 'EPERM' || err.code === 'EACCES') throw noPtrace(pid, err);
  }
  // Older kernel: open through /proc, then prove the pidfd's process is still alive, so the
  // path did not name a newer process that reused the pid.
  const fd = openProcNs(pid, gone);
  try {
    native.pidfdSendSignal(pidfd, 0);
  } catch (e2) {
    const err2 = toNetnsError(e2) as NetnsError;
    if (err2.code !== 'EPERM') {
      native.close(fd);
      throw err2.code === 'ESRCH' ? gone() : err2;
    }
  }
  return fd;
}

function noPtrace(pid: number, err: NetnsError): NetnsError {
  return netnsError(-err.errno, 'open', { path: `/proc/${pid}/ns/net`, op: 'open-pid' });
}

function openProcNs(pid: number, gone: () => NetnsError): number {
  try {
    return native.open(`/proc/${pid}/ns/net`);
  } catch (e) {
    const err = toNetnsError(e) as NetnsError;
    if (err.code === 'ENOENT' || err.code === 'ESRCH') throw gone();
    if (err.code === 'EACCES' || err.code === 'EPERM') throw noPtrace(pid, err);
    throw err;
  }
}

function openThroughProcDir(pid: number, gone: () => NetnsError, check?: PinnedCheck): number {
  let dir: number;
  try {
    dir = native.open(`/proc/${pid}`, native.constants.O_DIRECTORY);
  } catch (e) {
    const err = toNetnsError(e) as NetnsError;
    throw err.code === 'ENOENT' ? gone() : err;
  }
  try {
    check?.(`/proc/self/fd/${dir}/stat`); // the directory fd stays bound to the one process
    return native.openat(dir, 'ns/net');
  } catch (e) {
    const err = toNetnsError(e) as NetnsError;
    throw err.code === 'ENOENT' || err.code === 'ESRCH' ? gone() : err;
  } finally {
    native.close(dir);
  }
}
