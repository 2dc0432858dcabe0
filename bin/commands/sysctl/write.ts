// Writing keys one by one, as procps' WriteSetting() and write_setting_list() do: each key in
// order, each failure reported, the status saying whether any failed.
import { parseKey, type NetnsError } from 'netns';
import { FAILED, OK, isArgumentError } from '../../cli/errors.js';
import { quote, shown, warn, warnError } from '../../cli/output.js';
import {
  globRegExp,
  isGlob,
  isNetKey,
  isTraversal,
  parseSettingLine,
  pathForm,
  type Setting,
} from '../../cli/sysctld.js';
import { linePattern, printKey, type Ctx } from './context.js';
import { NOT_NET, cannotStat, isAbsent, keyErrorOf, notNet, refused, writeFailure } from './messages.js';

/** Where a failure came from, as a message prefix ("" for the command line). */
function at(s: Setting): string {
  return s.where === 'command line' ? '' : `${shown(s.where)}: `;
}

/** The echo of a value set: as typed (procps prints the value given, not the one read back). */
function echo(ctx: Ctx, key: string, value: string): void {
  if (ctx.args.quiet && !ctx.args.dryRun) return;
  printKey(ctx, key, value);
}

/** --dry-run: the key must exist and be writable; nothing is written. */
function dryRun(ctx: Ctx, s: Setting, key: string, rel: string): number {
  let writable: boolean;
  try {
    const h = ctx.sysctl.open(key);
    writable = h.writable;
    h.close();
  } catch (e) {
    const ke = keyErrorOf(e);
    if (!ke) throw e;
    if (!isAbsent(ke)) return fail(s, writeFailure(key, ke, false), ke);
    if (ctx.args.ignore) return OK;
    return fail(s, cannotStat(rel, ke), ke);
  }
  if (!writable) return fail(s, `setting key ${quote(key)}: Operation not permitted (it is read-only here)`);
  echo(ctx, key, s.value!);
  return OK;
}

function fail(s: Setting, message: string, e?: NetnsError): number {
  if (e) warnError(e, at(s) + message);
  else warn(at(s) + message);
  return FAILED;
}

const PASS_THROUGH = { raw: true, rewrite: true } as const;
const NUMBER = /^-?(0[xX][0-9a-fA-F]+|[0-9]+)$/;

/**
 * The part of a value the kernel keeps when given more numbers than the key holds: it parses
 * the first N and ignores the rest ("5 junk" on somaxconn stores 5, "1 # note" stores 1), and
 * the write comes back short. The library writes a key whole or not at all, so it refuses
 * that write; the part the kernel keeps is written instead, which is what sysctl(8) ends
 * with. undefined when the value is not of that kind.
 */
function keptPart(ctx: Ctx, key: string, value: string): string | undefined {
  let now: string[];
  try {
    now = ctx.sysctl
      .getRaw(key)
      .trim()
      .split(/[ \t]+/);
  } catch {
    return undefined;
  }
  const fields = value.trim().split(/[ \t]+/);
  if (
    fields.length <= now.length ||
    !now.every((f) => NUMBER.test(f)) ||
    !fields.slice(0, now.length).every((f) => NUMBER.test(f))
  )
    return undefined;
  return fields.slice(0, now.length).join(' ');
}

/** Write one value as sysctl(8) hands it to the kernel; throws what the library throws. */
function put(ctx: Ctx, key: string, value: string): void {
  try {
    ctx.sysctl.setMany([[key, value]], PASS_THROUGH);
  } catch (e) {
    const ke = keyErrorOf(e);
    const part = ke?.code === 'EINVAL' && ke.syscall === 'write' ? keptPart(ctx, key, value) : undefined;
    if (part === undefined) throw e;
    try {
      ctx.sysctl.setMany([[key, part]], PASS_THROUGH);
    } catch {
      throw e;
    }
  }
}

/** Write one net.* setting (no glob); returns 0 or 1. */
export function writeSetting(ctx: Ctx, s: Setting): number {
  let key: string;
  let rel: string;
  try {
    ({ key, rel } = parseKey(s.key));
  } catch (e) {
    if (!isArgumentError(e)) throw e;
    return fail(s, refused(s.key, e));
  }
  if (ctx.args.dryRun) return dryRun(ctx, s, key, rel);
  try {
    put(ctx, key, s.value!);
  } catch (e) {
    if (isArgumentError(e)) return fail(s, `setting key ${quote(key)}: ${e.message}`);
    const ke = keyErrorOf(e);
    if (!ke) throw e;
    if (s.optional) {
      // A '-' key: any failure is ignored, as sysctl.conf(5) says (and reported, unless -e covers it).
      if (!(ctx.args.ignore && isAbsent(ke)))
        warn(`skipped ${shown(key)} (${shown(s.where)}): ${ke.code}: ${ke.hint ?? ke.message}`);
      return OK;
    }
    if (!isAbsent(ke)) return fail(s, writeFailure(key, ke, false), ke);
    if (ctx.args.ignore) return OK;
    return fail(s, cannotStat(rel, ke), ke);
  }
  echo(ctx, key, s.value!);
  return OK;
}

/** A key outside net in a file: reported and never written; not a failure. */
export function skipNotNet(ctx: Ctx, s: Setting, always: boolean): void {
  if (always || !ctx.args.ignore) warn(`skipped ${shown(s.key)} (${shown(s.where)}): ${NOT_NET}`);
}

const byteOrder = (x: string, y: string): number => Buffer.compare(Buffer.from(x), Buffer.from(y));

/**
 * The settings of files with globs expanded, as write_setting_list() does: a glob expands to
 * the keys present in the namespace, minus any key another line names exactly and any key an
 * exclusion ('-KEY', glob or not) covers; exclusions never stop a key named exactly. Keys
 * outside net are returned apart.
 */
export function expand(ctx: Ctx, settings: Setting[]): { writes: Setting[]; notNet: Setting[] } {
  const named = new Set(settings.map((s) => pathForm(s.key)));
  const excluded = settings
    .filter((s) => s.value === undefined && isGlob(s.key))
    .map((s) => globRegExp(pathForm(s.key), true));
  const writes: Setting[] = [];
  const other: Setting[] = [];
  let present: string[] | undefined;
  for (const s of settings) {
    if (s.value === undefined) continue;
    if (!isNetKey(s.key) && !isTraversal(s.key) && s.key.trim() !== '') {
      other.push(s);
      continue;
    }
    if (!isGlob(s.key)) {
      writes.push(s);
      continue;
    }
    present ??= ctx.sysctl.list('net').map(pathForm).sort(byteOrder);
    const re = globRegExp(pathForm(s.key));
    for (const p of present)
      if (re.test(p) && !named.has(p) && !excluded.some((x) => x.test(p))) writes.push({ ...s, key: p });
  }
  return { writes, notNet: other };
}

/** Best-effort -p / --system: every setting in order; the status is 1 if any failed. */
export function writeList(ctx: Ctx, settings: Setting[], system: boolean): number {
  const { writes, notNet } = expand(ctx, settings);
  for (const s of notNet) skipNotNet(ctx, s, system);
  let status = OK;
  for (const s of writes) status |= writeSetting(ctx, s);
  return status;
}

/** One KEY=VALUE of the command line (procps parses it as a file line; no globs). */
export function writeOperand(ctx: Ctx, operand: string): number {
  const r = parseSettingLine(operand, linePattern(ctx));
  if (r.kind === 'none') return FAILED; // filtered out by -r, or a comment: procps fails silently
  if (r.kind === 'invalid') {
    warn('command line(0): invalid syntax, continuing...');
    return FAILED;
  }
  if (r.value === undefined) {
    warn(`-${shown(r.key)}: an exclusion is for files; give -${shown(r.key)}=VALUE to ignore failures`);
    return FAILED;
  }
  if (!isNetKey(r.key) && !isTraversal(r.key)) {
    if (ctx.args.ignore) return OK;
    warn(notNet(r.key));
    return FAILED;
  }
  return writeSetting(ctx, { key: r.key, value: r.value, optional: r.optional, where: 'command line' });
}
