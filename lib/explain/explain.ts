// explain(key): one key's classification, in a sentence, plus how to set it for a container.
import { readFileSync } from 'node:fs';
import { ERRNO, netnsError } from '../errors.js';
import { defaultContext, kernelSupport } from './rules.js';
import { remediesFor, shellWord } from './remedies.js';
import { printable } from '../printable.js';
import { parseKey } from '../sysctl/keys.js';
import { deviceOf, withDevice } from '../keypath.js';
import { kernelLine, lineSupport } from './lines.js';
import { classify } from './classify.js';
import { explainTarget, type ExplainTargetOptions, type TargetExplanation } from './target.js';
import { NetNamespace } from '../namespace/handle.js';
import type { Classification, ClassifyOptions, Explanation } from './types.js';

/** The host's net.core.devconf_inherit_init_net (0 where the kernel has none, < 5.1). */
function devconfInherit(): number {
  try {
    return Number(readFileSync('/proc/sys/net/core/devconf_inherit_init_net', 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}

/** A JavaScript string literal of `s` that is also safe on a terminal (C1, DEL and bidi controls as \\uXXXX). */
function jsString(s: string): string {
  return JSON.stringify(s).replace(
    /[\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function sample(c: Classification): string {
  const v = c.child ?? c.host;
  if (v === null) return 'VALUE';
  return v.replace(/\s+/g, ' ').trim();
}

/**
 * Explain one key: its class with the evidence, a sentence a user understands, and how to set
 * it for a container (inside by pid, at start with presets, or why it cannot be done).
 */
export function explain(key: string, options?: ClassifyOptions): Explanation;
/**
 * Explain the values of one namespace (a container's: `NetNamespace.fromContainer(ID)`, a
 * pid's, a name's, a path's), every key or those under `keys`: where each value comes from
 * (`provenance`: set at start by the container's spec, inherited from the host at creation, the
 * host changed since, the kernel's default for a new namespace, changed since the start), whether
 * a container can set it (`settable`), and a remedy when it differs from the spec's or the host's.
 */
export function explain(ns: NetNamespace, keys?: readonly string[], options?: ExplainTargetOptions): TargetExplanation;
export function explain(
  what: string | NetNamespace,
  a?: ClassifyOptions | readonly string[],
  b?: ExplainTargetOptions,
): Explanation | TargetExplanation {
  if (what instanceof NetNamespace) return explainTarget(what, a as readonly string[] | undefined, b);
  return explainKey(what, (a ?? {}) as ClassifyOptions);
}

function explainKey(key: string, options: ClassifyOptions): Explanation {
  const { rel, key: asked } = parseKey(key, { allowRoot: true });
  const [c] = classify({ ...options, keys: [asked] }).filter((x) => x.key === asked);
  if (!c) throw netnsError(ERRNO.ENOENT, 'open', { path: `/proc/sys/net/${rel}`, key: asked, op: 'explain' });
  const line = options.kernel === undefined ? undefined : kernelLine(options.kernel);
  const absentOnLine =
    line !== undefined &&
    !c.evidence.observed.host.present &&
    !c.evidence.observed.child.present &&
    c.evidence.reason.startsWith('absent');
  const k = c.key;
  const v = sample(c);
  const tokens = v.split(' ');
  const numeric = tokens.every((x) => /^-?\d+$/.test(x));
  const lit = numeric ? (tokens.length === 1 ? v : `[${tokens.join(', ')}]`) : jsString(v);
  const arg = shellWord(`${k}=${v}`);
  const jsKey = /^[\w./-]+$/.test(k) ? `'${k}'` : jsString(k);
  const inside = {
    api: `NetNamespace.fromPid(PID).sysctl.set(${jsKey}, ${lit})`,
    cli: `netns sysctl --pid PID -w ${arg}`,
  };
  const atStart = {
    api: `spawnInNetns(cmd, args, { sysctl: { ${jsKey}: ${lit} } })`,
    cli: `netns exec --sysctl ${arg} -- cmd`,
  };
  const src = c.evidence.rule?.sourceKey ?? c.evidence.observed.source?.key;
  const dev = deviceOf(rel);
  // The sentences are for a person: the key (its device may be any bytes) as printable() shows it.
  const pk = printable(k);
  let sentence: string;
  const howToSet: Explanation['howToSet'] = {};
  switch (c.class) {
    case 'inherited':
      sentence = `${pk} is copied from the host${src ? ` (${printable(src)})` : ''} when a namespace is created: a container sees the host's value as it was at the container's start, and later host changes do not reach it.`;
      howToSet.inside = inside;
      howToSet.atStart = atStart;
      howToSet.beforeCreate = `or set ${printable(src ?? k)} on the host before the container's namespace is created`;
      break;
    case 'default':
      sentence = `${pk} is reset to the kernel's built-in default in every new namespace: tuning it on the host does not reach containers.`;
      howToSet.inside = inside;
      howToSet.atStart = atStart;
      break;
    case 'parent':
      sentence = `${pk} is taken from the namespace that creates the new one${src ? ` (its ${printable(src)})` : ''}, not from the host's initial namespace.`;
      if (c.settable.container) {
        howToSet.inside = inside;
        howToSet.atStart = atStart;
      } else howToSet.cannot = `${c.settable.reason}: ${c.settable.why}`;
      howToSet.beforeCreate = `set ${printable(src ?? k)} in the namespace that creates the container's namespace, before creating it`;
      break;
    case 'shared':
      sentence = `${pk} is one kernel-wide value, the same in every namespace.`;
      howToSet.cannot =
        'shared: it cannot be set per container; changing it (on the host) changes it for every namespace';
      break;
    case 'readonly':
      sentence = `${pk} is global: containers see the host's value read-only.`;
      howToSet.cannot = `shared: it cannot be set per container; set it on the host (sysctl -w ${pk}=…) and every namespace sees the new value`;
      break;
    case 'hidden': {
      const rootCls = c.evidence.rule?.class;
      sentence = `${pk} is not registered in a namespace owned by a user namespace (a rootless container's): the kernel does not export it to unprivileged users. A namespace created by root has its own${rootCls === 'default' ? ', set to the kernel default' : rootCls ? ` (${rootCls})` : ''}.`;
      howToSet.cannot =
        'hidden: a rootless container (a namespace owned by a user namespace) does not have it; a container whose namespace root creates (rootful Docker, Podman as root, Kubernetes without user namespaces) has it and can set it';
      break;
    }
    case 'host-only':
      sentence = dev
        ? `${pk} belongs to the host's device "${printable(dev)}", which a new namespace does not have; a container's own devices have their own entries.`
        : `${pk} exists only in the host's initial namespace: it is global and a container cannot see it.`;
      howToSet.cannot = dev
        ? `host-only: set the entry of the container's own device inside it (e.g. ${printable(withDevice(k, dev, 'DEV'))}) by pid, or set the namespace's conf.default before the device is created`
        : 'host-only: it cannot be set per container; setting it on the host applies to every namespace';
      break;
    case 'child-only':
      sentence = `${pk} exists in a new namespace but not on the host.`;
      howToSet.inside = inside;
      howToSet.atStart = atStart;
      break;
    default:
      sentence = absentOnLine
        ? `${pk} does not exist on ${line} (${c.evidence.reason.replace(/^absent on [^:]+: /, '')}).`
        : `What a new namespace gets for ${pk} could not be settled on ${line ?? 'this kernel'} (${c.evidence.reason}).`;
  }
  // The one rule (remedies.ts): no way to set it is offered where the kernel refuses the write.
  if (!c.settable.container) {
    delete howToSet.inside;
    delete howToSet.atStart;
    howToSet.cannot ??= `${c.settable.reason}: ${c.settable.why}`;
  } else if (c.class === 'unknown') {
    howToSet.inside = inside;
    howToSet.atStart = atStart;
  }
  const rule = c.evidence.rule;
  // A device entry its rule does not copy from a default (lo's flags, an ipv6 MTU): the rule says what it is.
  if (dev && c.evidence.observed.child.present && rule && rule.sourceKey === undefined)
    sentence += ` ${rule.explanation}`;
  else if (dev && c.evidence.observed.child.present)
    sentence += ` An interface created inside a namespace takes its ${printable(withDevice(k, dev, '<if>'))} from that namespace's ${k.startsWith('net.ipv4.neigh') || k.startsWith('net.ipv6.neigh') ? 'neigh.default (the global table defaults)' : 'conf.default'} at the moment it is created, not from the host; later changes to conf.default do not reach it.`;
  else if (dev)
    sentence += ` An interface created inside a container's namespace takes its own conf.<if>.* from that namespace's conf.default at the moment it is created.`;
  if (rule && /^(devinet|addrconf)_init_net\.devconf$/.test(rule.id) && !dev) {
    const m = line === undefined ? devconfInherit() : (options.context?.devconfInherit ?? 0);
    const v4 = m === 2 ? 'compiled-in values' : m === 3 ? 'the creating namespace' : 'the host (init_net)';
    const v6 = m === 1 ? 'the host (init_net)' : m === 3 ? 'the creating namespace' : 'compiled-in values';
    sentence += ` With net.core.devconf_inherit_init_net = ${m}${line === undefined ? ' here' : ` (assumed for ${line})`}, a new namespace's ipv4 conf.all/default come from ${v4} and its ipv6 ones from ${v6} (at 0 the two families differ: ipv4 copies the host, ipv6 does not).`;
  }
  if (c.evidence.contradiction)
    sentence += ` The kernel rule and what this kernel shows disagree: ${c.evidence.contradiction}.`;
  const source = rule
    ? `${rule.fn.replace(/^(\w+)/, '$1()')} in ${rule.file} (checked: ${
        rule.checked
          .filter((x) => x.holds)
          .map((x) => `${x.line} ${x.how}`)
          .join(', ') || 'none'
      })`
    : line === undefined
      ? `observation on this kernel: ${c.evidence.reason}`
      : `the kernel matrix's record of ${line}: ${c.evidence.reason}`;
  const ctx = { ...defaultContext(), ...options.context };
  const ks = kernelSupport(ctx);
  const ls = line === undefined ? ks : lineSupport(line);
  const kernel: Explanation['kernel'] = {
    running: ks.running,
    line: line ?? ks.running,
    verifiedLines: ks.verifiedLines,
    verified: ls.verified,
    ruleCheckedOnRunning: rule ? rule.kernel.checkedOnRunning : null,
    note: rule && !rule.kernel.checkedOnRunning ? `${ls.note}; ${rule.kernel.note}` : ls.note,
  };
  // A hidden key is set as its class in a namespace root creates; a rootless container has none.
  const remedyInput: Parameters<typeof remediesFor>[0] = {
    key: k,
    class: c.class === 'hidden' ? (rule?.class ?? 'unknown') : c.class,
    value: v,
  };
  // (A hidden key's remedies are those of a namespace root creates, which has it: its presence
  // in a rootless one does not count.)
  const ch = c.evidence.observed.child;
  if (c.class !== 'hidden') {
    remedyInput.present = ch.present;
    remedyInput.writable = ch.present ? ch.writable : undefined;
  }
  if (c.class === 'parent') remedyInput.sourceKey = rule?.sourceKey;
  if (rule?.readOnlyInNamespace) remedyInput.readOnlyInNamespace = true;
  if (dev) remedyInput.device = dev;
  const remedies = remediesFor(remedyInput);
  if (c.class === 'hidden')
    remedies.instead = `Not in a rootless container: ${pk} is not registered in a namespace owned by a user namespace; only a namespace created by root (rootful Docker, Podman as root, Kubernetes pods without user namespaces) has it.`;
  return { ...c, sentence, source, kernel, howToSet, remedies };
}
