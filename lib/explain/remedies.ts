// How to set a key for a container, or why it cannot be done: docker run --sysctl, Kubernetes
// securityContext.sysctls and the initContainer workaround (explain's `remedies`, from the data
// in k8s-sysctls.ts), and the audit's one-line remedy. The CLI prints these; it has no copy.
import { K8S_SAFE_SYSCTLS, K8S_SAFE_SYSCTLS_SOURCE } from './k8s-sysctls.js';

/** How to set one key for a container with the tools people use, or why it cannot be done. */
export interface Remedies {
  docker: { available: boolean; command?: string; text: string };
  kubernetes: {
    available: boolean;
    /** In the kubelet's safe set (no kubelet flag needed). */
    safe: boolean;
    /** Kubernetes release that added it to the safe set. */
    since?: string;
    /** Minimum kernel the kubelet requires for it. */
    kernel?: string;
    /** The pod spec fragment. */
    securityContext?: string;
    text: string;
    reference: string;
  };
  /** The privileged initContainer workaround, in one line. */
  initContainer: string;
  /** For host-only, shared and read-only keys: what to do instead. */
  instead?: string;
}

/** What remediesFor needs to know about a key. */
export interface RemedyInput {
  key: string;
  class: string;
  /** A value to show in the commands. */
  value: string;
  /** The interface a per-interface key belongs to (conf.<if>.*, neigh.<if>.*). */
  device?: string;
}

const NOT_PER_CONTAINER = new Set(['host-only', 'shared', 'readonly']);

/** One word of a suggested command line, shell-quoted unless it is plainly safe. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_.,:/=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The audit's remedy for one key of one namespace: how to give it `value`, or why that cannot
 * be done per namespace. `target`: the netns selector words (['--container', ID]; [] for the
 * host). Container ids and names come from state on disk a user may write: every word is quoted.
 */
export function auditRemedy(cls: string, key: string, value: string, target: readonly string[], writable: boolean | undefined): string {
  if (NOT_PER_CONTAINER.has(cls)) return `cannot be set per namespace (${cls}): set it on the host`;
  if (writable === false) return `cannot be set: read-only in a namespace (netns explain ${key} tells where it comes from)`;
  return ['netns', 'sysctl', ...target, '-w', `${key}=${value}`].map(shellWord).join(' ');
}

/** Docker, Kubernetes and initContainer remedies for one key (explain's `remedies`). */
export function remediesFor(r: RemedyInput): Remedies {
  const safe = K8S_SAFE_SYSCTLS.find((s) => s.name === r.key);
  const arg = shellWord(`${r.key}=${r.value}`);
  const initContainer =
    'A privileged initContainer running `sysctl -w` in the pod also works for per-namespace keys (it shares the pod\'s network namespace), but it needs privileged: true, can change node-wide keys by mistake and bypasses the kubelet\'s checks: prefer securityContext.sysctls, which is unprivileged, validated at admission and applied before any container starts.';
  if (NOT_PER_CONTAINER.has(r.class)) {
    const instead =
      r.class === 'host-only' && r.device
        ? `the entry belongs to the host's interface "${r.device}": set the container's own interface (e.g. ${r.key.replace(`.${r.device}.`, '.eth0.')}) or its namespace's conf.default before the interface is created`
        : `set it on the node (host) itself - a sysctl.d file, a node-tuning DaemonSet or the node image - knowing it applies to every container on that node${r.class === 'readonly' ? '; containers see the host value read-only' : ''}`;
    return {
      docker: { available: false, text: `docker run --sysctl cannot set ${r.key}: it is ${r.class === 'host-only' ? 'not present' : r.class === 'readonly' ? 'read-only' : 'one global value'} in a container's namespace` },
      kubernetes: {
        available: false,
        safe: false,
        text: `securityContext.sysctls cannot set ${r.key}: only per-namespace keys can be set per pod (this one is ${r.class})`,
        reference: K8S_SAFE_SYSCTLS_SOURCE,
      },
      initContainer,
      instead: `No per-container setting exists: ${instead}.`,
    };
  }
  const yaml = `securityContext: { sysctls: [ { name: ${r.key}, value: "${r.value}" } ] }`;
  const kubernetes: Remedies['kubernetes'] = safe
    ? {
        available: true,
        safe: true,
        since: safe.since,
        securityContext: yaml,
        text: `In the kubelet's safe set since Kubernetes ${safe.since}${safe.sinceVerified ? '' : ' (release not verified)'}${safe.kernel ? ` (kernel >= ${safe.kernel})` : ''}: set it in the pod's securityContext.sysctls, no kubelet flag needed`,
        reference: K8S_SAFE_SYSCTLS_SOURCE,
      }
    : {
        available: true,
        safe: false,
        securityContext: yaml,
        text: `Not in the kubelet's safe set: the node's kubelet must allow it with --allowed-unsafe-sysctls='${r.key}' (or a pattern such as 'net.ipv4.*'), and the Pod Security level must admit it (baseline/restricted forbid unsafe sysctls: use privileged, or a policy that allows it)`,
        reference: K8S_SAFE_SYSCTLS_SOURCE,
      };
  if (safe?.kernel) kubernetes.kernel = safe.kernel;
  const docker: Remedies['docker'] = r.device && r.device !== 'lo'
    ? {
        available: true,
        command: `docker run --sysctl ${arg.replace(`.${r.device}.`, '.default.')} IMAGE`,
        text: `the interface does not exist when docker applies --sysctl: set conf.default so the interface created for the container takes it, or use the per-endpoint form --network name=NET,driver-opt=com.docker.network.endpoint.sysctls=${r.key.replace(`.${r.device}.`, '.IFNAME.')}=${r.value}`,
      }
    : { available: true, command: `docker run --sysctl ${arg} IMAGE`, text: 'applied in the container\'s own network namespace when it starts; not available with --network=host' };
  return { docker, kubernetes, initContainer };
}
