// The shapes compare(), classify() and explain() return.
import type { KernelRule, RuleClass, RuleContext, RuleEvidence, VERIFIED_LINES } from './rules.js';
import type { Remedies } from '../hints.js';

/**
 * The class of a key: what a new namespace gets (see the README's table), `hidden` (a
 * per-namespace key the kernel does not register in a namespace owned by a user namespace, as a
 * rootless container's is: what classify() run unprivileged reports for it), or `unknown`.
 */
export type SysctlClass = RuleClass | 'hidden' | 'unknown';

/** One key of {@link compare}. */
export interface CompareEntry {
  /** Dotted key, as sysctl(8) prints it. */
  key: string;
  /** Value in the first namespace (exact text, trailing newline removed); null when absent or unreadable. */
  a: string | null;
  /** Value in the second namespace. */
  b: string | null;
  /** errno code when present but unreadable in the first namespace. */
  aError?: string;
  /** errno code when present but unreadable in the second namespace. */
  bError?: string;
  /** Present in both, readable in both, and equal by value (numbers compared as numbers, whitespace ignored). */
  equal: boolean;
}

/** What was seen of one key in one namespace. */
export interface SideObservation {
  present: boolean;
  /** Permission bits as the kernel reports them (e.g. "644"), when present. */
  mode?: string;
  /** Some write bit is set. */
  writable?: boolean;
  /** Exact text read, trailing newline removed. */
  value?: string;
  /** errno code when the read failed (e.g. "EIO" for an unset stable_secret, "EACCES" for write-only). */
  error?: string;
}

/** The outcome of the probe that writes only inside throwaway namespaces. */
export interface ParentProbe {
  /** Value written in the creating (throwaway) namespace. */
  wrote?: string;
  /** Value the creating namespace held after the write. */
  creatorValue?: string;
  /** Value a namespace created from it received. */
  childValue?: string;
  outcome: 'from-creator' | 'not-from-creator' | 'not-applied' | 'no-alternative' | 'inconclusive' | 'error';
  /** Error code, for outcome "error". */
  error?: string;
}

/** The outcome of the probe that briefly changes the host value. */
export interface HostProbe {
  /** Value temporarily written on the host. */
  wrote?: string;
  /** Value a namespace created meanwhile received. */
  childValue?: string;
  /** The original host value was written back and read back equal. */
  restored: boolean;
  outcome: 'from-host' | 'not-from-host' | 'not-applied' | 'no-alternative' | 'inconclusive' | 'error';
  error?: string;
}

/** Everything behind one classification. */
export interface Evidence {
  observed: {
    host: SideObservation;
    child: SideObservation;
    /** Host and fresh-namespace values equal by value (null when either is absent or unreadable). */
    equal: boolean | null;
    /** The host value compared against, when the rule says the value is copied from another key. */
    source?: { key: string; value?: string; equal: boolean | null };
    /** The observing namespace is the initial one (it has init-only entries such as net.core.netdev_max_backlog). */
    observerIsInitNet: boolean;
  };
  /** The kernel rule that applies on this kernel, or null. */
  rule: RuleEvidence | null;
  /** Probe outcomes, when probing was asked for and the key qualified. */
  probe: { parent?: ParentProbe; host?: HostProbe } | null;
  /** One line: which evidence decided the class. */
  reason: string;
  /** Set when what was observed contradicts the kernel rule: the key is then "unknown". */
  contradiction?: string;
  /** Extra facts, e.g. that the key belongs to a device. */
  notes?: string[];
}

/** The classification of one key. Serialises to JSON as { key, class, host, child, evidence }. */
export interface Classification {
  /** Dotted key. */
  key: string;
  class: SysctlClass;
  /** Host value (exact text), null when absent or unreadable. */
  host: string | null;
  /** Value in a fresh namespace, null when absent or unreadable. */
  child: string | null;
  evidence: Evidence;
}

/** Options of {@link classify}. */
export interface ClassifyOptions {
  /**
   * Opt in to probes (root only). The parent probe writes only inside namespaces it creates;
   * the host probe changes host values of keys on {@link HOST_PROBE_SAFE} for a moment and
   * restores them, even on SIGTERM/SIGINT. Only keys whose value in a fresh namespace equals
   * the host's are probed.
   */
  probe?: boolean;
  /** Limit the host probe to these keys (dotted or path form; each must be on HOST_PROBE_SAFE). */
  hostProbeKeys?: string[];
  /** Only classify keys under these prefixes / exactly these keys (dotted or path form). */
  keys?: string[];
  /**
   * Answer for this kernel line ("6.1", or a release such as "6.1.0-57-amd64") from the rule
   * base and the keys the kernel matrix recorded on that line, instead of observing the running
   * kernel: nothing is created, read or probed (`probe` is refused with it). The answer says
   * whether the line is a verified one; off them it says what it does not know.
   */
  kernel?: string;
  /** Override facts about the kernel (for tests). */
  context?: Partial<RuleContext>;
  /** @internal Test hook: use these rules instead of KERNEL_RULES (e.g. to inject a wrong one). */
  rules?: readonly KernelRule[];
  /** @internal Test hook: called after the host values were changed, before the namespace is made. */
  onHostProbeApplied?: (keys: string[]) => void;
  /** @internal Test hook: keep the host values changed this long (ms) before restoring. */
  hostProbeHoldMs?: number;
}

/** One explanation: a classification, a sentence, and how to set the key for a container. */
export interface Explanation extends Classification {
  /** A sentence a user understands. */
  sentence: string;
  /** Where the answer comes from: the kernel function and file (and the lines it was checked on), or the observation. */
  source: string;
  /** The kernel lines the rules were verified for, and what that means on the running kernel. */
  kernel: {
    /** The running kernel's line. */
    running: string;
    /** The line the answer is for: the running one, or the `kernel` option's. */
    line: string;
    verifiedLines: typeof VERIFIED_LINES;
    /** The line answered for is one the rule base was verified for. */
    verified: boolean;
    /** The rule behind this key was checked on the line answered for. */
    ruleCheckedOnRunning: boolean | null;
    note: string;
  };
  /** docker run --sysctl, Kubernetes securityContext.sysctls, the initContainer workaround. */
  remedies: Remedies;
  /** How to set it for a container, or why that cannot be done. */
  howToSet: {
    /** Inside a running container, by its pid. */
    inside?: { api: string; cli: string };
    /** When starting a process in a new namespace, with presets. */
    atStart?: { api: string; cli: string };
    /** Before creating the namespace, on the host or in the creating namespace. */
    beforeCreate?: string;
    /** Why it cannot be set per container: "host-only" or "shared" and what to do instead. */
    cannot?: string;
  };
}
