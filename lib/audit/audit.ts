// auditHost(): every container's network namespace (or every namespace) against the host, and
// against desired values in sysctl.d(5) syntax; auditNamespace(): one namespace, the same way.
// The host is read once (one getAll() snapshot); each namespace is read once, its walk
// streamed into the comparison (stream.ts: no object of its keys is built), and let go before
// the next is read; differing keys are classified in one classify() call for all
// of them. Every read is bounded (AuditOptions.limits): a tenant's namespace costs at most so
// many interfaces and keys, and one over the bound is reported truncated.
import * as fs from 'node:fs';
import { NetNamespace } from '../namespace/handle.js';
import { listNamespaces, namespaceContainer, type NamespaceContainer, type NamespaceInfo } from '../namespace/list.js';
import { listContainers } from '../container/find.js';
import type { ContainerInfo, ContainerOptions, ContainerStateError } from '../container/types.js';
import { classify } from '../explain/classify.js';
import type { Classification, Provenance, SysctlClass } from '../explain/types.js';
import { provenanceOf } from '../explain/provenance.js';
import { containersIn, interfaceSource, specSettings } from '../explain/target.js';
import { defaultContext, findRule, ruleEvidence } from '../explain/rules.js';
import { startedAt } from '../container/read.js';
import { valuesEqual } from '../sysctl/values.js';
import { compareWalk, hostKeys, type Compared, type HostKeys } from './stream.js';
import { sysctl, type SysctlSnapshot, type Truncation, type WalkLimits } from '../sysctl/sysctl.js';
import { devicesOfKeys } from '../sysctl/bounds.js';
import { expectationFor as expected, expectationsOf, pathForm, type Expectations } from '../sysctl/sysctld.js';
import { loadPolicy, type PolicySource } from '../sysctl/policy.js';
import { ERRNO, invalid, netnsError, NetnsError } from '../errors.js';
import { deviceOf, keyFromRel, withDevice } from '../keypath.js';
import { remedyCommand } from '../explain/remedies.js';
import { effectiveFrom, effectiveInputKeys, type EffectiveValue } from '../explain/effective.js';
import { printable } from '../printable.js';

/** Options of {@link auditHost}. */
export interface AuditOptions {
  /** 'containers' (default): the namespaces that hold a running container; 'all': every namespace but the host's. */
  targets?: 'containers' | 'all';
  /** Where to look for containers (see NetNamespace.fromContainer). */
  containers?: ContainerOptions;
  /**
   * Desired values: a sysctl.d(5) file's path, its text as `{ text, file? }`, a `{ sysctl }`
   * map, or several (a later one wins), as {@link loadPolicy} reads them. Only net.* keys
   * count; globs are expanded in each namespace against its own keys, as `sysctl -p` would.
   */
  expect?: PolicySource | readonly PolicySource[];
  /** Classify the differing keys (default true; needs permission to create a namespace). */
  classify?: boolean;
  /** The namespace to compare with (default: the caller's own), e.g. fromPid(1) in a pod with hostPID. */
  host?: NetNamespace;
  /** Report these keys' values (dotted form) in each target's `values`. */
  values?: string[];
  /** Also report the keys present on one side only, in each target's `oneSided`. */
  oneSided?: boolean;
  /**
   * How much of each namespace (the host's too) is read: at most 256 interfaces and 50,000
   * keys unless set (see WalkLimits). Interfaces named by `values` and by the exact keys of
   * `expect` are always read; keys of no interface always are. A namespace over the bound is
   * reported with `truncated`.
   */
  limits?: WalkLimits;
}

/** Options of {@link auditNamespace}. */
export interface AuditNamespaceOptions extends Omit<AuditOptions, 'targets'> {
  /**
   * How remedies name the namespace: netns selector words, e.g. `['--name', 'lab']` or
   * `['--container', ID, '--runtime', 'docker']` (default `['--pid', 'PID']`).
   */
  selector?: readonly string[];
}

/** A key whose value in a namespace differs from the host's. */
export interface AuditDifference {
  key: string;
  host: string;
  value: string;
  /** Why a new namespace differs ({@link classify}); 'unknown' when it was not classified. */
  class: SysctlClass;
  /**
   * Where the namespace's value comes from (explain(ns)'s provenance): its container's spec,
   * the host at creation (the host changed since), the kernel's default, or changed since start.
   */
  provenance: Provenance;
  /** How to give the namespace the host's value, or why that cannot be done per namespace. */
  remedy: string;
  /**
   * For an interface's entry of net.ipv4.conf / net.ipv6.conf whose value is not the one the
   * kernel uses: the value it uses in the namespace (the entry combined with the namespace's
   * conf.all by the kernel's rule), and how.
   */
  effective?: EffectiveValue;
}

/** A key whose value differs from what the spec of a container in the namespace asked for at start. */
export interface AuditDrift {
  key: string;
  /** The value the spec asked for. */
  spec: string;
  /** The namespace's value now; null when the key is absent or unreadable there. */
  value: string | null;
  /** The container whose spec it is. */
  container: string;
  /** The file the spec was read from (runc's state.json, or the bundle's config.json). */
  file: string;
  class: SysctlClass;
  /** Where the value now comes from (`changed`: since the start). */
  provenance: Provenance;
  /** How to give it the spec's value again, or why that cannot be done. */
  remedy: string;
  /**
   * For an interface's entry of net.ipv4.conf / net.ipv6.conf whose value is not the one the
   * kernel uses: the value it uses in the namespace (the entry combined with the namespace's
   * conf.all by the kernel's rule), and how.
   */
  effective?: EffectiveValue;
}

/** A key present in one namespace and absent in the other ({@link AuditOptions.oneSided}). */
export interface AuditOneSided {
  key: string;
  /** The host's value; null when the host lacks the key (or cannot read it). */
  host: string | null;
  /** The namespace's value; null when it lacks the key (or cannot read it). */
  value: string | null;
  /** Why ({@link classify}): typically 'host-only' or 'child-only'; 'unknown' when it was not classified. */
  class: SysctlClass;
  remedy: string;
  /**
   * For an interface's entry of net.ipv4.conf / net.ipv6.conf whose value is not the one the
   * kernel uses: the value it uses in the namespace (the entry combined with the namespace's
   * conf.all by the kernel's rule), and how.
   */
  effective?: EffectiveValue;
}

/** A key whose value differs from the expected file's. */
export interface AuditDeviation {
  key: string;
  expected: string;
  /** The namespace's value; null when the key is absent or unreadable there. */
  value: string | null;
  /** FILE:LINE of the expectation. */
  where: string;
  class: SysctlClass;
  remedy: string;
  /**
   * For an interface's entry of net.ipv4.conf / net.ipv6.conf whose value is not the one the
   * kernel uses: the value it uses in the namespace (the entry combined with the namespace's
   * conf.all by the kernel's rule), and how.
   */
  effective?: EffectiveValue;
}

/** One namespace of the audit. */
export interface AuditTarget {
  /** `"DEV:INO"`. */
  namespace: string;
  pids: number[];
  command?: string;
  names: string[];
  containers: NamespaceContainer[];
  differences: AuditDifference[];
  deviations: AuditDeviation[];
  /** Keys whose value differs from what its containers' specs asked for at start (no policy file needed). */
  drift: AuditDrift[];
  /** With `oneSided`: the keys present on one side only (sorted by key). */
  oneSided?: AuditOneSided[];
  /** The values of the keys `options.values` asked for (null: absent or unreadable). */
  values?: Record<string, string | null>;
  /**
   * Set when the namespace has more interfaces or keys than `options.limits` allow: what was
   * read and what there is. Its interfaces not read are in no difference, deviation or
   * one-sided entry.
   */
  truncated?: Truncation;
  /** Set when the namespace could not be read (it went away, or permission). */
  error?: { code: string; message: string };
}

/** What {@link auditHost} found. */
export interface AuditReport {
  /** The host's (the caller's) namespace, `"DEV:INO"`. */
  host: string;
  /** Set when the host itself has more interfaces or keys than `options.limits` allow. */
  hostTruncated?: Truncation;
  /** The host's own deviations from the expected file. */
  hostDeviations: AuditDeviation[];
  targets: AuditTarget[];
  /** How many targets deviate from the expected file. */
  deviating: number;
  /** How many targets drift from their containers' specs. */
  drifting: number;
  /**
   * The state and config files skipped (too large, too deep, a link, a FIFO, not JSON, a field
   * of the wrong type...), each with its code and exact path: a container whose state file is
   * here is not among the targets (`targets: 'all'` still audits its namespace, unnamed).
   */
  skipped: ContainerStateError[];
}

/** How a remedy names the namespace: the first container, else the first name, else the first pid. */
function selector(t: NamespaceInfo, byId: Map<string, ContainerInfo>): string[] {
  const c = t.containers[0];
  if (c) return ['--container', byId.get(c.id)?.id ?? c.id];
  if (t.names[0] !== undefined) return ['--name', t.names[0]];
  return ['--pid', String(t.pids[0] ?? 'PID')];
}

/**
 * Whether a truncated snapshot may hold `key` without having read it: a key of an interface
 * it did not read. Undefined for a snapshot that read everything.
 */
function unknownIn(s: SysctlSnapshot): ((key: string) => boolean) | undefined {
  if (s.truncated === undefined) return undefined;
  const read = new Set<string>();
  for (const k of Object.keys(s.raw)) {
    const d = deviceOf(k);
    if (d !== undefined) read.add(d);
  }
  for (const k of Object.keys(s.unreadable)) {
    const d = deviceOf(k);
    if (d !== undefined) read.add(d);
  }
  return (key) => {
    const d = deviceOf(key);
    return d !== undefined && !read.has(d);
  };
}

/**
 * The expected keys whose value in `s` differs from the expectation (or which `s` lacks): the
 * keys of `wanted`, and the keys of `s` a glob matches. A key of an interface a truncated `s`
 * did not read is left out (not known).
 */
function deviationsOf(
  s: SysctlSnapshot,
  ex: Expectations | undefined,
  wanted: Set<string>,
  unknown: ((key: string) => boolean) | undefined,
): Omit<AuditDeviation, 'class' | 'remedy'>[] {
  if (!ex) return [];
  const values = s.raw;
  const keys = new Set(wanted);
  if (ex.globs.length > 0) for (const k of Object.keys(values)) if (!keys.has(k) && expected(ex, k)) keys.add(k);
  const out: Omit<AuditDeviation, 'class' | 'remedy'>[] = [];
  for (const key of keys) {
    const e = expected(ex, key);
    if (!e || unknown?.(key) === true) continue;
    const v = values[key];
    if (v === undefined || !valuesEqual(v, e.value))
      out.push({ key, expected: e.value, value: v ?? null, where: e.where });
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The keys an expectation names that exist in some namespace (exact keys also when absent). */
function expectedKeys(ex: Expectations | undefined, present: Iterable<string>): Set<string> {
  const keys = new Set<string>();
  if (!ex) return keys;
  for (const e of ex.exact.values()) keys.add(e.key);
  if (ex.globs.length > 0) for (const k of present) if (expected(ex, k)) keys.add(k);
  for (const k of [...keys]) if (!expected(ex, k)) keys.delete(k);
  return keys;
}

/** The namespace `t` lists, and what led to it (for errors): its container, else its name, else its first pid. */
function openTarget(
  t: NamespaceInfo,
  byId: Map<string, ContainerInfo>,
): { ns: NetNamespace; via: string; path?: string } {
  const c = t.containers[0] && byId.get(t.containers[0].id);
  if (c)
    return {
      ns: NetNamespace.fromContainer(c),
      via: `container ${printable(c.id)} (pid ${c.pid})`,
      path: `/proc/${c.pid}/ns/net`,
    };
  if (t.names[0] !== undefined)
    return { ns: NetNamespace.fromName(t.names[0]), via: `the name ${printable(t.names[0])}` };
  const pid = t.pids[0]!;
  return { ns: NetNamespace.fromPid(pid), via: `pid ${pid}`, path: `/proc/${pid}/ns/net` };
}

/**
 * Open the namespace `info` lists (by its first container, else its name, else its first
 * pid), and check it is that namespace: when it went away since the listing (process exited,
 * name removed) this throws what opening threw, and when its pid or name now leads to another
 * namespace (pid reused, name re-created) ESRCH, never another namespace under its id.
 * @internal
 */
export function openListed(info: NamespaceInfo, byId: Map<string, ContainerInfo>): NetNamespace {
  const { ns, via, path } = openTarget(info, byId);
  if (ns.id === info.id) return ns;
  ns.close();
  throw netnsError(ERRNO.ESRCH, 'open', {
    ...(path !== undefined ? { path } : {}),
    reason: 'namespace-changed',
    message: `ESRCH: namespace ${info.id} is gone: ${via} now leads to namespace ${ns.id}`,
  });
}

/**
 * The namespaces an audit (or an apply) covers: those that hold a running container, or with
 * 'all' every namespace; never `selfId` (the host's). With the running containers by id.
 * @internal
 */
export function listTargets(
  mode: 'containers' | 'all',
  containers: ContainerOptions,
  selfId: string,
): { chosen: NamespaceInfo[]; byId: Map<string, ContainerInfo> } {
  const found = listContainers(containers);
  const byId = new Map(found.filter((c) => c.running).map((c) => [c.id, c]));
  const all = listNamespaces({}, found).filter((n) => n.id !== selfId);
  return { chosen: mode === 'all' ? all : all.filter((n) => n.containers.length > 0), byId };
}

/**
 * One listed namespace, read (what `read` made of it); or why it could not be.
 * @internal
 */
export interface TargetRead<T = SysctlSnapshot> {
  info: NamespaceInfo;
  result?: T;
  error?: AuditTarget['error'];
}

/**
 * Read the namespace `info` lists with `read` (default: getAll()). Never throws for one
 * namespace: it went away since the listing (process exited, name removed), or its pid or name
 * now leads to another namespace (pid reused, name re-created) -- then it is an error for that
 * namespace, never the values of another one under its id.
 * @internal
 */
export function readTarget<T = SysctlSnapshot>(
  info: NamespaceInfo,
  byId: Map<string, ContainerInfo>,
  read: (ns: NetNamespace) => T = (ns) => ns.sysctl.getAll() as T,
): TargetRead<T> {
  try {
    using ns = openListed(info, byId);
    return { info, result: read(ns) };
  } catch (e) {
    if (!(e instanceof NetnsError)) throw e;
    return { info, error: { code: e.code, message: e.message } };
  }
}

/** What both audits need of their options: the expectations read, the bounds of every read. */
interface Common {
  ex: Expectations | undefined;
  limits: WalkLimits;
}

/** The options both audits share, checked; the expectations read; the bounds. */
function commonOptions(options: AuditNamespaceOptions): Common {
  if (options.host !== undefined && !(options.host instanceof NetNamespace))
    invalid('a NetNamespace', 'options.host', options.host);
  if (
    options.values !== undefined &&
    !(Array.isArray(options.values) && options.values.every((k) => typeof k === 'string'))
  )
    invalid('an array of keys', 'options.values', options.values);
  const given = options.limits;
  if (given !== undefined && (given === null || typeof given !== 'object'))
    invalid('an object { maxInterfaces, maxKeys, devices }', 'options.limits', given);
  let ex: Expectations | undefined;
  if (options.expect !== undefined) {
    const e = options.expect;
    ex = expectationsOf(
      loadPolicy(typeof e === 'object' && e !== null && 'text' in e ? { text: e.text, file: e.file ?? 'expect' } : e)
        .settings,
    );
  }
  // The interfaces the caller named (by `values` and exact expectations) are always read.
  const named = devicesOfKeys([...(options.values ?? []), ...[...(ex?.exact.values() ?? [])].map((e) => e.key)]);
  const devices = given?.devices ?? [];
  if (!Array.isArray(devices)) invalid('an array of interface names', 'options.limits.devices', devices);
  return { ex, limits: { ...given, devices: [...devices, ...named] } };
}

/** The host read once, and what every comparison with it needs. */
interface HostSide {
  snapshot: SysctlSnapshot;
  unknown: ((key: string) => boolean) | undefined;
  wanted: Set<string>;
  /** Its keys in key order, for the streamed comparison. */
  keys: HostKeys;
}

/**
 * Read `ns` (bounded) and compare it with the host as the walk streams by: no object of its
 * keys is built. `capture`: keys whose values are kept besides those of no interface (the
 * containers' spec keys).
 */
function compareNamespace(
  ns: NetNamespace,
  host: HostSide,
  c: Common,
  options: AuditNamespaceOptions,
  capture: Iterable<string>,
): Compared {
  const { walk, truncated } = ns.sysctl.boundedWalk('net', c.limits);
  const ex = c.ex;
  return compareWalk(host.keys, walk, truncated, {
    expected: ex === undefined ? undefined : (key) => expected(ex, key),
    globs: ex !== undefined && ex.globs.length > 0,
    wanted: host.wanted,
    oneSided: options.oneSided === true,
    capture: new Set([...(options.values ?? []), ...capture]),
  });
}

/** The host, read once with the audit's bounds. */
function readHost(c: Common, options: AuditNamespaceOptions): HostSide {
  const snapshot = (options.host?.sysctl ?? sysctl).getAll('net', c.limits); // the caller's own: no switch
  const unknown = unknownIn(snapshot);
  return {
    snapshot,
    unknown,
    // Only the keys a line names exactly: a glob is expanded in each namespace against its own
    // keys as it streams by (as `sysctl -p` would there), never against the host's interfaces.
    wanted: expectedKeys(c.ex, []),
    keys: hostKeys(snapshot, unknown),
  };
}

/**
 * Audit a host: every namespace that holds a running container (or, with `targets: 'all'`,
 * every namespace but the caller's) against the caller's namespace (the host), and against the
 * desired values of `expect`. The host is read once; each namespace once.
 */
export function auditHost(options: AuditOptions = {}): AuditReport {
  if (options === null || typeof options !== 'object') invalid('an options object', 'options', options);
  const mode = options.targets ?? 'containers';
  if (mode !== 'containers' && mode !== 'all') invalid("'containers' or 'all'", 'options.targets', mode, RangeError);
  const c = commonOptions(options);
  using current = NetNamespace.current();
  const self = options.host ?? current;
  const host = readHost(c, options);
  const skipped: ContainerStateError[] = [];
  const given = options.containers ?? {};
  const containers = listContainers({
    ...given,
    onError: (e) => {
      skipped.push(e);
      given.onError?.(e);
    },
  });
  const byId = new Map(containers.filter((x) => x.running).map((x) => [x.id, x]));
  const all = listNamespaces({}, containers).filter((n) => n.id !== self.id);
  const chosen = mode === 'all' ? all : all.filter((n) => n.containers.length > 0);
  const infos = (info: NamespaceInfo): ContainerInfo[] =>
    info.containers.map((x) => byId.get(x.id)).filter((x): x is ContainerInfo => x !== undefined);
  // One namespace at a time: read, compared (its containers' spec keys kept), let go.
  const read = chosen.map((info) =>
    readTarget(info, byId, (ns) => compareNamespace(ns, host, c, options, specSettings(infos(info)).keys())),
  );
  return {
    ...report(
      self.id,
      host,
      read,
      (r) => selector(r.info, byId),
      (r) => infos(r.info),
      c,
      options,
    ),
    skipped,
  };
}

/**
 * Audit one namespace as {@link auditHost} audits each: against the caller's namespace (or
 * `options.host`) and the desired values of `expect`, its differing keys classified, each with
 * its remedy (naming the namespace by `options.selector`). The report's one target has no
 * pids, names or containers: the namespace was given, not found by listing. A namespace that
 * cannot be read throws.
 */
export function auditNamespace(ns: NetNamespace, options: AuditNamespaceOptions = {}): AuditReport {
  if (!(ns instanceof NetNamespace)) invalid('a NetNamespace', 'ns', ns);
  if (options === null || typeof options !== 'object') invalid('an options object', 'options', options);
  const { selector: words = ['--pid', 'PID'] } = options;
  if (!Array.isArray(words) || !words.every((w) => typeof w === 'string'))
    invalid('an array of strings', 'options.selector', words);
  const c = commonOptions(options);
  using current = NetNamespace.current();
  const self = options.host ?? current;
  const host = readHost(c, options);
  const skipped: ContainerStateError[] = [];
  const given = options.containers ?? {};
  const found = containersIn(ns.id, {
    ...given,
    onError: (e) => {
      skipped.push(e);
      given.onError?.(e);
    },
  });
  const containers = found.map(namespaceContainer);
  const read: TargetRead<Compared> = {
    info: { id: ns.id, names: [], pids: [], containers },
    result: compareNamespace(ns, host, c, options, specSettings(found).keys()),
  };
  return {
    ...report(
      self.id,
      host,
      [read],
      () => words,
      () => found,
      c,
      options,
    ),
    skipped,
  };
}

/** A key's facts for its provenance and remedy: its classification, or what the rule base and the host's mode say. */
interface KeyFacts {
  /** The classification, when the key was classified. */
  c?: Classification;
  /** The class remedies go by: the classification's, else a verified rule's, else 'unknown'. */
  remedyClass: SysctlClass;
  /** Writable in a namespace: a fresh one's mode, else the host's own (a key read-only there is so everywhere). */
  writable?: boolean;
}

/** The report of both audits: each target compared with the host; every differing key classified once. */
function report(
  hostId: string,
  hostSide: HostSide,
  read: TargetRead<Compared>[],
  selectorOf: (r: TargetRead<Compared>) => readonly string[],
  infosOf: (r: TargetRead<Compared>) => ContainerInfo[],
  c: Common,
  options: AuditNamespaceOptions,
): Omit<AuditReport, 'skipped'> {
  const host = hostSide.snapshot;
  // One classification for every key that differs anywhere.
  const raw = read.map((r) => {
    const infos = infosOf(r);
    const specs = specSettings(infos);
    const started = infos.map(startedAt).find((x) => x !== undefined);
    const drift: Omit<AuditDrift, 'class' | 'provenance' | 'remedy'>[] = [];
    if (r.result)
      for (const [key, s] of specs) {
        const v = r.result.kept[key];
        if (v === undefined || !valuesEqual(v, s.value))
          drift.push({ key, spec: s.value, value: v ?? null, container: s.container, file: s.file });
      }
    return {
      r,
      specs,
      started,
      drift: drift.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
      diffs: r.result?.diffs ?? [],
      devs: r.result?.devs ?? [],
      sides: r.result?.sides ?? [],
    };
  });
  const hostDevs = deviationsOf(host, c.ex, hostSide.wanted, hostSide.unknown);
  const keys = new Set<string>();
  for (const x of raw) for (const d of [...x.diffs, ...x.devs, ...x.sides, ...x.drift]) keys.add(d.key);
  for (const d of hostDevs) keys.add(d.key);
  const classified = new Map<string, Classification>();
  if (keys.size > 0 && options.classify !== false) {
    try {
      for (const c of classify({ keys: [...keys] })) classified.set(c.key, c);
    } catch (e) {
      if (!(e instanceof NetnsError)) throw e; // no permission to create a namespace: unclassified
    }
  }
  const ctx = defaultContext(Number(host.raw['net.core.devconf_inherit_init_net'] ?? 0) || 0);
  const factsCache = new Map<string, KeyFacts>();
  const sharedFacts = sharedFactsOf(options.host === undefined);
  const factsOf = (key: string): KeyFacts => {
    let f = factsCache.get(key);
    if (f) return f;
    const c = classified.get(key);
    if (c && (deviceOf(key) === undefined || c.evidence.observed.child.present)) {
      const ch = c.evidence.observed.child;
      f = { c, remedyClass: c.class, ...(ch.present ? { writable: ch.writable === true } : {}) };
    } else if (c === undefined)
      f = sharedFacts(key, () => unclassifiedFacts(key, ctx, options.host === undefined, true));
    else {
      // An entry of an interface a new namespace does not have (the class is the host's
      // same-named device's, not the namespace's own interface's).
      f = unclassifiedFacts(key, ctx, options.host === undefined, false);
      f.c = c;
    }
    factsCache.set(key, f);
    return f;
  };
  const cls = (k: string): SysctlClass => classified.get(k)?.class ?? 'unknown';
  const remedy = (key: string, value: string | null, target: readonly string[], present?: boolean): string => {
    const f = factsOf(key);
    return remedyCommand({ class: f.remedyClass, key, value, target, writable: f.writable, present });
  };
  const targets: AuditTarget[] = raw.map(({ r, diffs, devs, sides, specs, started, drift }) => {
    const sel = selectorOf(r);
    // The namespace's values kept by the comparison: its keys of no interface (what an
    // interface's key comes from), its spec keys and `options.values`.
    const values = r.result?.kept ?? {};
    const provenance = (key: string, value: string | null): Provenance => {
      const f = factsOf(key);
      const c = f.c;
      const rel = pathForm(key).slice('net/'.length);
      const own = deviceOf(key) !== undefined && (c === undefined || !c.evidence.observed.child.present);
      const rule = own ? findRule(rel, ctx) : undefined;
      return provenanceOf({
        key,
        value,
        present: value !== null,
        writable: f.writable,
        class: own ? (rule ? ruleEvidence(rule, rel, ctx).class : 'unknown') : (c?.class ?? 'unknown'),
        host: own ? null : (host.raw[key] ?? null),
        fresh: own ? null : (c?.child ?? null),
        sourceKey: own ? undefined : c?.evidence.rule?.sourceKey,
        spec: specs.get(key),
        started,
        interfaceSource: own
          ? interfaceSource(rel, ctx, (x) => values[keyFromRel(x)] ?? host.raw[keyFromRel(x)] ?? null)
          : undefined,
      });
    };
    // The value the kernel uses for an interface's conf entry, from this namespace's own values:
    // only where it is not the entry's own (a namespace may have thousands of such entries).
    // The walk was streamed: `values` keeps the keys of no interface (conf.all among them) and
    // the entry itself is `value`; an input that is another key of the interface is not kept,
    // and then nothing is claimed.
    // Whether an entry's effective value differs from it depends only on the entry's name and
    // the input values: a namespace's thousands of interfaces mostly share them, so that is
    // decided once per name and values, and only an entry that differs is computed in full.
    const differs = new Map<string, boolean>();
    const effective = (key: string, value: string | null): { effective?: EffectiveValue } => {
      if (!r.result || value === null) return {};
      const inputs = effectiveInputKeys(key, { kernel: ctx.kernel });
      if (inputs.length < 2) return {}; // not an interface's conf entry
      let memo = `${value}\0`;
      for (let i = 1; i < inputs.length; i++) {
        const k = inputs[i]!;
        const v = values[k];
        if (v === undefined && deviceOf(k) !== undefined) return {};
        memo += `${inputs[i]}\0${v ?? '\x01'}\0`;
      }
      if (differs.get(memo) === false) return {};
      const e = effectiveFrom(key, (k) => (k === key ? value : (values[k] ?? null)), { kernel: ctx.kernel });
      const d = e.scope === 'device' && e.differs;
      differs.set(memo, d);
      return d ? { effective: e } : {};
    };
    const t: AuditTarget = {
      namespace: r.info.id,
      pids: r.info.pids,
      names: r.info.names,
      containers: r.info.containers,
      differences: diffs.map((d) => ({
        ...d,
        class: cls(d.key),
        provenance: provenance(d.key, d.value),
        remedy: remedy(d.key, d.host, sel),
        ...effective(d.key, d.value),
      })),
      deviations: devs.map((d) => ({
        ...d,
        class: cls(d.key),
        remedy: remedy(d.key, d.expected, sel),
        ...effective(d.key, d.value),
      })),
      drift: drift.map((d) => ({
        ...d,
        class: cls(d.key),
        provenance: provenance(d.key, d.value),
        remedy: remedy(d.key, d.spec, sel, d.value !== null || values[d.key] !== undefined),
        ...effective(d.key, d.value),
      })),
    };
    if (options.oneSided === true && r.result)
      t.oneSided = sides.map(({ key, host, value, onHost }) => ({
        key,
        host,
        value,
        class: cls(key),
        remedy: remedy(key, host, sel, !onHost),
        ...effective(key, value),
      }));
    if (r.info.command !== undefined) t.command = r.info.command;
    if (options.values && r.result) t.values = Object.fromEntries(options.values.map((k) => [k, values[k] ?? null]));
    if (r.result?.truncated) t.truncated = r.result.truncated;
    if (r.error) t.error = r.error;
    return t;
  });
  return {
    host: hostId,
    ...(host.truncated !== undefined ? { hostTruncated: host.truncated } : {}),
    hostDeviations: hostDevs.map((d) => ({
      ...d,
      class: cls(d.key),
      remedy: remedyCommand({ class: factsOf(d.key).remedyClass, key: d.key, value: d.expected, target: [] }),
    })),
    targets,
    deviating: targets.filter((t) => t.deviations.length > 0).length,
    drifting: targets.filter((t) => t.drift.length > 0).length,
  };
}

/**
 * The unclassified facts of keys that share them: the same key of every interface the host
 * lacks (a tenant's 2,000 bridges: one rule lookup and one stat per key name, not per
 * interface). Facts depend on the key's rule (which, for an interface's key, goes by the key's
 * name, `lo` apart) and on the host's own entry (`ownIsHost`: none for an interface it lacks).
 */
function sharedFactsOf(ownIsHost: boolean): (key: string, make: () => KeyFacts) => KeyFacts {
  const byName = new Map<string, KeyFacts>();
  const onHost = new Map<string, boolean>();
  return (key, make) => {
    const dev = deviceOf(key);
    if (dev === undefined || dev === 'lo') return make();
    if (ownIsHost) {
      let has = onHost.get(dev);
      if (has === undefined) {
        has = DEVICE_ROOTS.some((d) => fs.existsSync(`/proc/sys/net/${d}/${dev}`));
        onHost.set(dev, has);
      }
      if (has) return make();
    }
    const name = withDevice(key, dev, '\0'); // no interface is named so
    let f = byName.get(name);
    if (f === undefined) byName.set(name, (f = make()));
    return f;
  };
}
const DEVICE_ROOTS = ['ipv4/conf', 'ipv6/conf', 'ipv4/neigh', 'ipv6/neigh'];

/**
 * What the audit knows of a key it did not classify (classify: false, or no permission to
 * create a namespace): a verified rule's class, and whether the caller's own entry is writable
 * (`ownIsHost`: the caller's namespace is the host compared with; `useRule`: the rule base may
 * speak for it, which it does not for an interface of the namespace's own). A key read-only on the host is
 * read-only in every namespace; one a rule calls `readonly`, `shared` or `host-only` has no
 * per-namespace value. So the remedy never suggests a write the kernel refuses.
 */
function unclassifiedFacts(
  key: string,
  ctx: ReturnType<typeof defaultContext>,
  ownIsHost: boolean,
  useRule: boolean,
): KeyFacts {
  const rel = pathForm(key).slice('net/'.length);
  const rule = useRule ? findRule(rel, ctx) : undefined;
  const ruleClass = rule?.verified ? ruleEvidence(rule, rel, ctx).class : undefined;
  const f: KeyFacts = { remedyClass: ruleClass ?? 'unknown' };
  if (ownIsHost) {
    // Absent here (an interface of the namespace's own: many, when a tenant floods it): the
    // namespace's presence decides. No exception for each: they cost more than the stat.
    try {
      const st = fs.statSync(`/proc/sys/net/${rel}`, { throwIfNoEntry: false });
      if (st !== undefined) f.writable = (st.mode & 0o222) !== 0;
    } catch {
      /* not a key here either */
    }
  }
  return f;
}
