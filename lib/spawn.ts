// spawnInNetns: `docker run --sysctl` for one command: a fresh (or given) network namespace,
// sysctls applied, then the command started inside it.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { invalid, toNetnsError } from './errors.js';
import { NetNamespace } from './netns.js';
import type { SetManyEntries, SetManyReport } from './sysctl.js';

/** Options of {@link spawnInNetns}: those of `child_process.spawn`, plus two. */
export interface SpawnInNetnsOptions extends SpawnOptions {
  /**
   * Start the command in this namespace. The caller keeps ownership (it is not closed).
   * Default: a new anonymous namespace, closed when the command exits.
   */
  netns?: NetNamespace;
  /**
   * Sysctls to set in the namespace before the command starts, in order, as
   * `ns.sysctl.setMany()` takes them (all or nothing: a failure rolls back and throws).
   */
  sysctl?: SetManyEntries;
}

/** What {@link spawnInNetns} returns. */
export interface SpawnedInNetns {
  /** The real `ChildProcess`: stdio streams, `pid`, `kill()`, 'exit' / 'close' / 'error'. */
  child: ChildProcess;
  /**
   * The namespace the command runs in. When spawnInNetns created it, the handle is closed
   * once the command has exited; the namespace itself lives as long as a process is in it.
   */
  netns: NetNamespace;
  /** What `ns.sysctl.setMany(options.sysctl)` did, with the values in effect as read back. */
  sysctl: SetManyReport;
  /**
   * Settles when the command has exited (or failed to start): `code` and `signal` as in the
   * 'exit' event. Never rejects; start failures are the ChildProcess's 'error' event.
   */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Start `command` in a network namespace whose sysctls are already set: the library's
 * `docker run --sysctl` (and `ip netns exec NAME sysctl -w … && exec command`).
 *
 * How: `NetNamespace.create()` (or `options.netns`), then `ns.sysctl.setMany(presets)`
 * (written and read back inside it), then `child_process.spawn()` called with the JS thread switched into the
 * namespace (`runSync`), which is switched back before this returns. The command cannot
 * observe the namespace before its sysctls are set: when the first of its instructions runs
 * (indeed when its process is forked) the writes have already been made and verified. If a
 * preset fails, nothing is started and the error is thrown.
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
  let child: ChildProcess;
  let applied: SetManyReport;
  try {
    applied = ns.sysctl.setMany(sysctl ?? {});
    child = ns.runSync(() => spawn(command, args, spawnOptions));
  } catch (e) {
    if (owned) ns.close();
    throw toNetnsError(e);
  }

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    const done = (): void => {
      if (owned) ns.close();
      const code = child.exitCode;
      resolve({ code: code !== null && code < 0 ? null : code, signal: child.signalCode });
    };
    // 'exit' is not emitted when the command fails to start; 'close' always is.
    child.once('exit', done);
    child.once('close', done);
  });
  return { child, netns: ns, sysctl: applied, exited };
}
