// netns sysctl: sysctl(8) (procps-ng 4) for the net.* keys of any namespace. This file is the
// help, the order in which procps' main() acts on its options, and the exit status.
import { sysctl as ownSysctl } from 'netns';
import type { Command } from '../../cli/args.js';
import { FAILED, UsageError } from '../../cli/errors.js';
import { out, warn } from '../../cli/output.js';
import { parseSysctlArgs, type SysctlArgs } from '../../cli/sysctl-args.js';
import { DEFAULT_CONF } from '../../cli/sysctld.js';
import { checkTarget, containerJson, resolveTarget } from '../../cli/targets.js';
import { atomicOperands, atomicSettings, wantsTransaction } from './atomic.js';
import { makeCtx, type Ctx } from './context.js';
import { loadFiles, loadSystem, type Loaded } from './files.js';
import { readJson, readKey, showAll } from './read.js';
import { writeList, writeOperand } from './write.js';
import { VERSION } from '../../cli/version.js';

const HELP = `Usage: netns sysctl [TARGET] [OPTIONS] [KEY[=VALUE]...]
       netns sysctl [TARGET] -p [FILE...] | --system | -a

sysctl(8) for the net.* keys of a namespace: procps-ng 4's options, output, exit status.

Target (default: the current namespace):
  --pid PID | --name NAME (/run/netns/NAME) | --path PATH (/proc/PID/ns/net, a mount)
  --container ID (a running container's id, prefix or name; --runtime R, --container-root DIR,
                 --docker-exec-root DIR, --docker-data-root DIR)
Options, as sysctl(8):
  -a, -A, -X, --all      every net.* key       -r, --pattern ERE   only what matches
  -n, --values           values only           -N, --names         names only
  -b, --binary           values, no newline    -e, --ignore        ignore unknown keys
  -w, --write            every KEY is KEY=VALUE (KEY=VALUE writes without -w too)
  -p, -f, --load[=FILE]  apply sysctl.d(5) files (default ${DEFAULT_CONF}; - is stdin)
      --system           apply the sysctl.d directories (net.* keys; others skipped)
  -q, --quiet            no echo of values set  --dry-run  check and echo, write nothing
      --deprecated       also list base_reachable_time, retrans_time    -o, -x  nothing
  -h, --help             -V, --version
netns only:
      --atomic           all or nothing: a failure restores every key already written
      --json             machine-readable output; writes are all or nothing
Differences from sysctl(8):
  - only /proc/sys/net is read or written: another key is refused (exit 1; -e ignores
    it), skipped with a message in files; -a lists net.* only. ".." never leads out
    (procps follows net/ipv4/../../kernel/hostname and writes host keys)
  - procps 4.0.2 bugs not copied: -N with -w prints names; writing a read-only key
    fails; a '-KEY=V' line ignores every failure of KEY, a missing KEY too; options
    after --system count; glob exclusions (-net.ipv4.conf.*.x) work
  - -V prints netns' version; -h and the usage after a bad option are netns' own
Exit status: as sysctl(8): 1 if a write or file failed, the number of failed reads;
0 after printing the usage for an unknown option; 2 for a bad TARGET.

Examples:
  netns sysctl --pid 4242 net.ipv4.tcp_keepalive_time
  netns sysctl --container web -w net.ipv4.tcp_keepalive_time=600
  netns sysctl --name lab -w net.ipv4.tcp_keepalive_time=600 net.core.somaxconn=4096
  netns sysctl --name lab -p /etc/sysctl.d/90-tcp.conf
  netns sysctl --name lab -a -r keepalive`;

export const sysctlCommand: Command = {
  summary: 'read and write /proc/sys/net in a namespace: sysctl(8), same options',
  help: HELP,
  options: {},
  parse(argv) {
    const args = parseSysctlArgs(argv);
    if (args.stop === 'help') return { help: true };
    return { values: { args }, positionals: args.operands };
  },
  run(v) {
    const args = v.args as SysctlArgs;
    if (args.stop === 'version') {
      out(`netns sysctl ${VERSION} (sysctl(8) from procps-ng 4 compatible)\n`);
      return 0;
    }
    if (args.stop === 'bad') {
      warn(args.error!); // procps: the getopt message, then its usage on stdout, status 0
      out(HELP + '\n');
      return 0;
    }
    if (args.stop === 'usage') throw new UsageError(args.error!, 'sysctl');
    checkTarget(args.target, 'sysctl');
    if (noArguments(args)) {
      process.stderr.write(HELP + '\n');
      return FAILED;
    }
    const ns = resolveTarget(args.target, 'sysctl');
    try {
      const ctx = makeCtx(ns?.sysctl ?? ownSysctl, args);
      if (ns?.container) ctx.container = containerJson(ns.container);
      return status(main(ctx));
    } finally {
      ns?.close();
    }
  },
};

/** Nothing but a target: procps prints its usage on stderr. */
function noArguments(a: SysctlArgs): boolean {
  const flags = [
    a.all,
    a.deprecated,
    a.dryRun,
    a.binary,
    a.valuesOnly,
    a.namesOnly,
    a.ignore,
    a.quiet,
    a.write,
    a.load,
    a.system,
    a.json,
    a.atomic,
  ];
  return a.operands.length === 0 && a.pattern === undefined && !flags.some(Boolean);
}

/** procps' exit status is a byte: read failures add up, -1 wraps to 255. */
function status(rc: number): number {
  return ((rc % 256) + 256) % 256;
}

function tooFew(message: string): number {
  process.stderr.write(`netns: ${message}\nTry \`netns sysctl --help' for more information.\n`);
  return FAILED;
}

function apply(ctx: Ctx, loaded: Loaded, system: boolean): number {
  if (wantsTransaction(ctx)) return atomicSettings(ctx, loaded);
  return loaded.status | writeList(ctx, loaded.settings, system);
}

/** The order of procps' main(): -a, then -p, then --system, then the operands. */
function main(ctx: Ctx): number {
  const a = ctx.args;
  if (a.all) return showAll(ctx);
  if (a.load) {
    const specs = [...(a.loadFile !== undefined ? [a.loadFile] : []), ...a.operands];
    return apply(ctx, loadFiles(ctx, specs.length > 0 ? specs : [DEFAULT_CONF]), false);
  }
  let rc = 0;
  if (a.system) {
    a.ignore = true; // procps: --system ignores unknown keys
    rc |= apply(ctx, loadSystem(ctx), true);
    if (a.operands.length === 0) return rc;
  }
  if (a.operands.length === 0) return tooFew('no variables specified');
  if (a.namesOnly && a.quiet) return tooFew('options -N and -q cannot coexist');
  const isWrite = (op: string): boolean => a.write || op.includes('=');
  if (wantsTransaction(ctx) && a.operands.some(isWrite)) {
    if (!a.operands.every(isWrite))
      throw new UsageError('--atomic and --json take either reads (KEY) or writes (KEY=VALUE), not both', 'sysctl');
    return rc | atomicOperands(ctx, a.operands);
  }
  if (a.json) return rc + readJson(ctx, a.operands);
  for (const op of a.operands) {
    if (isWrite(op)) rc |= writeOperand(ctx, op);
    else rc += readKey(ctx, op);
  }
  return rc;
}
