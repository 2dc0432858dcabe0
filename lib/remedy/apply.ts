// applyPolicy(): bring every container's namespace (or every namespace) to a sysctl policy,
// each namespace all or nothing (setMany's transaction), optionally the whole run as one;
// applyToNamespace(): one namespace, as the CNI plugin and the watcher do it.
import { NetnsError, invalid } from '../errors.js';
import { NetNamespace } from '../namespace/handle.js';
import type { NamespaceContainer, NamespaceInfo } from '../namespace/list.js';
import { listTargets, openListed } from '../audit/audit.js';
import { containerMatcher, selects, type ContainerSelector } from '../container/select.js';
import { specSettings } from '../explain/target.js';
import type { ContainerInfo, ContainerOptions } from '../container/types.js';
import type { SysctlClass } from '../explain/types.js';
import { parseKey } from '../sysctl/keys.js';
import { undoEntries, type SetManyReport } from '../sysctl/set-many.js';
import { valuesEqual } from '../sysctl/values.js';
import { KeyClasses } from './classes.js';
import { finalValues, loadPolicy, resolvePolicy, type Policy, type PolicySource } from '../sysctl/policy.js';

/** Options of {@link applyToNamespace}. */
export interface ApplyNamespaceOptions {
  /** Compute what would change; write nothing. */
  dryRun?: boolean;
  /** The sysctls the container's own spec set (`linux.sysctl`): left alone unless `overrideSpec`. */
  spec?: Readonly<Record<string, string>>;
  /** Apply the policy also to keys the container's spec set. */
  overrideSpec?: boolean;
  /** The interface a key's `IFNAME` component stands for (the CNI plugin's CNI_IFNAME). */
  ifname?: string;
  /** Classify the policy's keys and refuse those not settable per namespace (default true). */
  classify?: boolean;
  /**
   * A key that cannot be set per namespace fails the namespace before anything is written
   * (error code EPERM), instead of being left out while the rest is applied.
   */
  failOnRefused?: boolean;
  /** @internal Classifications to reuse across namespaces. */
  classes?: KeyClasses;
}

/** A key changed (or, with dryRun, that would be). */
export interface PolicyChange {
  key: string;
  /** The value before (exact text); null when it could not be read (write-only). */
  from: string | null;
  to: string;
  where: string;
}

/** A key the policy names that cannot be set per namespace. */
export interface PolicyRefusal {
  key: string;
  class: SysctlClass;
  /** Why (the kernel rule's explanation, or what was observed). */
  reason: string;
  /** What to do instead. */
  remedy: string;
  where: string;
}

/** A key the container's own spec set, left alone. */
export interface PolicySpecKept {
  key: string;
  /** The spec's value. */
  spec: string;
  /** The policy's value. */
  policy: string;
  where: string;
}

/** A key whose value differs from the policy's (after applying; with dryRun, now). */
export interface PolicyDeviation {
  key: string;
  expected: string;
  /** null: absent or unreadable. */
  value: string | null;
  where: string;
}

/** What {@link applyToNamespace} did in one namespace. */
export interface NamespaceApply {
  /** `"DEV:INO"`. */
  namespace: string;
  /**
   * 'applied': keys were changed; 'unchanged': every key already held its value; 'dry-run':
   * nothing written (`changes` says what would be); 'failed': nothing changed (the transaction
   * was rolled back; `error` says why); with applyPolicy also 'gone' (the namespace went away
   * before it was opened), 'restored' (applied, then undone by allOrNothing) and
   * 'not-attempted' (allOrNothing stopped before it).
   */
  status: 'applied' | 'unchanged' | 'dry-run' | 'failed' | 'gone' | 'restored' | 'not-attempted';
  changes: PolicyChange[];
  /** Keys that already held the policy's value. */
  unchanged: string[];
  /** Optional ('-') keys that were not set, and why. */
  skipped: { key: string; where: string; code: string; message: string }[];
  refused: PolicyRefusal[];
  /** Keys the container's spec set, left alone (without overrideSpec). */
  keptBySpec: PolicySpecKept[];
  /** Keys whose value differs from the policy's afterwards (refused, kept and failed keys included). */
  deviations: PolicyDeviation[];
  /** The value each changed key held before (null: write-only); with `propagated`, what undoes it. */
  previous: Record<string, string | null>;
  /** Interface entries the kernel changed as a side effect, with their old values. */
  propagated: Record<string, string>;
  error?: { code: string; message: string; key?: string; rolledBack?: string[]; notRestored?: string[] };
}

function errorOf(e: NetnsError): NonNullable<NamespaceApply['error']> {
  const out: NonNullable<NamespaceApply['error']> = { code: e.code, message: e.message };
  if (e.key !== undefined) out.key = e.key;
  if (e.rolledBack !== undefined) out.rolledBack = e.rolledBack;
  if (e.notRestored !== undefined) out.notRestored = e.notRestored;
  return out;
}

/** The exact text of `key` in `ns`, or null when absent or unreadable. */
function current(ns: NetNamespace, key: string): string | null {
  try {
    return ns.sysctl.getRaw(key);
  } catch (e) {
    if (e instanceof NetnsError) return null;
    throw e;
  }
}

/** A spec's keys in dot form (keys that do not parse are not ours to judge). */
function specKeys(spec: Readonly<Record<string, string>> | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(spec ?? {})) {
    try {
      out.set(parseKey(k).key, v);
    } catch {
      /* not a net key, or not a key */
    }
  }
  return out;
}

/** A result with nothing done yet. */
function emptyResult(id: string, status: NamespaceApply['status']): NamespaceApply {
  return {
    namespace: id,
    status,
    changes: [],
    unchanged: [],
    skipped: [],
    refused: [],
    keptBySpec: [],
    deviations: [],
    previous: {},
    propagated: {},
  };
}

/**
 * Bring one namespace to a policy as one transaction: resolve it there (globs against the
 * keys it lists, `IFNAME` as `options.ifname`), refuse keys that cannot be set per namespace,
 * leave alone keys the container's spec set (unless `overrideSpec`), apply the rest with
 * setMany (all or nothing: on a failure every key written is restored), then read back every
 * key the policy names. Throws only for a policy or option mistake; a namespace that cannot
 * be written is a 'failed' result.
 */
export function applyToNamespace(
  ns: NetNamespace,
  policy: Policy,
  options: ApplyNamespaceOptions = {},
): NamespaceApply {
  if (!(ns instanceof NetNamespace)) invalid('a NetNamespace', 'ns', ns);
  const r = emptyResult(ns.id, 'unchanged');
  let writes;
  try {
    writes = resolvePolicy(policy, () => ns.sysctl.list('net'), options.ifname);
  } catch (e) {
    if (!(e instanceof NetnsError)) throw e;
    r.status = 'failed';
    r.error = errorOf(e);
    return r;
  }
  const final = finalValues(writes);
  const verdicts = (options.classes ?? new KeyClasses(options.classify !== false)).of(final.keys());
  const spec = specKeys(options.spec);
  const left = new Set<string>();
  for (const [key, w] of final) {
    const v = verdicts.get(key)!;
    if (!v.settable) {
      r.refused.push({ key, class: v.class, reason: v.reason ?? '', remedy: v.remedy ?? '', where: w.where });
      left.add(key);
    } else if (spec.has(key) && options.overrideSpec !== true) {
      r.keptBySpec.push({ key, spec: spec.get(key)!, policy: w.value, where: w.where });
      left.add(key);
    }
  }
  const todo = writes.filter((w) => !left.has(w.key));
  const refused = r.refused[0];
  if (options.failOnRefused === true && refused !== undefined) {
    r.status = 'failed';
    r.error = {
      code: 'EPERM',
      key: refused.key,
      message: `EPERM: ${refused.key} (${refused.where}) cannot be set per namespace: ${refused.class}: ${refused.reason}. Nothing was written`,
    };
  } else if (options.dryRun === true) {
    r.status = 'dry-run';
    for (const [key, w] of finalValues(todo)) {
      const now = current(ns, key);
      if (now !== null && valuesEqual(now, w.value)) r.unchanged.push(key);
      else r.changes.push({ key, from: now, to: w.value, where: w.where });
    }
  } else if (todo.length > 0) {
    let rep: SetManyReport | undefined;
    try {
      rep = ns.sysctl.setMany(
        todo.map((w): [string, string] => [(w.optional ? '-' : '') + w.key, w.value]),
        { raw: true },
      );
    } catch (e) {
      if (!(e instanceof NetnsError)) throw e;
      r.status = 'failed';
      r.error = errorOf(e);
    }
    if (rep !== undefined) {
      const last = finalValues(todo);
      r.changes = rep.changed.map((key) => ({
        key,
        from: rep.previous[key] ?? null,
        to: last.get(key)?.value ?? '',
        where: last.get(key)?.where ?? '',
      }));
      r.unchanged = rep.unchanged;
      r.skipped = rep.skipped.map((key) => ({
        key,
        where: last.get(key)?.where ?? '',
        code: rep.reasons[key]?.code ?? 'EINVAL',
        message: rep.reasons[key]?.message ?? '',
      }));
      r.previous = rep.previous;
      r.propagated = rep.propagated;
      r.status = rep.changed.length > 0 ? 'applied' : 'unchanged';
    }
  }
  for (const [key, w] of final) {
    const now = current(ns, key);
    if (now === null || !valuesEqual(now, w.value))
      r.deviations.push({ key, expected: w.value, value: now, where: w.where });
  }
  return r;
}

/** Options of {@link applyPolicy}. */
export interface ApplyOptions {
  /** The policy: a sysctl.d(5) file's path, its text, a `{ sysctl }` map, or several (later ones win). */
  policy: PolicySource | readonly PolicySource[];
  /** 'containers' (default): the namespaces that hold a running container; 'all': every namespace but the host's. */
  targets?: 'containers' | 'all';
  /** Where to look for containers (see NetNamespace.fromContainer). */
  containers?: ContainerOptions;
  /** Only namespaces holding a container that matches (runtime, Kubernetes namespace, pod, name, id). */
  select?: ContainerSelector;
  /** Compute what would change in each namespace; write nothing. */
  dryRun?: boolean;
  /** One transaction across namespaces: a failure in one restores every namespace already written. */
  allOrNothing?: boolean;
  /** Apply also to keys a container's spec set (config.json linux.sysctl); by default they are left alone. */
  overrideSpec?: boolean;
  /** Classify the policy's keys and refuse those not settable per namespace (default true). */
  classify?: boolean;
  /** The host (never a target; default: the caller's namespace). */
  host?: NetNamespace;
}

/** One namespace of {@link applyPolicy}. */
export interface ApplyTarget extends NamespaceApply {
  pids: number[];
  names: string[];
  command?: string;
  containers: NamespaceContainer[];
}

/** What {@link applyPolicy} did. */
export interface ApplyReport {
  /** The host's (the caller's) namespace, `"DEV:INO"`. */
  host: string;
  dryRun: boolean;
  allOrNothing: boolean;
  /** Settings outside net in the policy: never applied. */
  notNet: { key: string; where: string }[];
  targets: ApplyTarget[];
  /** How many namespaces were changed (with dryRun: would be). */
  applied: number;
  /** How many failed. */
  failed: number;
  /** How many differ from the policy afterwards (failed ones included): `diff --all --expect`'s verdict. */
  deviating: number;
  /** allOrNothing: a failure restored every namespace already written. */
  restored: boolean;
}

/**
 * The net.* sysctls the specs of a namespace's containers set (a pod's containers share one
 * namespace), as the audit and explain() read them (specSettings(): the last started wins).
 * @internal
 */
export function specOf(info: NamespaceInfo, byId: Map<string, ContainerInfo>): Record<string, string> {
  const infos = info.containers.map((c) => byId.get(c.id)).filter((c): c is ContainerInfo => c !== undefined);
  return Object.fromEntries([...specSettings(infos)].map(([k, s]) => [k, s.value]));
}

/** @internal A namespace's result with what the listing says of it. */
export function targetOf(info: NamespaceInfo, r: NamespaceApply): ApplyTarget {
  const t: ApplyTarget = { ...r, pids: info.pids, names: info.names, containers: info.containers };
  if (info.command !== undefined) t.command = info.command;
  return t;
}

/**
 * Bring every namespace that holds a running container (or, with `targets: 'all'`, every
 * namespace but the host's), as `select` narrows them, to a sysctl policy: each namespace as
 * {@link applyToNamespace} does, all or nothing; with `allOrNothing` the whole run is one
 * transaction (a failure restores every namespace already written, from the previous values
 * setMany reported, and leaves the rest untouched). A namespace that went away meanwhile is
 * 'gone', not a failure. The report's `deviating` is what `netns diff --all --expect` would
 * count afterwards.
 */
export function applyPolicy(options: ApplyOptions): ApplyReport {
  if (options === null || typeof options !== 'object') invalid('an options object', 'options', options);
  const mode = options.targets ?? 'containers';
  if (mode !== 'containers' && mode !== 'all') invalid("'containers' or 'all'", 'options.targets', mode, RangeError);
  if (options.host !== undefined && !(options.host instanceof NetNamespace))
    invalid('a NetNamespace', 'options.host', options.host);
  const policy = loadPolicy(options.policy);
  const match = containerMatcher(options.select ?? {});
  const dryRun = options.dryRun === true;
  const allOrNothing = options.allOrNothing === true && !dryRun;
  using here = NetNamespace.current();
  const self = options.host ?? here;
  const { chosen, byId } = listTargets(mode, options.containers ?? {}, self.id);
  const selected = selects(options.select) ? chosen.filter((n) => n.containers.some((c) => match(c))) : chosen;
  const classes = new KeyClasses(options.classify !== false);
  const results: NamespaceApply[] = selected.map((info) => emptyResult(info.id, 'not-attempted'));
  /** Namespaces written so far (allOrNothing keeps them open to undo them). */
  const written: { ns: NetNamespace; i: number }[] = [];
  let restored = false;
  try {
    for (const [i, info] of selected.entries()) {
      let ns: NetNamespace;
      try {
        ns = openListed(info, byId);
      } catch (e) {
        if (!(e instanceof NetnsError)) throw e;
        const gone = e.code === 'ESRCH' || e.code === 'ENOENT';
        results[i] = { ...emptyResult(info.id, gone ? 'gone' : 'failed'), error: errorOf(e) };
        if (gone || !allOrNothing) continue;
        restored = undoAll(written, results);
        break;
      }
      let keep = false;
      try {
        results[i] = applyToNamespace(ns, policy, {
          dryRun,
          spec: specOf(info, byId),
          overrideSpec: options.overrideSpec === true,
          classes,
        });
        if (allOrNothing && results[i]!.status === 'failed') {
          restored = undoAll(written, results);
          break;
        }
        if (allOrNothing && results[i]!.status === 'applied') {
          written.push({ ns, i });
          keep = true;
        }
      } finally {
        if (!keep) ns.close();
      }
    }
  } finally {
    for (const w of written) w.ns.close();
  }
  const targets = selected.map((info, i) => targetOf(info, results[i]!));
  return {
    host: self.id,
    dryRun,
    allOrNothing,
    notNet: policy.notNet.map((s) => ({ key: s.key, where: s.where })),
    targets,
    applied: targets.filter((t) => t.status === 'applied' || (t.status === 'dry-run' && t.changes.length > 0)).length,
    failed: targets.filter((t) => t.status === 'failed').length,
    deviating: targets.filter((t) => t.deviations.length > 0 || t.status === 'failed').length,
    restored,
  };
}

/**
 * Undo every namespace written so far, latest first, from the previous values its setMany
 * reported; each becomes 'restored' (or keeps 'applied' with the undo's error). True when
 * every undo succeeded.
 */
function undoAll(written: { ns: NetNamespace; i: number }[], results: NamespaceApply[]): boolean {
  let ok = true;
  for (const { ns, i } of [...written].reverse()) {
    const r = results[i]!;
    try {
      ns.sysctl.setMany(
        undoEntries({ changed: r.changes.map((c) => c.key), previous: r.previous, propagated: r.propagated }),
        {
          raw: true,
        },
      );
      r.status = 'restored';
      for (const c of r.changes) {
        const now = current(ns, c.key);
        if (now === null || !valuesEqual(now, c.to))
          r.deviations.push({ key: c.key, expected: c.to, value: now, where: c.where });
      }
    } catch (e) {
      if (!(e instanceof NetnsError)) throw e;
      ok = false;
      r.error = { ...errorOf(e), message: `restoring failed: ${e.message}` };
    }
  }
  return ok;
}
