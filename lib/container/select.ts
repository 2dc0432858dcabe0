// Choosing containers by what their runtime's state says about them: runtime, Kubernetes
// namespace and pod, name, id. Each criterion is a list of glob(7) patterns ('*', '?',
// '[...]'; '*' matches '/' too); a container matches when every criterion given has a
// pattern that matches.
import { invalid } from '../errors.js';
import { globRegExp } from '../sysctl/sysctld.js';
import type { ContainerInfo } from './types.js';

/** Which containers: every criterion given must match (any one of its patterns). */
export interface ContainerSelector {
  /** The runtime a container is reported as (`docker`, `containerd`, `podman`...). */
  runtime?: readonly string[];
  /** The Kubernetes namespace of its pod. */
  podNamespace?: readonly string[];
  /** The name of its pod. */
  pod?: readonly string[];
  /** Its name: Docker's, Podman's, the Kubernetes container's (the pod's, for a sandbox), or POD-NAMESPACE/POD/CONTAINER. */
  name?: readonly string[];
  /** Its id (a prefix needs a trailing '*'). */
  id?: readonly string[];
}

const FIELDS = ['runtime', 'podNamespace', 'pod', 'name', 'id'] as const;

/** The values a container offers to each criterion. */
function valuesOf(c: Pick<ContainerInfo, 'runtime' | 'id' | 'name' | 'kubernetes'>, field: (typeof FIELDS)[number]) {
  const k = c.kubernetes;
  switch (field) {
    case 'runtime':
      return [c.runtime];
    case 'podNamespace':
      return k?.podNamespace !== undefined ? [k.podNamespace] : [];
    case 'pod':
      return k?.podName !== undefined ? [k.podName] : [];
    case 'name': {
      const names = c.name !== undefined ? [c.name] : [];
      if (k?.podName !== undefined)
        names.push(`${k.podNamespace ?? ''}/${k.podName}${k.containerName !== undefined ? `/${k.containerName}` : ''}`);
      return names;
    }
    case 'id':
      return [c.id];
  }
}

/** A selector checked, its patterns compiled: a test for one container. */
export function containerMatcher(
  selector: ContainerSelector = {},
): (c: Pick<ContainerInfo, 'runtime' | 'id' | 'name' | 'kubernetes'>) => boolean {
  if (selector === null || typeof selector !== 'object') invalid('a selector object', 'select', selector);
  const tests: [(typeof FIELDS)[number], RegExp[]][] = [];
  for (const f of FIELDS) {
    const pats = selector[f];
    if (pats === undefined) continue;
    if (!Array.isArray(pats) || pats.length === 0 || !pats.every((p) => typeof p === 'string' && p !== ''))
      invalid('a non-empty array of patterns', `select.${f}`, pats);
    tests.push([f, pats.map((p) => globRegExp(p, true))]);
  }
  return (c) => tests.every(([f, res]) => valuesOf(c, f).some((v) => res.some((re) => re.test(v))));
}

/** Whether a selector has any criterion. */
export function selects(selector: ContainerSelector | undefined): boolean {
  return selector !== undefined && FIELDS.some((f) => selector[f] !== undefined);
}
