// Failure messages: procps' wording first, then the library's code and advice.
import { NetnsError, printable } from 'netns';

const STRERROR: Record<string, string> = {
  ENOENT: 'No such file or directory',
  ENOTDIR: 'Not a directory',
  EINVAL: 'Invalid argument',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EROFS: 'Read-only file system',
  EISDIR: 'Is a directory',
  EIO: 'Input/output error',
  EBUSY: 'Device or resource busy',
  ERANGE: 'Numerical result out of range',
  EBADF: 'Bad file descriptor',
  EOPNOTSUPP: 'Operation not supported',
};

function strerror(e: NetnsError): string {
  return STRERROR[e.code] ?? e.code;
}

/** " (CODE). advice" */
function tail(e: NetnsError): string {
  return ` (${e.code})${e.hint ? `. ${e.hint}` : ''}`;
}

/** The key does not exist: procps says it cannot stat the file. */
export function cannotStat(rel: string, e: NetnsError): string {
  return `cannot stat /proc/sys/net/${printable(rel)}: ${strerror(e)}${tail(e)}`;
}

/** Any other failure to write a key. */
export function writeFailure(key: string, e: NetnsError, ignoring: boolean): string {
  const ign = ignoring ? ', ignoring' : '';
  if (e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'EROFS')
    return `permission denied on key "${printable(key)}"${ign}${tail(e)}`;
  return `setting key "${printable(key)}"${ign}: ${strerror(e)}${tail(e)}`;
}

/** A key that exists but cannot be read. */
export function readFailure(key: string, e: NetnsError): string {
  if (e.code === 'EACCES' || e.code === 'EPERM') return `permission denied on key '${printable(key)}'${tail(e)}`;
  return `reading key "${printable(key)}": ${strerror(e)}${tail(e)}`;
}

/** Whether a failure means the key is not there (procps: stat failed; -e ignores it). */
export function isAbsent(e: NetnsError): boolean {
  return (e.code === 'ENOENT' || e.code === 'ENOTDIR') && e.syscall !== 'write';
}

/** Why a key outside /proc/sys/net is never read or written here. */
export const NOT_NET =
  'not a network sysctl: netns sysctl reads and writes only keys under net (/proc/sys/net); use sysctl(8) for it';

export function notNet(key: string): string {
  return `${printable(key)} is ${NOT_NET}`;
}

/** A key refused before any file is opened ('..', empty components, control characters). */
export function refused(key: string, e: Error): string {
  return `"${printable(key)}" refused: not a key beneath /proc/sys/net (${e.message})`;
}

const KEY_SYSCALLS = new Set([
  'open',
  'openat',
  'openat2',
  'read',
  'write',
  'pread',
  'pwrite',
  'opendir',
  'readdir',
  'getdents64',
  'stat',
  'fstat',
]);

/**
 * The per-key NetnsError of a failure, or undefined when the failure is not about one key
 * (the namespace could not be entered: that ends the command).
 */
export function keyErrorOf(e: unknown): NetnsError | undefined {
  return e instanceof NetnsError && e.key !== undefined && KEY_SYSCALLS.has(e.syscall) ? e : undefined;
}
