// Writing to the terminal: messages on stderr, tables, JSON, colour. Everything a tenant or a
// file on disk names is shown through the library's printable() (`shown`, `quote`) in human
// output; warn() and table() also pass their text through terminalSafe(), the last guard.
import { fsencode, printable, terminalSafe } from 'netns';
import { errorJson, oneLine } from './errors.js';

export const DEBUG = process.env.NETNS_DEBUG === '1';

/** A name or value from a tenant or a file, for a person: printable(). */
export const shown = printable;

/** A name or value in double quotes, for a person (instead of JSON.stringify, which lets C1 controls through). */
export function quote(s: string): string {
  return `"${printable(s)}"`;
}

/** A lone surrogate: a string that stands for bytes that are not UTF-8 (see the library's fsdecode). */
const RAW_BYTES = /\p{Cs}/u;

/** Write to stdout; a string holding bytes that are not UTF-8 (sysctl's raw output to a program) as those bytes. */
export function out(s: string): void {
  process.stdout.write(RAW_BYTES.test(s) ? fsencode(s) : s);
}

/** A message on stderr, one line, after `netns: `. Names in it are printable() already; terminalSafe() is the guard. */
export function warn(message: string): void {
  process.stderr.write(`netns: ${terminalSafe(oneLine(message))}\n`);
}

/** Report an error that does not end the command (one key of several); stack with NETNS_DEBUG=1. */
export function warnError(e: unknown, message: string): void {
  if (DEBUG && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  warn(message);
}

const colour = process.stdout.isTTY === true && !process.env.NO_COLOR;
export function paint(code: string, s: string): string {
  return colour ? `\x1b[${code}m${s}\x1b[0m` : s;
}
export const bold = (s: string): string => paint('1', s);
export const dim = (s: string): string => paint('2', s);

/** Display width of a string (code points; values here are ASCII in practice). */
function len(s: string): number {
  return [...s].length;
}

/**
 * An aligned table: columns separated by two spaces, no trailing blanks, headers bold on a
 * terminal. Tabs in cells show as spaces. `style` may colour a cell (padding stays outside
 * the colour codes). On a terminal the last column is cut to the screen width.
 */
export function table(
  headers: string[],
  rows: string[][],
  style: (col: number, cell: string) => string = (_c, s) => s,
): string {
  // Cells hold printable() names and library text; terminalSafe() catches what was missed.
  const clean = rows.map((r) => r.map((c) => terminalSafe(c.replace(/\t/g, ' '))));
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
export function stringify(v: unknown, indent = ''): string {
  if (v instanceof Error) v = errorJson(v);
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    if (v.every((x) => x === null || typeof x !== 'object'))
      return `[${v.map((x) => JSON.stringify(x) ?? 'null').join(', ')}]`;
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

export function json(v: unknown): void {
  out(stringify(v) + '\n');
}

/** A value for a table cell: tabs as spaces, printable(), long values cut (JSON output has them whole). */
export function cell(v: string | null, max = 40): string {
  if (v === null) return '(absent)';
  const t = printable(v.replace(/\t/g, ' '));
  return len(t) > max ? [...t].slice(0, max - 1).join('') + '…' : t;
}
