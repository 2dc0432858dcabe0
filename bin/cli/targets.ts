// The namespace a command acts on: --pid / --name / --path / --container, none = the current
// namespace. resolveTarget() is the one place that turns options into a namespace.
import { NetNamespace, type ContainerOptions, type ContainerRuntime } from 'netns';
import { CONTAINER_RUNTIMES, containerLabel, type ContainerInfo } from 'netns/containers';
import { UsageError } from './errors.js';
import { quote, shown, warn } from './output.js';

export const targetOptions = {
  pid: { type: 'string' },
  name: { type: 'string' },
  path: { type: 'string' },
  container: { type: 'string' },
  runtime: { type: 'string' },
  'container-root': { type: 'string' },
  'docker-exec-root': { type: 'string' },
  'docker-data-root': { type: 'string' },
} as const;

export const TARGET_HELP = `Target (default: the current namespace):
  --pid PID            the namespace of process PID
  --name NAME          a named namespace (/run/netns/NAME, as ip netns names them)
  --path PATH          a namespace file (/proc/PID/ns/net, a bind mount)
  --container ID       a running container: its full id or name (Docker, Podman, Kubernetes
                       POD/CONTAINER) in any runtime's state on disk, else a unique prefix
                       of a generated 64-hex id; the one found is named on stderr
    --runtime R        only containers of R: ${CONTAINER_RUNTIMES.join(', ')}
    --container-root DIR  read container state there instead (or NETNS_CONTAINER_ROOTS)
    --docker-exec-root DIR, --docker-data-root DIR
                       where dockerd keeps its state, as given to its --exec-root and
                       --data-root (or NETNS_DOCKER_EXEC_ROOT, NETNS_DOCKER_DATA_ROOT;
                       default /run/docker and /var/lib/docker)`;

export interface TargetValues {
  pid?: string;
  name?: string;
  path?: string;
  container?: string;
  runtime?: string;
  'container-root'?: string;
  'docker-exec-root'?: string;
  'docker-data-root'?: string;
}

const KINDS = ['pid', 'name', 'path', 'container'] as const;

/** Whether the options name a target at all. */
export function hasTarget(v: TargetValues): boolean {
  return KINDS.some((k) => v[k] !== undefined);
}

/** Check the target options without opening anything; throws a UsageError. */
export function checkTarget(v: TargetValues, command: string): void {
  if (KINDS.filter((k) => v[k] !== undefined).length > 1)
    throw new UsageError('give at most one of --pid, --name, --path and --container', command);
  if (v.pid !== undefined && (!/^[0-9]+$/.test(v.pid) || Number(v.pid) < 1))
    throw new UsageError(`--pid expects a process id, got ${quote(v.pid)}`, command);
  if (v.container === '') throw new UsageError('--container expects a container id, prefix or name', command);
  for (const o of ['container-root', 'docker-exec-root', 'docker-data-root'] as const)
    if (v[o] === '') throw new UsageError(`--${o} expects a directory`, command);
  if (v.runtime !== undefined && !(CONTAINER_RUNTIMES as readonly string[]).includes(v.runtime))
    throw new UsageError(`--runtime expects one of ${CONTAINER_RUNTIMES.join(', ')}, got ${quote(v.runtime)}`, command);
}

/** The container lookup options that --runtime, --container-root and --docker-exec-root / --docker-data-root give. */
export function containerOptions(v: TargetValues): ContainerOptions {
  const o: ContainerOptions = {};
  if (v.runtime !== undefined) o.runtime = v.runtime as ContainerRuntime;
  if (v['container-root'] !== undefined) o.root = v['container-root'];
  const execRoot = v['docker-exec-root'];
  const dataRoot = v['docker-data-root'];
  if (execRoot !== undefined || dataRoot !== undefined)
    o.docker = { ...(execRoot !== undefined ? { execRoot } : {}), ...(dataRoot !== undefined ? { dataRoot } : {}) };
  return o;
}

/**
 * Open the selected namespace, or undefined for the current one. The caller closes it. A
 * container's is named on stderr (stdout stays what the command prints: procps' bytes for
 * sysctl), with its runtime, id, names, init pid and state file, so that a person sees which
 * container a query found.
 */
export function resolveTarget(v: TargetValues, command: string): NetNamespace | undefined {
  checkTarget(v, command);
  const where = (['runtime', 'container-root', 'docker-exec-root', 'docker-data-root'] as const).find(
    (o) => v[o] !== undefined,
  );
  if (v.container === undefined && where !== undefined)
    throw new UsageError(`--${where} chooses where --container looks: give --container`, command);
  if (v.pid !== undefined) return NetNamespace.fromPid(Number(v.pid));
  if (v.name !== undefined) return NetNamespace.fromName(v.name);
  if (v.path !== undefined) return NetNamespace.fromPath(v.path);
  if (v.container === undefined) return undefined;
  const ns = NetNamespace.fromContainer(v.container, containerOptions(v));
  const c = ns.container!;
  warn(`container ${containerLabel(c)}, init pid ${c.pid}, state ${shown(c.stateFile)}`);
  return ns;
}

/** How --json names the container a command acted on (its `container` field). */
export function containerJson(c: ContainerInfo): Record<string, unknown> {
  const { runtime, oci, id, name, namespace, pid, stateFile, kubernetes } = c;
  return { runtime, oci, id, name, namespace, pid, stateFile, kubernetes };
}

/** How a suggested command names the selected namespace: its selector words, unquoted. */
export function targetWords(v: TargetValues): string[] {
  if (v.pid !== undefined) return ['--pid', v.pid];
  if (v.name !== undefined) return ['--name', v.name];
  if (v.path !== undefined) return ['--path', v.path];
  if (v.container === undefined) return [];
  const words = ['--container', v.container];
  if (v.runtime !== undefined) words.push('--runtime', v.runtime);
  for (const o of ['container-root', 'docker-exec-root', 'docker-data-root'] as const) {
    const dir = v[o];
    if (dir !== undefined) words.push(`--${o}`, dir);
  }
  return words;
}
