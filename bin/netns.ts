#!/usr/bin/env node
// netns: sysctl(8) and `ip netns` for any network namespace, built on the library's public API.
// This file is main(), the command table and the exit-code mapping; each command lives in
// commands/, shared helpers in cli/.
//
// Exit codes: 0 success; 1 an operation failed (a key could not be read or written, a
// namespace could not be opened); 2 usage error; 255 internal error. `exec` passes the
// command's own status through (126/127 when it cannot be started, like env(1)).
import * as fs from 'node:fs';
import { fsdecode } from 'netns';
import { VERSION } from './cli/version.js';
import { parseCommandLine, type Command } from './cli/args.js';
import { FAILED, INTERNAL, OK, USAGE, UsageError, describe } from './cli/errors.js';
import { DEBUG, out, quote, warn } from './cli/output.js';
import { sysctlCommand } from './commands/sysctl/index.js';
import { listCommand } from './commands/list.js';
import { createCommand } from './commands/create.js';
import { deleteCommand } from './commands/delete.js';
import { execCommand } from './commands/exec.js';
import { explainCommand } from './commands/explain.js';
import { diffCommand } from './commands/diff.js';

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

Targets: --pid PID, --name NAME, --path PATH, --container ID (default: the current namespace).
Run \`netns COMMAND --help\` for a command's options and examples.

Examples:
  netns sysctl --pid 4242 -w net.ipv4.tcp_keepalive_time=600
  netns exec --sysctl net.core.somaxconn=4096 -- my-server
  netns diff --pid 4242

Exit status: 0 ok, 1 an operation failed, 2 usage error, 255 internal error.
Environment: NO_COLOR disables colour; NETNS_DEBUG=1 prints stack traces.
`;
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
    if (rest[0] !== undefined && !c) throw new UsageError(`unknown command ${quote(rest[0])}`);
    out(c ? c.help + '\n' : mainHelp());
    return OK;
  }
  if (first === '--version' || first === '-V') {
    out(`netns ${VERSION}\n`);
    return OK;
  }
  const cmd = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined;
  if (!cmd)
    throw new UsageError(
      first.startsWith('-')
        ? `unknown option ${quote(first)} (options go after the COMMAND)`
        : `unknown command ${quote(first)}`,
    );
  const parsed = parseCommandLine(first, cmd, rest);
  if (parsed.help) {
    out(cmd.help + '\n');
    return OK;
  }
  return await cmd.run(parsed.values, parsed.positionals);
}

/** The exit status for an error that ended the command, reported on stderr in one line. */
function exitStatus(e: unknown): number {
  if (DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
  if (e instanceof UsageError) {
    warn(`${e.message}. Try 'netns ${e.command ? `${e.command} ` : ''}--help'`);
    return USAGE;
  }
  const msg = describe(e);
  if (msg !== undefined) {
    warn(msg);
    return FAILED;
  }
  warn(
    `internal error: ${e instanceof Error ? e.message : String(e)} (a bug in netns; NETNS_DEBUG=1 shows the stack trace)`,
  );
  return INTERNAL;
}

/**
 * The arguments as the bytes they were given. Node decodes argv as UTF-8, each byte that is
 * not turned into U+FFFD, so the key of an interface whose name is not UTF-8 could not be named
 * (nor told from another). When an argument holds U+FFFD, they are read again from
 * /proc/self/cmdline and decoded as the library decodes names (fsdecode), if they are the same
 * arguments.
 */
function exactArgv(args: string[]): string[] {
  if (!args.some((a) => a.includes('\uFFFD'))) return args;
  try {
    const all = fsdecode(fs.readFileSync('/proc/self/cmdline')).split('\0');
    all.pop(); // the last argument's NUL
    const tail = all.slice(all.length - args.length);
    const lossy = (s: string): string => s.replace(/[\p{Cs}\uFFFD]+/gu, '\uFFFD');
    if (tail.length === args.length && tail.every((a, i) => lossy(a) === lossy(args[i]!))) return tail;
  } catch {
    /* no /proc: as Node gave them */
  }
  return args;
}

process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(OK); // the reader went away (| head): nothing more to say
  throw e;
});

main(exactArgv(process.argv.slice(2))).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.exitCode = exitStatus(e);
  },
);
