// The one decoder of the one packed walk encoding (native/sysctl_core.h), which both backends
// return: the addon's sysctlWalk/sysctlWalkAsync and the rootless helper's rootlessWalk.
import { native, type NativeOutcome, type PackedWalk } from './binding.js';

/** Walk flag (defined in native/sysctl_core.h): read each value. */
export const WALK_READ: number = native.constants.WALK_READ;
/** Walk flag (defined in native/sysctl_core.h): report each entry's permission bits. */
export const WALK_MODE: number = native.constants.WALK_MODE;

/** A decoded walk: keys relative to /proc/sys/net, with values (WALK_READ) and modes (WALK_MODE). */
export interface WalkResult {
  keys: string[];
  values: NativeOutcome[];
  modes: number[];
}

const EQUALS = '='.charCodeAt(0);

/**
 * Decode a packed walk: NUL-terminated triples of path, mode and outcome ("=value" or
 * "!errno:syscall"). `values` is filled only with WALK_READ, `modes` only with WALK_MODE.
 */
export function decodeWalk(packed: PackedWalk | string, flags: number): WalkResult {
  const f = packed.split('\0');
  const n = (f.length - 1) / 3;
  const keys: string[] = new Array(n);
  const values: NativeOutcome[] = flags & WALK_READ ? new Array(n) : [];
  const modes: number[] = flags & WALK_MODE ? new Array(n) : [];
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    const rel = f[j]!;
    keys[i] = rel;
    if (flags & WALK_MODE) modes[i] = Number(f[j + 1]);
    if (flags & WALK_READ) {
      const o = f[j + 2]!;
      if (o.charCodeAt(0) === EQUALS) values[i] = o.slice(1);
      else {
        const colon = o.indexOf(':');
        values[i] = {
          errno: Number(o.slice(1, colon)),
          syscall: o.slice(colon + 1),
          path: `/proc/sys/net/${rel}`,
          nativeErrno: true,
        };
      }
    }
  }
  return { keys, values, modes };
}

/** Walk `prefix` inside namespace `nsfd` (-1: where the thread is). */
export function sysctlWalk(nsfd: number, prefix: string, flags: number): WalkResult {
  return decodeWalk(native.sysctlWalk(nsfd, prefix, flags), flags);
}

/** sysctlWalk on the addon's executor thread. */
export async function sysctlWalkAsync(nsfd: number, prefix: string, flags: number): Promise<WalkResult> {
  return decodeWalk(await native.sysctlWalkAsync(nsfd, prefix, flags), flags);
}

/** Walk `prefix` in the rootless helper behind `sock`. */
export function rootlessWalk(sock: number, prefix: string, flags: number): WalkResult {
  return decodeWalk(native.rootlessWalk(sock, prefix, flags), flags);
}
