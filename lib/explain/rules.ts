// What a new network namespace gets, per /proc/sys/net key: the kernel's rules, as data.
//
// Each rule names the kernel function that decides, the source file, the kernel versions it is
// known to hold for, and the kernel lines it was checked on (`checked`). Rules marked
// `verified: false` are carried as information only: the classifier never settles a key on
// equal values with an unverified rule. The table itself is in kernel-rules.ts.
//
// Keys are matched in their path form relative to /proc/sys/net ("ipv4/tcp_rmem",
// "ipv4/conf/eth0/rp_filter"), so interface names with dots need no escaping.
import { keyFromRel } from '../sysctl/keys.js';
import * as os from 'node:os';
import { KERNEL_RULES, VERIFIED_LINES } from './kernel-rules.js';

export { KERNEL_RULES, VERIFIED_LINES };

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
  /** The value the rule says a fresh namespace gets, when it names one. */
  expect?: string;
  /** The value is computed from `sourceKey`, not copied (values are not compared). */
  derived?: true;
}

/** The generic read-only mechanism, cited when no specific rule explains a read-only entry. */
export const ENSURE_SAFE_RULE: KernelRule = KERNEL_RULES.find((r) => r.id === 'ensure_safe_net_sysctl')!;

/** Rules that describe user-namespace effects (information only: classify runs as root in the initial user namespace). */
export const USERNS_NOTES: readonly string[] = [
  'In a network namespace owned by a non-initial user namespace, some entries are not registered at all (table[i].procname = NULL in e.g. sysctl_route_net_init and xfrm_sysctl_init: "Don\'t export sysctls to unprivileged users").',
  'net_ctl_permissions (net/sysctl_net.c) gives root of the owning user namespace (CAP_NET_ADMIN there) the owner\'s permission bits; ownership follows that user namespace\'s root.',
];

/** What the rule base knows about the running kernel line for one rule. */
export function kernelNote(rule: KernelRule, ctx: RuleContext): RuleEvidence['kernel'] {
  const running = `${ctx.kernel[0]}.${ctx.kernel[1]}`;
  const on = rule.checked.find((c) => c.line === running && c.holds);
  // One entry per line: "6.1 (observed, source)".
  const hows = new Map<string, string[]>();
  for (const c of rule.checked) if (c.holds) hows.set(c.line, [...(hows.get(c.line) ?? []), c.how]);
  const lines = [...hows].map(([line, how]) => `${line} (${how.join(', ')})`);
  if (on) return { running, checkedOnRunning: true, note: `checked on this kernel line (${running}, ${on.how === 'source' ? 'kernel source' : 'observation'})` };
  return {
    running,
    checkedOnRunning: false,
    note: `not checked on ${running}: it holds on ${lines.join(', ') || 'no checked line'}; on ${running} it is what those lines do, not a verified fact`,
  };
}

/** The running kernel's line and whether the rule base was verified for it. */
export function kernelSupport(ctx: RuleContext): { running: string; verifiedLines: typeof VERIFIED_LINES; verified: boolean; note: string } {
  const running = `${ctx.kernel[0]}.${ctx.kernel[1]}`;
  const hit = VERIFIED_LINES.find((l) => l.line === running);
  return {
    running,
    verifiedLines: VERIFIED_LINES,
    verified: hit !== undefined,
    note: hit
      ? `rules verified for ${running} (${hit.from})`
      : `rules verified for ${VERIFIED_LINES.map((l) => l.line).join(', ')}, not for ${running}: classes that rest on a rule alone may be wrong here; observation (presence, modes, values) still decides what it can`,
  };
}

/** Parse "6.18.44-foo" into [6, 18]. */
export function parseKernelVersion(release: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

function cmp(a: [number, number], b: [number, number]): number {
  return a[0] - b[0] || a[1] - b[1];
}

/** The context for the running kernel; `devconfInherit` must be read from the host by the caller. */
export function defaultContext(devconfInherit = 0, release = os.release()): RuleContext {
  return { kernel: parseKernelVersion(release), devconfInherit };
}

/** Dotted sysctl(8) key of a path relative to /proc/sys/net (the shared keyFromRel). */
export const relToKey: (rel: string) => string = keyFromRel;

/** The first rule that matches `rel` and applies to the running kernel version (`rules`: a test hook). */
export function findRule(rel: string, ctx: RuleContext, rules: readonly KernelRule[] = KERNEL_RULES): KernelRule | undefined {
  let excluded = false;
  for (const r of rules) {
    if (!r.match.test(rel)) continue;
    if (excluded && r.family) continue;
    const outside = (r.since && cmp(ctx.kernel, r.since) < 0) || (r.until && cmp(ctx.kernel, r.until) >= 0);
    if (outside) {
      if (!r.family) excluded = true;
      continue;
    }
    return r;
  }
  return undefined;
}

/** Resolve a rule for evidence: its class in this context and its source key. */
export function ruleEvidence(rule: KernelRule, rel: string, ctx: RuleContext): RuleEvidence {
  const cls = typeof rule.class === 'function' ? rule.class(ctx, rel) : rule.class;
  const src = rule.source?.(rel, ctx);
  const ev: RuleEvidence = {
    id: rule.id,
    class: cls,
    fn: rule.fn,
    file: rule.file,
    versions: rule.versions,
    verified: rule.verified,
    versionVerified: ['6.1', '6.12'].every((l) => rule.checked.some((c) => c.line === l && c.how === 'source')),
    explanation: rule.explanation,
    checked: rule.checked.map((c) => ({ ...c })),
    kernel: kernelNote(rule, ctx),
  };
  const userns = typeof rule.userns === 'function' ? rule.userns(rel, ctx) : rule.userns;
  if (userns) ev.userns = userns;
  const expect = rule.expect?.(rel);
  if (expect !== undefined) ev.expect = expect;
  if (src !== undefined && src !== rel) ev.sourceKey = relToKey(src);
  if (rule.derived) ev.derived = true;
  return ev;
}
