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
  /**
   * Whether the key is writable in a namespace (a fresh one, or the container's): false turns
   * every per-container remedy off ({@link settableFor}). Undefined: judged by the class alone.
   */
  writable?: boolean | undefined;
  /** false: the key does not exist in a namespace. */
  present?: boolean | undefined;
  /** The rule base says the entry is read-only in a namespace (when no mode was observed: another kernel line). */
  readOnlyInNamespace?: boolean | undefined;
  /** For a key read-only in a namespace and fixed at its creation: the key of the creating namespace it comes from. */
  sourceKey?: string | undefined;
}

const NOT_PER_NAMESPACE: ReadonlySet<string> = new Set(['host-only', 'shared', 'readonly']);

/**
 * Whether a key of this class can be given a value of its own per namespace (false for
 * `host-only`, `shared` and `readonly`: only the host's value exists). The class alone: a key
 * of a per-namespace class may still be read-only in a namespace (`tcp_ehash_entries`, a
 * `parent` key; `conf.all.mc_forwarding`): {@link settableFor} is the whole rule.
 */
export function settablePerNamespace(cls: string): boolean {
  return !NOT_PER_NAMESPACE.has(cls);
}

/** Why a key can or cannot be set in a container ({@link Settable}'s `reason`). */
export type SettableReason =
  /** Each namespace has its own value, writable inside. */
  | 'per-namespace'
  /** Present in a namespace but read-only there (e.g. fixed at creation from the creating namespace). */
  | 'read-only'
  /** One kernel-wide value (`shared`), or a global value containers see read-only (`readonly`). */
  | 'global'
  /** Exists only in the host's initial namespace: a global setting no container has. */
  | 'host-only'
  /** An entry of one of the host's own interfaces, which a container does not have. */
  | 'host-interface'
  /** Not registered in a namespace owned by a user namespace (a rootless container's). */
  | 'hidden-in-userns'
  /** Absent in the namespace (its interface or module is not there). */
  | 'absent'
  /** Not known: the key was not classified and nothing says whether a namespace may write it. */
  | 'unknown';

/** Whether a key can be set in a container, and why: the one rule behind every remedy. */
export interface Settable {
  /**
   * A container can have a value of its own: written inside its namespace (by pid, `netns
   * sysctl --container`, `docker run --sysctl`, `securityContext.sysctls`) and kept there.
   */
  container: boolean;
  reason: SettableReason;
  /** One sentence: why, and what to do instead when it cannot. */
  why: string;
}

/**
 * Whether a key can be set in a container, and why. The one rule every remedy follows
 * (remedyCommand, remediesFor, explain's howToSet, the audit's remedies): no remedy suggests a
 * write the kernel refuses. The class says whether a namespace has a value of its own at all;
 * what was observed in a namespace (present, writable) says whether it can be written there.
 */
export function settableFor(r: Omit<RemedyInput, 'value'>): Settable {
  const no = (reason: SettableReason, why: string): Settable => ({ container: false, reason, why });
  if (r.class === 'shared')
    return no('global', 'one kernel-wide value: writing it anywhere changes it for every namespace, host included');
  if (r.class === 'readonly')
    return no('global', 'a global value that containers see read-only: only the host sets it, for every namespace');
  if (r.class === 'hidden')
    return no(
      'hidden-in-userns',
      'not registered in a namespace owned by a user namespace (a rootless container): a namespace created by root has it, settable there',
    );
  if (r.class === 'host-only') {
    if (r.device !== undefined)
      return no(
        'host-interface',
        `an entry of the host's interface "${printable(r.device)}", which a container does not have; a container's own interfaces have entries of their own (${printable(withDevice(r.key, r.device, 'IF'))}), set inside`,
      );
    return no(
      'host-only',
      "exists only in the host's initial namespace: one global setting that no container can see or set",
    );
  }
  if (r.present === false) return no('absent', 'absent in the namespace (its interface or module is not there)');
  if (r.writable === false || (r.writable === undefined && r.readOnlyInNamespace === true))
    return no(
      'read-only',
      r.sourceKey !== undefined
        ? `read-only in a namespace: fixed when the namespace is created, from the creating namespace's ${printable(r.sourceKey)}`
        : 'read-only in a namespace: the kernel refuses writes there',
    );
  if (r.writable === undefined && r.class === 'unknown')
    return no('unknown', 'not classified: `netns explain KEY` says whether it can be set in a container');
  return {
    container: true,
    reason: 'per-namespace',
    why: 'each namespace has its own value, writable inside (by pid, docker run --sysctl, securityContext.sysctls)',
  };
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
  const s = settableFor(r);
  if (s.reason === 'absent') return 'cannot be set: absent in the namespace (its interface or module is not there)';
  if (s.reason === 'read-only')
    return `cannot be set: read-only in a namespace (netns explain ${shellWord(r.key)} tells where it comes from)`;
  if (!s.container) return `cannot be set per container: ${s.why}`;
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
  const settable = settableFor(r);
  if (!settable.container && (settable.reason === 'read-only' || settable.reason === 'absent'))
    return {
      docker: { available: false, text: `docker run --sysctl cannot set ${key}: ${settable.why}` },
      kubernetes: {
        available: false,
        safe: false,
        text: `securityContext.sysctls cannot set ${key}: ${settable.why}`,
        reference: K8S_SAFE_SYSCTLS_SOURCE,
      },
      initContainer,
      instead: `No per-container setting exists: ${
        r.sourceKey !== undefined
          ? `set ${printable(r.sourceKey)} in the namespace that creates the container's namespace (the host, for runc, Docker and the kubelet) before the container starts`
          : 'the kernel refuses writes to it in a namespace'
      }.`,
    };
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
