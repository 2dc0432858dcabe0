// One error class with Node's system-error fields, and the one boundary where a system error
// (the SysError shape every backend raises) becomes one, its hint from lib/hints.ts.
import { constants as osConstants } from 'node:os';
import { getSystemErrorMap, getSystemErrorName } from 'node:util';
import { isNativeErrno, type NativeErrno } from './native/index.js';
import { hintFor, type Happened, type Reason } from './hints.js';
import type { UserNamespaceSettings } from './userns.js';
import { printable, terminalSafe } from './printable.js';

/** Errno numbers by name (positive, as the kernel returns them): `ERRNO.ENOENT` is 2. */
export const ERRNO = osConstants.errno;

/** What the failing operation was about, to choose a helpful hint. */
export interface ErrorContext {
  /** The sysctl key in dot form, when the operation concerned one. */
  key?: string;
  /** A path to report instead of the native one. */
  path?: string;
  /** Short description of what was being done, e.g. "create a network namespace". */
  action?: string;
  /** Extra advice appended to the message. */
  hint?: string;
}

/**
 * An operating-system error from netns, shaped like Node's own system errors: `code`
 * ('EPERM'), negative `errno`, `syscall`, `path`. The message starts with the code, as
 * Node's do, and ends with what to do about it.
 */
export class NetnsError extends Error {
  /** The errno name, e.g. 'EPERM'. */
  readonly code: string;
  /** The negated errno number, as in Node's system errors (EPERM is -1). */
  readonly errno: number;
  /** The system call that failed. */
  readonly syscall: string;
  /** The file involved, if any. */
  readonly path?: string;
  /** The sysctl key involved, in dot form, if any. */
  readonly key?: string;
  /** The advice part of the message. */
  readonly hint?: string;
  /** setMany: keys written before the failure and restored to their old values. */
  declare rolledBack?: string[];
  /** setMany: keys written before the failure whose old value could not be restored. */
  declare notRestored?: string[];

  constructor(errno: number, syscall: string, options: ErrorContext & { message?: string } = {}) {
    const n = Math.abs(errno);
    const code = errnoName(n);
    const description = systemErrorMap().get(-n)?.[1] ?? 'unknown error';
    // A message is for a person: names in it are printable() (the path here; the callers' and
    // the hints' own), and terminalSafe() catches a control character any of them let through.
    const where = options.path ? ` '${printable(options.path)}'` : '';
    const base = options.message ?? `${code}: ${description}, ${syscall}${where}`;
    super(terminalSafe(options.hint ? `${base}. ${options.hint}` : base));
    this.name = 'NetnsError';
    this.code = code;
    this.errno = -n;
    this.syscall = syscall;
    if (options.path !== undefined) this.path = options.path;
    if (options.key !== undefined) this.key = options.key;
    if (options.hint !== undefined) this.hint = terminalSafe(options.hint);
  }
}

// util.getSystemErrorMap() builds a new Map of every errno on each call (~10 µs): keep one.
let errorMap: Map<number, [string, string]> | undefined;
function systemErrorMap(): Map<number, [string, string]> {
  return (errorMap ??= getSystemErrorMap());
}

/** 'EPERM' for 1, and so on. */
export function errnoName(n: number): string {
  try {
    return getSystemErrorName(-Math.abs(n));
  } catch {
    return `E${n}`;
  }
}

/**
 * The one error shape backends raise (the addon's errors have it too): a positive errno, the
 * syscall, the file, and what the backend knew beyond the errno. `hint` is filled in from the
 * hint table for those who inspect it before it is converted.
 */
export interface SysError extends Omit<NativeErrno, 'reason'> {
  reason?: Reason;
  /** The user-namespace settings the backend read, for the hint (rootless failures). */
  userns?: Partial<UserNamespaceSettings>;
}

/** A SysError, as a backend raises it; `userns`: the settings its hint names. */
export function sysError(
  errno: number,
  syscall: string,
  path?: string,
  reason?: Reason,
  userns?: Partial<UserNamespaceSettings>,
): SysError {
  const e = new Error(systemErrorMap().get(-errno)?.[1] ?? `errno ${errno}`) as unknown as SysError;
  e.errno = errno;
  e.syscall = syscall;
  if (path !== undefined) e.path = path;
  e.nativeErrno = true;
  if (userns !== undefined) e.userns = userns;
  return reason === undefined ? e : withReason(e, reason);
}

/** Record what a backend knew about a SysError (and the hint it leads to). */
export function withReason(e: SysError, reason: Reason, rel = relOf(e.path)): SysError {
  e.reason = reason;
  const happened: Happened = { code: errnoName(e.errno), syscall: e.syscall, reason };
  if (rel !== undefined) happened.rel = rel;
  if (e.userns !== undefined) happened.userns = e.userns;
  const hint = hintFor(happened);
  if (hint !== undefined) e.hint = hint;
  return e;
}

/** What a caller knows about a failure: the facts the hint table is keyed by, or a fixed hint. */
export type What = ErrorContext & Omit<Happened, 'code' | 'syscall' | 'path' | 'key'> & { message?: string };

function relOf(path: string | undefined): string | undefined {
  return path?.startsWith('/proc/sys/net/') ? path.slice('/proc/sys/net/'.length) : undefined;
}

/**
 * The error boundary: a NetnsError for `errno` from `syscall`, its hint from the table (unless
 * `what.hint` is given). Every NetnsError is made here.
 */
export function netnsError(errno: number, syscall: string, what: What = {}): NetnsError {
  const code = errnoName(errno);
  const happened: Happened = { ...what, code, syscall };
  if (what.path !== undefined) happened.path = what.path;
  if (what.key !== undefined) happened.key = what.key;
  const hint = what.hint ?? hintFor(happened);
  const opts: ErrorContext & { message?: string } = {};
  if (hint !== undefined) opts.hint = hint;
  if (what.path !== undefined) opts.path = what.path;
  if (what.key !== undefined) opts.key = what.key;
  if (what.message !== undefined) opts.message = what.message;
  return new NetnsError(errno, syscall, opts);
}

/** Convert a SysError (from the addon or a backend) into a NetnsError; other errors pass through. */
export function toNetnsError(e: unknown, what: What = {}): unknown {
  if (!isNativeErrno(e)) return e;
  return fromNative(e, what);
}

/** {@link toNetnsError} for a value known to be a SysError. */
export function fromNative(e: SysError, what: What = {}): NetnsError {
  const w: What = { ...what };
  if (w.path === undefined && e.path !== undefined) w.path = e.path;
  if (w.rel === undefined) {
    const rel = relOf(e.path);
    if (rel !== undefined) w.rel = rel;
  }
  if (e.reason !== undefined && w.reason === undefined) w.reason = e.reason;
  if (e.userns !== undefined && w.userns === undefined) w.userns = e.userns;
  return netnsError(e.errno, e.syscall, w);
}

/**
 * The one error for a handle used after close(): EBADF, as the kernel gives for a closed fd and
 * Node for a closed FileHandle. `handle` names it ("NetNamespace handle"); `syscall` is the call
 * its fd was for.
 */
export function closedError(handle: string, syscall: string, key?: string): NetnsError {
  return netnsError(
    ERRNO.EBADF,
    syscall,
    key === undefined ? { reason: 'closed', detail: handle } : { reason: 'closed', detail: handle, key },
  );
}

/** Call `fn`, converting native errors. */
export function wrap<T>(fn: () => T, what?: What): T {
  try {
    return fn();
  } catch (e) {
    throw toNetnsError(e, what);
  }
}

/** Argument checks in sharp's shape: "Expected X for Y but received Z". */
export function invalid(expected: string, name: string, got: unknown, Kind: typeof TypeError = TypeError): never {
  let shown: string;
  if (typeof got === 'string') shown = `"${printable(got.length > 80 ? got.slice(0, 80) + '…' : got)}"`;
  else if (typeof got === 'bigint') shown = `${got}n`;
  else if (got === null || typeof got !== 'object') shown = String(got);
  else shown = Array.isArray(got) ? 'an array' : 'an object';
  throw new Kind(`Expected ${expected} for ${name} but received ${shown}`);
}
