// How to set a key for a container, or why it cannot be done: docker run --sysctl, Kubernetes
// securityContext.sysctls and the initContainer workaround (explain's `remedies`, from the data
// in k8s-sysctls.ts), and the audit's one-line remedy. The CLI prints these; it has no copy.
import { K8S_SAFE_SYSCTLS, K8S_SAFE_SYSCTLS_SOURCE } from './k8s-sysctls.js';
import { withDevice } from '../keypath.js';
import { printable, shellWord } from '../printable.js';

export { shellWord };

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

const NOT_PER_NAMESPACE: ReadonlySet<string> = new Set(['host-only', 'shared', 'readonly']);

/**
 * Whether a key of this class can be given a value of its own per namespace (false for
 * `host-only`, `shared` and `readonly`: only the host's value exists).
 */
export function settablePerNamespace(cls: string): boolean {
  return !NOT_PER_NAMESPACE.has(cls);
}

/** What {@link remedyCommand} needs to know. */
export interface RemedyCommandInput {
  key: string;
  class: string;
  /** The value to give the key; null: the host has none to copy (the key is absent there). */
  value: string | null;
  /**
   * Where: the netns selector words of a namespace (`['--container', ID]`; `[]` for the
   * current one), or 'at-start' for a command started in a new namespace.
   */
  target: readonly string[] | 'at-start';
  /** Whether the key can be written in that namespace (undefined: not known). */
  writable?: boolean | undefined;
  /** false: the key does not exist in that namespace. */
  present?: boolean | undefined;
}

/**
 * The netns command line that gives a key `value` in a namespace, or why that cannot be done:
 * the audit's `remedy`, and what the CLI prints as "how to set it". Container ids and names
 * come from state on disk a user may write: every word is shell-quoted.
 */
export function remedyCommand(r: RemedyCommandInput): string {
  if (NOT_PER_NAMESPACE.has(r.class)) return `cannot be set per namespace (${r.class}): set it on the host`;
  if (r.class === 'hidden')
    return 'cannot be set in a namespace owned by a user namespace (hidden): a rootless container has no such key; a namespace root creates has';
  const atStart = r.target === 'at-start';
  if (r.value === null && !atStart) return 'absent on the host: no value to copy';
  if (r.present === false) return 'cannot be set: absent in the namespace (its interface or module is not there)';
  if (r.writable === false)
    return `cannot be set: read-only in a namespace (netns explain ${shellWord(r.key)} tells where it comes from)`;
  const setting = `${r.key}=${r.value ?? 'VALUE'}`;
  if (atStart) return `${['netns', 'exec', '--sysctl', setting].map(shellWord).join(' ')} -- CMD`;
  return ['netns', 'sysctl', ...r.target, '-w', setting].map(shellWord).join(' ');
}

/** Docker, Kubernetes and initContainer remedies for one key (explain's `remedies`). */
export function remediesFor(r: RemedyInput): Remedies {
  const safe = K8S_SAFE_SYSCTLS.find((s) => s.name === r.key);
  // Text for a person: the key, its device and the value as printable() shows them.
  const key = printable(r.key);
  const value = printable(r.value);
  const other = (name: string): string => (r.device ? printable(withDevice(r.key, r.device, name)) : key);
  const arg = shellWord(`${r.key}=${r.value}`);
  const initContainer =
    "A privileged initContainer running `sysctl -w` in the pod also works for per-namespace keys (it shares the pod's network namespace), but it needs privileged: true, can change node-wide keys by mistake and bypasses the kubelet's checks: prefer securityContext.sysctls, which is unprivileged, validated at admission and applied before any container starts.";
  if (NOT_PER_NAMESPACE.has(r.class)) {
    const instead =
      r.class === 'host-only' && r.device
        ? `the entry belongs to the host's interface "${printable(r.device)}": set the container's own interface (e.g. ${other('eth0')}) or its namespace's conf.default before the interface is created`
        : `set it on the node (host) itself - a sysctl.d file, a node-tuning DaemonSet or the node image - knowing it applies to every container on that node${r.class === 'readonly' ? '; containers see the host value read-only' : ''}`;
    return {
      docker: {
        available: false,
        text: `docker run --sysctl cannot set ${key}: it is ${r.class === 'host-only' ? 'not present' : r.class === 'readonly' ? 'read-only' : 'one global value'} in a container's namespace`,
      },
      kubernetes: {
        available: false,
        safe: false,
        text: `securityContext.sysctls cannot set ${key}: only per-namespace keys can be set per pod (this one is ${r.class})`,
        reference: K8S_SAFE_SYSCTLS_SOURCE,
      },
      initContainer,
      instead: `No per-container setting exists: ${instead}.`,
    };
  }
  const yaml = `securityContext: { sysctls: [ { name: ${key}, value: "${value}" } ] }`;
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
        text: `Not in the kubelet's safe set: the node's kubelet must allow it with --allowed-unsafe-sysctls='${key}' (or a pattern such as 'net.ipv4.*'), and the Pod Security level must admit it (baseline/restricted forbid unsafe sysctls: use privileged, or a policy that allows it)`,
        reference: K8S_SAFE_SYSCTLS_SOURCE,
      };
  if (safe?.kernel) kubernetes.kernel = safe.kernel;
  const docker: Remedies['docker'] =
    r.device && r.device !== 'lo'
      ? {
          available: true,
          command: `docker run --sysctl ${shellWord(`${withDevice(r.key, r.device, 'default')}=${r.value}`)} IMAGE`,
          text: `the interface does not exist when docker applies --sysctl: set conf.default so the interface created for the container takes it, or use the per-endpoint form --network name=NET,driver-opt=com.docker.network.endpoint.sysctls=${other('IFNAME')}=${value}`,
        }
      : {
          available: true,
          command: `docker run --sysctl ${arg} IMAGE`,
          text: "applied in the container's own network namespace when it starts; not available with --network=host",
        };
  return { docker, kubernetes, initContainer };
}
