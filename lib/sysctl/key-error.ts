// The NetnsError for a native failure on one key (its hint comes from lib/hints.ts).
import { existsSync } from 'node:fs';
import { ERRNO, fromNative, type NetnsError, type SysError } from '../errors.js';
import type { BackendKind } from '../hints.js';
import type { ParsedKey } from './keys.js';

/**
 * Turn a native failure on one key into a NetnsError that says why and what to do.
 * `sameAsCaller` is true when the target is the calling thread's own namespace.
 */
export function keyError(
  e: SysError,
  pk: ParsedKey,
  op: 'read' | 'write' | 'open',
  value: string | undefined,
  sameAsCaller: boolean,
  backend?: BackendKind,
): NetnsError {
  const what: Parameters<typeof fromNative>[1] = { op, key: pk.key, rel: pk.rel, sameAsCaller };
  if (value !== undefined) what.value = value;
  if (backend !== undefined) what.backend = backend;
  // For the hint: a key absent here but present where the caller is is a host-only key.
  if (e.errno === ERRNO.ENOENT && !sameAsCaller) what.inCaller = existsSync(`/proc/sys/net/${pk.rel}`);
  return fromNative(e, what);
}
