// Raw system calls for power users. They act on the CALLING JS THREAD and leave it where it
// lands: prefer NetNamespace#runSync and the sysctl API, which always switch back.
import { invalid, wrap } from './errors.js';
import { native } from './native/index.js';

/** CLONE_NEW* namespace type flags, as the kernel defines them. */
export const constants = Object.freeze({
  CLONE_NEWNS: native.constants.CLONE_NEWNS,
  CLONE_NEWCGROUP: native.constants.CLONE_NEWCGROUP,
  CLONE_NEWUTS: native.constants.CLONE_NEWUTS,
  CLONE_NEWIPC: native.constants.CLONE_NEWIPC,
  CLONE_NEWUSER: native.constants.CLONE_NEWUSER,
  CLONE_NEWPID: native.constants.CLONE_NEWPID,
  CLONE_NEWNET: native.constants.CLONE_NEWNET,
  CLONE_NEWTIME: native.constants.CLONE_NEWTIME,
});

/**
 * setns(2) on the calling JS thread. **The thread stays in the namespace** until you call
 * setns again: everything the thread does meanwhile (sockets, spawned processes, /proc/sys/net
 * paths) happens there. `nstype` 0 accepts any kind of namespace fd.
 */
export function setns(fd: number, nstype = 0): void {
  if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) invalid('a namespace fd', 'fd', fd);
  if (!Number.isInteger(nstype)) invalid('a CLONE_NEW* flag or 0', 'nstype', nstype);
  wrap(() => native.setns(fd, nstype));
}

/**
 * unshare(2) on the calling JS thread. With CLONE_NEWNET the **thread moves into a new
 * namespace and stays there**. CLONE_NEWUSER fails with EINVAL here: Node is multithreaded.
 */
export function unshare(flags: number): void {
  if (!Number.isInteger(flags) || flags <= 0) invalid('CLONE_NEW* flags', 'flags', flags);
  wrap(() => native.unshare(flags));
}
