// Whether rootless namespaces can work here: this process's capabilities and the kernel
// settings that govern unprivileged user namespaces.
import * as fs from 'node:fs';
import { ERRNO, netnsError } from '../errors.js';
import { userNamespaceRefusalHint, type UserNamespaceSettings } from '../userns.js';

export type { UserNamespaceSettings } from '../userns.js';

const CAP_SYS_ADMIN = 21;

/**
 * Whether this process has CAP_SYS_ADMIN in its effective set (bit 21 of CapEff in
 * /proc/self/status): what `NetNamespace.create()` needs for an ordinary namespace. A check
 * that cannot decide says so: when the file cannot be read (EMFILE at the fd limit, ENOMEM)
 * this throws a NetnsError with the cause, rather than answer false and send create() down
 * the rootless path with a misleading error.
 */
export function hasCapSysAdmin(): boolean {
  const file = '/proc/self/status';
  let status: string;
  try {
    status = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw netnsError(err.errno ?? ERRNO.EIO, err.syscall ?? 'open', { path: file, reason: 'caps-unknown' });
  }
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  if (!m) throw netnsError(ERRNO.ENODATA, 'read', { path: file, reason: 'caps-unknown' });
  return ((BigInt('0x' + m[1]) >> BigInt(CAP_SYS_ADMIN)) & 1n) === 1n;
}

function readSetting(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Read the settings that govern unprivileged user namespaces. Does not create anything. */
export function userNamespaceSettings(): UserNamespaceSettings {
  return {
    unprivilegedUsernsClone: readSetting('/proc/sys/kernel/unprivileged_userns_clone'),
    maxUserNamespaces: readSetting('/proc/sys/user/max_user_namespaces'),
    maxNetNamespaces: readSetting('/proc/sys/user/max_net_namespaces'),
    apparmorRestrictUnprivilegedUserns: readSetting('/proc/sys/kernel/apparmor_restrict_unprivileged_userns'),
  };
}

/** Whether rootless namespaces look possible here, judged from the settings alone. */
export function rootlessSupport(): { available: boolean; reason?: string } {
  const s = userNamespaceSettings();
  if (s.unprivilegedUsernsClone === '0')
    return { available: false, reason: userNamespaceRefusalHint('EPERM', 'clone', s) };
  if (s.maxUserNamespaces === '0' || s.maxNetNamespaces === '0')
    return { available: false, reason: userNamespaceRefusalHint('ENOSPC', 'clone', s) };
  if (s.apparmorRestrictUnprivilegedUserns === '1')
    return { available: false, reason: userNamespaceRefusalHint('EPERM', 'clone', s) };
  if (!fs.existsSync('/proc/self/ns/user'))
    return { available: false, reason: userNamespaceRefusalHint('EINVAL', 'clone', s) };
  return { available: true };
}
