// netns list: every network namespace on the host, and the containers in each.
import { NetNamespace, type NamespaceContainer } from 'netns';
import { CONTAINER_RUNTIMES, containerName } from 'netns/containers';
import { UsageError, OK } from '../cli/errors.js';
import { json, out, quote, shown, table } from '../cli/output.js';
import { checkTarget, containerOptions, type TargetValues } from '../cli/targets.js';
import { shortId } from '../cli/containers.js';
import type { Command } from '../cli/args.js';

export const listCommand: Command = {
  summary: 'list every network namespace on the host, and the containers in each',
  help: `Usage: netns list [--json] [--runtime R] [--container-root DIR] [--docker-exec-root DIR] [--docker-data-root DIR]

Every network namespace that is named (/run/netns) or that a process is in: its inode (as
readlink /proc/PID/ns/net shows net:[INO]), names, number of processes, the first pid and
its command line, and the running containers whose init process is in it, from their
runtimes' state on disk (runc, crun, Docker, containerd, Podman, CRI-O). Processes you may
not inspect are left out (run as root to see all).

Columns: NS, NAMES, NPROCS, PID, then the containers in it: RUNTIME, CONTAINER (12 digits
of a 64-digit id; containerd's as NAMESPACE/ID) and CNAME (POD-NAMESPACE/POD/CONTAINER for
Kubernetes, else the runtime's name, else -), one line each (a pod's containers share one
namespace), then COMMAND.

Options:
      --json           machine-readable output (every pid, the full id DEV:INO, and each
                       container's runtime, oci, id, name, namespace, pid, kubernetes)
      --runtime R      only containers of R: ${CONTAINER_RUNTIMES.join(', ')}
      --container-root DIR  read container state there (or NETNS_CONTAINER_ROOTS)
      --docker-exec-root DIR, --docker-data-root DIR
                       where dockerd keeps its state, as given to its --exec-root and
                       --data-root (or NETNS_DOCKER_EXEC_ROOT, NETNS_DOCKER_DATA_ROOT)

Examples:
  netns list
  netns list --json | jq '.[] | select(.containers | length > 0)'`,
  options: {
    json: { type: 'boolean' },
    runtime: { type: 'string' },
    'container-root': { type: 'string' },
    'docker-exec-root': { type: 'string' },
    'docker-data-root': { type: 'string' },
  },
  run(v, args) {
    if (args.length > 0) throw new UsageError(`unexpected argument ${quote(args[0]!)}`, 'list');
    checkTarget(v as TargetValues, 'list');
    const all = NetNamespace.list({ containers: containerOptions(v as TargetValues) });
    if (v.json) {
      json(
        all.map((e) => ({
          id: e.id,
          ino: Number(e.id.split(':')[1]),
          names: e.names,
          pids: e.pids,
          ...(e.command !== undefined ? { command: e.command } : {}),
          containers: e.containers,
        })),
      );
      return OK;
    }
    const rows: string[][] = [];
    for (const e of all) {
      const [first, ...more] = e.containers;
      const cols = (c: NamespaceContainer | undefined): string[] =>
        c ? [c.runtime, shown(shortId(c)), shown(containerName(c) ?? '-')] : ['-', '-', '-'];
      rows.push([
        e.id.split(':')[1] ?? e.id,
        e.names.map(shown).join(',') || '-',
        String(e.pids.length),
        e.pids.length ? String(e.pids[0]) : '-',
        ...cols(first),
        e.command === undefined ? '-' : shown(e.command),
      ]);
      for (const c of more) rows.push(['', '', '', '', ...cols(c), '']);
    }
    out(table(['NS', 'NAMES', 'NPROCS', 'PID', 'RUNTIME', 'CONTAINER', 'CNAME', 'COMMAND'], rows));
    return OK;
  },
};
