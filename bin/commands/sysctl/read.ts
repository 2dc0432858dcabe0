// Reading keys as procps' ReadSetting() and DisplayAll() do: a key, a directory, or -a.
import { parseKey, type SysctlSnapshot, type SysctlValue } from 'netns';
import { FAILED, OK, describe, errorJson, isArgumentError } from '../../cli/errors.js';
import { json, shown, warn, warnError } from '../../cli/output.js';
import { isNetKey, isTraversal } from '../../cli/sysctld.js';
import { passes, printKey, type Ctx } from './context.js';
import { cannotStat, isAbsent, keyErrorOf, notNet, readFailure, refused } from './messages.js';

/** sysctl(8) hides these in listings (their _ms twins are listed). */
const DEPRECATED = new Set(['base_reachable_time', 'retrans_time']);

/** route.flush is the only write-only entry: listings and reads skip it silently. */
const isWriteOnly = (key: string): boolean => key.endsWith('.flush');

const lastName = (key: string): string => key.slice(key.lastIndexOf('.') + 1);

/**
 * One file of a snapshot, as ReadSetting() handles it; returns its status (0 or 1).
 * `quietDenied`: leave permission failures to a summary (for -a).
 */
function readOne(ctx: Ctx, snap: SysctlSnapshot, key: string, quietDenied = false): number {
  if (isWriteOnly(key) && !(key in snap.raw)) return OK;
  if (!passes(ctx, key)) return OK;
  const err = snap.unreadable[key];
  if (ctx.args.namesOnly) {
    printKey(ctx, key, '');
    return OK;
  }
  if (err === undefined) {
    printKey(ctx, key, snap.raw[key]!);
    return OK;
  }
  // stable_secret answers EIO until one is set: procps fails silently.
  if (err.code !== 'EIO' && !(quietDenied && err.code === 'EACCES')) warnError(err, readFailure(key, err));
  return FAILED;
}

/** Every key of a snapshot in listing order (the kernel's: sorted by name within a directory). */
function listed(ctx: Ctx, snap: SysctlSnapshot): string[] {
  const keys = [...Object.keys(snap.raw), ...Object.keys(snap.unreadable)].sort();
  return ctx.args.deprecated ? keys : keys.filter((k) => !DEPRECATED.has(lastName(k)));
}

/**
 * `sysctl NAME`: a key, or every key beneath a directory. Returns what procps adds to its
 * exit status: 0, 1, or -1 for a name refused before any file is opened.
 */
export function readKey(ctx: Ctx, name: string): number {
  if (name === '') {
    warn('"" is an unknown key');
    return -1;
  }
  if (isTraversal(name)) {
    warn(refused(name, new Error('an absolute path or a ".." component')));
    return -1;
  }
  if (!isNetKey(name)) {
    if (ctx.args.ignore) return OK;
    warn(notNet(name));
    return FAILED;
  }
  let prefix = 'net';
  let rel = '';
  if (name !== 'net') {
    try {
      const pk = parseKey(name);
      prefix = pk.key;
      rel = pk.rel;
    } catch (e) {
      if (!isArgumentError(e)) throw e;
      warn(refused(name, e));
      return -1;
    }
  }
  let snap: SysctlSnapshot;
  try {
    snap = ctx.sysctl.getAll(prefix);
  } catch (e) {
    const ke = keyErrorOf(e);
    if (!ke) throw e;
    if (isAbsent(ke)) {
      if (ctx.args.ignore) return OK;
      warnError(ke, cannotStat(rel, ke));
    } else warnError(ke, readFailure(prefix, ke));
    return FAILED;
  }
  const keys = [...Object.keys(snap.raw), ...Object.keys(snap.unreadable)];
  if (keys.length === 1 && keys[0] === prefix) return readOne(ctx, snap, prefix);
  // A directory: the status is that of the files directly in it (procps ignores deeper ones).
  let status = OK;
  for (const k of listed(ctx, snap)) {
    const rc = readOne(ctx, snap, k);
    if (!k.slice(prefix.length + 1).includes('.')) status |= rc;
  }
  return status;
}

/** `sysctl -a`: every net.* key. Permission failures are summarised in one line. */
export function showAll(ctx: Ctx): number {
  const snap = ctx.sysctl.getAll('net');
  const keys = listed(ctx, snap);
  if (ctx.args.json) {
    const values: Record<string, SysctlValue> = {};
    const unreadable: Record<string, string> = {};
    for (const k of keys.filter((k) => passes(ctx, k))) {
      if (k in snap.raw) values[k] = snap.values[k]!;
      else unreadable[k] = snap.unreadable[k]!.code;
    }
    json({ values, unreadable, container: ctx.container });
    return OK;
  }
  for (const k of keys) readOne(ctx, snap, k, true);
  const denied = keys.filter((k) => passes(ctx, k) && snap.unreadable[k]?.code === 'EACCES' && !isWriteOnly(k));
  if (denied.length > 0 && !ctx.args.namesOnly)
    warn(
      `${denied.length} keys could not be read without root and are not shown (e.g. ${shown(denied[0]!)}); --json lists them`,
    );
  return OK;
}

/** `sysctl --json KEY...`: typed values and errors by key. */
export function readJson(ctx: Ctx, names: string[]): number {
  let status = OK;
  const values: Record<string, SysctlValue> = {};
  const errors: Record<string, { code: string; message: string }> = {};
  for (const name of names) {
    try {
      const snap = ctx.sysctl.getAll(name);
      Object.assign(values, snap.values);
      const unreadable = Object.entries(snap.unreadable);
      if (Object.keys(snap.raw).length === 0 && unreadable.length === 1) {
        const [k, err] = unreadable[0]!;
        errors[k] = errorJson(err);
        status = FAILED;
      }
    } catch (e) {
      const msg = describe(e);
      if (msg === undefined) throw e;
      if (ctx.args.ignore && keyErrorOf(e) && isAbsent(keyErrorOf(e)!)) continue;
      warnError(e, msg);
      errors[name] = errorJson(e);
      status = FAILED;
    }
  }
  json({ values, errors, container: ctx.container });
  return status;
}
