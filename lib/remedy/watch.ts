// watchPolicy(): keep applying a sysctl policy to containers as they start. It watches the
// runtimes' state directories with inotify (fs.watch, one watch per directory: each root, its
// container or namespace directories and theirs, two levels deep, or the deepest existing
// ancestor of a root that does not exist yet), rescans on every change and periodically as a
// safety net, and applies to each namespace once per start: the key is the namespace's
// DEV:INO and the start time of the oldest container in it (a pod's app containers joining
// the sandbox's namespace are the same start). No runtime API, no daemon socket.
//
// The race it cannot close: the runtime starts the container's process as soon as it is
// created; the policy lands some milliseconds later, and a process that reads a value at its
// very start (a server sizing its backlog from somaxconn) may read the old one. The CNI
// plugin (netns-cni) applies before the container starts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NetnsError, invalid } from '../errors.js';
import { NetNamespace } from '../namespace/handle.js';
import { NETNS_RUN_DIRS } from '../namespace/named.js';
import type { NamespaceInfo } from '../namespace/list.js';
import { listTargets, openListed } from '../audit/audit.js';
import { procStartTime } from '../container/read.js';
import { rootsFor } from '../container/roots.js';
import { containerMatcher, selects } from '../container/select.js';
import type { ContainerInfo } from '../container/types.js';
import { KeyClasses } from './classes.js';
import { applyToNamespace, specOf, targetOf, type ApplyOptions, type ApplyTarget } from './apply.js';
import { loadPolicy } from '../sysctl/policy.js';

/** Options of {@link watchPolicy}. */
export interface WatchOptions extends Omit<ApplyOptions, 'dryRun' | 'allOrNothing'> {
  /** Rescan this often (ms) even without a change seen (default 30000; at least 100). */
  interval?: number;
  /** Each namespace the policy was applied to (or failed in), once per start. */
  onApply?: (target: ApplyTarget) => void;
  /** An error that did not stop the watcher (a scan that failed); default: ignored. */
  onError?: (error: Error) => void;
}

/** A running {@link watchPolicy}: close() stops it. */
export interface PolicyWatcher extends Disposable {
  /** The directories watched now (roots, their container directories, or a missing root's nearest ancestor). */
  readonly watching: readonly string[];
  /** How many scans ran (the first, one per batch of changes seen, one per interval). */
  readonly scans: number;
  readonly closed: boolean;
  /** Stop watching; idempotent. */
  close(): void;
}

/** How deep below a root directories are watched: ROOT/ID (runc, crun) and ROOT/NAMESPACE/ID (containerd). */
const DEPTH = 2;
/** Changes seen within this many ms are one scan. */
const SETTLE_MS = 5;

/** The deepest existing directory on the way to `dir` (itself when it exists). */
function existingAncestor(dir: string): string {
  let d = path.resolve(dir);
  for (;;) {
    try {
      if (fs.statSync(d).isDirectory()) return d;
    } catch {
      /* not there yet */
    }
    const up = path.dirname(d);
    if (up === d) return d;
    d = up;
  }
}

/** `dir` and its subdirectories down to `depth` levels (symlinks not followed). */
function treeOf(dir: string, depth: number, out: Set<string>): void {
  out.add(dir);
  if (depth === 0) return;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) treeOf(path.join(dir, e.name), depth - 1, out);
}

/** When the namespace started: the oldest start time of the containers in it (else its first pid's). */
function startOf(info: NamespaceInfo, byId: Map<string, ContainerInfo>): number | undefined {
  let min: number | undefined;
  for (const c of info.containers) {
    const t = byId.get(c.id)?.startTime;
    if (t !== undefined && (min === undefined || t < min)) min = t;
  }
  if (min !== undefined) return min;
  const pid = info.pids[0];
  return pid === undefined ? undefined : procStartTime(pid);
}

/**
 * Keep applying a policy to every namespace that holds a running container (or every
 * namespace, with `targets: 'all'`; only rescans and /run/netns find those that hold none) as
 * `select` narrows them: those running now first, then each new one within milliseconds of
 * its state appearing. Each namespace is applied to once per start, all or nothing, as
 * {@link applyToNamespace} does; a failed one is reported and not retried. Returns at once;
 * the watcher runs until close().
 */
export function watchPolicy(options: WatchOptions): PolicyWatcher {
  if (options === null || typeof options !== 'object') invalid('an options object', 'options', options);
  const interval = options.interval ?? 30_000;
  if (typeof interval !== 'number' || !(interval >= 100))
    invalid('a number of ms >= 100', 'options.interval', interval);
  const mode = options.targets ?? 'containers';
  if (mode !== 'containers' && mode !== 'all') invalid("'containers' or 'all'", 'options.targets', mode, RangeError);
  for (const f of ['onApply', 'onError'] as const)
    if (options[f] !== undefined && typeof options[f] !== 'function') invalid('a function', `options.${f}`, options[f]);
  const policy = loadPolicy(options.policy);
  const match = containerMatcher(options.select ?? {});
  const narrowed = selects(options.select);
  const containers = options.containers ?? {};
  const roots = rootsFor(containers).map((r) => r.dir);
  if (mode === 'all') roots.push(...NETNS_RUN_DIRS);
  const classes = new KeyClasses(options.classify !== false);
  const host = options.host ?? NetNamespace.current();
  const ownHost = options.host === undefined;
  const hostId = host.id;
  const watchers = new Map<string, fs.FSWatcher>();
  /** Namespace starts applied to: `DEV:INO@START`. */
  const seen = new Set<string>();
  let scans = 0;
  let closed = false;
  let pending: NodeJS.Timeout | undefined;

  const report = (e: unknown): void => {
    if (options.onError) options.onError(e instanceof Error ? e : new Error(String(e)));
  };
  const changed = (): void => {
    if (closed || pending !== undefined) return;
    pending = setTimeout(() => {
      pending = undefined;
      refresh();
    }, SETTLE_MS);
  };

  /** The directories that matter now: each root's tree, or a missing root's nearest ancestor. */
  const wanted = (): Set<string> => {
    const want = new Set<string>();
    for (const r of roots) {
      const at = existingAncestor(r);
      if (at === path.resolve(r)) treeOf(at, (NETNS_RUN_DIRS as readonly string[]).includes(r) ? 0 : DEPTH, want);
      else want.add(at);
    }
    return want;
  };

  /**
   * Watch exactly the directories that matter now. A directory is listed again after its
   * watch is in place, until nothing new appears: one created between a listing and the
   * watch on its parent would otherwise never be watched (and a container's state file
   * written into it never seen).
   */
  const rearm = (): void => {
    let want = wanted();
    for (const [dir, w] of watchers)
      if (!want.has(dir)) {
        w.close();
        watchers.delete(dir);
      }
    for (let round = 0; round < 8; round++) {
      let added = false;
      for (const dir of want) {
        if (watchers.has(dir)) continue;
        try {
          const w = fs.watch(dir, { persistent: true }, changed);
          w.on('error', () => {
            // The directory went away (a container deleted): forget it, look again.
            w.close();
            watchers.delete(dir);
            changed();
          });
          watchers.set(dir, w);
          added = true;
        } catch {
          /* gone meanwhile, or not ours to watch: the rescan covers it */
        }
      }
      if (!added) return;
      want = wanted();
    }
    changed(); // still growing: look again soon
  };

  const applyNew = (): void => {
    const { chosen, byId } = listTargets(mode, containers, hostId);
    const selected = narrowed ? chosen.filter((n) => n.containers.some((c) => match(c))) : chosen;
    const live = new Set<string>();
    for (const info of selected) {
      const start = startOf(info, byId);
      if (start === undefined) continue;
      const key = `${info.id}@${start}`;
      live.add(key);
      if (seen.has(key)) continue;
      let ns: NetNamespace;
      try {
        ns = openListed(info, byId);
      } catch (e) {
        if (!(e instanceof NetnsError)) throw e;
        continue; // gone since the listing: nothing to apply to
      }
      seen.add(key);
      let target: ApplyTarget;
      try {
        const spec = specOf(info, byId);
        target = targetOf(
          info,
          applyToNamespace(ns, policy, { spec, overrideSpec: options.overrideSpec === true, classes }),
        );
      } finally {
        ns.close();
      }
      try {
        options.onApply?.(target);
      } catch (e) {
        report(e);
      }
    }
    // Forget the starts that are over: the set stays as large as what runs.
    for (const k of seen) if (!live.has(k)) seen.delete(k);
  };

  const refresh = (): void => {
    if (closed) return;
    scans++;
    try {
      rearm();
      applyNew();
    } catch (e) {
      report(e);
    }
  };

  refresh();
  const timer = setInterval(refresh, interval);

  const watcher: PolicyWatcher = {
    get watching() {
      return [...watchers.keys()].sort();
    },
    get scans() {
      return scans;
    },
    get closed() {
      return closed;
    },
    close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      if (pending !== undefined) clearTimeout(pending);
      for (const w of watchers.values()) w.close();
      watchers.clear();
      if (ownHost) host.close();
    },
    [Symbol.dispose]() {
      watcher.close();
    },
  };
  return watcher;
}
