// One error class with Node's system-error fields, and the hints that say what to do.
import { getSystemErrorMap, getSystemErrorName } from 'node:util';
import { isNativeErrno, type NativeErrno, type NativeReason } from './native/index.js';

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
    const where = options.path ? ` '${options.path}'` : '';
    const base = options.message ?? `${code}: ${description}, ${syscall}${where}`;
    super(options.hint ? `${base}. ${options.hint}` : base);
    this.name = 'NetnsError';
    this.code = code;
    this.errno = -n;
    this.syscall = syscall;
    if (options.path !== undefined) this.path = options.path;
    if (options.key !== undefined) this.key = options.key;
    if (options.hint !== undefined) this.hint = options.hint;
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

/** The errno number for a name such as 'ENOENT'. */
export function errnoNumber(code: string): number {
  for (const [num, [name]] of systemErrorMap()) if (name === code) return -num;
  throw new RangeError(`Expected an errno name for code but received ${JSON.stringify(code)}`);
}

const CAP_HINT =
  'This needs CAP_SYS_ADMIN over the target namespace: run as root (or with that capability), ' +
  'or use NetNamespace.create({ rootless: true }) for a namespace of your own';

const WAY_BACK_HINT =
  'This process could not come back to its own network namespace if it entered another one (it lacks CAP_SYS_ADMIN over the user namespace that owns its namespace: e.g. root of a user namespace of its own, as in a rootless container), so it did not enter. Use NetNamespace.create({ rootless: true }), whose keys are reached without entering';

/**
 * The default advice for an errno from a syscall, without key-specific knowledge. `reason` is
 * what the addon said about the failure beyond the errno (NativeErrno.reason).
 */
export function defaultHint(code: string, syscall: string, ctx: ErrorContext, reason?: NativeReason): string | undefined {
  switch (code) {
    case 'EPERM':
      if (reason === 'way-back-barred') return WAY_BACK_HINT;
      if (syscall === 'setns' || syscall === 'unshare' || syscall === 'mount' || syscall === 'umount2')
        return CAP_HINT;
      return 'Operation not permitted: this needs root or CAP_NET_ADMIN in the namespace that owns it';
    case 'ESRCH':
      return 'The process has exited; look it up again if a new process now has that pid';
    case 'ENOSYS':
      return 'This kernel lacks the system call';
    default:
      return undefined;
  }
}

/** Turn anything the addon threw into a NetnsError (other errors pass through untouched). */
export function toNetnsError(e: unknown, ctx: ErrorContext = {}): unknown {
  if (!isNativeErrno(e)) return e;
  return fromNative(e, ctx);
}

export function fromNative(e: NativeErrno, ctx: ErrorContext = {}): NetnsError {
  const code = errnoName(e.errno);
  const hint = ctx.hint ?? defaultHint(code, e.syscall, e.path !== undefined && ctx.path === undefined ? { ...ctx, path: e.path } : ctx, e.reason);
  const opts: ErrorContext = { hint };
  const path = ctx.path ?? e.path;
  if (path !== undefined) opts.path = path;
  if (ctx.key !== undefined) opts.key = ctx.key;
  return new NetnsError(e.errno, e.syscall, opts);
}

/** Call `fn`, converting native errors. */
export function wrap<T>(fn: () => T, ctx?: ErrorContext): T {
  try {
    return fn();
  } catch (e) {
    throw toNetnsError(e, ctx);
  }
}

/** Argument checks in sharp's shape: "Expected X for Y but received Z". */
export function invalid(expected: string, name: string, got: unknown, Kind: typeof TypeError = TypeError): never {
  let shown: string;
  if (typeof got === 'string') shown = JSON.stringify(got.length > 80 ? got.slice(0, 80) + '…' : got);
  else if (typeof got === 'bigint') shown = `${got}n`;
  else if (got === null || typeof got !== 'object') shown = String(got);
  else shown = Array.isArray(got) ? 'an array' : 'an object';
  throw new Kind(`Expected ${expected} for ${name} but received ${shown}`);
}
