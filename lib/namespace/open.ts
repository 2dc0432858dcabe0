// The ways to get a namespace fd other than by pid: the calling thread's own, a file (a bind
// mount or /proc/PID/ns/net), or an fd the caller owns. Each returns an fd the caller owns.
import * as fs from 'node:fs';
import { ERRNO, netnsError, invalid, wrap } from '../errors.js';
import { native } from '../native/index.js';
import { printable } from '../printable.js';

const C = native.constants;

/** An fd on the calling JS thread's namespace (inside `runSync`, the namespace it runs in). */
export function openCurrent(): number {
  return wrap(() => native.open('/proc/thread-self/ns/net'));
}

/**
 * An fd on the namespace behind `file`: `/proc/PID/ns/net`, `/proc/PID/task/TID/ns/net`,
 * `/run/netns/NAME`, or any other bind mount of one. Anything else fails with EINVAL.
 */
export function openPath(file: string): number {
  if (typeof file !== 'string' || file.length === 0) invalid('a non-empty path', 'path', file);
  if (file.includes('\0')) invalid('a path without NUL bytes', 'path', file, RangeError);
  const fd = wrap(() => native.open(file, fs.constants.O_NONBLOCK), { path: file });
  const info = wrap(() => native.nsInfo(fd));
  if (info.nsType !== C.CLONE_NEWNET) {
    native.close(fd);
    const what =
      info.nsType > 0
        ? `it is a ${nsTypeName(info.nsType)} namespace, not a network namespace`
        : info.fsType === C.NSFS_MAGIC || info.fsType === C.PROC_SUPER_MAGIC
          ? 'it is not a namespace file'
          : 'it is not a namespace file (expected /proc/PID/ns/net or a bind mount of one, such as /run/netns/NAME)';
    throw netnsError(ERRNO.EINVAL, 'open', {
      path: file,
      message: `EINVAL: not a network namespace, open '${printable(file)}'`,
      reason: 'not-a-netns',
      detail: what.charAt(0).toUpperCase() + what.slice(1),
    });
  }
  return fd;
}

/** A duplicate of the caller's namespace fd `fd`, checked to be a network namespace. */
export function dupNamespaceFd(fd: number): number {
  if (typeof fd !== 'number' || !Number.isInteger(fd)) invalid('an integer', 'fd', fd);
  if (fd < 0 || fd > 0x7fffffff) invalid('an fd between 0 and 2147483647', 'fd', fd, RangeError);
  const mine = wrap(() => native.dup(fd), { op: 'open-fd' });
  const info = wrap(() => native.nsInfo(mine));
  if (info.nsType !== C.CLONE_NEWNET) {
    native.close(mine);
    throw netnsError(ERRNO.EINVAL, 'setns', {
      message: `EINVAL: fd ${fd} is not a network namespace`,
      reason: 'not-a-netns',
      detail:
        info.nsType > 0
          ? `It is a ${nsTypeName(info.nsType)} namespace`
          : info.fsType === C.NSFS_MAGIC
            ? 'It is a namespace file opened with O_PATH, which setns(2) refuses: open it O_RDONLY'
            : 'It is not a namespace at all',
    });
  }
  return mine;
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

function nsTypeName(t: number): string {
  for (const [k, v] of Object.entries(C)) if (k.startsWith('CLONE_NEW') && v === t) return NS_NAMES[k] ?? k;
  return `0x${t.toString(16)}`;
}
