// netns sysctl: read and write /proc/sys/net in a namespace, like sysctl(8).
import * as fs from 'node:fs';
import { NetnsError, parseKey, sysctl as ownSysctl, formatValue } from 'netns';
import type { Sysctl, SysctlValue, SetManyReport } from 'netns';
import { splitAssignment, type Command, type Values } from '../cli/args.js';
import { FAILED, OK, UsageError, Failure, describe, errorJson, isArgumentError } from '../cli/errors.js';
import { json, out, warn, warnError } from '../cli/output.js';
import { TARGET_HELP, resolveTarget, targetOptions, type TargetValues } from '../cli/targets.js';
import { globRegExp, isGlob, parseConf, pathForm, topLevel, type ConfLine, type InvalidLine } from '../cli/sysctld.js';

const DEPRECATED = new Set(['base_reachable_time', 'retrans_time']);

export const sysctlCommand: Command = {
  summary: 'read and write /proc/sys/net in a namespace, like sysctl(8)',
  help: `Usage: netns sysctl [TARGET] [-n|-N] KEY...
       netns sysctl [TARGET] -w KEY=VALUE...
       netns sysctl [TARGET] -a [PATTERN]
       netns sysctl [TARGET] -p [FILE...]

Read or write network sysctls of a namespace, as sysctl(8) does on the host.

${TARGET_HELP}

Options:
  -n, --values         print values only
  -N, --names          print names only
  -w, --write          set KEY=VALUE pairs as one transaction (all or nothing)
  -a, --all            every net.* key; PATTERN (or -r) is an extended regular
                       expression matched anywhere in the key, as sysctl -r does
  -r, --pattern REGEX  the same, as an option
      --deprecated     with -a: include base_reachable_time and retrans_time,
                       which sysctl(8) hides (their _ms twins are listed)
  -p, --load           apply sysctl.d(5) files (default /etc/sysctl.conf; - is
                       stdin) as one transaction: only net.* keys, others are
                       reported as skipped; a leading '-' ignores that key's failure
  -e, --ignore         ignore unknown keys when reading
  -q, --quiet          do not print the values set
      --json           machine-readable output

Examples:
  netns sysctl --pid 4242 net.ipv4.tcp_keepalive_time
  netns sysctl --name lab -w net.ipv4.tcp_keepalive_time=600 net.ipv4.tcp_keepalive_intvl=10
  netns sysctl --name lab -a 'keepalive|congestion'
  netns sysctl --pid 4242 -p /etc/sysctl.d/90-tcp.conf
  netns sysctl --json net.core.somaxconn`,
  options: {
    ...targetOptions,
    values: { type: 'boolean', short: 'n' },
    names: { type: 'boolean', short: 'N' },
    write: { type: 'boolean', short: 'w' },
    all: { type: 'boolean', short: 'a' },
    pattern: { type: 'string', short: 'r' },
    deprecated: { type: 'boolean' },
    load: { type: 'boolean', short: 'p' },
    ignore: { type: 'boolean', short: 'e' },
    quiet: { type: 'boolean', short: 'q' },
    json: { type: 'boolean' },
  },
  run(v, args) {
    const modes = [v.all, v.load, v.write].filter(Boolean).length;
    if (modes > 1) throw new UsageError('-a, -w and -p cannot be combined', 'sysctl');
    if (v.values && v.names) throw new UsageError('-n and -N cannot be combined', 'sysctl');
    const writes = args.filter((a) => a.includes('='));
    if (!v.all && !v.load && !v.write && writes.length > 0 && writes.length < args.length)
      throw new UsageError('mixing reads (KEY) and writes (KEY=VALUE); use -w for writes', 'sysctl');
    if (v.pattern !== undefined && !v.all) throw new UsageError('-r/--pattern goes with -a', 'sysctl');
    if (!v.all && !v.load && args.length === 0) throw new UsageError('no keys given (try -a for all)', 'sysctl');
    if (v.all && args.length > 1) throw new UsageError('-a takes at most one PATTERN', 'sysctl');
    if (v.all && args.length === 1 && v.pattern !== undefined) throw new UsageError('give the pattern once (as PATTERN or -r)', 'sysctl');
    // Validate command-line syntax before touching any namespace.
    let pattern: RegExp | undefined;
    if (v.all) {
      const src = (v.pattern as string | undefined) ?? args[0];
      if (src !== undefined) {
        try {
          pattern = new RegExp(src);
        } catch (e) {
          throw new UsageError(`invalid PATTERN ${JSON.stringify(src)}: ${(e as Error).message}`, 'sysctl');
        }
      }
    }
    const pairs = v.write || writes.length > 0 ? args.map((a) => splitAssignment(a, 'sysctl')) : undefined;

    const ns = resolveTarget(v as TargetValues, 'sysctl');
    try {
      const target = ns?.sysctl ?? ownSysctl;
      if (v.all) return showAll(target, pattern, v);
      if (v.load) return load(target, args.length > 0 ? args : ['/etc/sysctl.conf'], v);
      if (pairs) return write(target, pairs, v);
      return read(target, args, v);
    } finally {
      ns?.close();
    }
  },
};

function printEntries(entries: [string, string][], v: Values): void {
  let s = '';
  for (const [key, raw] of entries) {
    if (v.names) s += `${key}\n`;
    else if (v.values) s += `${raw}\n`;
    else s += `${key} = ${raw}\n`;
  }
  out(s);
}

function read(target: Sysctl, keys: string[], v: Values): number {
  let status = OK;
  const entries: [string, string][] = [];
  const values: Record<string, SysctlValue> = {};
  const errors: Record<string, { code: string; message: string }> = {};
  for (const key of keys) {
    try {
      // getAll reads one key, or every key beneath a directory (as sysctl(8) does for one).
      const snap = target.getAll(key);
      for (const [k, raw] of Object.entries(snap.raw)) {
        entries.push([k, raw]);
        values[k] = snap.values[k]!;
      }
      for (const [k, err] of Object.entries(snap.unreadable)) {
        // A key named explicitly that cannot be read is a failure; beneath a directory it is
        // skipped silently, as sysctl(8) does.
        if (Object.keys(snap.raw).length === 0 && Object.keys(snap.unreadable).length === 1) {
          warnError(err, err.message);
          errors[k] = errorJson(err);
          status = FAILED;
        }
      }
    } catch (e) {
      const msg = describe(e);
      if (msg === undefined) throw e;
      if (v.ignore && e instanceof NetnsError && e.code === 'ENOENT') continue;
      warnError(e, msg);
      errors[key] = errorJson(e);
      status = FAILED;
    }
  }
  if (v.json) json({ values, errors });
  else printEntries(entries, v);
  return status;
}

function showAll(target: Sysctl, pattern: RegExp | undefined, v: Values): number {
  const snap = target.getAll('net');
  const keep = (k: string): boolean =>
    (v.deprecated === true || !DEPRECATED.has(k.slice(k.lastIndexOf('.') + 1))) && (pattern === undefined || pattern.test(k));
  const entries = Object.entries(snap.raw).filter(([k]) => keep(k));
  if (v.json) {
    const values: Record<string, SysctlValue> = {};
    for (const [k] of entries) values[k] = snap.values[k]!;
    const unreadable: Record<string, string> = {};
    for (const [k, e] of Object.entries(snap.unreadable)) if (keep(k)) unreadable[k] = e.code;
    json({ values, unreadable });
  } else {
    printEntries(entries, v);
    // sysctl(8) warns per key it may not read; one line says the same here. As root the only
    // EACCES keys are write-only ones (route.flush), which both skip silently.
    const denied = Object.entries(snap.unreadable).filter(([k, e]) => keep(k) && e.code === 'EACCES' && !k.endsWith('.flush'));
    if (denied.length > 0 && process.geteuid?.() !== 0)
      warn(`${denied.length} keys could not be read without root and are not shown (e.g. ${denied[0]![0]}); --json lists them`);
  }
  return OK;
}

/** Print what setMany did, in the order given; skipped keys go to stderr with their reason. */
function reportSet(report: SetManyReport, order: string[], v: Values, where: Map<string, string> = new Map()): void {
  for (const k of report.skipped) {
    const at = where.get(k);
    warn(`skipped ${k}${at ? ` (${at})` : ''}: ${report.reasons[k]?.message ?? 'ignored'}`);
  }
  if (v.quiet) return;
  const done = new Set<string>();
  const entries: [string, string][] = [];
  for (const k of order) {
    if (done.has(k) || !(k in report.values)) continue;
    done.add(k);
    entries.push([k, formatValue(report.values[k])]);
  }
  printEntries(entries, v);
}

function reportJson(report: SetManyReport, extra: Record<string, unknown> = {}): void {
  const reasons: Record<string, { code: string; message: string }> = {};
  for (const [k, e] of Object.entries(report.reasons)) reasons[k] = errorJson(e);
  json({ changed: report.changed, unchanged: report.unchanged, skipped: report.skipped, values: report.values, reasons, ...extra });
}

function normalKey(key: string): string {
  return parseKey(key.startsWith('-') ? key.slice(1) : key).key;
}

function write(target: Sysctl, pairs: [string, string][], v: Values): number {
  const order = pairs.map(([k]) => normalKey(k));
  const report = target.setMany(pairs);
  if (v.json) reportJson(report);
  else reportSet(report, order, v);
  return OK;
}

// --- -p: sysctl.d(5) files

function load(target: Sysctl, files: string[], v: Values): number {
  const invalid: InvalidLine[] = [];
  const lines: ConfLine[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new Failure(`cannot read ${file}: ${err.code ?? err.message}. Nothing was applied`);
    }
    lines.push(...parseConf(text, file === '-' ? '<stdin>' : file, invalid));
  }
  for (const bad of invalid) warn(`${bad.where}: invalid syntax, line ignored: ${JSON.stringify(bad.line)}`);

  const skipped: { key: string; where: string; reason: string }[] = [];
  const entries: [string, string][] = [];
  const order: string[] = [];
  const where = new Map<string, string>();
  const net = lines.filter((l) => {
    if (topLevel(l.key) === 'net') return true;
    if (l.value !== undefined)
      skipped.push({ key: l.key, where: l.where, reason: 'not a network sysctl: netns sets only net.* keys in a namespace (use sysctl(8) for the host)' });
    return false;
  });
  // Globs expand against the keys present in the target, minus keys named exactly elsewhere
  // and '-KEY' exclusions, as procps-ng does.
  const exact = new Set(net.filter((l) => !isGlob(l.key)).map((l) => pathForm(l.key)));
  const excluded = net.filter((l) => l.value === undefined).map((l) => globRegExp(pathForm(l.key)));
  let present: string[] | undefined;
  for (const l of net) {
    if (l.value === undefined) continue;
    let keys: string[];
    if (isGlob(l.key)) {
      present ??= target.list('net').map((k) => pathForm(k));
      const re = globRegExp(pathForm(l.key));
      keys = present.filter((p) => re.test(p) && !exact.has(p) && !excluded.some((x) => x.test(p)));
    } else {
      if (excluded.some((x) => x.test(pathForm(l.key)))) continue;
      keys = [l.key];
    }
    for (const key of keys) {
      let dotted: string;
      try {
        dotted = parseKey(key).key;
      } catch (e) {
        if (!isArgumentError(e)) throw e;
        warn(`${l.where}: invalid key, line ignored: ${e.message}`);
        invalid.push({ where: l.where, line: key });
        continue;
      }
      entries.push([(l.optional ? '-' : '') + dotted, l.value]);
      order.push(dotted);
      where.set(dotted, l.where);
    }
  }
  for (const s of skipped) warn(`skipped ${s.key} (${s.where}): ${s.reason}`);
  let report: SetManyReport;
  try {
    report = target.setMany(entries);
  } catch (e) {
    if (e instanceof NetnsError && e.key && where.has(e.key)) throw new Failure(`${where.get(e.key)}: ${e.message}`);
    throw e;
  }
  if (v.json)
    reportJson(report, {
      notNet: skipped,
      invalid: invalid.map((b) => ({ where: b.where, line: b.line })),
    });
  else reportSet(report, order, v, where);
  return OK;
}
