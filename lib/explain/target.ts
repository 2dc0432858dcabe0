// explain(ns, keys?): every value of one namespace (a container's, a pid's, a name's, a path's)
// and where it comes from: the container's spec, the host at creation, the kernel's default for
// a new namespace, or a change since the start (provenance.ts decides); whether a container can
// set it (remedies.ts's one rule); the value the kernel uses for a per-interface key
// (`effective`, effective.ts) and whether a write from inside would succeed (`write`,
// write-diagnosis.ts).
import * as fs from 'node:fs';
import { NetNamespace } from '../namespace/handle.js';
import { listContainers } from '../container/find.js';
import { namespaceContainer, type NamespaceContainer } from '../namespace/list.js';
import { procStartTime, startedAt } from '../container/read.js';
import type { ContainerInfo, ContainerOptions } from '../container/types.js';
import { invalid } from '../errors.js';
import { parseKey } from '../sysctl/keys.js';
import { valuesEqual } from '../sysctl/values.js';
import { boundsOf, devicesOfKeys, type Truncation, type WalkLimits } from '../sysctl/bounds.js';
import { deviceOf, keyFromRel } from '../keypath.js';
import { classify } from './classify.js';
import { INIT_ONLY_MARKERS, backendOf, observe, readRel, side } from './observe.js';
import { provenanceOf, type ProvenanceFacts } from './provenance.js';
import { remedyCommand, settableFor } from './remedies.js';
import { defaultContext, findRule, ruleEvidence } from './rules.js';
import type { Settable } from './remedies.js';
import type { Classification, Provenance, RuleContext, SpecSetting, SysctlClass } from './types.js';
import { effectiveFrom, effectiveInputs, type EffectiveValue } from './effective.js';
import { diagnoseWrites, statId, type WriteDiagnosis } from './write-diagnosis.js';

/** One key of a namespace, explained ({@link TargetExplanation}). */
export interface TargetKeyExplanation {
  /** Dotted key. */
  key: string;
  /** The namespace's value (exact text), null when absent or unreadable. */
  value: string | null;
  /** errno code when present but unreadable. */
  error?: string;
  /** The entry exists in the namespace. */
  present: boolean;
  /** Some write bit is set on the entry in the namespace (absent when not present). */
  writable?: boolean;
  /** The host's (the caller's namespace's) value now; null when absent or unreadable there. */
  host: string | null;
  /** The value a namespace created now gets; null when it has no such entry (an interface of the namespace's own). */
  fresh: string | null;
  /** The key's class (what a new namespace gets; {@link classify}). */
  class: SysctlClass;
  provenance: Provenance;
  /** Whether it can be set in a container, and why (the same rule as every remedy). */
  settable: Settable;
  /**
   * When the value differs from the spec's (drift) or from the host's: the command that gives
   * it the spec's (else the host's) value in this namespace, or why that cannot be done.
   */
  remedy?: string;
  /**
   * For a key of net.ipv4.conf / net.ipv6.conf: the value the kernel uses for the interface
   * (its own entry combined with conf.all's by the rule of the running kernel's line), from the
   * values read here ({@link effectiveFrom}); for conf.all / conf.default, how they take part.
   * With `keys`, on every such key; without, only where the entry is not the value used.
   */
  effective?: EffectiveValue;
  /**
   * Whether a write from inside the container would succeed, why not, why it works from the
   * host and what to do ({@link diagnoseWrites}). Only when `keys` were given and a process is
   * known: `options.pid`, else the namespace's first container's init.
   */
  write?: WriteDiagnosis;
}

/**
 * A container as the explanation shows it: what {@link NetNamespace.list} shows of it (identity,
 * Kubernetes names, trust), plus its state file, its start and the net.* keys its spec set.
 */
export interface TargetContainer extends NamespaceContainer {
  /** The runtime's state file it was found by. */
  stateFile: string;
  /** When it started (RFC 3339): the runtime's record, else its init process's start. */
  started?: string;
  /** The net.* sysctls its spec set at start (dotted keys), and where they were read. */
  sysctl: Record<string, string>;
  sysctlSource?: string;
}

/** What {@link explain} of a namespace returns. */
export interface TargetExplanation {
  /** The namespace, `"DEV:INO"`. */
  namespace: string;
  /** The namespace compared with (the caller's), `"DEV:INO"`. */
  host: string;
  /** The comparison is with the initial namespace (it has init-only entries): "the host" is the host. */
  hostIsInitial: boolean;
  /** The running containers whose init process is in the namespace, with their specs' sysctls. */
  containers: TargetContainer[];
  /** When the namespace's first container started (the earliest `started`), if known. */
  started?: string;
  /** One entry per key, sorted. */
  keys: TargetKeyExplanation[];
  /**
   * Set when the namespace has more interfaces or keys than `options.limits` allow: what was
   * read and what there is. Its interfaces not read have no entry.
   */
  truncated?: Truncation;
}

/** Options of {@link explain} for a namespace. */
export interface ExplainTargetOptions {
  /** Where to look for the containers in the namespace (see NetNamespace.fromContainer). */
  containers?: ContainerOptions;
  /**
   * How remedies name the namespace: netns selector words (`['--container', ID]`). Default:
   * the first container's id, else `['--pid', 'PID']`.
   */
  selector?: readonly string[];
  /** Override facts about the kernel (for tests). */
  context?: Partial<RuleContext>;
  /**
   * How much of the namespace is read (and of the host and the fresh namespace compared with):
   * at most 256 interfaces and 50,000 keys unless set (see WalkLimits); interfaces named by
   * `keys` are always read.
   */
  limits?: WalkLimits;
  /**
   * The process whose writes `write` diagnoses (it must be in the namespace). Default: the
   * init of the namespace's first container; without either, `write` is left out.
   */
  pid?: number;
}

/**
 * The running containers whose init process is in namespace `id` ("DEV:INO"), oldest first.
 * A pid is taken as the container's only while it still has the recorded start time.
 */
export function containersIn(id: string, options: ContainerOptions = {}): ContainerInfo[] {
  return listContainers(options)
    .filter((c) => {
      if (!c.running) return false;
      try {
        const st = fs.statSync(`/proc/${c.pid}/ns/net`);
        return `${st.dev}:${st.ino}` === id && procStartTime(c.pid) === c.startTime;
      } catch {
        return false; // exited meanwhile
      }
    })
    .sort((a, b) => a.startTime - b.startTime);
}

/**
 * The net.* settings the containers' specs asked for, by dotted key. Spec keys are hostile
 * input (a state file a user may write): only those parseKey accepts under net count. When
 * several containers of the namespace set a key, the last one started wins (its runtime wrote
 * last).
 */
export function specSettings(containers: readonly ContainerInfo[]): Map<string, SpecSetting> {
  const out = new Map<string, SpecSetting>();
  for (const c of [...containers].sort((a, b) => a.startTime - b.startTime))
    for (const [k, value] of Object.entries(c.sysctl ?? {})) {
      let key: string;
      try {
        key = parseKey(k.trim()).key;
      } catch {
        continue; // kernel.*, or not a key
      }
      out.set(key, { value, container: c.id, file: c.sysctlSource ?? c.stateFile });
    }
  return out;
}

/** A container as the explanation shows it: the listing's fields, its start, the net.* keys its spec set. */
function describeContainer(c: ContainerInfo, settings: Map<string, SpecSetting>): TargetContainer {
  const t: TargetContainer = { ...namespaceContainer(c), stateFile: c.stateFile, sysctl: {} };
  const started = startedAt(c);
  if (started !== undefined) t.started = started;
  for (const [key, s] of settings) if (s.container === c.id) t.sysctl[key] = s.value;
  if (c.sysctlSource !== undefined) t.sysctlSource = c.sysctlSource;
  return t;
}

/**
 * For an entry of an interface a new namespace does not have (the namespace's own eth0): what
 * the interface took it from when it was created or moved in. conf entries come from that
 * namespace's conf.default (`valueIn`), neighbour entries from the host's neigh.default (the
 * global table defaults; a namespace has no neigh.default of its own, so `valueIn` falls back to
 * the host). A rule without a source says what the kernel sets it from (an ipv6 MTU: the link).
 */
export function interfaceSource(
  rel: string,
  ctx: RuleContext,
  valueIn: (rel: string) => string | null,
): ProvenanceFacts['interfaceSource'] {
  const rule = findRule(rel, ctx);
  if (!rule) return undefined;
  const src = rule.source?.(rel, ctx);
  if (src === undefined || src === rel) return { rule: rule.explanation };
  return { key: keyFromRel(src), value: valueIn(src) };
}

const same = (a: string | null | undefined, b: string | null | undefined): boolean =>
  a !== null && a !== undefined && b !== null && b !== undefined && valuesEqual(a, b);

/**
 * Explain every value of namespace `ns` (or those under `keys`): its provenance, whether a
 * container can set it, and a remedy when it differs from its spec's or the host's value. The
 * host is the caller's namespace; a fresh namespace is made to learn what one gets now. The
 * containers in `ns` are found by their runtimes' state (options.containers) and give the spec.
 */
export function explainTarget(
  ns: NetNamespace,
  keys?: readonly string[],
  options: ExplainTargetOptions = {},
): TargetExplanation {
  if (!(ns instanceof NetNamespace)) invalid('a NetNamespace', 'ns', ns);
  if (keys !== undefined && !(Array.isArray(keys) && keys.every((k) => typeof k === 'string')))
    invalid('an array of keys', 'keys', keys);
  if (options === null || typeof options !== 'object') invalid('an options object', 'options', options);
  if (options.pid !== undefined) {
    if (!Number.isSafeInteger(options.pid) || options.pid < 1) invalid('a process id', 'options.pid', options.pid);
    if (statId(`/proc/${options.pid}/ns/net`) !== ns.id)
      invalid(`a process in namespace ${ns.id}`, 'options.pid', options.pid, RangeError);
  }
  const filters = keys?.map((k) => parseKey(k, { allowRoot: true }).rel);
  const matches = (rel: string): boolean =>
    filters === undefined || filters.some((f) => f === '' || rel === f || rel.startsWith(`${f}/`));

  const containers = containersIn(ns.id, options.containers ?? {});
  const settings = specSettings(containers);
  const limits = options.limits ?? {};
  if (limits === null || typeof limits !== 'object')
    invalid('an object { maxInterfaces, maxKeys, devices }', 'options.limits', limits);
  const given = limits.devices ?? [];
  if (!Array.isArray(given)) invalid('an array of interface names', 'options.limits.devices', given);
  const target = observe(
    ns,
    boundsOf({ ...limits, devices: [...given, ...devicesOfKeys(keys ?? [])] }, 'options.limits'),
  );
  const classes = new Map<string, Classification>();
  for (const c of classify({
    ...(keys ? { keys: [...keys] } : {}),
    ...(options.context ? { context: options.context } : {}),
    limits,
  }))
    classes.set(c.key, c);
  const devconf = Number(readRel(backendOf(), 'core/devconf_inherit_init_net') ?? 0) || 0;
  const ctx: RuleContext = { ...defaultContext(devconf), ...options.context };
  using here = NetNamespace.current();
  const shown = containers.map((c) => describeContainer(c, settings));
  const started = shown.map((c) => c.started).find((s) => s !== undefined);
  const selector = options.selector ?? (containers[0] ? ['--container', containers[0].id] : ['--pid', 'PID']);

  const valueIn = (rel: string): string | null => {
    const s = side(target, rel);
    if (s.present) return s.value ?? null;
    return readRel(backendOf(), rel) ?? null; // the host's (neigh.default exists only there)
  };

  // The effective value's inputs (conf.all's, the device's forwarding) as this namespace has them.
  const effectiveLookup = (k: string): string | null => side(target, parseKey(k).rel).value ?? null;

  const rels = [...target.map.keys()].filter(matches);
  for (const f of filters ?? []) if (f !== '' && !rels.some((r) => r === f || r.startsWith(`${f}/`))) rels.push(f);
  const entries = rels.sort().map((rel): TargetKeyExplanation => {
    const key = keyFromRel(rel);
    const t = side(target, rel);
    const c = classes.get(key);
    const dev = deviceOf(rel);
    const own = dev !== undefined && t.present && (c === undefined || !c.evidence.observed.child.present);
    let cls: SysctlClass = c?.class ?? 'unknown';
    const facts: ProvenanceFacts = {
      key,
      value: t.value ?? null,
      present: t.present,
      error: t.error,
      writable: t.writable,
      class: cls,
      host: c?.host ?? null,
      fresh: c?.child ?? null,
      sourceKey: c?.evidence.rule?.sourceKey,
      spec: settings.get(key),
      started,
    };
    if (own) {
      // The namespace's own interface: what a new namespace or the host's same-named device has does not apply.
      const rule = findRule(rel, ctx);
      cls = rule ? ruleEvidence(rule, rel, ctx).class : 'unknown';
      Object.assign(facts, { class: cls, host: null, fresh: null, sourceKey: undefined });
      facts.interfaceSource = interfaceSource(rel, ctx, valueIn);
    }
    const e: TargetKeyExplanation = {
      key,
      value: t.value ?? null,
      ...(t.error !== undefined ? { error: t.error } : {}),
      present: t.present,
      ...(t.writable !== undefined ? { writable: t.writable } : {}),
      host: facts.host,
      fresh: facts.fresh,
      class: cls,
      provenance: provenanceOf(facts),
      settable: settableFor({
        key,
        class: own ? 'unknown' : cls,
        present: t.present,
        writable: t.present ? t.writable : undefined,
        device: dev,
        sourceKey: cls === 'parent' ? facts.sourceKey : undefined,
      }),
    };
    // A remedy when the value drifted from the spec's, or differs from the host's (not for the
    // namespace's own interfaces: the host's same-named device is another one).
    const want = facts.spec ? facts.spec.value : own ? null : facts.host;
    if (t.present && want !== null && e.value !== null && !same(e.value, want) && e.provenance.kind !== 'global')
      e.remedy = remedyCommand({
        key,
        class: own ? 'unknown' : cls,
        value: want,
        target: selector,
        writable: t.writable,
        present: t.present,
      });
    if (effectiveInputs(key).length > 0) {
      const ev = effectiveFrom(key, effectiveLookup, { kernel: ctx.kernel });
      // Without keys (every key, maybe thousands of interfaces' entries): only where it tells something.
      if (keys !== undefined || ev.differs) e.effective = ev;
    }
    return e;
  });
  // The write diagnosis, for the keys asked about, of the process given or the first container's.
  const writer = options.pid !== undefined ? { pid: options.pid } : containers[0] && { container: containers[0] };
  if (keys !== undefined && writer !== undefined && entries.length > 0)
    diagnoseWrites(
      writer,
      entries.map((e) => e.key),
    ).forEach((w, i) => {
      entries[i]!.write = w;
    });
  const result: TargetExplanation = {
    namespace: ns.id,
    host: here.id,
    hostIsInitial: INIT_ONLY_MARKERS.some((m) => readRel(backendOf(), m) !== undefined),
    containers: shown,
    keys: entries,
  };
  if (started !== undefined) result.started = started;
  if (target.truncated !== undefined) result.truncated = target.truncated;
  return result;
}
