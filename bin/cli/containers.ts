// How the CLI names a container: a short id, and its name.
import type { NamespaceContainer } from 'netns';

/** "k8s.io/3f2a1b2c3d4e": 12 digits of a 64-digit id (as docker ps shows it); containerd's as NAMESPACE/ID. */
export function shortId(c: Pick<NamespaceContainer, 'id' | 'namespace'>): string {
  const id = /^[0-9a-f]{64}$/.test(c.id) ? c.id.slice(0, 12) : c.id;
  return c.namespace !== undefined ? `${c.namespace}/${id}` : id;
}

/** POD-NAMESPACE/POD/CONTAINER for Kubernetes, else the runtime's name, else undefined. */
export function containerName(c: Pick<NamespaceContainer, 'name' | 'kubernetes'>): string | undefined {
  const k = c.kubernetes;
  if (k?.podName !== undefined) return `${k.podNamespace ?? ''}/${k.podName}${k.containerName !== undefined ? `/${k.containerName}` : ''}`;
  return c.name;
}
