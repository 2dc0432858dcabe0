// Reading sysctl.d(5) files for -p and --system, as procps' Preload() and PreloadSystem() do.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fsdecode } from 'netns';
import { FAILED, OK } from '../../cli/errors.js';
import { out, quote, shown, warn } from '../../cli/output.js';
import { globRegExp, isGlob, parseConf, systemFiles, type InvalidLine, type Setting } from '../../cli/sysctld.js';
import { keyOut, linePattern, type Ctx } from './context.js';

/** "a{b,c}d" -> ["abd", "acd"] (GLOB_BRACE, nested braces included). */
function braces(spec: string): string[] {
  const open = spec.indexOf('{');
  if (open < 0) return [spec];
  let depth = 0;
  const cuts: number[] = [];
  for (let i = open; i < spec.length; i++) {
    const c = spec[i];
    if (c === '{') depth++;
    else if (c === '}' && --depth === 0) {
      if (cuts.length === 0) return [spec];
      const parts: string[] = [];
      let from = open + 1;
      for (const cut of [...cuts, i]) {
        parts.push(spec.slice(from, cut));
        from = cut + 1;
      }
      return parts.flatMap((p) => braces(spec.slice(0, open) + p + spec.slice(i + 1)));
    } else if (c === ',' && depth === 1) cuts.push(i);
  }
  return [spec];
}

/** Expand one path pattern against the file system (glob(3): '*' does not match a leading dot). */
function globPath(pattern: string): string[] {
  if (!isGlob(pattern)) return fs.existsSync(pattern) ? [pattern] : [];
  const absolute = pattern.startsWith('/');
  let found = [absolute ? '/' : ''];
  for (const part of pattern.split('/').filter((p) => p !== '')) {
    const next: string[] = [];
    for (const dir of found) {
      if (!isGlob(part)) {
        const p = dir === '' ? part : path.join(dir, part);
        if (fs.existsSync(p)) next.push(p);
        continue;
      }
      let names: string[];
      try {
        names = fs.readdirSync(dir === '' ? '.' : dir);
      } catch {
        continue;
      }
      const re = globRegExp(part);
      for (const n of names)
        if (re.test(n) && (!n.startsWith('.') || part.startsWith('.'))) next.push(dir === '' ? n : path.join(dir, n));
    }
    found = next;
  }
  return found.sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
}

/** What -p FILE opens: glob(3) with GLOB_NOCHECK, GLOB_BRACE and GLOB_TILDE. */
export function expandFileSpec(spec: string): string[] {
  const home = os.homedir();
  const tilde = spec === '~' || spec.startsWith('~/') ? home + spec.slice(1) : spec;
  const found = braces(tilde).flatMap(globPath);
  return found.length > 0 ? found : [spec];
}

const STRERROR: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  ENOTDIR: 'Not a directory',
  ELOOP: 'Too many levels of symbolic links',
};

/** Read the settings of one -p argument; a file that cannot be opened ends that argument. */
function preload(ctx: Ctx, spec: string, into: Loaded): number {
  for (const file of expandFileSpec(spec)) {
    let text: string;
    try {
      // Keys are bytes: one that is not UTF-8 (an interface's) is kept exact (fsdecode).
      text = fsdecode(fs.readFileSync(file === '-' ? 0 : file));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
      if (code === 'EISDIR') continue; // procps reads nothing from a directory
      warn(`cannot open ${quote(file)}: ${STRERROR[code] ?? code}`);
      return FAILED;
    }
    const { settings, invalid } = parseConf(text, file, linePattern(ctx));
    for (const bad of invalid) warn(`${shown(bad.where)}: invalid syntax, continuing...`);
    into.settings.push(...settings);
    into.invalid.push(...invalid);
  }
  return OK;
}

/** The settings read from files, the lines that were not, and 1 if a file could not be read. */
export interface Loaded {
  settings: Setting[];
  invalid: InvalidLine[];
  status: number;
}

/** -p: the files given (default /etc/sysctl.conf), read before anything is written. */
export function loadFiles(ctx: Ctx, specs: string[]): Loaded {
  const loaded: Loaded = { settings: [], invalid: [], status: OK };
  for (const spec of specs) loaded.status |= preload(ctx, spec, loaded);
  return loaded;
}

function readdir(dir: string): string[] | undefined {
  try {
    return fs.readdirSync(dir);
  } catch {
    return undefined;
  }
}

function isRegularFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** --system: the sysctl.d files in procps order, each announced on stdout unless -q. */
export function loadSystem(ctx: Ctx): Loaded {
  const loaded: Loaded = { settings: [], invalid: [], status: OK };
  for (const file of systemFiles(readdir, isRegularFile)) {
    if (!ctx.args.quiet) out(`* Applying ${keyOut(file)} ...\n`);
    loaded.status |= preload(ctx, file, loaded);
  }
  return loaded;
}
