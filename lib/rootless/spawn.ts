// Starting a command inside a rootless namespace: the helper clones and execs it (nothing runs in
// between that could observe a half-set-up namespace); it is a child of this process.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { ERRNO, invalid, netnsError, toNetnsError } from '../errors.js';
import { native } from '../native/index.js';
import { RootlessChild } from './child.js';

/** How one of a rootless command's stdin/stdout/stderr is connected. */
export type RootlessStdio = 'pipe' | 'inherit' | 'ignore' | number;

/** Options of {@link RootlessHelper.spawn}, a subset of `child_process.spawn`'s. */
export interface RootlessSpawnOptions {
  /** Working directory of the command (default: this process's). */
  cwd?: string;
  /** Environment (default: `process.env`). `PATH` in it is used to find the command. */
  env?: NodeJS.ProcessEnv;
  /** `argv[0]` of the command (default: `command`). */
  argv0?: string;
  /** `'pipe'` (default), `'inherit'`, `'ignore'`, an fd; one value or one per stream. */
  stdio?: RootlessStdio | [RootlessStdio, RootlessStdio, RootlessStdio];
  /** Start the command in a new session (setsid), as `child_process`'s `detached`. */
  detached?: boolean;
}

function resolveCommand(command: string, env: NodeJS.ProcessEnv, cwd: string | undefined): string {
  const base = cwd ?? process.cwd();
  if (command.includes('/')) return path.resolve(base, command);
  const dirs = (env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':');
  for (const d of dirs) {
    const p = path.resolve(base, d || '.', command);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      /* next */
    }
  }
  throw netnsError(ERRNO.ENOENT, 'spawn', { path: command, op: 'spawn', name: command, detail: dirs.join(':') });
}

/** The fds a command gets as stdin/stdout/stderr, ours of its pipes, and what to close after. */
interface StdioFds {
  childFds: number[];
  parentFds: (number | null)[];
  toClose: number[];
}

function stdioFds(specs: RootlessStdio[], fds: StdioFds): void {
  for (let i = 0; i < 3; i++) {
    const s = specs[i];
    if (s === 'pipe') {
      const [r, w] = native.pipe();
      const mine = i === 0 ? w : r;
      const theirs = i === 0 ? r : w;
      fds.parentFds.push(mine);
      fds.childFds.push(theirs);
      fds.toClose.push(theirs);
    } else if (s === 'inherit') {
      fds.parentFds.push(null);
      fds.childFds.push(i);
    } else if (s === 'ignore') {
      const fd = fs.openSync('/dev/null', i === 0 ? 'r' : 'w');
      fds.parentFds.push(null);
      fds.childFds.push(fd);
      fds.toClose.push(fd);
    } else if (typeof s === 'number' && Number.isInteger(s) && s >= 0) {
      fds.parentFds.push(null);
      fds.childFds.push(s);
    } else invalid("'pipe', 'inherit', 'ignore' or an fd", `options.stdio[${i}]`, s);
  }
}

/** Start `command` through the helper on `sock`; see {@link RootlessHelper.spawn}. */
export function spawnInHelper(
  sock: number,
  command: string,
  args: readonly string[],
  options: RootlessSpawnOptions,
): RootlessChild {
  // Each option read once (copy, validate, use).
  const { env: givenEnv, cwd, argv0, stdio, detached } = options;
  const env = { ...(givenEnv ?? process.env) };
  if (cwd !== undefined && typeof cwd !== 'string') invalid('a string', 'options.cwd', cwd);
  const file = resolveCommand(command, env, cwd);
  const argv = [argv0 ?? command, ...args];
  const envList = Object.entries(env)
    .filter((kv): kv is [string, string] => kv[1] !== undefined)
    .map(([k, v]) => `${k}=${v}`);
  for (const s of [file, ...argv, ...envList, cwd ?? ''])
    if (s.includes('\0')) invalid('strings without NUL bytes', 'command, args, env and cwd', s, RangeError);
  const spec = stdio ?? 'pipe';
  const specs: RootlessStdio[] = Array.isArray(spec) ? [...spec] : [spec, spec, spec];
  if (specs.length !== 3) invalid('one stdio value or three', 'options.stdio', spec);

  const fds: StdioFds = { childFds: [], parentFds: [], toClose: [] };
  try {
    stdioFds(specs, fds);
    let pid: number, pidfd: number;
    try {
      [pid, pidfd] = native.rootlessSpawn(
        sock,
        file,
        argv,
        envList,
        cwd ?? null,
        fds.childFds as [number, number, number],
        detached === true,
      );
    } catch (e) {
      throw toNetnsError(e);
    }
    const streams = fds.parentFds.map((fd, i) =>
      fd === null ? null : new net.Socket({ fd, readable: i !== 0, writable: i === 0 }),
    ) as [net.Socket | null, net.Socket | null, net.Socket | null];
    fds.parentFds.length = 0; // owned by the sockets now
    return RootlessChild.of(pid, pidfd, streams);
  } finally {
    for (const fd of fds.toClose) native.close(fd);
    for (const fd of fds.parentFds) if (fd !== null) native.close(fd);
  }
}
