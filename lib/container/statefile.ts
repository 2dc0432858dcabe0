// The one reader of the files container runtimes leave on disk (state.json, status, a bundle's
// config.json, Docker's config.v2.json, containers-storage's containers.json). Those files are
// input from strangers: a rootless runtime's root (/run/user/UID/runc), which root reads by
// default, is its user's to write, and so is any bundle a state file points to. So every read:
//   - walks the path from '/' one component at a time, each opened O_PATH|O_NOFOLLOW through
//     the fd of its parent (/proc/self/fd/N/NAME: openat(2) without native code) and judged by
//     fstat(2) of that fd: who owns it, who else may write it -- never a stat of a path that
//     could be swapped between the check and the open;
//   - opens the file O_NOFOLLOW|O_NONBLOCK (a FIFO must not block the scan) and reads it only
//     when fstat says it is a regular file no larger than the limit, and never more than that;
//   - checks the nesting depth by one pass over the bytes before JSON.parse sees them;
//   - checks the types of the fields its caller uses (checkFields), so that a string that is a
//     number is a reported problem, never a crash or a wrong value.
// What fails is a StateProblem (code, reason, path, message) for the caller to report.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fsdecode, fsencode } from '../native/index.js';
import { printable } from '../printable.js';
import type { ContainerStateError, ContainerTrust, StateFileProblem } from './types.js';

/**
 * The largest file read, by kind: a state file (runc's state.json, crun's status, a bundle's
 * config.json, Docker's config.v2.json: tens of KiB in practice) and a list of every container
 * (containers-storage's containers.json).
 */
export const STATE_FILE_LIMIT = 8 << 20;
export const LIST_FILE_LIMIT = 64 << 20;
/** The deepest nesting of arrays and objects read (an OCI config.json nests about 8 deep). */
export const JSON_DEPTH_LIMIT = 64;

// O_PATH (asm-generic, x86-64 and arm64: 010000000); not in fs.constants. An O_PATH fd can be
// fstat'ed and used as a directory to resolve in, without read permission on what it names.
const O_PATH = 0o10000000;
const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = fs.constants;

/** Where a file's bytes came from: who could have written them. */
export interface Provenance {
  trust: ContainerTrust;
  /** The uid owning the file. */
  owner: number;
  /** The first path on the way to it (the file included) that makes it untrusted. */
  untrustedPath?: string;
}

/** A file that could not be read, or whose content is not what it should be. */
export type StateProblem = Omit<ContainerStateError, 'skipped'>;

const euid = (): number => process.geteuid?.() ?? 0;

/**
 * How far a file or directory with stat `st` may be trusted: 'root' when root owns it and no
 * other user may write it; 'self' when it is the caller's own (a caller that is not root); else
 * 'untrusted'. A sticky directory anyone may write (/tmp) is not a reason by itself: its
 * entries can be replaced only by their owners, and the next component's owner is judged.
 */
function judge(st: fs.Stats): ContainerTrust {
  const me = euid();
  let level: ContainerTrust = st.uid === 0 ? 'root' : st.uid === me ? 'self' : 'untrusted';
  const othersWrite = (st.mode & 0o002) !== 0 || ((st.mode & 0o020) !== 0 && st.gid !== 0);
  if (othersWrite && !(st.isDirectory() && (st.mode & 0o1000) !== 0)) level = 'untrusted';
  return level;
}

const RANK: Record<ContainerTrust, number> = { root: 0, self: 1, untrusted: 2 };

/** The less trusted of two. */
export function worse(a: ContainerTrust, b: ContainerTrust): ContainerTrust {
  return RANK[a] >= RANK[b] ? a : b;
}

/** A Provenance combined with another source's (the container's trust is that of its worst file). */
export function combine(a: Provenance, b: Provenance | undefined): Provenance {
  if (b === undefined || RANK[b.trust] <= RANK[a.trust]) return a;
  const out: Provenance = { trust: b.trust, owner: a.owner };
  if (b.untrustedPath !== undefined) out.untrustedPath = b.untrustedPath;
  return out;
}

function problem(
  file: string,
  code: string,
  reason: StateFileProblem,
  what: string,
  prov?: Partial<Provenance>,
): StateProblem {
  const p: StateProblem = {
    code,
    reason,
    path: file,
    message: `${code}: ${what}: '${printable(file)}'`,
    trust: prov?.trust ?? 'untrusted',
  };
  if (prov?.owner !== undefined) p.owner = prov.owner;
  return p;
}

/** The problem an open or fstat error is. ENOENT is no problem: the caller decides (gone, or not that kind of directory). */
function fromErrno(e: unknown, file: string, trust?: ContainerTrust): StateProblem | undefined {
  const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
  const prov = trust === undefined ? undefined : { trust };
  if (code === 'ENOENT') return undefined;
  if (code === 'ELOOP') return problem(file, 'ELOOP', 'symlink', 'a symbolic link, not followed', prov);
  if (code === 'ENOTDIR')
    return problem(file, 'ENOTDIR', 'not-a-directory', 'a path component is not a directory', prov);
  return problem(file, code, 'unreadable', 'cannot be read', prov);
}

/**
 * A directory, opened O_PATH by walking from '/', and how far what it holds may be trusted
 * (the worst of its components'). Close it; an entry in it is opened through its fd.
 */
export class StateDir {
  /** The path as the caller named it (reports use it). */
  readonly path: string;
  readonly trust: ContainerTrust;
  readonly untrustedPath?: string;
  #fd: number;

  private constructor(p: string, fd: number, trust: ContainerTrust, untrustedPath: string | undefined) {
    this.path = p;
    this.#fd = fd;
    this.trust = trust;
    if (untrustedPath !== undefined) this.untrustedPath = untrustedPath;
  }

  /**
   * `dir`, walked from '/' (after resolving the symbolic links the caller's path has, as a
   * configured root may be one); undefined when it does not exist; a problem when a component
   * changes into a link meanwhile or cannot be opened.
   */
  static open(dir: string): StateDir | StateProblem | undefined {
    let real: string;
    try {
      // Names are bytes (fsdecode): a container id that is not UTF-8 is still found again.
      real = fsdecode(fs.realpathSync(fsencode(dir), { encoding: 'buffer' }));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // Not there (that runtime is not in use), or not ours to look into: nothing to report.
      if (code === 'ENOENT' || code === 'EACCES' || code === 'ENOTDIR') return undefined;
      return fromErrno(e, dir);
    }
    let fd: number;
    try {
      fd = fs.openSync('/', O_PATH | fs.constants.O_DIRECTORY);
    } catch (e) {
      return fromErrno(e, '/');
    }
    let d = new StateDir(dir, fd, judge(fs.fstatSync(fd)), undefined);
    if (d.trust === 'untrusted') d = new StateDir(dir, fd, d.trust, '/');
    let walked = '';
    for (const name of real.split('/').filter((c) => c !== '')) {
      walked += `/${name}`;
      const next = d.#sub(name, walked);
      d.close();
      if (next === undefined || !(next instanceof StateDir)) return next;
      d = next;
    }
    return new StateDir(dir, d.#take(), d.trust, d.untrustedPath);
  }

  #take(): number {
    const fd = this.#fd;
    this.#fd = -1;
    return fd;
  }

  /** `name` in this directory, as a path to open (the fd's magic link: openat(2) by path). */
  #at(name: string): Buffer {
    if (this.#fd < 0) throw new Error('StateDir used after close()');
    return fsencode(`/proc/self/fd/${this.#fd}/${name}`);
  }

  #sub(name: string, shown: string): StateDir | StateProblem | undefined {
    const at = this.#at(name);
    let fd: number;
    try {
      fd = fs.openSync(at, O_PATH | O_NOFOLLOW);
    } catch (e) {
      return fromErrno(e, shown, this.trust);
    }
    const st = fs.fstatSync(fd);
    if (!st.isDirectory()) {
      fs.closeSync(fd);
      const prov = { trust: this.trust, owner: st.uid };
      return st.isSymbolicLink()
        ? problem(shown, 'ELOOP', 'symlink', 'a symbolic link, not followed', prov)
        : problem(shown, 'ENOTDIR', 'not-a-directory', 'not a directory', prov);
    }
    const level = judge(st);
    const trust = worse(this.trust, level);
    const untrusted = this.untrustedPath ?? (level === 'untrusted' ? shown : undefined);
    return new StateDir(shown, fd, trust, untrusted);
  }

  /** The subdirectory `name` (never through a symbolic link). */
  sub(name: string): StateDir | StateProblem | undefined {
    return this.#sub(name, path.join(this.path, name));
  }

  /**
   * The names of its subdirectories, and of its symbolic links (which sub() refuses, so that
   * they are reported: a runtime makes none there), sorted; dot-names and files left out.
   */
  subdirs(): string[] {
    const at = this.#at('.');
    try {
      return fs
        .readdirSync(at, { withFileTypes: true, encoding: 'buffer' })
        .filter((e) => (e.isDirectory() || e.isSymbolicLink()) && e.name[0] !== 0x2e)
        .map((e) => fsdecode(e.name))
        .sort();
    } catch {
      return []; // not ours to read
    }
  }

  /**
   * The JSON in file `name` here, or the problem with it; undefined when there is no such file.
   * Read only if it is a regular file (not a link, FIFO or device: opened O_NOFOLLOW|O_NONBLOCK,
   * judged by fstat) of at most `limit` bytes, nested at most JSON_DEPTH_LIMIT deep.
   */
  readJson(name: string, limit = STATE_FILE_LIMIT): { json: unknown; prov: Provenance } | StateProblem | undefined {
    const file = path.join(this.path, name);
    const at = this.#at(name);
    let fd: number;
    try {
      fd = fs.openSync(at, O_RDONLY | O_NOFOLLOW | O_NONBLOCK); // libuv adds O_CLOEXEC
    } catch (e) {
      return fromErrno(e, file, this.trust);
    }
    try {
      const st = fs.fstatSync(fd);
      const level = judge(st);
      const prov: Provenance = { trust: worse(this.trust, level), owner: st.uid };
      const untrusted = this.untrustedPath ?? (level === 'untrusted' ? file : undefined);
      if (untrusted !== undefined) prov.untrustedPath = untrusted;
      if (!st.isFile()) return problem(file, 'EINVAL', 'not-a-file', `not a regular file (${kindOf(st)})`, prov);
      if (st.size > limit)
        return problem(file, 'EFBIG', 'too-large', `${st.size} bytes, more than the ${limit} read`, prov);
      const buf = Buffer.allocUnsafe(st.size + 1); // one byte more: a file that grew meanwhile
      let n = 0;
      for (let r: number; n < buf.length && (r = fs.readSync(fd, buf, n, buf.length - n, null)) > 0; ) n += r;
      if (n > limit) return problem(file, 'EFBIG', 'too-large', `more than the ${limit} bytes read`, prov);
      const text = buf.toString('utf8', 0, n);
      const depth = jsonDepthOver(text, JSON_DEPTH_LIMIT);
      if (depth >= 0)
        return problem(file, 'EINVAL', 'too-deep', `nested deeper than ${JSON_DEPTH_LIMIT} at byte ${depth}`, prov);
      try {
        return { json: JSON.parse(text), prov };
      } catch (e) {
        // Never the parser's own message: it quotes the text (a hard link to a secret, say).
        const at = /position (\d+)/.exec(String((e as Error).message));
        return problem(file, 'EINVAL', 'not-json', `not JSON${at ? ` (at byte ${at[1]})` : ''}`, prov);
      }
    } catch (e) {
      return fromErrno(e, file, this.trust) ?? problem(file, 'ENOENT', 'unreadable', 'gone while read');
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Close the fd (idempotent). */
  close(): void {
    if (this.#fd >= 0) fs.closeSync(this.#fd);
    this.#fd = -1;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function kindOf(st: fs.Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isDirectory()) return 'a directory';
  return 'not a file';
}

/** Whether `x` is a StateProblem (and not something read). */
export function isProblem(x: unknown): x is StateProblem {
  return x !== null && typeof x === 'object' && typeof (x as StateProblem).reason === 'string' && 'code' in x;
}

/** What a read of one JSON file gives: its JSON and provenance, a problem, or undefined (no such file). */
export type JsonRead = { json: unknown; prov: Provenance } | StateProblem | undefined;

/** File `name` of `dir` (as StateDir.open() or sub() gave it), read, and `dir` closed. */
export function readJsonIn(dir: StateDir | StateProblem | undefined, name: string, limit = STATE_FILE_LIMIT): JsonRead {
  if (!(dir instanceof StateDir)) return dir;
  try {
    return dir.readJson(name, limit);
  } finally {
    dir.close();
  }
}

/**
 * The JSON file `file`: its directory walked from '/', then the file read as StateDir.readJson
 * reads it. undefined when the file or a directory on the way does not exist.
 */
export function readJsonFile(file: string, limit = STATE_FILE_LIMIT): JsonRead {
  return readJsonIn(StateDir.open(path.dirname(file)), path.basename(file), limit);
}

/**
 * The byte offset at which JSON text nests deeper than `limit` arrays and objects, or -1. One
 * pass, no recursion: strings (and the brackets in them, and their escapes) are skipped.
 */
export function jsonDepthOver(text: string, limit: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return i;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return -1;
}

/**
 * The type of a field a reader uses: a non-empty 'string'; a 'count' (a positive safe integer,
 * or the decimal digits of one, as early runc wrote init_process_start); 'strings' (an array of
 * strings); 'string-map' (an object of strings); a nested spec (an object with those fields).
 * A trailing '?' makes it optional; `null` counts as absent then.
 */
export type FieldType = 'string' | 'count' | 'strings' | 'string-map' | FieldSpec;
export type FieldSpec = { [field: string]: FieldType | `${'string' | 'count' | 'strings' | 'string-map'}?` };

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return v === '' ? 'an empty string' : 'a string';
  if (typeof v === 'number') return String(v);
  return `a ${typeof v}`;
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  count: 'a positive integer',
  strings: 'an array of strings',
  'string-map': 'an object of strings',
};

/** A positive safe integer, from a number or its decimal digits; undefined otherwise. */
export function countOf(v: unknown): number | undefined {
  const n = typeof v === 'string' && /^[0-9]{1,16}$/.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

function fits(type: string, v: unknown): boolean {
  switch (type) {
    case 'string':
      return typeof v === 'string' && v !== '';
    case 'count':
      return countOf(v) !== undefined;
    case 'strings':
      return Array.isArray(v) && v.every((s) => typeof s === 'string');
    case 'string-map':
      return (
        v !== null && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((s) => typeof s === 'string')
      );
    default:
      return false;
  }
}

/**
 * What is wrong with `v` as `spec` describes it ("init_process_pid is a string, expected a
 * positive integer"), or undefined. Fields the spec does not name are not looked at.
 */
export function checkFields(v: unknown, spec: FieldSpec, at = ''): string | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    return `${at === '' ? 'the file' : at.slice(0, -1)} is ${typeName(v)}, expected an object`;
  const o = v as Record<string, unknown>;
  for (const [field, type] of Object.entries(spec)) {
    const name = `${at}${field}`;
    const value = Object.hasOwn(o, field) ? o[field] : undefined;
    if (typeof type === 'object') {
      if (value === undefined || value === null) continue; // a nested object is optional
      const bad = checkFields(value, type, `${name}.`);
      if (bad !== undefined) return bad;
      continue;
    }
    const optional = type.endsWith('?');
    const base = optional ? type.slice(0, -1) : type;
    // An optional string may be empty (absent, as Go's omitempty would have it).
    if (value === undefined || (optional && (value === null || (base === 'string' && value === '')))) {
      if (optional) continue;
      return `${name} is missing, expected ${EXPECTED[base]}`;
    }
    if (!fits(base, value)) return `${name} is ${typeName(value)}, expected ${EXPECTED[base]}`;
  }
  return undefined;
}

/** The problem a file whose fields do not fit is: `what` says which field, and how. */
export function badFields(file: string, what: string, prov: Provenance): StateProblem {
  return problem(file, 'EINVAL', 'bad-field', printable(what), prov);
}

/** The problem a state file recording another container's id than its directory's name is. */
export function idMismatch(file: string, id: string, prov: Provenance): StateProblem {
  return problem(file, 'EINVAL', 'id-mismatch', `records the id "${printable(id)}", not its directory's name`, prov);
}
