// How the CLI shows a container's id (its name is the library's containerName()).
import type { NamespaceContainer } from 'netns';

/** "k8s.io/3f2a1b2c3d4e": 12 digits of a 64-digit id (as docker ps shows it); containerd's as NAMESPACE/ID. */
export function shortId(c: Pick<NamespaceContainer, 'id' | 'namespace'>): string {
  const id = /^[0-9a-f]{64}$/.test(c.id) ? c.id.slice(0, 12) : c.id;
  return c.namespace !== undefined ? `${c.namespace}/${id}` : id;
}
