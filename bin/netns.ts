#!/usr/bin/env node
// netns: sysctl(8) and `ip netns` for any network namespace, built on the library's public API.
//
// Exit codes: 0 success; 1 an operation failed (a key could not be read or written, a
// namespace could not be opened); 2 usage error; 255 internal error. `exec` passes the
// command's own status through (126/127 when it cannot be started, like env(1)).
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import { parseArgs } from 'node:util';
import * as lib from 'netns';
import { NetNamespace, NetnsError, parseKey, sysctl as ownSysctl, formatValue, valuesEqual } from 'netns';
import type { Sysctl, SysctlValue, SetManyReport, NamespaceInfo } from 'netns';

// ---------------------------------------------------------------------------------------------
// Exit codes, errors, output

const OK = 0;
const FAILED = 1;
const USAGE = 2;
const INTERNAL = 255;

/** A command-line mistake: exit 2, with a pointer to the help. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
  }
}

/** An operation failed for a reason that is not a NetnsError (e.g. a file given to -p): exit 1. */
class Failure extends Error {}

const DEBUG = process.env.NETNS_DEBUG === '1';

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

function warn(message: string): void {
  process.stderr.write(`netns: ${oneLine(message)}\n`);
}

/** Report an error that does not end the command (one key of several); stack with NETNS_DEBUG=1. */
function warnError(e: unknown, message: string): void {
  if (DEBUG && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  warn(message);
}

/** Library argument checks ("Expected X for Y but received Z") are about the user's key or value. */
function isArgumentError(e: unknown): e is Error {
  return (e instanceof TypeError || e instanceof RangeError) && /^Expected /.test(e.message);
}

/** The one-line message for an error on a key or value, or undefined for an internal error. */
function describe(e: unknown): string | undefined {
  if (e instanceof NetnsError) return e.message;
  if (isArgumentError(e)) return e.message;
  if (e instanceof Failure) return e.message;
  return undefined;
}

function errorJson(e: unknown): { code: string; message: string } {
  const code = e instanceof NetnsError ? e.code : e instanceof Error ? e.name : 'Error';
  return { code, message: oneLine(describe(e) ?? String(e)) };
}

function out(s: string): void {
  process.stdout.write(s);
}

const colour = process.stdout.isTTY === true && !process.env.NO_COLOR;
function paint(code: string, s: string): string {
  return colour ? `\x1b[${code}m${s}\x1b[0m` : s;
}
const bold = (s: string): string => paint('1', s);
const dim = (s: string): string => paint('2', s);

/** Display width of a string (code points; values here are ASCII in practice). */
function len(s: string): number {
  return [...s].length;
}

/**
 * An aligned table: columns separated by two spaces, no trailing blanks, headers bold on a
 * terminal. Tabs in cells show as spaces. `style` may colour a cell (padding stays outside
 * the colour codes). On a terminal the last column is cut to the screen width.
 */
function table(headers: string[], rows: string[][], style: (col: number, cell: string) => string = (_c, s) => s): string {
  const clean = rows.map((r) => r.map((c) => c.replace(/\t/g, ' ')));
  const last = headers.length - 1;
  const width = headers.map((h, i) => Math.max(len(h), ...clean.map((r) => len(r[i] ?? ''))));
  const screen = process.stdout.isTTY ? process.stdout.columns : undefined;
  const room = screen ? screen - width.slice(0, last).reduce((a, b) => a + b + 2, 0) : Infinity;
  const cut = (s: string): string => (len(s) > room && room > 1 ? [...s].slice(0, room - 1).join('') + '…' : s);
  const line = (cells: string[], st: (col: number, cell: string) => string): string =>
    cells
      .map((c, i) => (i === last ? st(i, cut(c)) : st(i, c) + ' '.repeat(width[i]! - len(c))))
      .join('  ')
      .trimEnd();
  return [line(headers, (_i, c) => bold(c)), ...clean.map((r) => line(r, style))].join('\n') + '\n';
}

/** JSON, indented, with arrays of numbers and strings kept on one line (pid lists, vectors). */
function stringify(v: unknown, indent = ''): string {
  if (v instanceof Error) v = errorJson(v);
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    if (v.every((x) => x === null || typeof x !== 'object')) return `[${v.map((x) => JSON.stringify(x) ?? 'null').join(', ')}]`;
    const inner = indent + '  ';
    return `[\n${v.map((x) => inner + stringify(x, inner)).join(',\n')}\n${indent}]`;
  }
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    if (entries.length === 0) return '{}';
    const inner = indent + '  ';
    return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${stringify(x, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

function json(v: unknown): void {
  out(stringify(v) + '\n');
}

/** A value for a table cell: tabs as spaces, long values cut (JSON output has them whole). */
function cell(v: string | null, max = 40): string {
  if (v === null) return '(absent)';
  const t = v.replace(/\t/g, ' ');
  return len(t) > max ? [...t].slice(0, max - 1).join('') + '…' : t;
}

/** Shell-quote one word for a suggested command line. */
function shq(s: string): string {
  return /^[A-Za-z0-9_.,:/=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

const VERSION: string = (() => {
  try {
    return (createRequire(import.meta.url)('netns/package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
})();

// ---------------------------------------------------------------------------------------------
// Selectors: --pid / --name / --path, none = the current namespace

const selectorOptions = {
  pid: { type: 'string' },
  name: { type: 'string' },
  path: { type: 'string' },
} as const;

interface SelectorValues {
  pid?: string;
  name?: string;
  path?: string;
}

function hasSelector(v: SelectorValues): boolean {
  return v.pid !== undefined || v.name !== undefined || v.path !== undefined;
}

/** Open the selected namespace, or undefined for the current one. */
function openSelected(v: SelectorValues, command: string): NetNamespace | undefined {
  const given = [v.pid !== undefined, v.name !== undefined, v.path !== undefined].filter(Boolean).length;
  if (given > 1) throw new UsageError('give at most one of --pid, --name and --path', command);
  if (v.pid !== undefined) {
    if (!/^[0-9]+$/.test(v.pid) || Number(v.pid) < 1) throw new UsageError(`--pid expects a process id, got ${JSON.stringify(v.pid)}`, command);
    return NetNamespace.fromPid(Number(v.pid));
  }
  if (v.name !== undefined) return NetNamespace.fromName(v.name);
  if (v.path !== undefined) return NetNamespace.fromPath(v.path);
  return undefined;
}

/** How to name the selected namespace in a suggested command. */
function selectorArgs(v: SelectorValues): string {
  if (v.pid !== undefined) return `--pid ${v.pid}`;
  if (v.name !== undefined) return `--name ${shq(v.name)}`;
  if (v.path !== undefined) return `--path ${shq(v.path)}`;
  return '';
}

// ---------------------------------------------------------------------------------------------
// Commands

interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
}

interface Command {
  summary: string;
  help: string;
  options: Record<string, OptionSpec>;
  /** Options end at the first positional (the COMMAND of exec), as in `ip netns exec`. */
  stopAtPositional?: boolean;
  run(values: Record<string, unknown>, positionals: string[]): number | Promise<number>;
}

const SELECTOR_HELP = `Target (default: the current namespace):
  --pid PID            the namespace of process PID
  --name NAME          a named namespace (/run/netns/NAME, as ip netns names them)
  --path PATH          a namespace file (/proc/PID/ns/net, a bind mount)`;

// --- sysctl ----------------------------------------------------------------------------------

const DEPRECATED = new Set(['base_reachable_time', 'retrans_time']);

const sysctlCommand: Command = {
  summary: 'read and write /proc/sys/net in a namespace, like sysctl(8)',
  help: `Usage: netns sysctl [TARGET] [-n|-N] KEY...
       netns sysctl [TARGET] -w KEY=VALUE...
       netns sysctl [TARGET] -a [PATTERN]
       netns sysctl [TARGET] -p [FILE...]

Read or write network sysctls of a namespace, as sysctl(8) does on the host.

${SELECTOR_HELP}

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
    ...selectorOptions,
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

    const ns = openSelected(v as SelectorValues, 'sysctl');
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

/** Split "KEY=VALUE" as sysctl(8) does: at the first '=', whitespace around both trimmed. */
function splitAssignment(arg: string, command: string): [string, string] {
  const i = arg.indexOf('=');
  if (i < 0) throw new UsageError(`expected KEY=VALUE, got ${JSON.stringify(arg)}`, command);
  const key = arg.slice(0, i).trim();
  if (key === '' || key === '-') throw new UsageError(`missing key in ${JSON.stringify(arg)}`, command);
  return [key, arg.slice(i + 1).trim()];
}

function printEntries(entries: [string, string][], v: Record<string, unknown>): void {
  let s = '';
  for (const [key, raw] of entries) {
    if (v.names) s += `${key}\n`;
    else if (v.values) s += `${raw}\n`;
    else s += `${key} = ${raw}\n`;
  }
  out(s);
}

function read(target: Sysctl, keys: string[], v: Record<string, unknown>): number {
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

function showAll(target: Sysctl, pattern: RegExp | undefined, v: Record<string, unknown>): number {
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
function reportSet(report: SetManyReport, order: string[], v: Record<string, unknown>, where: Map<string, string> = new Map()): void {
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

function write(target: Sysctl, pairs: [string, string][], v: Record<string, unknown>): number {
  const order = pairs.map(([k]) => normalKey(k));
  const report = target.setMany(pairs);
  if (v.json) reportJson(report);
  else reportSet(report, order, v);
  return OK;
}

// --- sysctl -p: sysctl.d(5) files ------------------------------------------------------------

interface ConfLine {
  key: string; // as written, without the '-' prefix
  value: string | undefined; // undefined: a '-KEY' exclusion line
  optional: boolean;
  where: string; // FILE:LINE
}

/** Parse one sysctl.d(5) file the way procps-ng does (comments # and ;, '-' prefix, trimming). */
function parseConf(text: string, file: string, invalid: { where: string; line: string }[]): ConfLine[] {
  const lines: ConfLine[] = [];
  text.split('\n').forEach((raw, i) => {
    const where = `${file}:${i + 1}`;
    const line = raw.replace(/^\s+/, '').replace(/\s+$/, '');
    if (line.length < 2 || line.startsWith('#') || line.startsWith(';')) {
      if (line.length === 1 && line !== '#' && line !== ';') invalid.push({ where, line });
      return;
    }
    const eq = line.indexOf('=');
    if (eq < 0) {
      if (line.startsWith('-')) lines.push({ key: line.slice(1).trim(), value: undefined, optional: true, where });
      else invalid.push({ where, line });
      return;
    }
    let key = line.slice(0, eq).trim();
    const optional = key.startsWith('-');
    if (optional) key = key.slice(1).trim();
    if (key === '') {
      invalid.push({ where, line });
      return;
    }
    lines.push({ key, value: line.slice(eq + 1).trim(), optional, where });
  });
  return lines;
}

/** First component of a key in sysctl(8) syntax (the first separator decides the form). */
function topLevel(key: string): string {
  const m = /^[^./]*/.exec(key);
  return m ? m[0] : key;
}

/** The path form of a key, for glob matching (dots and slashes swapped as sysctl(8) does). */
function pathForm(key: string): string {
  const dot = key.indexOf('.');
  const slash = key.indexOf('/');
  if (slash === -1 || (dot !== -1 && dot < slash)) return key.split('.').map((c) => c.replaceAll('/', '.')).join('/');
  return key;
}

/** A glob(7) pattern on path components ('*' and '?' do not cross '/'), as a RegExp. */
function globRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let body = glob.slice(i + 1, end);
        if (body.startsWith('!')) body = '^' + body.slice(1);
        re += `[${body.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const GLOB = /[*?[]/;

function load(target: Sysctl, files: string[], v: Record<string, unknown>): number {
  const invalid: { where: string; line: string }[] = [];
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
  const exact = new Set(net.filter((l) => !GLOB.test(l.key)).map((l) => pathForm(l.key)));
  const excluded = net.filter((l) => l.value === undefined).map((l) => globRegExp(pathForm(l.key)));
  let present: string[] | undefined;
  for (const l of net) {
    if (l.value === undefined) continue;
    let keys: string[];
    if (GLOB.test(l.key)) {
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

// --- list / create / delete ------------------------------------------------------------------

const listCommand: Command = {
  summary: 'list every network namespace on the host',
  help: `Usage: netns list [--json]

Every network namespace that is named (/run/netns) or that a process is in: its inode (as
readlink /proc/PID/ns/net shows net:[INO]), names, number of processes, the first pid and
its command line. Processes you may not inspect are left out (run as root to see all).

Options:
      --json           machine-readable output (every pid, the full id DEV:INO)

Examples:
  netns list
  netns list --json | jq '.[] | select(.names | length > 0)'`,
  options: { json: { type: 'boolean' } },
  run(v, args) {
    if (args.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(args[0])}`, 'list');
    const all: NamespaceInfo[] = NetNamespace.list();
    if (v.json) {
      json(all.map((e) => ({ id: e.id, ino: Number(e.id.split(':')[1]), names: e.names, pids: e.pids, ...(e.command !== undefined ? { command: e.command } : {}) })));
      return OK;
    }
    const rows = all.map((e) => [
      e.id.split(':')[1] ?? e.id,
      e.names.join(',') || '-',
      String(e.pids.length),
      e.pids.length ? String(e.pids[0]) : '-',
      e.command ?? '-',
    ]);
    out(table(['NS', 'NAMES', 'NPROCS', 'PID', 'COMMAND'], rows));
    return OK;
  },
};

const createCommand: Command = {
  summary: 'create a named namespace (as ip netns add)',
  help: `Usage: netns create NAME

Create a network namespace bound at /run/netns/NAME, exactly as \`ip netns add NAME\`
does: \`ip netns\` sees it, and it lives until \`netns delete NAME\`.

Example:
  netns create lab && netns sysctl --name lab net.core.somaxconn`,
  options: {},
  run(_v, args) {
    if (args.length !== 1) throw new UsageError('expected exactly one NAME', 'create');
    NetNamespace.create({ name: args[0]! }).close();
    return OK;
  },
};

const deleteCommand: Command = {
  summary: 'delete named namespaces (as ip netns delete)',
  help: `Usage: netns delete NAME...

Remove /run/netns/NAME as \`ip netns delete\` does (lazy unmount, unlink). The namespace
itself goes away once no process is in it and nothing else holds it.

Example:
  netns delete lab`,
  options: {},
  run(_v, args) {
    if (args.length === 0) throw new UsageError('expected at least one NAME', 'delete');
    let status = OK;
    for (const name of args) {
      try {
        NetNamespace.remove(name);
      } catch (e) {
        const msg = describe(e);
        if (msg === undefined) throw e;
        warnError(e, msg);
        status = FAILED;
      }
    }
    return status;
  },
};

// --- exec ------------------------------------------------------------------------------------

const execCommand: Command = {
  summary: 'run a command in a namespace, optionally a new one with sysctls preset',
  help: `Usage: netns exec [--sysctl KEY=VALUE]... [TARGET | --new] -- COMMAND [ARG...]

Run COMMAND inside a network namespace. With --new (implied by --sysctl without a
TARGET) it is a fresh namespace whose sysctls are set, as one transaction, before the
command starts: the docker run --sysctl equivalent. The command cannot observe the
namespace before its values are set. A fresh namespace lives as long as the command.

${SELECTOR_HELP}
  --new                a new namespace

Options:
  --sysctl KEY=VALUE   set KEY before the command starts (repeatable)

The command's exit status passes through; if it is killed by a signal, netns kills itself
with the same signal (core-dumping signals give status 128+N instead). 126/127: the
command could not be run / was not found. SIGTERM, SIGHUP, SIGUSR1/2 (and SIGINT, SIGQUIT
when stdin is not a terminal) are forwarded to the command.

Examples:
  netns exec --sysctl net.ipv4.tcp_keepalive_time=600 -- sh -c 'cat /proc/sys/net/ipv4/tcp_keepalive_time'
  netns exec --name lab -- ip addr
  netns exec --pid 4242 -- ss -tln`,
  options: {
    ...selectorOptions,
    new: { type: 'boolean' },
    sysctl: { type: 'string', multiple: true },
  },
  stopAtPositional: true,
  run(v, args) {
    const presets = ((v.sysctl as string[] | undefined) ?? []).map((a) => splitAssignment(a, 'exec'));
    const selected = hasSelector(v as SelectorValues);
    if (v.new && selected) throw new UsageError('--new and --pid/--name/--path exclude each other', 'exec');
    if (args.length === 0) throw new UsageError('no COMMAND given (put it after --)', 'exec');
    const fresh = v.new === true || (!selected && presets.length > 0);
    const [command, ...rest] = args as [string, ...string[]];
    return runChild(command, rest, fresh, presets, v as SelectorValues);
  },
};

type SpawnInNetns = (
  command: string,
  args: readonly string[],
  options: { netns?: NetNamespace; sysctl?: [string, string][]; stdio: 'inherit' },
) => { child: ChildProcess };

function startChild(command: string, args: string[], fresh: boolean, presets: [string, string][], sel: SelectorValues): ChildProcess {
  const given = fresh ? undefined : openSelected(sel, 'exec');
  try {
    if (!fresh && given === undefined) return spawn(command, args, { stdio: 'inherit' });
    // INTEGRATION(spawnInNetns): issue 4's spawnInNetns (lib/spawn.ts) is used when the library
    // exports it; until then the same steps by hand: create, setMany, spawn inside runSync.
    const spawnInNetns = (lib as unknown as { spawnInNetns?: SpawnInNetns }).spawnInNetns;
    if (typeof spawnInNetns === 'function') {
      const opts: Parameters<SpawnInNetns>[2] = { sysctl: presets, stdio: 'inherit' };
      if (given) opts.netns = given;
      return spawnInNetns(command, args, opts).child;
    }
    const ns = given ?? NetNamespace.create();
    try {
      ns.sysctl.setMany(presets);
      return ns.runSync(() => spawn(command, args, { stdio: 'inherit' }));
    } finally {
      if (ns !== given) ns.close(); // the command holds the namespace now
    }
  } finally {
    given?.close();
  }
}

const CORE_SIGNALS = new Set(['SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGSEGV', 'SIGXCPU', 'SIGXFSZ', 'SIGSYS']);
// Node ignores SIGPIPE and uses SIGUSR1 for its inspector: re-raising them would not kill us.
const NOT_RERAISABLE = new Set(['SIGPIPE', 'SIGUSR1']);

function runChild(command: string, args: string[], fresh: boolean, presets: [string, string][], sel: SelectorValues): Promise<number> {
  const child = startChild(command, args, fresh, presets, sel);
  const forwarded: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'];
  // From a terminal, Ctrl-C and Ctrl-\ reach the whole foreground group, the command included:
  // forwarding them would deliver them twice. Otherwise (scripts, kill PID) forward them too.
  const interactive = process.stdin.isTTY === true;
  forwarded.push('SIGINT', 'SIGQUIT');
  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const sig of forwarded) {
    const h = (): void => {
      if (interactive && (sig === 'SIGINT' || sig === 'SIGQUIT')) return;
      try {
        child.kill(sig);
      } catch {
        /* already gone */
      }
    };
    handlers.set(sig, h);
    process.on(sig, h);
  }
  const unhook = (): void => {
    for (const [sig, h] of handlers) process.removeListener(sig, h);
  };
  return new Promise<number>((resolve) => {
    child.once('error', (e: NodeJS.ErrnoException) => {
      unhook();
      warn(`cannot run ${JSON.stringify(command)}: ${e.code ?? ''} ${e.code === 'ENOENT' ? 'command not found (check PATH)' : e.message}`);
      resolve(e.code === 'ENOENT' ? 127 : 126);
    });
    child.once('exit', (code, signal) => {
      unhook();
      if (signal === null) {
        resolve(code ?? INTERNAL);
        return;
      }
      const n = os.constants.signals[signal] ?? 0;
      if (!CORE_SIGNALS.has(signal) && !NOT_RERAISABLE.has(signal)) {
        // Die the same way, as env(1) and timeout(1) do: no listener left = default disposition.
        process.removeAllListeners(signal);
        try {
          process.kill(process.pid, signal);
        } catch {
          /* fall through */
        }
        setTimeout(() => resolve(128 + n), 200); // only if the signal did not end us
        return;
      }
      resolve(128 + n);
    });
  });
}

// --- explain / diff --------------------------------------------------------------------------

// INTEGRATION(classify): issue 5 builds compare/classify/explain in lib/classify.ts. When the
// library exports them, explain and diff use them (classes, evidence, sentences, how to set);
// until then they compare values only and report class "unknown" where presence does not
// settle it. The shapes below mirror lib/classify.ts's Classification and Explanation.
interface Classification {
  key: string;
  class: string;
  host: string | null;
  child: string | null;
  evidence: { reason?: string; [k: string]: unknown };
}
interface Explanation extends Classification {
  sentence?: string;
  howToSet?: { inside?: { cli: string }; atStart?: { cli: string }; beforeCreate?: string; cannot?: string };
}
interface ClassifyApi {
  classify?: (options?: { probe?: boolean; keys?: string[] }) => Classification[];
  explain?: (key: string, options?: { probe?: boolean }) => Explanation;
}
const classifyApi = lib as unknown as ClassifyApi;
const haveClassify = (): boolean => typeof classifyApi.classify === 'function';

const CANNOT = new Set(['host-only', 'shared', 'readonly']);

function sameValue(a: string | null, b: string | null): boolean {
  if (a === null || b === null) return a === b;
  return valuesEqual(a, b);
}

/** Observation only: host vs a fresh namespace, by value. */
function observe(keys: string[] | undefined): Classification[] {
  const fresh = NetNamespace.create();
  try {
    const collect = (s: Sysctl): Record<string, string> => {
      if (!keys) return s.getAll('net').raw;
      const outv: Record<string, string> = {};
      for (const k of keys) {
        try {
          Object.assign(outv, s.getAll(k).raw);
        } catch (e) {
          if (!(e instanceof NetnsError && e.code === 'ENOENT')) throw e;
        }
      }
      return outv;
    };
    const host = collect(ownSysctl);
    const child = collect(fresh.sysctl);
    const all = [...new Set([...Object.keys(host), ...Object.keys(child)])].sort();
    return all.map((key) => {
      const h = host[key] ?? null;
      const c = child[key] ?? null;
      const cls = h !== null && c === null ? 'host-only' : h === null && c !== null ? 'child-only' : 'unknown';
      const reason =
        cls === 'unknown'
          ? `values ${sameValue(h, c) ? 'equal' : 'differ'}; the classification (lib/classify.ts) is not in this build`
          : `present only ${cls === 'host-only' ? 'on the host' : 'in a fresh namespace'}`;
      return { key, class: cls, host: h, child: c, evidence: { reason } };
    });
  } finally {
    fresh.close();
  }
}

function classifyKeys(keys: string[] | undefined, probe: boolean): Classification[] {
  if (haveClassify()) return classifyApi.classify!(keys ? { probe, keys } : { probe });
  if (probe) throw new Failure('--probe needs the classification (lib/classify.ts), which this build of netns lacks');
  return observe(keys);
}

function howShort(c: { class: string; key: string }, value: string | null, sel: string): string {
  if (CANNOT.has(c.class)) return `cannot: ${c.class}`;
  const v = value ?? 'VALUE';
  return sel ? `netns sysctl ${sel} -w ${shq(`${c.key}=${v}`)}` : `netns exec --sysctl ${shq(`${c.key}=${v}`)} -- CMD`;
}

function classStyle(cls: string): string {
  switch (cls) {
    case 'inherited':
      return '32';
    case 'default':
      return '33';
    case 'host-only':
    case 'shared':
    case 'readonly':
      return '35';
    default:
      return '2';
  }
}

const explainCommand: Command = {
  summary: 'which keys a new namespace does not take from the host, why, and how to set them',
  help: `Usage: netns explain [--probe] [--all] [--json] [KEY...]

Compare the host with a fresh namespace. Without KEY: every key whose value (or presence)
differs, with its class and how to set it for a container. With KEY: a short explanation
of each key. Classes: inherited (copied from the host at creation), default (reset to the
kernel's default), parent, shared, readonly, host-only, child-only, unknown.

Options:
      --probe          settle keys whose host and fresh values are equal by briefly
                       changing harmless host values (root only; restored, even on SIGTERM)
      --all            list keys with equal values too
      --json           machine-readable output: [{ key, class, host, child, evidence, ... }]

Examples:
  netns explain
  netns explain net.ipv4.tcp_keepalive_time net.ipv4.tcp_congestion_control
  netns explain --json | jq '.[] | select(.class == "default") | .key'`,
  options: { probe: { type: 'boolean' }, all: { type: 'boolean' }, json: { type: 'boolean' } },
  run(v, keys) {
    const probe = v.probe === true;
    for (const k of keys) parseKey(k); // argument errors before creating anything
    if (keys.length > 0) {
      const rows: Explanation[] =
        typeof classifyApi.explain === 'function'
          ? keys.map((k) => classifyApi.explain!(k, { probe }))
          : classifyKeys(keys, probe)
              .map((c) => fallbackExplanation(c))
              .sort((a, b) => orderOf(keys, a.key) - orderOf(keys, b.key));
      if (rows.length === 0) throw new NetnsError(2, 'open', { hint: `No such key on the host or in a fresh namespace: ${keys.join(', ')}` });
      if (v.json) json(rows);
      else out(rows.map(explanationText).join('\n'));
      return OK;
    }
    const rows = classifyKeys(undefined, probe).filter((c) => v.all === true || !sameValue(c.host, c.child));
    if (v.json) {
      json(rows);
      return OK;
    }
    // Entries of the host's own devices (conf.eth0.*) are absent from a fresh namespace by
    // nature: summarise them instead of listing hundreds of rows.
    const hidden = new Set<string>();
    const shown = rows.filter((c) => {
      const dev = deviceOf(c.key);
      if (v.all === true || dev === undefined || (c.host !== null && c.child !== null)) return true;
      hidden.add(dev);
      return false;
    });
    out(
      table(
        ['KEY', 'HOST', 'NEW NAMESPACE', 'CLASS', 'HOW TO SET IT FOR A CONTAINER'],
        shown.map((c) => [c.key, cell(c.host), cell(c.child), c.class, howShort(c, c.host, '')]),
        (col, c) => (col === 3 ? paint(classStyle(c), c) : c),
      ),
    );
    if (hidden.size > 0)
      out(dim(`(${rows.length - shown.length} entries of devices present on one side only hidden: ${[...hidden].join(', ')}; --all shows them)\n`));
    if (!haveClassify()) out(dim('(classes need lib/classify.ts, which this build lacks: only presence is classified)\n'));
    return OK;
  },
};

/** Position of a key (or of the directory it is beneath) among the keys asked for. */
function orderOf(keys: string[], key: string): number {
  const i = keys.findIndex((k) => {
    const d = parseKey(k).key;
    return key === d || key.startsWith(d + '.');
  });
  return i < 0 ? keys.length : i;
}

function fallbackExplanation(c: Classification): Explanation {
  const k = c.key;
  const v = c.host ?? c.child ?? 'VALUE';
  const sentence =
    c.class === 'host-only'
      ? `${k} exists on the host but not in a new namespace.`
      : c.class === 'child-only'
        ? `${k} exists in a new namespace but not on the host.`
        : `A new namespace has ${c.child} where the host has ${c.host} (${sameValue(c.host, c.child) ? 'equal' : 'different'} values); why is not known to this build.`;
  const howToSet: Explanation['howToSet'] =
    c.class === 'host-only'
      ? { cannot: 'host-only: it cannot be set per container' }
      : { inside: { cli: `netns sysctl --pid PID -w ${shq(`${k}=${v}`)}` }, atStart: { cli: `netns exec --sysctl ${shq(`${k}=${v}`)} -- CMD` } };
  return { ...c, sentence, howToSet };
}

function explanationText(e: Explanation): string {
  const lines: [string, string][] = [
    ['class', paint(classStyle(e.class), e.class)],
    ['host', e.host ?? '(absent)'],
    ['new namespace', e.child ?? '(absent)'],
  ];
  if (e.sentence) lines.push(['why', e.sentence]);
  if (e.evidence?.reason) lines.push(['evidence', String(e.evidence.reason)]);
  const h = e.howToSet ?? {};
  if (h.inside) lines.push(['inside', h.inside.cli]);
  if (h.atStart) lines.push(['at start', h.atStart.cli]);
  if (h.beforeCreate) lines.push(['before', h.beforeCreate]);
  if (h.cannot) lines.push(['cannot', h.cannot]);
  const w = Math.max(...lines.map(([l]) => l.length));
  return `${bold(e.key)}\n` + lines.map(([l, t]) => `  ${(l + ':').padEnd(w + 1)} ${t.replace(/\t/g, ' ')}`).join('\n') + '\n';
}

/** conf/neigh entries of one device (not all/default): they exist where the device exists. */
function deviceOf(key: string): string | undefined {
  const m = /^net\.ipv[46]\.(?:conf|neigh)\.([^.]+)\./.exec(key);
  return m && m[1] !== 'all' && m[1] !== 'default' ? m[1] : undefined;
}

const diffCommand: Command = {
  summary: "a namespace's sysctls that differ from the host's, and how to set them",
  help: `Usage: netns diff TARGET [--all] [--json]

Compare every net.* key of a namespace with the current (host) namespace, by value (tabs
and spaces alike, numbers as numbers). For each difference: both values, the key's class
(why a new namespace differs), and the command that sets the host's value inside.

${SELECTOR_HELP}

Options:
      --all            also list entries of devices present on one side only
      --json           machine-readable output

Examples:
  netns diff --pid 4242
  netns diff --name lab --json`,
  options: { ...selectorOptions, all: { type: 'boolean' }, json: { type: 'boolean' } },
  run(v, args) {
    if (args.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(args[0])}`, 'diff');
    if (!hasSelector(v as SelectorValues)) throw new UsageError('diff needs a target: --pid PID, --name NAME or --path PATH', 'diff');
    const ns = openSelected(v as SelectorValues, 'diff')!;
    let host: Record<string, string>;
    let target: Record<string, string>;
    try {
      host = ownSysctl.getAll('net').raw;
      target = ns.sysctl.getAll('net').raw;
    } finally {
      ns.close();
    }
    const keys = [...new Set([...Object.keys(host), ...Object.keys(target)])].sort();
    let devices = 0;
    const hidden = new Set<string>();
    const differing = keys.filter((k) => {
      const h = host[k] ?? null;
      const t = target[k] ?? null;
      if (sameValue(h, t)) return false;
      const dev = deviceOf(k);
      if ((h === null || t === null) && dev !== undefined && v.all !== true) {
        devices++;
        hidden.add(dev);
        return false;
      }
      return true;
    });
    // Why: the class of each key, from the classification when the library has it.
    const classes = new Map<string, Classification>();
    if (haveClassify() && differing.length > 0) for (const c of classifyApi.classify!({ keys: differing })) classes.set(c.key, c);
    const sel = selectorArgs(v as SelectorValues);
    const rows = differing.map((k) => {
      const h = host[k] ?? null;
      const t = target[k] ?? null;
      const cls = classes.get(k)?.class ?? (h !== null && t === null ? 'host-only' : h === null ? 'child-only' : 'unknown');
      const how = h === null ? '-' : howShort({ key: k, class: cls }, h, sel);
      return { key: k, host: h, target: t, class: cls, how, ...(classes.get(k) ? { evidence: classes.get(k)!.evidence } : {}) };
    });
    if (v.json) {
      json(rows);
      return OK;
    }
    out(
      table(
        ['KEY', 'HOST', 'TARGET', 'CLASS', 'SET THE HOST VALUE INSIDE'],
        rows.map((r) => [r.key, cell(r.host), cell(r.target), r.class, r.how]),
        (col, c) => (col === 3 ? paint(classStyle(c), c) : c),
      ),
    );
    if (devices > 0) out(dim(`(${devices} entries of devices present on one side only hidden: ${[...hidden].join(', ')}; --all shows them)\n`));
    if (!haveClassify()) out(dim('(classes need lib/classify.ts, which this build lacks: only presence is classified)\n'));
    return OK;
  },
};

// ---------------------------------------------------------------------------------------------
// Dispatch

const COMMANDS: Record<string, Command> = {
  sysctl: sysctlCommand,
  list: listCommand,
  create: createCommand,
  delete: deleteCommand,
  exec: execCommand,
  explain: explainCommand,
  diff: diffCommand,
};

function mainHelp(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return `Usage: netns COMMAND [OPTIONS]

sysctl(8) and ip-netns(8) for any network namespace, without spawning either.

Commands:
${Object.entries(COMMANDS)
  .map(([n, c]) => `  ${n.padEnd(w)}  ${c.summary}`)
  .join('\n')}

Targets: --pid PID, --name NAME, --path PATH (default: the current namespace).
Run \`netns COMMAND --help\` for a command's options and examples.

Examples:
  netns sysctl --pid 4242 -w net.ipv4.tcp_keepalive_time=600
  netns exec --sysctl net.core.somaxconn=4096 -- my-server
  netns diff --pid 4242

Exit status: 0 ok, 1 an operation failed, 2 usage error, 255 internal error.
Environment: NO_COLOR disables colour; NETNS_DEBUG=1 prints stack traces.
`;
}

/**
 * Split arguments where the first positional (or `--`) starts: options before, the command
 * and its own arguments after. A lenient parseArgs pass finds the place; the options part
 * is then parsed strictly.
 */
function splitAtPositional(args: string[], options: Record<string, OptionSpec>): [string[], string[]] {
  const { tokens } = parseArgs({ args, options, allowPositionals: true, strict: false, tokens: true });
  const first = tokens.find((t) => t.kind === 'positional' || t.kind === 'option-terminator');
  if (first === undefined) return [args, []];
  return [args.slice(0, first.index), args.slice(first.kind === 'option-terminator' ? first.index + 1 : first.index)];
}

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    process.stderr.write(mainHelp());
    return USAGE;
  }
  if (first === '--help' || first === '-h') {
    out(mainHelp());
    return OK;
  }
  if (first === 'help') {
    const c = rest[0] === undefined ? undefined : COMMANDS[rest[0]];
    if (rest[0] !== undefined && !c) throw new UsageError(`unknown command ${JSON.stringify(rest[0])}`);
    out(c ? c.help + '\n' : mainHelp());
    return OK;
  }
  if (first === '--version' || first === '-V') {
    out(`netns ${VERSION}\n`);
    return OK;
  }
  const cmd = COMMANDS[first];
  if (!cmd) throw new UsageError(first.startsWith('-') ? `unknown option ${JSON.stringify(first)} (options go after the COMMAND)` : `unknown command ${JSON.stringify(first)}`);
  let optionArgs = rest;
  let trailing: string[] = [];
  if (cmd.stopAtPositional) [optionArgs, trailing] = splitAtPositional(rest, cmd.options);
  if (optionArgs.includes('--help') || optionArgs.includes('-h')) {
    out(cmd.help + '\n');
    return OK;
  }
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: optionArgs, options: cmd.options, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS')) throw new UsageError(err.message.split('. ')[0]!, first);
    throw e;
  }
  if (cmd.stopAtPositional) parsed.positionals = [...parsed.positionals, ...trailing];
  return await cmd.run(parsed.values, parsed.positionals);
}

process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(OK); // the reader went away (| head): nothing more to say
  throw e;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    if (e instanceof UsageError) {
      warn(`${e.message}. Try 'netns ${e.command ? `${e.command} ` : ''}--help'`);
      process.exitCode = USAGE;
      return;
    }
    const msg = describe(e);
    if (msg !== undefined) {
      warn(msg);
      process.exitCode = FAILED;
      return;
    }
    warn(`internal error: ${e instanceof Error ? e.message : String(e)} (a bug in netns; NETNS_DEBUG=1 shows the stack trace)`);
    process.exitCode = INTERNAL;
  },
);
