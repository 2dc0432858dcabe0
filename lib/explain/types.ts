// The shapes compare(), classify() and explain() return, and those of the kernel's rules (the
// rule data in kernel-rules.ts imports only these).
import type { Remedies, Settable } from './remedies.js';

/** A kernel line the rule base was checked against, and how. */
export interface VerifiedLine {
  /** Kernel line, "major.minor" (e.g. "6.12"). */
  line: string;
  /** "source": read in that line's tree; "observed": consistent with what that running kernel shows. */
  how: 'source' | 'observed';
  /** Where: the tree read, or the running kernel. */
  from: string;
}

/**
 * The class of a key: what a new namespace gets (the table in docs/api.md, classify), `hidden`
 * (a per-namespace key the kernel does not register in a namespace owned by a user namespace, as
 * a rootless container's is: what classify() run unprivileged reports for it), or `unknown`.
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
  /**
   * Which of the four cases the entry is: `equal`; `different` (readable on both sides, values
   * differ: the value differences); `a-only` / `b-only` (present on one side only, readable
   * there or not); `unreadable` (present on both, unreadable on one or both).
   */
  status: CompareStatus;
}

/** The case of one {@link CompareEntry}: equal, a value difference, one-sided, or unreadable. */
export type CompareStatus = 'equal' | 'different' | 'a-only' | 'b-only' | 'unreadable';

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

/** The classification of one key. Serialises to JSON as { key, class, host, child, settable, evidence }. */
export interface Classification {
  /** Dotted key. */
  key: string;
  class: SysctlClass;
  /** Host value (exact text), null when absent or unreadable. */
  host: string | null;
  /** Value in a fresh namespace, null when absent or unreadable. */
  child: string | null;
  /**
   * Whether a container can have a value of its own for this key, and why (`parent` keys fixed
   * at creation are read-only in a namespace; `host-only` separates the host's own interfaces'
   * entries, `host-interface`, from truly global keys, `host-only`).
   */
  settable: Settable;
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
    verifiedLines: readonly VerifiedLine[];
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

/** One kernel line a rule was checked on. */
export interface KernelCheck {
  /** Kernel line, "major.minor" (e.g. "6.12"). */
  line: string;
  /** "source": read in that line's tree; "observed": consistent with what that running kernel shows. */
  how: 'source' | 'observed';
  /** The rule holds on that line (false: it does not apply there, e.g. the key does not exist yet). */
  holds: boolean;
  note?: string;
}

/** A class a rule can predict (the classifier adds `unknown`). */
export type RuleClass = 'inherited' | 'default' | 'parent' | 'shared' | 'readonly' | 'host-only' | 'child-only';

/** What a rule is evaluated against: facts about the running kernel and the host. */
export interface RuleContext {
  /** Kernel version [major, minor] (from os.release() unless given). */
  kernel: [number, number];
  /** The host's net.core.devconf_inherit_init_net (0 when the key is absent: kernels < 5.1). */
  devconfInherit: number;
  /** The fresh namespace observed is owned by a non-initial user namespace (rootless, unprivileged caller). */
  childUserns?: boolean;
}

/** One rule of the kernel about a key or a family of keys. */
export interface KernelRule {
  /** Stable identifier, e.g. "tcp_sk_init.congestion_control". */
  id: string;
  /** Matches the key's path relative to /proc/sys/net. */
  match: RegExp;
  /** The predicted class (may depend on the context, e.g. devconf_inherit_init_net). */
  class: RuleClass | ((ctx: RuleContext, rel: string) => RuleClass);
  /** Kernel function that decides. */
  fn: string;
  /** Kernel source file of that function. */
  file: string;
  /** Human-readable version range, e.g. ">= 4.15" or "6.18 (observed)". */
  versions: string;
  /** First kernel version the rule holds for (inclusive), when known. */
  since?: [number, number];
  /** First kernel version the rule no longer holds for, when known. */
  until?: [number, number];
  /** The rule's behaviour was read in kernel source (a tree at or near the version noted). */
  verified: boolean;
  /** The kernel lines the rule was checked on, and how. */
  checked: readonly KernelCheck[];
  /** The value a fresh namespace gets, when the rule names a constant (checked against observation). */
  expect?: (rel: string) => string | undefined;
  /**
   * What happens to the entry in a namespace owned by a non-initial user namespace, when the
   * kernel changes it there ("Don't export sysctls to unprivileged users"); it may depend on the
   * kernel line (`ctx.kernel`).
   */
  userns?: 'hidden' | 'readonly' | ((rel: string, ctx: RuleContext) => 'hidden' | 'readonly' | undefined);
  /**
   * The entry is read-only in every namespace but the initial one (its value is fixed at
   * creation or kept by the kernel): what settable says where no mode was observed.
   */
  readOnlyInNamespace?: boolean;
  /**
   * A family rule: the fallback for a whole sysctl directory. It does not apply to a key that a
   * specific rule matches but excludes on this kernel version (that key's history differs).
   */
  family?: boolean;
  /** One-line explanation for users. */
  explanation: string;
  /**
   * For copies: the host key whose value the new namespace receives, as a path relative to
   * /proc/sys/net (e.g. a device's neigh entry copies the host's neigh/default entry).
   */
  source?: (rel: string, ctx: RuleContext) => string | undefined;
  /**
   * The value is computed from the source (a hash size from the creator's
   * tcp_child_ehash_entries), not copied: equal or different values neither confirm nor
   * contradict the rule.
   */
  derived?: boolean;
}

/** A rule as it appears in evidence (functions resolved, regex dropped). */
export interface RuleEvidence {
  id: string;
  class: RuleClass;
  fn: string;
  file: string;
  versions: string;
  verified: boolean;
  /** The rule was read in the source of both 6.1 and 6.12 (where it holds or is known not to apply). */
  versionVerified: boolean;
  explanation: string;
  /** Dotted key the value is copied from, when the rule is a copy. */
  sourceKey?: string;
  /** The kernel lines the rule was checked on. */
  checked: KernelCheck[];
  /** The running kernel's line ("6.18") and whether the rule was checked on it. */
  kernel: { running: string; checkedOnRunning: boolean; note: string };
  userns?: 'hidden' | 'readonly';
  /** The entry is read-only in a namespace ({@link KernelRule.readOnlyInNamespace}). */
  readOnlyInNamespace?: boolean;
  /** The value the rule says a fresh namespace gets, when it names one. */
  expect?: string;
  /** The value is computed from `sourceKey`, not copied (values are not compared). */
  derived?: true;
}

// ---- A target's values: where each comes from (explain(ns, keys)) ----

/**
 * Where a key's current value in a namespace comes from:
 * - `spec`: set at start by the container's spec (OCI `linux.sysctl`), and still that value;
 * - `inherited`: copied from the host when the namespace was created, equal to the host's value now;
 * - `host-changed`: copied from the host at creation, but the host's value is different now: the
 *   host changed since the container started (it had this value then), or it was changed inside
 *   (`alternatives` says when that cannot be ruled out);
 * - `default`: the kernel's value for a new namespace (a compiled-in default, reset in every new namespace);
 * - `parent`: taken from the namespace that created it, as a new namespace would now;
 * - `interface`: an entry of the namespace's own interface, equal to what the interface took
 *   when it was created or moved in (its namespace's conf.default, the host's neigh defaults);
 * - `global`: one kernel-wide value (class `shared` or `readonly`): the host's;
 * - `changed`: none of these: changed since start (by the application, an operator, a CNI plugin);
 * - `absent`: the key does not exist in the namespace;
 * - `unknown`: the evidence cannot tell (unreadable, or the class is not settled on this kernel).
 */
export type ProvenanceKind =
  | 'spec'
  | 'inherited'
  | 'host-changed'
  | 'default'
  | 'parent'
  | 'interface'
  | 'global'
  | 'changed'
  | 'absent'
  | 'unknown';

/** A value the container's spec asked for at start. */
export interface SpecSetting {
  value: string;
  /** The container whose spec it is (the last started, when several in the namespace set the key). */
  container: string;
  /** The file it was read from: runc's state.json (`config.sysctl`) or the bundle's config.json. */
  file: string;
}

/** Where one value comes from, and how sure that is. */
export interface Provenance {
  kind: ProvenanceKind;
  /** One sentence a user understands, with the values compared. */
  why: string;
  /** Other kinds the evidence cannot rule out (no record of the host's past values exists). */
  alternatives?: ProvenanceKind[];
  /** What the spec asked for, when it set the key (also when the value has drifted from it). */
  spec?: SpecSetting;
  /** For `interface`: the key the interface's entry was copied from, and its value now. */
  from?: { key: string; value: string | null };
}
