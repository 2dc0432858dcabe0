// Named namespaces as iproute2 keeps them: bind mounts under /run/netns (or /var/run/netns),
// the directory made a shared mount first; removal is a lazy unmount and an unlink.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ERRNO, invalid, netnsError, toNetnsError, wrap, type NetnsError } from '../errors.js';
import { fsencode, native } from '../native/index.js';
import { openPath } from './open.js';

const C = native.constants;

/** Where iproute2 keeps named namespaces, in the order it looks. */
export const NETNS_RUN_DIRS = ['/run/netns', '/var/run/netns'] as const;

/** Validate a namespace name as iproute2 would accept it (a single path component). */
export function checkName(name: unknown): string {
  if (typeof name !== 'string') invalid('a string', 'name', name);
  if (name.length === 0 || name.length > 255 || name === '.' || name === '..' || /[/\0]/.test(name))
    invalid('a namespace name (1-255 characters, no "/", NUL, "." or "..")', 'name', name, RangeError);
  return name;
}

/**
 * The file of the named namespace NAME: /run/netns/NAME, then /var/run/netns/NAME. A name that
 * is not UTF-8 is looked up by its bytes (as NetNamespace.list() gives it, see fsdecode).
 */
function findNamed(name: string): string | undefined {
  checkName(name);
  return NETNS_RUN_DIRS.map((dir) => path.join(dir, name)).find((file) => fs.existsSync(fsencode(file)));
}

/** An fd on the named namespace NAME. */
export function openNamed(name: string): number {
  const file = findNamed(name);
  if (file !== undefined) return openPath(file);
  throw netnsError(ERRNO.ENOENT, 'open', {
    path: path.join(NETNS_RUN_DIRS[0], name),
    op: 'open-name',
    name,
    detail: NETNS_RUN_DIRS.join(' or '),
  });
}

/**
 * A new namespace bind-mounted at /run/netns/NAME exactly as `ip netns add` does; returns an
 * fd on it. On failure nothing is left behind.
 */
export function createNamed(name: string): number {
  const dir = NETNS_RUN_DIRS[0];
  makeRunDir(dir);
  const file = path.join(dir, name);
  let created = false;
  let fd = -1;
  try {
    try {
      fs.closeSync(fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0));
      created = true;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw netnsError(err.errno ?? ERRNO.EEXIST, 'open', { path: file, op: 'create-named', name });
    }
    fd = wrap(() => native.createNetns(), { action: 'create a network namespace' });
    const owned = fd;
    wrap(() => native.mount(`/proc/self/fd/${owned}`, file, 'none', C.MS_BIND), { path: file });
    return fd;
  } catch (e) {
    if (fd >= 0) native.close(fd);
    if (created) {
      try {
        fs.unlinkSync(file);
      } catch {
        /* best effort */
      }
    }
    throw e;
  }
}

/**
 * Delete a named namespace as `ip netns delete` does: lazy unmount, then unlink. The
 * namespace itself goes away once nothing else holds it.
 */
export function removeNamed(name: string): void {
  const file = findNamed(name);
  if (file === undefined)
    throw netnsError(ERRNO.ENOENT, 'unlink', { path: path.join(NETNS_RUN_DIRS[0], name), op: 'remove-name', name });
  try {
    native.umount2(file, C.MNT_DETACH);
  } catch (e) {
    const err = toNetnsError(e, { path: file }) as NetnsError;
    if (err.code !== 'EINVAL') throw err; // EINVAL: not a mount point (a stale file)
  }
  try {
    fs.unlinkSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/** Make /run/netns exist and be a shared mount, as `ip netns add` does. */
function makeRunDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  let bound = false;
  for (;;) {
    try {
      native.mount('', dir, 'none', C.MS_SHARED | C.MS_REC);
      return;
    } catch (e) {
      const err = toNetnsError(e, { path: dir }) as NetnsError;
      if (err.code !== 'EINVAL' || bound) throw err;
      // Not a mount point yet: bind it onto itself, then make that shared.
      wrap(() => native.mount(dir, dir, 'none', C.MS_BIND | C.MS_REC), { path: dir });
      bound = true;
    }
  }
}
