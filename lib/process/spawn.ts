// spawnInNetns: `docker run --sysctl` for one command: a fresh (or given) network namespace,
// sysctls applied, then the command started inside it.
import { spawn, type ChildProcess, type SpawnOptions, type StdioOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { invalid, toNetnsError } from '../errors.js';
import { NetNamespace } from '../namespace/handle.js';
import type { RootlessHelper } from '../rootless/helper.js';
import type { RootlessChild } from '../rootless/child.js';
import type { RootlessSpawnOptions, RootlessStdio } from '../rootless/spawn.js';
import type { SetManyEntries, SetManyReport } from '../sysctl/sysctl.js';

/** Options of {@link spawnInNetns}: those of `child_process.spawn`, plus two. */
export interface SpawnInNetnsOptions extends SpawnOptions {
  /**
   * Start the command in this namespace. The caller keeps ownership (it is not closed).
   * Default: a new anonymous namespace (rootless when this process lacks CAP_SYS_ADMIN, as
   * `NetNamespace.create()` decides), closed when the command exits.
   */
  netns?: NetNamespace;
  /**
   * Sysctls to set in the namespace before the command starts, in order, as
   * `ns.sysctl.setMany()` takes them (all or nothing: a failure rolls back and throws).
   */
  sysctl?: SetManyEntries;
}

/**
 * The command started by {@link spawnInNetns}: a real `ChildProcess` in an ordinary namespace,
 * a {@link RootlessChild} (ChildProcess-like) in a rootless one. Tell them apart with
 * `instanceof RootlessChild` or `result.netns.rootless`.
 */
export type NetnsChild = ChildProcess | RootlessChild;

/** What {@link spawnInNetns} returns. */
export interface SpawnedInNetns {
  /**
   * The command. In an ordinary namespace the real `ChildProcess` (stdio streams, `pid`,
   * `kill()`, 'exit' / 'close' / 'error'). In a rootless namespace (`netns.rootless` set) a
   * {@link RootlessChild}: the same `pid`, `stdin`/`stdout`/`stderr` (`net.Socket`s), `stdio`,
   * `exitCode`, `signalCode`, `killed`, `kill()`, 'exit' and 'close' events; its start
   * failures are thrown by spawnInNetns instead of emitted as 'error'.
   */
  child: NetnsChild;
  /**
   * The namespace the command runs in. When spawnInNetns created it, the handle is closed
   * once the command has exited; the namespace itself lives as long as a process is in it.
   */
  netns: NetNamespace;
  /** What `ns.sysctl.setMany(options.sysctl)` did, with the values in effect as read back. */
  sysctl: SetManyReport;
  /**
   * Settles when the command has exited (or, for a `ChildProcess`, failed to start): `code`
   * and `signal` as in the 'exit' event. Never rejects.
   */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Start `command` in a network namespace whose sysctls are already set: the library's
 * `docker run --sysctl` (and `ip netns exec NAME sysctl -w … && exec command`).
 *
 * How: `NetNamespace.create()` (or `options.netns`), then `ns.sysctl.setMany(presets)`
 * (written and read back inside it), then the command is started. The command cannot
 * observe the namespace before its sysctls are set: when the first of its instructions runs
 * (indeed when its process is forked) the writes have already been made and verified. If a
 * preset fails, nothing is started and the error is thrown.
 *
 * Ordinary namespace: `child_process.spawn()` called with the JS thread switched into the
 * namespace (`runSync`), switched back before this returns; `child` is the real ChildProcess.
 *
 * Rootless namespace (`ns.rootless` set: a namespace given by the caller, or the one made
 * here when this process lacks CAP_SYS_ADMIN): the helper process that holds the namespace
 * starts the command (`ns.rootless.spawn`), as uid/gid 0 of its user namespace (the caller's
 * ids outside); `child` is a {@link RootlessChild}. Differences from the ordinary path:
 * - start failures (command not found, not executable, bad `cwd`) throw a `NetnsError` here
 *   (the namespace made for it is closed) instead of an 'error' event;
 * - supported options: `cwd`, `env`, `argv0`, `detached`, `stdio` ('pipe', 'overlapped',
 *   'inherit', 'ignore', an fd, or a stream with an fd; one value or up to three), and
 *   `timeout` / `signal` / `killSignal` (the command is killed); `uid`, `gid`, `shell` and
 *   'ipc' are refused with a TypeError, other options have no effect.
 *
 * Why not clone-write-exec: `spawn` gives a real ChildProcess (stdio pipes, `env`, `cwd`,
 * `uid`/`gid`, `detached`, `signal`, `timeout`, error events) that a hand-rolled exec from a
 * clone child would have to re-implement; and presets written before the fork are just as
 * invisible to the command as presets written between clone and exec.
 */
export function spawnInNetns(
  command: string,
  args: readonly string[] = [],
  options: SpawnInNetnsOptions = {},
): SpawnedInNetns {
  if (typeof command !== 'string' || command.length === 0) invalid('a command string', 'command', command);
  if (!Array.isArray(args)) invalid('an array of arguments', 'args', args);
  if (options === null || typeof options !== 'object') invalid('an options object', 'options', options);
  const { netns: given, sysctl, ...spawnOptions } = options;
  if (given !== undefined && !(given instanceof NetNamespace)) invalid('a NetNamespace', 'netns', given);

  const ns = given ?? NetNamespace.create();
  const owned = given === undefined;
  let child: NetnsChild;
  let applied: SetManyReport;
  try {
    const rootlessOptions = ns.rootless ? toRootlessOptions(spawnOptions) : undefined;
    applied = ns.sysctl.setMany(sysctl ?? {});
    // Started only now, after setMany returned: the presets are in effect before its first instruction.
    child = ns.rootless
      ? startRootless(ns.rootless, command, args, rootlessOptions!, spawnOptions)
      : ns.runSync(() => spawn(command, args, spawnOptions));
  } catch (e) {
    if (owned) ns.close();
    throw toNetnsError(e);
  }

  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  if (isRootlessChild(child)) {
    exited = child.exited.then(
      (r) => r,
      () => ({ code: child.exitCode, signal: child.signalCode }),
    );
    exited = exited.then((r) => {
      if (owned) ns.close();
      return r;
    });
  } else {
    const cp = child;
    exited = new Promise((resolve) => {
      const done = (): void => {
        if (owned) ns.close();
        const code = cp.exitCode;
        resolve({ code: code !== null && code < 0 ? null : code, signal: cp.signalCode });
      };
      // 'exit' is not emitted when the command fails to start; 'close' always is.
      cp.once('exit', done);
      cp.once('close', done);
    });
  }
  return { child, netns: ns, sysctl: applied, exited };
}

function isRootlessChild(c: NetnsChild): c is RootlessChild {
  // RootlessChild has an `exited` Promise; a ChildProcess has none.
  return typeof (c as { exited?: unknown }).exited === 'object';
}

/** child_process.spawn options that a rootless namespace cannot honour. */
const REFUSED = ['uid', 'gid', 'shell'] as const;

function toRootlessOptions(o: SpawnOptions): RootlessSpawnOptions {
  for (const k of REFUSED)
    if (o[k] !== undefined && o[k] !== false)
      invalid(
        `no ${k} option for a command in a rootless namespace (it runs as uid/gid 0 inside, this user outside${k === 'shell' ? '; run a shell explicitly' : ''})`,
        `options.${k}`,
        o[k],
      );
  const r: RootlessSpawnOptions = {};
  if (o.cwd !== undefined) r.cwd = o.cwd instanceof URL ? fileURLToPath(o.cwd) : o.cwd;
  if (o.env !== undefined) r.env = o.env;
  if (o.argv0 !== undefined) r.argv0 = o.argv0;
  if (o.detached !== undefined) r.detached = o.detached;
  if (o.stdio !== undefined) r.stdio = toRootlessStdio(o.stdio);
  if (o.timeout !== undefined && (typeof o.timeout !== 'number' || !(o.timeout >= 0)))
    invalid('a number of milliseconds', 'options.timeout', o.timeout);
  return r;
}

function toRootlessStdio(s: StdioOptions): [RootlessStdio, RootlessStdio, RootlessStdio] {
  const one = (v: unknown, i: number): RootlessStdio => {
    if (v === null || v === undefined || v === 'pipe' || v === 'overlapped') return 'pipe';
    if (v === 'inherit' || v === 'ignore') return v;
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
    const fd = (v as { fd?: unknown } | null)?.fd;
    if (typeof v === 'object' && typeof fd === 'number' && Number.isInteger(fd) && fd >= 0) return fd;
    return invalid(
      "'pipe', 'overlapped', 'inherit', 'ignore', an fd or a stream with an fd (no 'ipc' in a rootless namespace)",
      `options.stdio[${i}]`,
      v,
    );
  };
  if (!Array.isArray(s)) {
    const v = one(s, 0);
    return [v, v, v];
  }
  for (let i = 3; i < s.length; i++)
    if (s[i] !== undefined && s[i] !== null && s[i] !== 'ignore')
      invalid('at most three stdio entries for a command in a rootless namespace', `options.stdio[${i}]`, s[i]);
  return [one(s[0], 0), one(s[1], 1), one(s[2], 2)];
}

/** ns.rootless.spawn, plus child_process's timeout / signal / killSignal. */
function startRootless(
  helper: RootlessHelper,
  command: string,
  args: readonly string[],
  r: RootlessSpawnOptions,
  o: SpawnOptions,
): RootlessChild {
  o.signal?.throwIfAborted();
  const child = helper.spawn(command, args, r);
  const killSignal = o.killSignal ?? 'SIGTERM';
  const kill = (): void => {
    child.kill(killSignal);
  };
  const timer = o.timeout ? setTimeout(kill, o.timeout) : undefined;
  timer?.unref();
  o.signal?.addEventListener('abort', kill, { once: true });
  void child.exited
    .finally(() => {
      if (timer) clearTimeout(timer);
      o.signal?.removeEventListener('abort', kill);
    })
    .catch(() => {});
  return child;
}
