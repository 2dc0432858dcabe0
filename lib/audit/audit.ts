// auditHost(): every container's network namespace (or every namespace) against the host, and
// against desired values in sysctl.d(5) syntax. The host is read once (hostValues()); each
// namespace is read once and compared in memory; differing keys are classified in one
// classify() call for all of them.
import * as fs from 'node:fs';
import { NetNamespace } from '../namespace/handle.js';
import { listNamespaces, type NamespaceContainer, type NamespaceInfo } from '../namespace/list.js';
import { listContainers } from '../container/find.js';
import type { ContainerInfo, ContainerOptions } from '../container/types.js';
import { classify } from '../explain/classify.js';
import type { SysctlClass } from '../explain/types.js';
import { valuesEqual } from '../sysctl/values.js';
import { sysctl } from '../sysctl/sysctl.js';
import { globRegExp, isGlob, isNetKey, parseConf, pathForm } from '../sysctl/sysctld.js';
import { ERRNO, invalid, netnsError, NetnsError } from '../errors.js';
import { keyFromRel } from '../sysctl/keys.js';
import { auditRemedy } from '../hints.js';

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
}

/** A key whose value in a namespace differs from the host's. */
export interface AuditDifference {
  key: string;
  host: string;
  value: string;
  /** Why a new namespace differs ({@link classify}); 'unknown' when it was not classified. */
  class: SysctlClass;
  /** How to give the namespace the host's value, or why that cannot be done per namespace. */
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
}

/** One namespace's values (dotted key → exact text). */
export type SysctlValues = Record<string, string>;

/**
 * The host's values, read once per audit: every net.* key of `ns` (the caller's namespace when
 * omitted) in one walk. (One small function so a faster snapshot can replace it.)
 */
export function hostValues(ns?: NetNamespace): SysctlValues {
  return (ns?.sysctl ?? sysctl).getAll().raw;
}

function valuesOf(ns: NetNamespace): SysctlValues {
  return ns.sysctl.getAll().raw;
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
    const e = s.value === undefined ? undefined : { key: keyFromRel(form.slice('net/'.length)), value: s.value, where: s.where };
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

function compareValues(host: SysctlValues, values: SysctlValues): { key: string; host: string; value: string }[] {
  const out: { key: string; host: string; value: string }[] = [];
  for (const [key, value] of Object.entries(values)) {
    const h = host[key];
    if (h !== undefined && !valuesEqual(h, value)) out.push({ key, host: h, value });
  }
  return out;
}

function deviationsOf(values: SysctlValues, ex: Expectations | undefined, wanted: Set<string>): Omit<AuditDeviation, 'class' | 'remedy'>[] {
  if (!ex) return [];
  const out: Omit<AuditDeviation, 'class' | 'remedy'>[] = [];
  for (const key of wanted) {
    const e = expected(ex, key);
    if (!e) continue;
    const v = values[key];
    if (v === undefined || !valuesEqual(v, e.value)) out.push({ key, expected: e.value, value: v ?? null, where: e.where });
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
function openTarget(t: NamespaceInfo, byId: Map<string, ContainerInfo>): { ns: NetNamespace; via: string; path?: string } {
  const c = t.containers[0] && byId.get(t.containers[0].id);
  if (c) return { ns: NetNamespace.fromContainer(c), via: `container ${c.id} (pid ${c.pid})`, path: `/proc/${c.pid}/ns/net` };
  if (t.names[0] !== undefined) return { ns: NetNamespace.fromName(t.names[0]), via: `the name ${t.names[0]}` };
  const pid = t.pids[0]!;
  return { ns: NetNamespace.fromPid(pid), via: `pid ${pid}`, path: `/proc/${pid}/ns/net` };
}

/** One listed namespace, read; or why it could not be. */
export interface TargetRead {
  info: NamespaceInfo;
  values?: SysctlValues;
  error?: AuditTarget['error'];
}

/**
 * Read the namespace `info` lists. Never throws for one namespace: it went away since the
 * listing (process exited, name removed), or its pid or name now leads to another namespace
 * (pid reused, name re-created) -- then it is an error for that namespace, never the values
 * of another one under its id.
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
    return { info, values: valuesOf(ns) };
  } catch (e) {
    if (!(e instanceof NetnsError)) throw e;
    return { info, error: { code: e.code, message: e.message } };
  }
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
  let ex: Expectations | undefined;
  if (options.expect !== undefined) {
    const { text, file } =
      typeof options.expect === 'string' ? { text: fs.readFileSync(options.expect, 'utf8'), file: options.expect } : { text: options.expect.text, file: options.expect.file ?? 'expect' };
    ex = expectationsFrom(text, file);
  }
  if (options.host !== undefined && !(options.host instanceof NetNamespace)) invalid('a NetNamespace', 'options.host', options.host);
  if (options.values !== undefined && !(Array.isArray(options.values) && options.values.every((k) => typeof k === 'string')))
    invalid('an array of keys', 'options.values', options.values);
  using current = NetNamespace.current();
  const self = options.host ?? current;
  const host = hostValues(options.host);
  const containers = listContainers(options.containers ?? {});
  const byId = new Map(containers.filter((c) => c.running).map((c) => [c.id, c]));
  const all = listNamespaces({}, containers).filter((n) => n.id !== self.id);
  const chosen = mode === 'all' ? all : all.filter((n) => n.containers.length > 0);

  const read = chosen.map((info) => readTarget(info, byId));
  const wanted = expectedKeys(ex, Object.keys(host));
  // One classification for every key that differs anywhere.
  const raw = read.map((r) => ({
    r,
    diffs: r.values ? compareValues(host, r.values) : [],
    devs: r.values ? deviationsOf(r.values, ex, wanted) : [],
  }));
  const hostDevs = deviationsOf(host, ex, wanted);
  const keys = new Set<string>();
  for (const x of raw) for (const d of [...x.diffs, ...x.devs]) keys.add(d.key);
  for (const d of hostDevs) keys.add(d.key);
  const classes = new Map<string, SysctlClass>();
  const writable = new Map<string, boolean>();
  if (keys.size > 0 && options.classify !== false) {
    try {
      for (const c of classify({ keys: [...keys] })) {
        classes.set(c.key, c.class);
        if (c.evidence.observed.child.present) writable.set(c.key, c.evidence.observed.child.writable === true);
      }
    } catch (e) {
      if (!(e instanceof NetnsError)) throw e; // no permission to create a namespace: unclassified
    }
  }
  const cls = (k: string): SysctlClass => classes.get(k) ?? 'unknown';
  const remedy = (k: string, value: string, sel: string[]): string => auditRemedy(cls(k), k, value, sel, writable.get(k));
  const targets: AuditTarget[] = raw.map(({ r, diffs, devs }) => {
    const sel = selector(r.info, byId);
    const t: AuditTarget = {
      namespace: r.info.id,
      pids: r.info.pids,
      names: r.info.names,
      containers: r.info.containers,
      differences: diffs.map((d) => ({ ...d, class: cls(d.key), remedy: remedy(d.key, d.host, sel) })),
      deviations: devs.map((d) => ({ ...d, class: cls(d.key), remedy: remedy(d.key, d.expected, sel) })),
    };
    if (r.info.command !== undefined) t.command = r.info.command;
    if (options.values && r.values) t.values = Object.fromEntries(options.values.map((k) => [k, r.values![k] ?? null]));
    if (r.error) t.error = r.error;
    return t;
  });
  return {
    host: self.id,
    hostDeviations: hostDevs.map((d) => ({ ...d, class: cls(d.key), remedy: auditRemedy(cls(d.key), d.key, d.expected, [], undefined) })),
    targets,
    deviating: targets.filter((t) => t.deviations.length > 0).length,
  };
}
