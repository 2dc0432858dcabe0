// netns list: every network namespace on the host.
import { NetNamespace } from 'netns';
import { UsageError, OK } from '../cli/errors.js';
import { json, out, table } from '../cli/output.js';
import type { Command } from '../cli/args.js';

export const listCommand: Command = {
  summary: 'list every network namespace on the host',
  help: `Usage: netns list [--json]

Every network namespace that is named (/run/netns) or that a process is in: its inode (as
readlink /proc/PID/ns/net shows net:[INO]), names, number of processes, the first pid and
its command line. Processes you may not inspect are left out (run as root to see all).

Options:
      --json           machine-readable output (every pid, the full id DEV:INO)

Examples:
  netns list
  netns list --json | jq '.[] | select(.names | length > 0)'`,
  options: { json: { type: 'boolean' } },
  run(v, args) {
    if (args.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(args[0])}`, 'list');
    const all = NetNamespace.list();
    if (v.json) {
      json(all.map((e) => ({ id: e.id, ino: Number(e.id.split(':')[1]), names: e.names, pids: e.pids, ...(e.command !== undefined ? { command: e.command } : {}) })));
      return OK;
    }
    const rows = all.map((e) => [
      e.id.split(':')[1] ?? e.id,
      e.names.join(',') || '-',
      String(e.pids.length),
      e.pids.length ? String(e.pids[0]) : '-',
      e.command ?? '-',
    ]);
    out(table(['NS', 'NAMES', 'NPROCS', 'PID', 'COMMAND'], rows));
    return OK;
  },
};
