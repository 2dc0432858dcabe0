// sysctl.d(5) files as procps-ng sysctl(8) reads them: the line parser, the key forms globs
// match on, and the --system search order. Pure: no I/O (the directory reader is passed in).
// Shared by the CLI (netns sysctl -p/--system), the audit (auditHost({ expect })) and
// netns-exporter (--sysctl.expect): the desired values a file states, key by key.

/** One setting line (or command-line KEY=VALUE). */
export interface Setting {
  /** The key as written, without a leading '-'. */
  key: string;
  /** undefined: a '-KEY' exclusion line (no '='). */
  value: string | undefined;
  /** A leading '-' before KEY=VALUE: a failure to set it is ignored. */
  optional: boolean;
  /** FILE:LINE, or "command line". */
  where: string;
}

export type LineResult =
  | { kind: 'none' }
  | { kind: 'invalid' }
  | { kind: 'setting'; key: string; value: string | undefined; optional: boolean };

// C isspace() in the C locale.
const lstrip = (s: string): string => s.replace(/^[ \t\n\v\f\r]+/, '');
const rstrip = (s: string): string => s.replace(/[ \t\n\v\f\r]+$/, '');

/**
 * One line, as procps' parse_setting_line() reads it (the line may end with its newline):
 * leading blanks dropped; shorter than two characters, '#' and ';' lines are nothing; with
 * -r, a line the pattern does not match is nothing; no '=' is an exclusion when it starts with
 * '-', else invalid; the first '=' splits; a '-' before the key makes it optional; blanks
 * around the value and after the key are dropped.
 */
export function parseSettingLine(line: string, pattern?: RegExp): LineResult {
  const text = lstrip(line);
  if (text.length < 2 || text[0] === '#' || text[0] === ';') return { kind: 'none' };
  if (pattern && !pattern.test(text)) return { kind: 'none' };
  const eq = text.indexOf('=');
  if (eq < 0) {
    if (text[0] === '-') return { kind: 'setting', key: rstrip(text.slice(1)), value: undefined, optional: false };
    return { kind: 'invalid' };
  }
  let key = text.slice(0, eq);
  const optional = key[0] === '-';
  if (optional) key = key.slice(1);
  return { kind: 'setting', key: rstrip(key), value: rstrip(lstrip(text.slice(eq + 1))), optional };
}

export interface InvalidLine {
  where: string;
  line: string;
}

/** Every setting of one file's text, in order; invalid lines are collected apart. */
export function parseConf(
  text: string,
  file: string,
  pattern?: RegExp,
): { settings: Setting[]; invalid: InvalidLine[] } {
  const settings: Setting[] = [];
  const invalid: InvalidLine[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    const full = i < lines.length - 1 ? line + '\n' : line;
    if (full.length < 2) return; // procps skips reads shorter than two bytes
    const where = `${file}:${i + 1}`;
    const r = parseSettingLine(full, pattern);
    if (r.kind === 'invalid') invalid.push({ where, line: rstrip(line) });
    else if (r.kind === 'setting') settings.push({ key: r.key, value: r.value, optional: r.optional, where });
  });
  return { settings, invalid };
}

/** First component of a key in sysctl(8) syntax (the first separator decides the form). */
export function topLevel(key: string): string {
  const m = /^[^./]*/.exec(key);
  return m ? m[0] : key;
}

/** Whether a key is under net (blanks around the first component do not make it another key). */
export function isNetKey(key: string): boolean {
  return topLevel(key).trim() === 'net';
}

/** An absolute path or a '..' component: refused before anything is opened. */
export function isTraversal(key: string): boolean {
  return key.startsWith('/') || /(^|[./])\.\.([./]|$)/.test(key);
}

/** The path form of a key (dots and slashes swapped when a dot comes first), as procps opens it. */
import { keyFromRel, pathForm } from '../keypath.js';
export { pathForm };

/**
 * A glob(7) pattern as a RegExp: '*', '?', '[...]', '[!...]'. By default '*' and '?' stay
 * inside one path component (glob(3)); `crossSlash` lets them cross '/' (fnmatch(3) without
 * FNM_PATHNAME, as procps matches exclusions).
 */
export function globRegExp(glob: string, crossSlash = false): RegExp {
  const any = crossSlash ? '[\\s\\S]' : '[^/]';
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += `${any}*`;
    else if (c === '?') re += any;
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

/** Whether a key holds glob characters. */
export function isGlob(key: string): boolean {
  return /[*?[]/.test(key);
}

const byteOrder = (x: string, y: string): number => Buffer.compare(Buffer.from(x), Buffer.from(y));

/**
 * The settings of sysctl.d files with their globs expanded, as procps' write_setting_list()
 * does: a glob expands to the keys present in the namespace (`present()`, asked only when a
 * glob is there: the dot-form keys `Sysctl.list()` gives), minus any key another line names
 * exactly and any key an exclusion ('-KEY', glob or not) covers; exclusions never stop a key
 * named exactly. Expanded keys are in path form (the file they name, no escaping), in byte
 * order. Settings outside net are returned apart, never written; exclusion lines are dropped.
 */
export function expandSettings(
  settings: readonly Setting[],
  present: () => readonly string[],
): { writes: Setting[]; notNet: Setting[] } {
  const named = new Set(settings.map((s) => pathForm(s.key)));
  const excluded = settings
    .filter((s) => s.value === undefined && isGlob(s.key))
    .map((s) => globRegExp(pathForm(s.key), true));
  const writes: Setting[] = [];
  const other: Setting[] = [];
  let keys: string[] | undefined;
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
    keys ??= present().map(pathForm).sort(byteOrder);
    const re = globRegExp(pathForm(s.key));
    for (const p of keys)
      if (re.test(p) && !named.has(p) && !excluded.some((x) => x.test(p))) writes.push({ ...s, key: p });
  }
  return { writes, notNet: other };
}

/** The directories --system reads, in procps (and systemd) order. */
export const SYSTEM_DIRS = [
  '/etc/sysctl.d',
  '/run/sysctl.d',
  '/usr/local/lib/sysctl.d',
  '/usr/lib/sysctl.d',
  '/lib/sysctl.d',
];
/** Read last by --system, when it is a regular file. */
export const DEFAULT_CONF = '/etc/sysctl.conf';

/**
 * The files --system applies, in order: every *.conf name of the directories, the first
 * directory holding a name winning, sorted by name (byte order); then /etc/sysctl.conf.
 * `readdir` returns a directory's names (undefined when it cannot be read).
 */
export function systemFiles(
  readdir: (dir: string) => string[] | undefined,
  isRegularFile: (path: string) => boolean,
): string[] {
  const chosen = new Map<string, string>();
  for (const dir of SYSTEM_DIRS) {
    for (const name of readdir(dir) ?? []) {
      if (name.length < 5 || !name.endsWith('.conf') || chosen.has(name)) continue;
      chosen.set(name, `${dir}/${name}`);
    }
  }
  const names = [...chosen.keys()].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  const files = names.map((n) => chosen.get(n)!);
  if (isRegularFile(DEFAULT_CONF)) files.push(DEFAULT_CONF);
  return files;
}

/**
 * A POSIX extended regular expression (sysctl -r) as a RegExp, or undefined when it does not
 * compile: procps then matches nothing. Bracket classes such as [[:digit:]] are translated.
 */
export function compilePattern(source: string): RegExp | undefined {
  const classes: Record<string, string> = {
    alpha: 'A-Za-z',
    digit: '0-9',
    alnum: '0-9A-Za-z',
    upper: 'A-Z',
    lower: 'a-z',
    space: ' \\t\\n\\v\\f\\r',
    blank: ' \\t',
    punct: '!-\\/:-@\\[-`{-~',
    xdigit: '0-9A-Fa-f',
    cntrl: '\\x00-\\x1f\\x7f',
    print: ' -~',
    graph: '!-~',
  };
  const translated = source.replace(/\[:([a-z]+):\]/g, (m, name: string) => classes[name] ?? m);
  try {
    return new RegExp(translated);
  } catch {
    return undefined;
  }
}

/** A desired value: a key's value as a sysctl.d file states it. */
export interface Expectation {
  /** The dotted key as getAll() names it. */
  key: string;
  value: string;
  /** FILE:LINE. */
  where: string;
}

/** The desired values of a sysctl.d text ({@link expectationsFrom}), looked up with {@link expectationFor}. */
export interface Expectations {
  /** By path form (`net/ipv4/tcp_keepalive_time`): the keys a line names exactly. */
  exact: Map<string, Expectation>;
  /** Glob lines in file order; `e` undefined for a `-GLOB` exclusion. */
  globs: { re: RegExp; e: Expectation | undefined }[];
}

/**
 * The desired values of a sysctl.d text: net.* keys only; a key's own line wins over globs, the
 * last matching glob over earlier ones; a '-KEY' line (no value) removes an expectation.
 */
export function expectationsFrom(text: string, file: string): Expectations {
  return expectationsOf(parseConf(text, file).settings);
}

/** The desired values of settings already read (a policy's: `loadPolicy(...).settings`). */
export function expectationsOf(settings: readonly Setting[]): Expectations {
  const exact = new Map<string, Expectation>();
  const globs: { re: RegExp; e: Expectation | undefined }[] = [];
  for (const s of settings) {
    if (!isNetKey(s.key)) continue;
    const form = pathForm(s.key.trim());
    // The dotted key as getAll() names it: a dot inside a component (eth0.100) is a slash there.
    const e =
      s.value === undefined
        ? undefined
        : { key: keyFromRel(form.slice('net/'.length)), value: s.value, where: s.where };
    if (isGlob(form)) globs.push({ re: globRegExp(form), e });
    else if (e) exact.set(form, e);
    else exact.delete(form);
  }
  return { exact, globs };
}

/** The expectation for one dotted key, or undefined. */
export function expectationFor(ex: Expectations, key: string): Expectation | undefined {
  const form = pathForm(key);
  const e = ex.exact.get(form);
  if (e) return { ...e, key };
  let found: Expectation | undefined;
  for (const g of ex.globs) if (g.re.test(form)) found = g.e ? { ...g.e, key } : undefined;
  return found;
}
