// How the CLI shows a container's id (its name is the library's containerName()), and the state
// files a scan skipped.
import type { ContainerStateError, NamespaceContainer } from 'netns';
import { warn } from './output.js';

/** "k8s.io/3f2a1b2c3d4e": 12 digits of a 64-digit id (as docker ps shows it); containerd's as NAMESPACE/ID. */
export function shortId(c: Pick<NamespaceContainer, 'id' | 'namespace'>): string {
  const id = /^[0-9a-f]{64}$/.test(c.id) ? c.id.slice(0, 12) : c.id;
  return c.namespace !== undefined ? `${c.namespace}/${id}` : id;
}

/** One stderr line per state file skipped: its message (the path escaped) and what was left out. */
export function warnSkipped(skipped: readonly ContainerStateError[]): void {
  for (const e of skipped)
    warn(
      `skipped ${e.message} (${e.skipped === 'container' ? 'its container is left out' : 'containers are listed without it'})`,
    );
}
