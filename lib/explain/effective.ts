// Effective values of per-interface keys: conf/DEV/X shows the device's own entry, but the
// kernel combines it with conf/all/X each time it uses X for DEV (the rules, per kernel line,
// are in effective-rules.ts). effectiveFrom() computes from values already read (a snapshot);
// effectiveValue() reads the inputs in one namespace, in one native batch, and computes.
import * as os from 'node:os';
import { invalid } from '../errors.js';
import { keyFromRel } from '../keypath.js';
import type { NetNamespace } from '../namespace/handle.js';
import { printable } from '../printable.js';
import { parseKey, type KeyInput } from '../sysctl/keys.js';
import {
  EFFECTIVE_LINES,
  effectiveRuleOf,
  type Combine,
  type EffectiveLine,
  type EffectiveRule,
  type KernelUse,
} from './effective-rules.js';
import { backendOf, outcomeValue } from './observe.js';

/**
 * The rule behind an effective value, resolved for the running kernel. Frozen and shared: every EffectiveValue of one rule on
 * one kernel line holds the same object (an audit of thousands of interfaces makes it once).
 */
export interface EffectiveRuleEvidence {
  /** `ipv4.rp_filter`. */
  readonly id: string;
  /** How all and DEV combine on the line used. */
  readonly combine: Combine;
  /** The expression the kernel evaluates. */
  readonly reads: string;
  /** The header or file of the readers. */
  readonly file: string;
  /** The kernel functions that use the entry. */
  readonly uses: readonly KernelUse[];
  /** How it combines on each checked line (null: the line has no such key). */
  readonly lines: readonly { readonly line: EffectiveLine; readonly how: 'source'; readonly combine: Combine | null }[];
  /** The running kernel, the checked line whose rule was used, and what that means. */
  readonly kernel: {
    readonly running: string;
    readonly line: EffectiveLine;
    readonly checkedOnRunning: boolean;
    readonly note: string;
  };
  /** What a write to conf.all or conf.default does besides. */
  readonly onWrite?: string;
  readonly note?: string;
  /** The effect observed on the running kernel by a test. */
  readonly observed?: string;
}

/** What the kernel uses for one net.ipv4/ipv6.conf key ({@link effectiveValue}). */
export interface EffectiveValue {
  /** The key, dotted. */
  key: string;
  family: 'ipv4' | 'ipv6';
  /** The entry's name (`rp_filter`). */
  name: string;
  /** A device's entry, or conf.all / conf.default (which no device uses as they are). */
  scope: 'device' | 'all' | 'default';
  /** The device, for scope `device`. */
  device?: string;
  /** The entry's own value (what its file shows); null when absent or unreadable. */
  own: string | null;
  /**
   * The value the kernel uses for the device; null for conf.all / conf.default, when no rule
   * is known for the key on the checked lines, or when an input could not be read.
   */
  effective: string | null;
  /** What the effective value means (`loose`), when the rule says. */
  meaning?: string;
  /** The entry's own value is not the one the kernel uses. */
  differs: boolean;
  /** One line for a person: `effective 2 = max(all 2, eth0 1): loose` (names and values as printable() shows them). */
  text: string;
  /** The values read (dotted key -> text, null when absent or unreadable). */
  inputs: Record<string, string | null>;
  /** The rule, or null when none is known for this key. */
  rule: EffectiveRuleEvidence | null;
}

/** Options of {@link effectiveFrom} and {@link effectiveValue}. */
export interface EffectiveOptions {
  /** The kernel version the rules are taken for (default: the running kernel's). */
  kernel?: [number, number];
}

/** A conf key's parts, or undefined for any other key. */
function confParts(rel: string): { family: 'ipv4' | 'ipv6'; dev: string; name: string } | undefined {
  const m = /^(ipv[46])\/conf\/([^/]+)\/([^/]+)$/.exec(rel);
  return m ? { family: m[1] as 'ipv4' | 'ipv6', dev: m[2]!, name: m[3]! } : undefined;
}

let running: [number, number] | undefined;
function runningKernel(): [number, number] {
  if (running === undefined) {
    const m = /^(\d+)\.(\d+)/.exec(os.release());
    running = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  }
  return running;
}

/** The checked line whose rules apply on `kernel`: the newest one not newer than it (the oldest for older kernels). */
export function effectiveLineFor(kernel: [number, number]): EffectiveLine {
  let pick: EffectiveLine = EFFECTIVE_LINES[0];
  for (const l of EFFECTIVE_LINES) {
    const [a, b] = l.split('.').map(Number) as [number, number];
    if (a < kernel[0] || (a === kernel[0] && b <= kernel[1])) pick = l;
  }
  return pick;
}

/**
 * The rule evidence of `rule` for `kernel`, or undefined when the line used has no such key.
 * Made once per rule and kernel, and frozen: an audit of a namespace with thousands of
 * interfaces asks for the same few rules for each of them, and every EffectiveValue of one
 * rule shares it.
 */
function evidence(rule: EffectiveRule, kernel: [number, number]): EffectiveRuleEvidence | undefined {
  const id = `${rule.id}@${kernel[0]}.${kernel[1]}`;
  let ev = evidenceMade.get(id);
  if (ev === undefined) {
    ev = makeEvidence(rule, kernel) ?? null;
    if (ev) {
      for (const l of ev.lines) Object.freeze(l);
      Object.freeze(ev.lines);
      Object.freeze(ev.kernel);
      Object.freeze(ev);
    }
    evidenceMade.set(id, ev);
  }
  return ev ?? undefined;
}
const evidenceMade = new Map<string, EffectiveRuleEvidence | null>();

function makeEvidence(rule: EffectiveRule, kernel: [number, number]): EffectiveRuleEvidence | undefined {
  const line = effectiveLineFor(kernel);
  const combine = rule.lines[line];
  if (combine === undefined) return undefined;
  const running = `${kernel[0]}.${kernel[1]}`;
  const checkedOnRunning = running === line;
  const ev: EffectiveRuleEvidence = {
    id: rule.id,
    combine,
    reads: rule.reads,
    file: rule.file,
    uses: rule.uses,
    lines: EFFECTIVE_LINES.map((l) => ({ line: l, how: 'source' as const, combine: rule.lines[l] ?? null })),
    kernel: {
      running,
      line,
      checkedOnRunning,
      note: checkedOnRunning
        ? `read in the ${line} source${rule.observed?.includes('kernel matrix') ? ', and its effect confirmed by packets in the kernel matrix' : ''}`
        : `not read for ${running}: the ${line} rule${rule.observed?.startsWith(`${running}:`) ? `, and its effect observed on ${running}` : ''}`,
    },
    ...(rule.onWrite !== undefined && { onWrite: rule.onWrite }),
    ...(rule.note !== undefined && { note: rule.note }),
    ...(rule.observed !== undefined && { observed: rule.observed }),
  };
  return ev;
}

/** The rule for a conf key on `kernel` (default: the running kernel), or undefined. */
export function effectiveRule(key: KeyInput, options: EffectiveOptions = {}): EffectiveRuleEvidence | undefined {
  const p = confParts(parseKey(key).rel);
  const rule = p && effectiveRuleOf(p.family, p.name);
  return rule && evidence(rule, options.kernel ?? runningKernel());
}

/** The extra entries of the device a rule reads (its forwarding, conf.default's secret). */
function extraInputs(combine: Combine, family: string, dev: string, name: string): string[] {
  const rel = (d: string, n: string): string => `${family}/conf/${d}/${n}`;
  switch (combine) {
    case 'redirects':
    case 'accept-ra':
    case 'unless-forwarding':
    case 'proxy-ndp':
      return [rel(dev, 'forwarding')];
    case 'device-else-default':
      return [rel('default', name)];
    case 'all':
      // Linux 6.17+: a device's force_forwarding forwards for it while conf.all is 0.
      return family === 'ipv6' && name === 'forwarding' ? [rel(dev, 'force_forwarding')] : [];
    default:
      return [];
  }
}

/**
 * The keys (paths relative to /proc/sys/net) {@link effectiveFrom} reads for `key`: the entry,
 * conf.all's, and what the rule also needs. Empty for keys that are not conf entries.
 */
export function effectiveInputs(key: KeyInput, options: EffectiveOptions = {}): string[] {
  const { rel } = parseKey(key);
  const p = confParts(rel);
  if (!p) return [];
  const rels = [rel];
  if (p.dev === 'all' || p.dev === 'default') return rels;
  rels.push(`${p.family}/conf/all/${p.name}`);
  const rule = effectiveRuleOf(p.family, p.name);
  const ev = rule && evidence(rule, options.kernel ?? runningKernel());
  if (ev) rels.push(...extraInputs(ev.combine, p.family, p.dev, p.name));
  return rels;
}

/**
 * {@link effectiveInputs} for a key already in dot form (`net.ipv4.conf.eth0/100.rp_filter`, as
 * walks and audits give them), in dot form, without parsing: the audit asks it for each of
 * thousands of interface entries, and the inputs of one entry name are the same for every
 * device but the device itself (a template per entry name and kernel). Empty for any other key.
 */
export function effectiveInputKeys(key: string, options: EffectiveOptions = {}): string[] {
  const m = /^net\.(ipv[46])\.conf\.([^./]+(?:\/[^./]*)*)\.([^./]+)$/.exec(key);
  if (!m) return [];
  const family = m[1] as 'ipv4' | 'ipv6';
  const dev = m[2]!;
  const name = m[3]!;
  if (dev === 'all' || dev === 'default') return [key];
  const kernel = options.kernel ?? runningKernel();
  const id = `${family}.${name}@${kernel[0]}.${kernel[1]}`;
  let extra = inputTemplates.get(id);
  if (extra === undefined) {
    const rule = effectiveRuleOf(family, name);
    const ev = rule && evidence(rule, kernel);
    // The device's own entries are marked by a name no interface can have (NUL).
    extra = ev
      ? extraInputs(ev.combine, family, '\0', name).map((rel) => {
          const [, , d, n] = rel.split('/');
          return { own: d === '\0', entry: d === '\0' ? n! : `${d}.${n}` };
        })
      : [];
    inputTemplates.set(id, extra);
  }
  const prefix = `net.${family}.conf.`;
  const out = [key, `${prefix}all.${name}`];
  for (const x of extra) out.push(x.own ? `${prefix}${dev}.${x.entry}` : prefix + x.entry);
  return out;
}
const inputTemplates = new Map<string, { own: boolean; entry: string }[]>();

const int = (v: string | null | undefined): number | undefined =>
  v !== null && v !== undefined && /^\s*-?\d+\s*$/.test(v) ? Number(v) : undefined;

/**
 * The effective value of `key` from values already read in one namespace: `lookup` gives a
 * dotted key's text (undefined or null when absent or unreadable), e.g. `(k) => snapshot.raw[k]`.
 * The inputs must come from the same namespace, read together ({@link effectiveInputs}).
 */
export function effectiveFrom(
  key: KeyInput,
  lookup: (key: string) => string | null | undefined,
  options: EffectiveOptions = {},
): EffectiveValue {
  if (typeof lookup !== 'function') invalid('a function (dotted key) => value', 'lookup', lookup);
  const { rel, key: dotted } = parseKey(key);
  const p = confParts(rel);
  if (!p) invalid('a key of net.ipv4.conf or net.ipv6.conf', 'key', key, RangeError);
  const inputs: Record<string, string | null> = {};
  const read = (r: string): string | null => {
    const k = keyFromRel(r);
    const v = lookup(k) ?? null;
    inputs[k] = v;
    return v;
  };
  const own = read(rel);
  const rule = effectiveRuleOf(p.family, p.name);
  const kernel = options.kernel ?? runningKernel();
  const ev = rule && evidence(rule, kernel);
  const base = { key: dotted, family: p.family, name: p.name, own, inputs, rule: ev ?? null };
  if (p.dev === 'all' || p.dev === 'default') {
    return {
      ...base,
      scope: p.dev,
      effective: null,
      differs: false,
      text: scopeText(p.dev, p.family, p.name, ev),
    };
  }
  const dev = p.dev;
  const scoped = { ...base, scope: 'device' as const, device: dev };
  if (!rule || !ev)
    return {
      ...scoped,
      effective: null,
      differs: false,
      text: `no rule known for ${p.family} ${printable(p.name)} on the checked kernel lines (${EFFECTIVE_LINES.join(', ')}): the kernel may combine it with conf.all`,
    };
  const all = read(`${p.family}/conf/all/${p.name}`);
  const extra = extraInputs(ev.combine, p.family, dev, p.name).map(read);
  // The text is for a person: the device's name (a tenant's) as printable() shows it.
  const r = combine(ev.combine, printable(dev), own, all, extra);
  const out: EffectiveValue = { ...scoped, effective: r.value, differs: false, text: r.text };
  if (r.value !== null) {
    const n = int(r.value);
    const meaning = n !== undefined ? rule.meaning?.(n) : undefined;
    if (meaning !== undefined) {
      out.meaning = meaning;
      out.text += `: ${meaning}`;
    }
    out.differs = own === null || (int(own) !== undefined && n !== undefined ? int(own) !== n : own !== r.value);
  }
  return out;
}

/** How each combination reads, for a person: `max(all, DEV)`, `all || DEV`... */
const COMBINE_TEXT: Record<Combine, string> = {
  max: 'max(all, DEV)',
  or: 'all || DEV',
  and: 'all && DEV',
  min: 'min(all, DEV)',
  device: 'not combined: each device uses its own entry',
  all: 'used as it is for every device',
  'all-else-device': 'used for every device when it is not 0, else each device uses its own',
  'device-else-default': 'not used',
  redirects: 'all && DEV on a forwarding device, all || DEV on the others',
  'igmp-version': '1 or 2 in either forces that IGMP version',
  'accept-ra': 'not combined: each device uses its own entry, and only 2 counts on a forwarding device',
  'unless-forwarding': 'not combined: each device uses its own entry, ignored on a forwarding device',
  'proxy-ndp': 'all || DEV on a forwarding device',
  unused: 'read by nothing',
};

/**
 * How conf.all and a device's entry make the value the kernel uses, in a few words
 * (`max(all, DEV)`, `not combined: each device uses its own entry`), for a rule's `combine`.
 */
export function combineText(combine: Combine): string {
  return COMBINE_TEXT[combine];
}

function scopeText(
  scope: 'all' | 'default',
  family: string,
  name: string,
  ev: EffectiveRuleEvidence | undefined,
): string {
  const k = printable(`${family}.conf.${scope}.${name}`);
  if (scope === 'default')
    return `conf.default is no device's value: a device created later copies it${family === 'ipv4' && ev?.onWrite?.includes('never set') ? '; a write also reaches existing devices whose entry was never set' : ''}`;
  if (!ev) return `no rule known for ${k} on the checked kernel lines (${EFFECTIVE_LINES.join(', ')})`;
  return `conf.all is combined with each device's entry: ${combineText(ev.combine)}`;
}

const show = (v: string | null): string => (v === null ? '(absent)' : printable(v));

/** The effective value and its one-line account (`dev` already printable). */
function combine(
  c: Combine,
  dev: string,
  own: string | null,
  all: string | null,
  extra: (string | null)[],
): { value: string | null; text: string } {
  const d = int(own);
  const a = int(all);
  const both = `all ${show(all)}, ${dev} ${show(own)}`;
  const unreadable = (what: string): { value: null; text: string } => ({
    value: null,
    text: `effective value unknown: ${what} could not be read`,
  });
  const fwd = int(extra[0]);
  switch (c) {
    case 'unused':
      return { value: null, text: `no effect: nothing in the kernel reads it (${dev} ${show(own)})` };
    case 'device':
      if (own === null) return unreadable(`${dev}'s entry`);
      return { value: own, text: `effective ${show(own)} = ${dev} ${show(own)} (conf.all is not read)` };
    case 'device-else-default': {
      const dflt = extra[0] ?? null;
      if (own !== null) return { value: own, text: `effective = ${dev}'s own ${show(own)}` };
      if (dflt !== null) return { value: dflt, text: `effective = conf.default's ${show(dflt)} (${dev} has none set)` };
      return { value: null, text: `none: neither ${dev} nor conf.default has one set` };
    }
  }
  if (d === undefined) return unreadable(`${dev}'s entry`);
  if (a === undefined) return unreadable('conf.all');
  switch (c) {
    case 'max':
      return { value: String(Math.max(a, d)), text: `effective ${Math.max(a, d)} = max(${both})` };
    case 'min':
      return { value: String(Math.min(a, d)), text: `effective ${Math.min(a, d)} = min(${both})` };
    case 'or': {
      const v = a !== 0 || d !== 0 ? 1 : 0;
      return { value: String(v), text: `effective ${v} = or(${both})` };
    }
    case 'and': {
      const v = a !== 0 && d !== 0 ? 1 : 0;
      return { value: String(v), text: `effective ${v} = and(${both})` };
    }
    case 'all': {
      const force = int(extra[0]);
      if (force !== undefined && force !== 0 && a === 0)
        return { value: '1', text: `effective 1 = ${dev} force_forwarding 1 (all 0; ${dev}'s own ${d} is not read)` };
      return { value: String(a), text: `effective ${a} = all ${a} (${dev}'s own ${d} is not read for this)` };
    }
    case 'all-else-device':
      return a !== 0
        ? { value: String(a), text: `effective ${a} = all ${a} (not 0: it overrides ${dev} ${d})` }
        : { value: String(d), text: `effective ${d} = ${dev} ${d} (all 0)` };
    case 'igmp-version': {
      const v = a === 1 || d === 1 ? 1 : a === 2 || d === 2 ? 2 : d;
      return { value: String(v), text: `effective ${v} (${both})` };
    }
  }
  if (fwd === undefined) return unreadable(`${dev}'s forwarding`);
  switch (c) {
    case 'redirects': {
      const v = fwd !== 0 ? (a !== 0 && d !== 0 ? 1 : 0) : a !== 0 || d !== 0 ? 1 : 0;
      return {
        value: String(v),
        text: `effective ${v} = ${fwd !== 0 ? 'and' : 'or'}(${both}) (${dev} ${fwd !== 0 ? 'forwards' : 'does not forward'})`,
      };
    }
    case 'accept-ra': {
      const v = fwd !== 0 ? (d === 2 ? 1 : 0) : d !== 0 ? 1 : 0;
      return {
        value: String(v),
        text:
          fwd !== 0
            ? `effective ${v}: ${dev} forwards, so only accept_ra 2 counts (${dev} ${d})`
            : `effective ${v} = ${dev} ${d} (conf.all is not read)`,
      };
    }
    case 'unless-forwarding': {
      const v = fwd !== 0 ? 0 : d !== 0 ? 1 : 0;
      return {
        value: String(v),
        text:
          fwd !== 0
            ? `effective 0: ${dev} forwards, so its own ${d} is ignored`
            : `effective ${v} = ${dev} ${d} (conf.all is not read)`,
      };
    }
    case 'proxy-ndp': {
      const v = fwd !== 0 && (a !== 0 || d !== 0) ? 1 : 0;
      return {
        value: String(v),
        text:
          fwd !== 0
            ? `effective ${v} = or(${both}) (${dev} forwards)`
            : `effective 0: ${dev} does not forward (${both})`,
      };
    }
  }
  return { value: null, text: 'effective value unknown' };
}

/**
 * The value the kernel uses for a net.ipv4.conf / net.ipv6.conf key in `ns` (the calling
 * thread's namespace when undefined): the entry, conf.all's and whatever else the rule needs,
 * read inside that namespace in one batch, combined by the rule of the running kernel's line.
 * For conf.all and conf.default, how they take part (no device uses them as they are).
 */
export function effectiveValue(
  ns: NetNamespace | undefined,
  key: KeyInput,
  options: EffectiveOptions = {},
): EffectiveValue {
  const rels = effectiveInputs(key, options);
  if (rels.length === 0) invalid('a key of net.ipv4.conf or net.ipv6.conf', 'key', key, RangeError);
  const b = backendOf(ns);
  const outcomes = b.batch(
    rels,
    rels.map(() => null),
    false,
  );
  const values = new Map(rels.map((r, i) => [keyFromRel(r), outcomeValue(outcomes[i]).value]));
  return effectiveFrom(key, (k) => values.get(k), options);
}
