// The one decoder of the one packed walk encoding (native/sysctl_core.h), which both backends
// return: the addon's sysctlWalk/sysctlWalkAsync and the rootless helper's rootlessWalk.
import { native, type NativeOutcome, type PackedWalk } from './binding.js';

/** Walk flag (defined in native/sysctl_core.h): read each value. */
export const WALK_READ: number = native.constants.WALK_READ;
/** Walk flag (defined in native/sysctl_core.h): report each entry's permission bits. */
export const WALK_MODE: number = native.constants.WALK_MODE;
/** Walk flag (defined in native/sysctl_core.h): with WALK_READ, keep each read fd open (addon walks only). */
export const WALK_KEEP: number = native.constants.WALK_KEEP;

/** A decoded walk: keys relative to /proc/sys/net, with values (WALK_READ) and modes (WALK_MODE). */
export interface WalkResult {
  keys: string[];
  values: NativeOutcome[];
  modes: number[];
  /** WALK_KEEP: each key's kept read fd, -1 where it could not be opened. Owned by the caller. */
  fds?: number[] | undefined;
  /** The packed walk this was decoded from (with the flags it was made with), when it came from one. */
  packed?: string;
  flags?: number;
}

/**
 * A packed walk as a WalkResult whose arrays are decoded on first use: a reader that can work
 * on `packed` itself (getAll's and getAllAsync's snapshot, compare's merge) never builds them.
 * Every walk, sync or Promise, addon or rootless helper, comes back this way.
 */
export function lazyWalk(packed: PackedWalk | string, flags: number): WalkResult {
  let d: WalkResult | undefined;
  const get = (): WalkResult => (d ??= decodeWalk(packed, flags));
  return {
    packed,
    flags,
    get keys() {
      return get().keys;
    },
    get values() {
      return get().values;
    },
    get modes() {
      return get().modes;
    },
    get fds() {
      return get().fds;
    },
  };
}

const EQUALS = 61,
  BANG = 33,
  ZERO = 48,
  NINE = 57;

/**
 * Decode a packed walk in one pass: NUL-terminated triples of path, mode and outcome
 * ("=value", "!errno:syscall", with WALK_KEEP led by the kept fd). `values` is filled only
 * with WALK_READ, `modes` only with WALK_MODE, `fds` only with WALK_KEEP.
 */
export function decodeWalk(packed: PackedWalk | string, flags: number): WalkResult {
  const read = (flags & WALK_READ) !== 0,
    mode = (flags & WALK_MODE) !== 0;
  const keep = read && (flags & WALK_KEEP) !== 0;
  const keys: string[] = [];
  const values: NativeOutcome[] = [];
  const modes: number[] = [];
  const fds: number[] | undefined = keep ? [] : undefined;
  let p = 0;
  const end = packed.length;
  while (p < end) {
    const a = packed.indexOf('\0', p);
    // without WALK_MODE the mode field is empty: its NUL follows at once
    const b = !mode && packed.charCodeAt(a + 1) === 0 ? a + 1 : packed.indexOf('\0', a + 1);
    const c = packed.indexOf('\0', b + 1);
    if (a < 0 || b < 0 || c < 0) break; // truncated: never produced by either backend
    const rel = packed.slice(p, a);
    keys.push(rel);
    if (mode) modes.push(Number(packed.slice(a + 1, b)));
    if (read) {
      let q = b + 1;
      if (fds !== undefined) {
        let fd = -1;
        for (let ch = packed.charCodeAt(q); ch >= ZERO && ch <= NINE; ch = packed.charCodeAt(++q))
          fd = (fd < 0 ? 0 : fd * 10) + ch - ZERO;
        fds.push(fd);
      }
      values.push(outcomeAt(packed, q, c, rel));
    }
    p = c + 1;
  }
  return fds === undefined ? { keys, values, modes } : { keys, values, modes, fds };
}

/** The outcome packed[from, to): "=value" or "!errno:syscall" (for `rel`). */
export function outcomeAt(packed: string, from: number, to: number, rel: string): NativeOutcome {
  if (packed.charCodeAt(from) === EQUALS) return packed.slice(from + 1, to);
  const colon = packed.indexOf(':', from);
  return {
    errno: packed.charCodeAt(from) === BANG ? Number(packed.slice(from + 1, colon)) : 0,
    syscall: packed.slice(colon + 1, to),
    path: `/proc/sys/net/${rel}`,
    nativeErrno: true,
  };
}

/**
 * Walk `prefix` inside namespace `nsfd` (-1: where the thread is). `bounds`: a bounds spec
 * (lib/sysctl/bounds.ts), whose skipped entries the walk then holds (mode field "-").
 */
export function sysctlWalk(nsfd: number, prefix: string, flags: number, bounds?: string): WalkResult {
  return lazyWalk(native.sysctlWalk(nsfd, prefix, flags, bounds), flags);
}

/** sysctlWalk on the addon's executor thread (decoded as lazily as the sync form). */
export async function sysctlWalkAsync(
  nsfd: number,
  prefix: string,
  flags: number,
  bounds?: string,
): Promise<WalkResult> {
  return lazyWalk(await native.sysctlWalkAsync(nsfd, prefix, flags, bounds), flags);
}

/** Walk `prefix` in the rootless helper behind `sock`. */
export function rootlessWalk(sock: number, prefix: string, flags: number, bounds?: string): WalkResult {
  return lazyWalk(native.rootlessWalk(sock, prefix, flags, bounds), flags);
}

/** rootlessWalk with the exchange on a thread of its own (never the JS thread). */
export async function rootlessWalkAsync(
  sock: number,
  prefix: string,
  flags: number,
  bounds?: string,
): Promise<WalkResult> {
  return lazyWalk(await native.rootlessWalkAsync(sock, prefix, flags, bounds), flags);
}
