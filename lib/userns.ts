// The kernel settings that govern unprivileged user namespaces, and what to say when the kernel
// refuses one. A leaf: it imports nothing and reads nothing; lib/rootless/support.ts reads the
// settings and passes them in (so does every caller that raises a rootless error).

/** The kernel settings that decide whether an unprivileged user may make user namespaces. */
export interface UserNamespaceSettings {
  /** `kernel.unprivileged_userns_clone` (Debian/Ubuntu kernels only); undefined when absent. */
  unprivilegedUsernsClone: string | undefined;
  /** `user.max_user_namespaces` of the caller's user namespace. */
  maxUserNamespaces: string | undefined;
  /** `user.max_net_namespaces` of the caller's user namespace. */
  maxNetNamespaces: string | undefined;
  /** `kernel.apparmor_restrict_unprivileged_userns` (Ubuntu >= 23.10); undefined when absent. */
  apparmorRestrictUnprivilegedUserns: string | undefined;
}

/** The setting that makes AppArmor restrict unprivileged user namespaces, as text. */
export const APPARMOR_RESTRICTS = 'kernel.apparmor_restrict_unprivileged_userns = 1';

/**
 * Why the kernel refused to start a rootless namespace, as advice. `code` and `syscall` are
 * those of the failure; `s` the settings at the time (a setting left out is not known, and the
 * advice does not guess it).
 */
export function userNamespaceRefusalHint(
  code: string,
  syscall: string,
  s: Partial<UserNamespaceSettings> = {},
): string {
  const asRoot = 'as root';
  if (syscall === 'clone') {
    if (code === 'EPERM' || code === 'EACCES') {
      if (s.unprivilegedUsernsClone === '0')
        return `Unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0). Enable them ${asRoot} with \`sysctl -w kernel.unprivileged_userns_clone=1\`, or run as root (rootless mode is not needed then)`;
      if (s.apparmorRestrictUnprivilegedUserns === '1')
        return `AppArmor restricts unprivileged user namespaces (${APPARMOR_RESTRICTS}). Allow them for node with an AppArmor profile that grants \`userns\`, or ${asRoot} set that sysctl to 0`;
      return 'The kernel refused to create a user namespace for this unprivileged process: a seccomp filter (container runtimes block it by default), a chroot, or a security module forbids it. Run as root, or allow user namespaces in the sandbox';
    }
    if (code === 'ENOSPC' || code === 'EUSERS') {
      if (s.maxUserNamespaces === '0')
        return `User namespaces are disabled: user.max_user_namespaces = 0. Raise it ${asRoot}, e.g. \`sysctl -w user.max_user_namespaces=15000\``;
      if (s.maxNetNamespaces === '0')
        return `Network namespaces are disabled for this user: user.max_net_namespaces = 0. Raise it ${asRoot}`;
      return `The limit on user or network namespaces is reached (user.max_user_namespaces = ${s.maxUserNamespaces ?? '?'}, user.max_net_namespaces = ${s.maxNetNamespaces ?? '?'}, or the nesting depth of 32): close unused namespaces or raise the limits ${asRoot}`;
    }
    if (code === 'EINVAL') return 'This kernel has no user namespace support (CONFIG_USER_NS)';
    if (code === 'ENOMEM') return 'Out of memory, or the pid limit of this user is reached';
    if (code === 'EAGAIN') return 'The process limit of this user (RLIMIT_NPROC) is reached';
  }
  if (syscall === 'write' && (code === 'EPERM' || code === 'EACCES'))
    return `The kernel refused to map this user's uid/gid to root in the new user namespace${s.apparmorRestrictUnprivilegedUserns === '1' ? ` (AppArmor restricts unprivileged user namespaces: ${APPARMOR_RESTRICTS})` : ''}`;
  if (code === 'ETIMEDOUT') return 'The rootless helper process did not answer';
  if (code === 'ESRCH') return 'The rootless helper process exited during setup';
  return 'Could not start the rootless helper process';
}
