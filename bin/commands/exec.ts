// netns exec: run a command in a namespace, optionally a new one with sysctls preset.
import { spawn } from 'node:child_process';
import * as os from 'node:os';
import { spawnInNetns, type NetnsChild } from 'netns';
import { splitAssignment, type Command } from '../cli/args.js';
import { INTERNAL, UsageError } from '../cli/errors.js';
import { quote, warn } from '../cli/output.js';
import { TARGET_HELP, hasTarget, resolveTarget, targetOptions, type TargetValues } from '../cli/targets.js';

export const execCommand: Command = {
  summary: 'run a command in a namespace, optionally a new one with sysctls preset',
  help: `Usage: netns exec [--sysctl KEY=VALUE]... [TARGET | --new] -- COMMAND [ARG...]

Run COMMAND inside a network namespace. With --new (implied by --sysctl without a
TARGET) it is a fresh namespace whose sysctls are set, as one transaction, before the
command starts: the docker run --sysctl equivalent. The command cannot observe the
namespace before its values are set. A fresh namespace lives as long as the command.

${TARGET_HELP}
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
    ...targetOptions,
    new: { type: 'boolean' },
    sysctl: { type: 'string', multiple: true },
  },
  stopAtPositional: true,
  run(v, args) {
    const presets = ((v.sysctl as string[] | undefined) ?? []).map((a) => splitAssignment(a, 'exec'));
    const selected = hasTarget(v as TargetValues);
    if (v.new && selected) throw new UsageError('--new and --pid/--name/--path/--container exclude each other', 'exec');
    if (args.length === 0) throw new UsageError('no COMMAND given (put it after --)', 'exec');
    const fresh = v.new === true || (!selected && presets.length > 0);
    const [command, ...rest] = args as [string, ...string[]];
    // Forwarding is set up before the command starts: a signal that reaches netns once the
    // command exists must reach the command too, never kill netns alone and leave it running.
    const forward = forwardSignals();
    let child: NetnsChild;
    try {
      child = startChild(command, rest, fresh, presets, v as TargetValues);
    } catch (e) {
      forward.stop();
      throw e;
    }
    return runChild(child, command, forward);
  },
};

function startChild(
  command: string,
  args: string[],
  fresh: boolean,
  presets: [string, string][],
  sel: TargetValues,
): NetnsChild {
  const given = fresh ? undefined : resolveTarget(sel, 'exec');
  try {
    if (!fresh && given === undefined) return spawn(command, args, { stdio: 'inherit' });
    return spawnInNetns(command, args, { sysctl: presets, stdio: 'inherit', ...(given ? { netns: given } : {}) }).child;
  } finally {
    given?.close();
  }
}

const CORE_SIGNALS = new Set([
  'SIGQUIT',
  'SIGILL',
  'SIGTRAP',
  'SIGABRT',
  'SIGBUS',
  'SIGFPE',
  'SIGSEGV',
  'SIGXCPU',
  'SIGXFSZ',
  'SIGSYS',
]);
// Node ignores SIGPIPE and uses SIGUSR1 for its inspector: re-raising them would not kill us.
const NOT_RERAISABLE = new Set(['SIGPIPE', 'SIGUSR1']);

interface Forwarding {
  /** The command the signals go to from now on. */
  attach(child: NetnsChild): void;
  /** Remove the handlers (the default dispositions are back). */
  stop(): void;
}

/**
 * Catch the forwarded signals from now on. The command is started synchronously and a
 * handler only runs from the event loop, so a signal caught while it starts is handled (sent
 * on) once it has started.
 */
function forwardSignals(): Forwarding {
  const forwarded: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGINT', 'SIGQUIT'];
  // From a terminal, Ctrl-C and Ctrl-\ reach the whole foreground group, the command included:
  // forwarding them would deliver them twice. Otherwise (scripts, kill PID) forward them too.
  const interactive = process.stdin.isTTY === true;
  let target: NetnsChild | undefined;
  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const sig of forwarded) {
    const h = (): void => {
      if (interactive && (sig === 'SIGINT' || sig === 'SIGQUIT')) return;
      try {
        target?.kill(sig);
      } catch {
        /* already gone */
      }
    };
    handlers.set(sig, h);
    process.on(sig, h);
  }
  return {
    attach(child) {
      target = child;
    },
    stop() {
      for (const [sig, h] of handlers) process.removeListener(sig, h);
    },
  };
}

/** Forward signals to the child; settle with its status, or die of the signal it died of. */
function runChild(child: NetnsChild, command: string, forward: Forwarding): Promise<number> {
  forward.attach(child);
  const unhook = (): void => forward.stop();
  return new Promise<number>((resolve) => {
    child.once('error', (e: NodeJS.ErrnoException) => {
      unhook();
      warn(
        `cannot run ${quote(command)}: ${e.code ?? ''} ${e.code === 'ENOENT' ? 'command not found (check PATH)' : e.message}`,
      );
      resolve(e.code === 'ENOENT' ? 127 : 126);
    });
    child.once('exit', (code: number | null, signal: NodeJS.Signals | null) => {
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
