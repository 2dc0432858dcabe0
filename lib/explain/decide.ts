// The decision: one class per key from what was observed, the kernel's rules, and probes.
import { ENSURE_SAFE_RULE, KERNEL_RULES, findRule, ruleEvidence } from './rules.js';
import { eqObs, sameValue, side, type Observation } from './observe.js';
import { deviceOf, keyFromRel, pathForm } from '../keypath.js';
import { settableFor } from './remedies.js';
import type {
  Classification,
  Evidence,
  HostProbe,
  KernelRule,
  ParentProbe,
  RuleContext,
  RuleEvidence,
  SideObservation,
  SysctlClass,
} from './types.js';

/** What observation and the rules say about one key, before any class is chosen. */
interface Facts {
  h: SideObservation;
  ch: SideObservation;
  rev: RuleEvidence | null;
  equal: boolean | null;
  source: Evidence['observed']['source'];
  evidence: Evidence;
  notes: string[];
}

function facts(
  rel: string,
  host: Observation,
  child: Observation,
  ctx: RuleContext,
  observerIsInitNet: boolean,
  rules: readonly KernelRule[],
): Facts {
  const h = side(host, rel);
  const ch = side(child, rel);
  const rule = findRule(rel, ctx, rules);
  const rev = rule ? ruleEvidence(rule, rel, ctx) : null;
  const equal = eqObs(h, ch);
  const evidence: Evidence = {
    observed: { host: h, child: ch, equal, observerIsInitNet },
    rule: rev,
    probe: null,
    reason: '',
  };
  const notes: string[] = [];
  const dev = deviceOf(rel);
  if (dev) {
    const where =
      h.present && !ch.present
        ? 'on the host only'
        : !h.present && ch.present
          ? 'in the new namespace only'
          : 'in both';
    // (A rule without a source says where such an entry's value comes from instead: lo's flags, an ipv6 MTU.)
    const from =
      rev && rev.sourceKey === undefined
        ? ''
        : "; a device created in or moved into a namespace takes that namespace's conf.default (or neigh defaults) at that moment, not the host's";
    notes.push(`Per-device entry of "${dev}" (present ${where}): each namespace has its own devices${from}.`);
  }
  let source: Evidence['observed']['source'];
  if (rev?.sourceKey) {
    const srcRel = pathForm(rev.sourceKey).slice('net/'.length);
    const s = side(host, srcRel);
    source = { key: rev.sourceKey, equal: eqObs(s, ch) };
    if (s.value !== undefined) source.value = s.value;
    evidence.observed.source = source;
  }
  return { h, ch, rev, equal, source, evidence, notes };
}

/**
 * The class of one key from observation and the kernel's rules (probes come later, in
 * applyProbe). `unstable`: the host value changed while it was observed.
 */
export function decide(
  rel: string,
  host: Observation,
  child: Observation,
  ctx: RuleContext,
  observerIsInitNet: boolean,
  unstable: boolean,
  rules: readonly KernelRule[] = KERNEL_RULES,
): Classification {
  const { h, ch, rev, equal, source, evidence, notes } = facts(rel, host, child, ctx, observerIsInitNet, rules);
  const result = (cls: SysctlClass, reason: string): Classification => {
    evidence.reason = reason;
    if (notes.length) evidence.notes = notes;
    const c: Omit<Classification, 'settable'> = {
      key: keyFromRel(rel),
      class: cls,
      host: h.value ?? null,
      child: ch.value ?? null,
      evidence,
    };
    return { ...c, settable: settableOf(c) };
  };
  /** Observation contradicts the rule: the key is unknown, and the contradiction is reported. */
  const contradiction = (text: string): Classification => {
    evidence.contradiction = text;
    return result('unknown', `contradiction: ${text}`);
  };
  const ruleUsable = rev?.verified;
  // A rule that names the value a fresh namespace gets is checked against the fresh value.
  if (ruleUsable && rev.expect !== undefined && ch.value !== undefined && !sameValue(rev.expect, ch.value))
    return contradiction(
      `rule ${rev.id} says a fresh namespace gets ${JSON.stringify(rev.expect)}, but it got ${JSON.stringify(ch.value)}`,
    );
  if (unstable) {
    notes.push('The host value changed while it was being observed (another process is changing it).');
    if (!(h.present && !ch.present) && !(!h.present && ch.present))
      return result('unknown', 'the host value kept changing during observation');
  }

  // Presence settles host-only and child-only by observation alone.
  if (h.present && !ch.present) {
    if (rev?.userns === 'hidden' && ctx.childUserns) {
      notes.push(`A namespace made by root has it (class there: ${rev.class}); a rootless container's does not.`);
      return result(
        'hidden',
        `observed absent in a fresh namespace owned by a user namespace, as rule ${rev.id} says ("Don't export sysctls to unprivileged users")`,
      );
    }
    if (ruleUsable && !['host-only'].includes(rev.class) && observerIsInitNet && deviceOf(rel) === undefined)
      return contradiction(`rule ${rev.id} predicts ${rev.class}, but the entry is absent from a fresh namespace`);
    return result('host-only', 'observed: present on the host, absent in a fresh namespace');
  }
  if (!h.present && ch.present)
    return result('child-only', 'observed: absent on the host, present in a fresh namespace');
  if (ruleUsable && rev.userns === 'hidden' && ctx.childUserns && ch.present)
    return contradiction(
      `rule ${rev.id} says a namespace owned by a user namespace does not have the entry, but it does`,
    );
  if (ruleUsable && rev.class === 'host-only' && ch.present)
    return contradiction(`rule ${rev.id} predicts host-only, but a fresh namespace has the entry`);

  // Writable on the host, read-only in the child.
  if (h.writable && !ch.writable) {
    if (equal === true) {
      if (!rev) evidence.rule = ruleEvidence(ENSURE_SAFE_RULE, rel, ctx);
      return result('readonly', 'observed: writable on the host, read-only in a fresh namespace, same value');
    }
    if (ruleUsable && rev.class === 'readonly')
      return result('readonly', 'rule + observed mode (values differ: a global value that changed between the reads?)');
    if (ruleUsable && rev.class !== 'readonly')
      return contradiction(
        `rule ${rev.id} predicts ${rev.class}, but the entry is read-only in a fresh namespace with a value different from the host's`,
      );
    return result('unknown', "observed: read-only in a fresh namespace but its value differs from the host's");
  }

  // Read-only everywhere: only a rule can say what it is.
  if (!h.writable && !ch.writable) {
    if (ruleUsable) {
      if ((rev.class === 'shared' || rev.class === 'readonly') && equal === false)
        return contradiction(`rule ${rev.id} predicts ${rev.class} (one global value), but the values differ`);
      return result(rev.class, `rule ${rev.id} (read-only in both namespaces)`);
    }
    return result(
      'unknown',
      'read-only in both namespaces and no verified rule says whether it is global or per-namespace',
    );
  }

  // Writable in the child (and on the host).
  if (ruleUsable) {
    const cls = rev.class;
    const cmpEq = source ? source.equal : equal;
    if ((cls === 'inherited' || cls === 'parent') && cmpEq === false && observerIsInitNet && !rev.derived)
      return contradiction(
        `rule ${rev.id} predicts ${cls}, but the fresh value differs from the host's${source ? ` ${source.key}` : ''}: the rule does not hold here`,
      );
    if (cls === 'readonly' || cls === 'host-only' || cls === 'child-only')
      return contradiction(
        `rule ${rev.id} predicts ${cls}, but the entry is present and writable in a fresh namespace`,
      );
    if (cls === 'shared' && equal === false)
      return contradiction(`rule ${rev.id} predicts shared (one global value), but the values differ`);
    return result(
      cls,
      `rule ${rev.id}${cmpEq === false ? ' (values differ, consistent)' : cmpEq === true ? ' (values equal: the rule decides)' : ''}`,
    );
  }
  if (equal === false && observerIsInitNet)
    return result('default', 'observed: a fresh namespace gets a different value than the host (not copied from it)');
  if (equal === null) return result('unknown', 'unreadable on the host or in a fresh namespace, and no verified rule');
  return result('unknown', 'equal values on the host and in a fresh namespace, and no verified rule');
}

/**
 * Whether a container can set the key ({@link settableFor}, the one rule), from its class and
 * what a fresh namespace showed of it.
 */
export function settableOf(c: Omit<Classification, 'settable'>): Classification['settable'] {
  const ch = c.evidence.observed.child;
  const rule = c.evidence.rule;
  return settableFor({
    key: c.key,
    class: c.class,
    present: ch.present,
    writable: ch.present ? ch.writable : undefined,
    device: deviceOf(c.key),
    readOnlyInNamespace: rule?.readOnlyInNamespace,
    sourceKey: rule?.class === 'parent' ? rule.sourceKey : undefined,
  });
}

/** Settle a key's class with the probe outcomes (when they are conclusive and agree with the rule). */
export function applyProbe(
  c: Classification,
  pp: ParentProbe | undefined,
  hp: HostProbe | undefined,
  initNet: boolean,
): void {
  const ruleCls = c.evidence.rule?.verified ? c.evidence.rule.class : undefined;
  let probeCls: SysctlClass | undefined;
  let why = '';
  if (pp?.outcome === 'from-creator') {
    probeCls = 'parent';
    why = "parent probe: a namespace created from another one took the creator's value";
  } else if (hp?.outcome === 'from-host' && pp?.outcome === 'not-from-creator' && initNet) {
    probeCls = 'inherited';
    why =
      "host probe: a fresh namespace took the temporarily changed host value, and the parent probe shows it is not the creator's";
  } else if (hp?.outcome === 'from-host' && initNet && !pp) {
    probeCls = 'inherited';
    why = 'host probe: a fresh namespace took the temporarily changed host value';
  } else if (hp?.outcome === 'not-from-host' && initNet) {
    probeCls = 'default';
    why = "host probe: a fresh namespace kept its own value while the host's was changed";
  }
  if (pp?.outcome === 'error' && pp.error?.startsWith('host value changed')) {
    probeCls = 'shared';
    why = 'parent probe: writing it in a child namespace changed the host value';
  }
  if (!probeCls) {
    const parts: string[] = [];
    if (pp) parts.push(`parent probe: ${pp.outcome}`);
    parts.push(hp ? `host probe: ${hp.outcome}` : 'no host probe (not on HOST_PROBE_SAFE)');
    c.evidence.reason += ` (${parts.join('; ')})`;
    return;
  }
  if (ruleCls && ruleCls !== probeCls) {
    c.class = 'unknown';
    c.evidence.reason = `rule ${c.evidence.rule!.id} predicts ${ruleCls} but the probe shows ${probeCls}`;
    c.settable = settableOf(c);
    return;
  }
  c.class = probeCls;
  c.evidence.reason = ruleCls ? `rule ${c.evidence.rule!.id}, confirmed by probe (${why})` : why;
  c.settable = settableOf(c);
}
