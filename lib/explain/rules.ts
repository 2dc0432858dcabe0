// What a new network namespace gets, per /proc/sys/net key: the kernel's rules, as data.
//
// Each rule names the kernel function that decides, the source file, the kernel versions it is
// known to hold for, and the kernel lines it was checked on (`checked`). Rules marked
// `verified: false` are carried as information only: the classifier never settles a key on
// equal values with an unverified rule. The table itself is in kernel-rules.ts, the rule types
// in types.ts (the data imports only those).
//
// Keys are matched in their path form relative to /proc/sys/net ("ipv4/tcp_rmem",
// "ipv4/conf/eth0/rp_filter"), so interface names with dots need no escaping.
import { keyFromRel } from '../keypath.js';
import * as os from 'node:os';
import { KERNEL_RULES, VERIFIED_LINES } from './kernel-rules.js';
import type { KernelRule, RuleContext, RuleEvidence, VerifiedLine } from './types.js';

export { KERNEL_RULES, VERIFIED_LINES };

/** The generic read-only mechanism, cited when no specific rule explains a read-only entry. */
export const ENSURE_SAFE_RULE: KernelRule = KERNEL_RULES.find((r) => r.id === 'ensure_safe_net_sysctl')!;

/** What the rule base knows about the running kernel line for one rule. */
export function kernelNote(rule: KernelRule, ctx: RuleContext): RuleEvidence['kernel'] {
  const running = `${ctx.kernel[0]}.${ctx.kernel[1]}`;
  const on = rule.checked.find((c) => c.line === running && c.holds);
  // One entry per line: "6.1 (observed, source)".
  const hows = new Map<string, string[]>();
  for (const c of rule.checked) if (c.holds) hows.set(c.line, [...(hows.get(c.line) ?? []), c.how]);
  const lines = [...hows].map(([line, how]) => `${line} (${how.join(', ')})`);
  if (on)
    return {
      running,
      checkedOnRunning: true,
      note: `checked on this kernel line (${running}, ${on.how === 'source' ? 'kernel source' : 'observation'})`,
    };
  return {
    running,
    checkedOnRunning: false,
    note: `not checked on ${running}: it holds on ${lines.join(', ') || 'no checked line'}; on ${running} it is what those lines do, not a verified fact`,
  };
}

/** The running kernel's line and whether the rule base was verified for it. */
export function kernelSupport(ctx: RuleContext): {
  running: string;
  verifiedLines: readonly VerifiedLine[];
  verified: boolean;
  note: string;
} {
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
function parseKernelVersion(release: string): [number, number] {
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

/** The first rule that matches `rel` and applies to the running kernel version (`rules`: a test hook). */
export function findRule(
  rel: string,
  ctx: RuleContext,
  rules: readonly KernelRule[] = KERNEL_RULES,
): KernelRule | undefined {
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
  if (rule.readOnlyInNamespace) ev.readOnlyInNamespace = true;
  const expect = rule.expect?.(rel);
  if (expect !== undefined) ev.expect = expect;
  if (src !== undefined && src !== rel) ev.sourceKey = keyFromRel(src);
  if (rule.derived) ev.derived = true;
  return ev;
}
