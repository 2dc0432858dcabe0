// Finding containers in their runtimes' state on disk: every root, one root, or one container
// by id, prefix or name. Opening a container's namespace is namespace/container.ts's job.
import { ERRNO, invalid, netnsError } from '../errors.js';
import { NameSources, readRoot } from './read.js';
import { rootsFor } from './roots.js';
import type { ContainerInfo, ContainerOptions } from './types.js';

/** Every container the roots' state on disk records (running or not), sorted by runtime and id. */
export function listContainers(options: ContainerOptions = {}): ContainerInfo[] {
  const roots = rootsFor(options);
  const names = new NameSources();
  const all = roots.flatMap((r) => readRoot(r, names));
  const only = options.runtime;
  return (only === undefined || options.root !== undefined ? all : all.filter((c) => c.runtime === only)).sort(
    (a, b) =>
      a.runtime.localeCompare(b.runtime) ||
      (a.namespace ?? '').localeCompare(b.namespace ?? '') ||
      a.id.localeCompare(b.id),
  );
}

/** POD-NAMESPACE/POD/CONTAINER for Kubernetes, else the runtime's name for it, else undefined. */
export function containerName(c: Pick<ContainerInfo, 'name' | 'kubernetes'>): string | undefined {
  const k = c.kubernetes;
  if (k?.podName !== undefined)
    return `${k.podNamespace ?? ''}/${k.podName}${k.containerName !== undefined ? `/${k.containerName}` : ''}`;
  return c.name;
}

/** "containerd k8s.io/3f2a… (default/web/nginx)": how messages name a container. */
export function containerLabel(c: ContainerInfo): string {
  const name = containerName(c);
  return `${c.runtime} ${c.namespace !== undefined ? `${c.namespace}/` : ''}${c.id}${name !== undefined ? ` (${name})` : ''}`;
}

/** The names a query may give: the name, and for Kubernetes POD/CONTAINER and PODNS/POD/CONTAINER. */
function namesOf(c: ContainerInfo): string[] {
  const out: string[] = [];
  if (c.name !== undefined) out.push(c.name);
  const k = c.kubernetes;
  if (k?.podName !== undefined && k.containerName !== undefined) {
    out.push(`${k.podName}/${k.containerName}`);
    if (k.podNamespace !== undefined) out.push(`${k.podNamespace}/${k.podName}/${k.containerName}`);
  }
  if (c.namespace !== undefined) out.push(`${c.namespace}/${c.id}`);
  return out;
}

/**
 * The one container `query` names: a full id, else a name (Docker's, Podman's, Kubernetes'
 * container name, POD/CONTAINER, PODNS/POD/CONTAINER, or NAMESPACE/ID for containerd), else a
 * unique id prefix. Unknown and ambiguous queries throw, listing what matched.
 */
export function findContainer(query: string, options: ContainerOptions = {}): ContainerInfo {
  if (typeof query !== 'string' || query === '') invalid('a container id, id prefix or name', 'id', query);
  const all = listContainers(options);
  // A running container wins over stopped ones that state directories still record.
  const pick = (m: ContainerInfo[]): ContainerInfo[] =>
    m.filter((c) => c.running).length === 1 ? m.filter((c) => c.running) : m;
  for (const matches of [
    all.filter((c) => c.id === query),
    all.filter((c) => namesOf(c).includes(query)),
    all.filter((c) => c.id.startsWith(query)),
  ]) {
    const m = pick(matches);
    if (m.length === 1) return m[0]!;
    if (m.length > 1)
      throw netnsError(ERRNO.EINVAL, 'open', {
        op: 'open-container',
        reason: 'container-ambiguous',
        name: query,
        message: `EINVAL: "${query}" matches ${m.length} containers: ${m.map(containerLabel).join(', ')}`,
      });
  }
  const roots = rootsFor(options).map((r) => `${r.runtime} ${r.dir}`);
  throw netnsError(ERRNO.ENOENT, 'open', {
    op: 'open-container',
    reason: 'container-unknown',
    name: query,
    detail:
      all.length === 0
        ? 'none'
        : all.slice(0, 10).map(containerLabel).join(', ') + (all.length > 10 ? ` and ${all.length - 10} more` : ''),
    message: `ENOENT: no container matches "${query}" (searched ${roots.join(', ') || 'no roots'})`,
  });
}
