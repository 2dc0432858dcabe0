// Finding containers in their runtimes' state on disk: every root, one root, or one container
// by id, name or generated-id prefix. Opening a container's namespace is namespace/container.ts's job.
import * as path from 'node:path';
import { ERRNO, invalid, netnsError } from '../errors.js';
import { printable } from '../printable.js';
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

/**
 * "containerd k8s.io/3f2a… (default/web/nginx)": how messages name a container, printable()
 * (its id and names come from state files a user may write).
 */
export function containerLabel(c: Pick<ContainerInfo, 'runtime' | 'namespace' | 'id' | 'name' | 'kubernetes'>): string {
  return printable(rawLabel(c));
}

/** containerLabel before printable(): for a hint's `detail`, which the hint escapes. */
function rawLabel(c: Pick<ContainerInfo, 'runtime' | 'namespace' | 'id' | 'name' | 'kubernetes'>): string {
  const name = containerName(c);
  return `${c.runtime} ${c.namespace !== undefined ? `${c.namespace}/` : ''}${c.id}${name !== undefined ? ` (${name})` : ''}`;
}

/** containerLabel, and the state directory it was found in: how a list of candidates names each. */
function candidateLabel(c: ContainerInfo): string {
  return `${containerLabel(c)} in ${printable(path.dirname(path.dirname(c.stateFile)))}${c.running ? '' : ', stopped'}`;
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
 * An id by construction: 64 hex digits, as Docker, containerd's CRI plugin, Podman and CRI-O
 * make them (random, never chosen by a person). Only such an id is matched by a prefix, as
 * Docker matches its own; a name, or a runc id someone chose (`nu-ctr`), must be given whole.
 */
const GENERATED_ID = /^[0-9a-f]{64}$/;

/** Whether `query` is a prefix of c's generated id (`PREFIX`, or `NAMESPACE/PREFIX` for containerd). */
function isIdPrefix(c: ContainerInfo, query: string): boolean {
  if (!GENERATED_ID.test(c.id)) return false;
  const slash = query.lastIndexOf('/');
  const prefix = slash < 0 ? query : query.slice(slash + 1);
  if (slash >= 0 && query.slice(0, slash) !== c.namespace) return false;
  return /^[0-9a-f]+$/.test(prefix) && c.id.startsWith(prefix);
}

/**
 * The one container `query` names, in every root searched: first an exact id or name (Docker's,
 * Podman's, Kubernetes' container name, POD/CONTAINER, PODNS/POD/CONTAINER, or NAMESPACE/ID for
 * containerd) anywhere, then -- only when nothing has that exact id or name -- a prefix of a
 * generated 64-hex id (never of a name or a chosen id). Among several matches a running one
 * wins over stopped ones (state directories outlive their containers); else the query is
 * ambiguous, an EINVAL listing the candidates. Unknown queries throw ENOENT.
 */
export function findContainer(query: string, options: ContainerOptions = {}): ContainerInfo {
  if (typeof query !== 'string' || query === '') invalid('a container id, id prefix or name', 'id', query);
  const all = listContainers(options);
  // A running container wins over stopped ones that state directories still record.
  const pick = (m: ContainerInfo[]): ContainerInfo[] =>
    m.filter((c) => c.running).length === 1 ? m.filter((c) => c.running) : m;
  const exact = all.filter((c) => c.id === query || namesOf(c).includes(query));
  for (const matches of [exact, exact.length > 0 ? [] : all.filter((c) => isIdPrefix(c, query))]) {
    const m = pick(matches);
    if (m.length === 1) return m[0]!;
    if (m.length > 1)
      throw netnsError(ERRNO.EINVAL, 'open', {
        op: 'open-container',
        reason: 'container-ambiguous',
        name: query,
        message: `EINVAL: "${printable(query)}" matches ${m.length} containers: ${m.map(candidateLabel).join('; ')}`,
      });
  }
  const roots = rootsFor(options).map((r) => `${r.runtime} ${printable(r.dir)}`);
  // What the query is the beginning of: names and chosen ids are not matched by a prefix.
  const near = all.filter((c) => c.id.startsWith(query) || namesOf(c).some((n) => n.startsWith(query)));
  const whole =
    near.length === 0
      ? ''
      : `; it begins ${near
          .slice(0, 5)
          .map(containerLabel)
          .join(
            ', ',
          )}${near.length > 5 ? ` and ${near.length - 5} more` : ''}, but names and ids a person chose are matched whole (a prefix only of a 64-hex id)`;
  throw netnsError(ERRNO.ENOENT, 'open', {
    op: 'open-container',
    reason: 'container-unknown',
    name: query,
    detail:
      all.length === 0
        ? 'none'
        : all.slice(0, 10).map(rawLabel).join(', ') + (all.length > 10 ? ` and ${all.length - 10} more` : ''),
    message: `ENOENT: no container matches "${printable(query)}" (searched ${roots.join(', ') || 'no roots'})${whole}`,
  });
}
