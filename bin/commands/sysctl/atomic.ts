// --atomic and --json: writes as one transaction (all or nothing), the library's setMany.
import { NetnsError, formatValue, parseKey, type SetManyReport } from 'netns';
import { FAILED, Failure, OK, errorJson, isArgumentError } from '../../cli/errors.js';
import { json, quote, shown, warn } from '../../cli/output.js';
import { isNetKey, parseSettingLine, type InvalidLine, type Setting } from '../../cli/sysctld.js';
import { linePattern, printKey, type Ctx } from './context.js';
import { expand } from './write.js';
import { NOT_NET, notNet } from './messages.js';

/** Print what setMany did, in the order given; skipped keys go to stderr with their reason. */
function reportSet(ctx: Ctx, report: SetManyReport, order: string[], where: Map<string, string>): void {
  for (const k of report.skipped) {
    const w = where.get(k);
    warn(
      `skipped ${shown(k)}${w && w !== 'command line' ? ` (${shown(w)})` : ''}: ${report.reasons[k]?.message ?? 'ignored'}`,
    );
  }
  if (ctx.args.quiet) return;
  const done = new Set<string>();
  for (const k of order) {
    if (done.has(k) || !(k in report.values)) continue;
    done.add(k);
    printKey(ctx, k, formatValue(report.values[k]));
  }
}

function reportJson(report: SetManyReport, extra: Record<string, unknown> = {}): void {
  const reasons: Record<string, { code: string; message: string }> = {};
  for (const [k, e] of Object.entries(report.reasons)) reasons[k] = errorJson(e);
  json({
    changed: report.changed,
    unchanged: report.unchanged,
    skipped: report.skipped,
    values: report.values,
    reasons,
    ...extra,
  });
}

/** Apply net.* settings (globs already expanded) as one transaction. */
function transaction(ctx: Ctx, writes: Setting[], extra?: Record<string, unknown>): number {
  const entries: [string, string][] = [];
  const order: string[] = [];
  const where = new Map<string, string>();
  for (const s of writes) {
    let key: string;
    try {
      key = parseKey(s.key).key;
    } catch (e) {
      if (!isArgumentError(e)) throw e;
      throw new Failure(`${s.where === 'command line' ? '' : `${s.where}: `}${e.message}. Nothing was applied`);
    }
    entries.push([(s.optional ? '-' : '') + key, s.value!]);
    order.push(key);
    where.set(key, s.where);
  }
  let report: SetManyReport;
  try {
    report = ctx.sysctl.setMany(entries, { raw: true, ignoreMissing: ctx.args.ignore });
  } catch (e) {
    const w = e instanceof NetnsError && e.key ? where.get(e.key) : undefined;
    if (w && w !== 'command line') throw new Failure(`${w}: ${(e as Error).message}`);
    throw e;
  }
  if (ctx.args.json) reportJson(report, { ...extra, container: ctx.container });
  else reportSet(ctx, report, order, where);
  return OK;
}

/** Command-line KEY=VALUE operands as one transaction. */
export function atomicOperands(ctx: Ctx, operands: string[]): number {
  const writes: Setting[] = [];
  for (const op of operands) {
    const r = parseSettingLine(op, linePattern(ctx));
    if (r.kind === 'none') continue;
    if (r.kind === 'invalid' || r.value === undefined)
      throw new Failure(`expected KEY=VALUE, got ${quote(op)}. Nothing was applied`);
    if (!isNetKey(r.key)) {
      if (ctx.args.ignore) continue;
      throw new Failure(`${notNet(r.key)}. Nothing was applied`);
    }
    writes.push({ key: r.key, value: r.value, optional: r.optional, where: 'command line' });
  }
  return transaction(ctx, writes);
}

/** -p / --system settings as one transaction; keys outside net are reported and skipped. */
export function atomicSettings(
  ctx: Ctx,
  { settings, invalid, status }: { settings: Setting[]; invalid: InvalidLine[]; status: number },
): number {
  if (status !== OK) throw new Failure('a file could not be read. Nothing was applied');
  const { writes, notNet: other } = expand(ctx, settings);
  const skipped = other.map((s) => ({ key: s.key, where: s.where, reason: NOT_NET }));
  if (!ctx.args.json) for (const s of skipped) warn(`skipped ${shown(s.key)} (${shown(s.where)}): ${s.reason}`);
  const rc = transaction(ctx, writes, { notNet: skipped, invalid });
  return rc === OK ? OK : FAILED;
}

/** Whether the command line asks for the transaction. */
export function wantsTransaction(ctx: Ctx): boolean {
  return ctx.args.atomic || ctx.args.json;
}
