// auditHost(): every container's network namespace (or every namespace) against the host, and
// against desired values in sysctl.d(5) syntax; auditNamespace(): one namespace, the same way.
// The host is read once (one getAll() snapshot); each namespace is read once and compared in
// memory; differing keys are classified in one classify() call for all of them.
import * as fs from 'node:fs';
import { NetNamespace } from '../namespace/handle.js';
import { listNamespaces, type NamespaceContainer, type NamespaceInfo } from '../namespace/list.js';
import { listContainers } from '../container/find.js';
import type { ContainerInfo, ContainerOptions } from '../container/types.js';
import { classify } from '../explain/classify.js';
import type { Classification, Provenance, SysctlClass } from '../explain/types.js';
import { provenanceOf } from '../explain/provenance.js';
import { containersIn, interfaceSource, specSettings } from '../explain/target.js';
import { defaultContext, findRule, ruleEvidence } from '../explain/rules.js';
import { startedAt } from '../container/read.js';
import { valuesEqual } from '../sysctl/values.js';
import { sysctl, type SysctlSnapshot } from '../sysctl/sysctl.js';
import { globRegExp, isGlob, isNetKey, parseConf, pathForm } from '../sysctl/sysctld.js';
import { ERRNO, invalid, netnsError, NetnsError } from '../errors.js';
import { deviceOf, keyFromRel } from '../keypath.js';
import { remedyCommand } from '../explain/remedies.js';
import { printable } from '../printable.js';

/** Options of {@link auditHost}. */
export interface AuditOptions {
  /** 'containers' (default): the namespaces that hold a running container; 'all': every namespace but the host's. */
  targets?: 'containers' | 'all';
  /** Where to look for containers (see NetNamespace.fromContainer). */
  containers?: ContainerOptions;
  /** Desired values: a sysctl.d(5) file's path, or its text as `{ text, file? }`. Only net.* keys count. */
  expect?: string | { text: string; file?: string };
  /** Classify the differing keys (default true; needs permission to create a namespace). */
  classify?: boolean;
  /** The namespace to compare with (default: the caller's own), e.g. fromPid(1) in a pod with hostPID. */
  host?: NetNamespace;
  /** Report these keys' values (dotted form) in each target's `values`. */
  values?: string[];
  /** Also report the keys present on one side only, in each target's `oneSided`. */
  oneSided?: boolean;
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
  /** Set when the namespace could not be read (it went away, or permission). */
  error?: { code: string; message: string };
}

/** What {@link auditHost} found. */
export interface AuditReport {
  /** The host's (the caller's) namespace, `"DEV:INO"`. */
  host: string;
  /** The host's own deviations from the expected file. */
  hostDeviations: AuditDeviation[];
  targets: AuditTarget[];
  /** How many targets deviate from the expected file. */
  deviating: number;
  /** How many targets drift from their containers' specs. */
  drifting: number;
}

interface Expectation {
  key: string;
  value: string;
  where: string;
}

/** Expectations parsed from a sysctl.d text. */
interface Expectations {
  exact: Map<string, Expectation>;
  globs: { re: RegExp; e: Expectation | undefined }[];
}

/**
 * The expectations of a sysctl.d text: net.* keys only; a key's own line wins over globs, the
 * last matching glob over earlier ones; a '-KEY' line (no value) removes an expectation.
 */
export function expectationsFrom(text: string, file: string): Expectations {
  const { settings } = parseConf(text, file);
  const exact = new Map<string, Expectation>();
  const globs: { re: RegExp; e: Expectation | undefined }[] = [];
  for (const s of settings) {
    if (!isNetKey(s.key)) continue;
    const form = pathForm(s.key.trim());
    // The dotted key as getAll() names it: a dot inside a component (eth0.100) is a slash there.
    const e =
      s.value === undefined
        ? undefined
        : { key: keyFromRel(form.slice('net/'.length)), value: s.value, where: s.where };
    if (isGlob(form)) globs.push({ re: globRegExp(form), e });
    else if (e) exact.set(form, e);
    else exact.delete(form);
  }
  return { exact, globs };
}

/** The expectation for one dotted key, or undefined. */
function expected(ex: Expectations, key: string): Expectation | undefined {
  const form = pathForm(key);
  const e = ex.exact.get(form);
  if (e) return { ...e, key };
  let found: Expectation | undefined;
  for (const g of ex.globs) if (g.re.test(form)) found = g.e ? { ...g.e, key } : undefined;
  return found;
}

/** How a remedy names the namespace: the first container, else the first name, else the first pid. */
function selector(t: NamespaceInfo, byId: Map<string, ContainerInfo>): string[] {
  const c = t.containers[0];
  if (c) return ['--container', byId.get(c.id)?.id ?? c.id];
  if (t.names[0] !== undefined) return ['--name', t.names[0]];
  return ['--pid', String(t.pids[0] ?? 'PID')];
}

/** The keys present in both with different values (keys unreadable on either side are left out). */
function differencesOf(host: SysctlSnapshot, target: SysctlSnapshot): { key: string; host: string; value: string }[] {
  const out: { key: string; host: string; value: string }[] = [];
  for (const [key, value] of Object.entries(target.raw)) {
    const h = host.raw[key];
    if (h !== undefined && !valuesEqual(h, value)) out.push({ key, host: h, value });
  }
  return out;
}

/** A key present on one side only; `onHost`: the side that has it is the host. */
interface OneSided {
  key: string;
  host: string | null;
  value: string | null;
  onHost: boolean;
}

/** The keys present (readable or not) on one side only, sorted. */
function oneSidedOf(host: SysctlSnapshot, target: SysctlSnapshot): OneSided[] {
  const has = (s: SysctlSnapshot, k: string): boolean => Object.hasOwn(s.raw, k) || Object.hasOwn(s.unreadable, k);
  const out: OneSided[] = [];
  for (const [a, b, onHost] of [
    [host, target, true],
    [target, host, false],
  ] as const)
    for (const key of [...Object.keys(a.raw), ...Object.keys(a.unreadable)])
      if (!has(b, key)) {
        const v = a.raw[key] ?? null;
        out.push(onHost ? { key, host: v, value: null, onHost } : { key, host: null, value: v, onHost });
      }
  return out.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
}

function deviationsOf(
  values: SysctlSnapshot['raw'],
  ex: Expectations | undefined,
  wanted: Set<string>,
): Omit<AuditDeviation, 'class' | 'remedy'>[] {
  if (!ex) return [];
  const out: Omit<AuditDeviation, 'class' | 'remedy'>[] = [];
  for (const key of wanted) {
    const e = expected(ex, key);
    if (!e) continue;
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
 * One listed namespace, read; or why it could not be.
 * @internal
 */
export interface TargetRead {
  info: NamespaceInfo;
  snapshot?: SysctlSnapshot;
  error?: AuditTarget['error'];
}

/**
 * Read the namespace `info` lists. Never throws for one namespace: it went away since the
 * listing (process exited, name removed), or its pid or name now leads to another namespace
 * (pid reused, name re-created) -- then it is an error for that namespace, never the values
 * of another one under its id.
 * @internal
 */
export function readTarget(info: NamespaceInfo, byId: Map<string, ContainerInfo>): TargetRead {
  try {
    const { ns, via, path } = openTarget(info, byId);
    using _ns = ns;
    if (ns.id !== info.id)
      throw netnsError(ERRNO.ESRCH, 'open', {
        ...(path !== undefined ? { path } : {}),
        reason: 'namespace-changed',
        message: `ESRCH: namespace ${info.id} is gone: ${via} now leads to namespace ${ns.id}`,
      });
    return { info, snapshot: ns.sysctl.getAll() };
  } catch (e) {
    if (!(e instanceof NetnsError)) throw e;
    return { info, error: { code: e.code, message: e.message } };
  }
}

/** The options both audits share, checked; the expectations read. */
function commonOptions(options: AuditNamespaceOptions): Expectations | undefined {
  if (options.host !== undefined && !(options.host instanceof NetNamespace))
    invalid('a NetNamespace', 'options.host', options.host);
  if (
    options.values !== undefined &&
    !(Array.isArray(options.values) && options.values.every((k) => typeof k === 'string'))
  )
    invalid('an array of keys', 'options.values', options.values);
  if (options.expect === undefined) return undefined;
  const { text, file } =
    typeof options.expect === 'string'
      ? { text: fs.readFileSync(options.expect, 'utf8'), file: options.expect }
      : { text: options.expect.text, file: options.expect.file ?? 'expect' };
  return expectationsFrom(text, file);
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
  const ex = commonOptions(options);
  using current = NetNamespace.current();
  const self = options.host ?? current;
  const host = (options.host?.sysctl ?? sysctl).getAll(); // the caller's own: no switch
  const containers = listContainers(options.containers ?? {});
  const byId = new Map(containers.filter((c) => c.running).map((c) => [c.id, c]));
  const all = listNamespaces({}, containers).filter((n) => n.id !== self.id);
  const chosen = mode === 'all' ? all : all.filter((n) => n.containers.length > 0);
  const read = chosen.map((info) => readTarget(info, byId));
  const infos = (r: TargetRead): ContainerInfo[] =>
    r.info.containers.map((c) => byId.get(c.id)).filter((c): c is ContainerInfo => c !== undefined);
  return report(self.id, host, read, (r) => selector(r.info, byId), infos, ex, options);
}

/**
 * Audit one namespace as {@link auditHost} audits each: against the caller's namespace (or
 * `options.host`) and the desired values of `expect`, its differing keys classified, each with
 * its remedy (naming the namespace by `options.selector`). The report's one target has no
 * pids or names (the namespace was given, not found by listing); its containers are the running
 * ones found in it (`options.containers`: where to look), whose specs it is compared with. A
 * namespace that cannot be read throws.
 */
export function auditNamespace(ns: NetNamespace, options: AuditNamespaceOptions = {}): AuditReport {
  if (!(ns instanceof NetNamespace)) invalid('a NetNamespace', 'ns', ns);
  if (options === null || typeof options !== 'object') invalid('an options object', 'options', options);
  const { selector: words = ['--pid', 'PID'] } = options;
  if (!Array.isArray(words) || !words.every((w) => typeof w === 'string'))
    invalid('an array of strings', 'options.selector', words);
  const ex = commonOptions(options);
  using current = NetNamespace.current();
  const self = options.host ?? current;
  const host = (options.host?.sysctl ?? sysctl).getAll(); // the caller's own: no switch
  const found = containersIn(ns.id, options.containers ?? {});
  const containers = found.map((c) => {
    const s: NamespaceContainer = { runtime: c.runtime, oci: c.oci, id: c.id, pid: c.pid };
    if (c.name !== undefined) s.name = c.name;
    if (c.namespace !== undefined) s.namespace = c.namespace;
    if (c.kubernetes !== undefined) s.kubernetes = c.kubernetes;
    return s;
  });
  const read: TargetRead = { info: { id: ns.id, names: [], pids: [], containers }, snapshot: ns.sysctl.getAll() };
  return report(
    self.id,
    host,
    [read],
    () => words,
    () => found,
    ex,
    options,
  );
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
  host: SysctlSnapshot,
  read: TargetRead[],
  selectorOf: (r: TargetRead) => readonly string[],
  infosOf: (r: TargetRead) => ContainerInfo[],
  ex: Expectations | undefined,
  options: AuditNamespaceOptions,
): AuditReport {
  const wanted = expectedKeys(ex, Object.keys(host.raw));
  // One classification for every key that differs anywhere.
  const raw = read.map((r) => {
    const infos = infosOf(r);
    const specs = specSettings(infos);
    const started = infos.map(startedAt).find((x) => x !== undefined);
    const drift: Omit<AuditDrift, 'class' | 'provenance' | 'remedy'>[] = [];
    if (r.snapshot)
      for (const [key, s] of specs) {
        const v = r.snapshot.raw[key];
        if (v === undefined || !valuesEqual(v, s.value))
          drift.push({ key, spec: s.value, value: v ?? null, container: s.container, file: s.file });
      }
    return {
      r,
      specs,
      started,
      drift: drift.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
      diffs: r.snapshot ? differencesOf(host, r.snapshot) : [],
      devs: r.snapshot ? deviationsOf(r.snapshot.raw, ex, wanted) : [],
      sides: r.snapshot && options.oneSided === true ? oneSidedOf(host, r.snapshot) : [],
    };
  });
  const hostDevs = deviationsOf(host.raw, ex, wanted);
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
  const factsOf = (key: string): KeyFacts => {
    let f = factsCache.get(key);
    if (f) return f;
    const c = classified.get(key);
    if (c && (deviceOf(key) === undefined || c.evidence.observed.child.present)) {
      const ch = c.evidence.observed.child;
      f = { c, remedyClass: c.class, ...(ch.present ? { writable: ch.writable === true } : {}) };
    } else {
      // Unclassified, or an entry of an interface a new namespace does not have (the class is
      // the host's same-named device's, not the namespace's own interface's).
      f = unclassifiedFacts(key, ctx, options.host === undefined, c === undefined);
      if (c) f.c = c;
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
    const values = r.snapshot?.raw ?? {};
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
      })),
      deviations: devs.map((d) => ({ ...d, class: cls(d.key), remedy: remedy(d.key, d.expected, sel) })),
      drift: drift.map((d) => ({
        ...d,
        class: cls(d.key),
        provenance: provenance(d.key, d.value),
        remedy: remedy(d.key, d.spec, sel, d.value !== null || values[d.key] !== undefined),
      })),
    };
    if (options.oneSided === true && r.snapshot)
      t.oneSided = sides.map(({ key, host, value, onHost }) => ({
        key,
        host,
        value,
        class: cls(key),
        remedy: remedy(key, host, sel, !onHost),
      }));
    if (r.info.command !== undefined) t.command = r.info.command;
    if (options.values && r.snapshot) t.values = Object.fromEntries(options.values.map((k) => [k, values[k] ?? null]));
    if (r.error) t.error = r.error;
    return t;
  });
  return {
    host: hostId,
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
  if (ownIsHost)
    try {
      f.writable = (fs.statSync(`/proc/sys/net/${rel}`).mode & 0o222) !== 0;
    } catch {
      /* absent here: the namespace's presence decides */
    }
  return f;
}
