// The network namespaces an exporter reports: the host's, and one per pod or container
// namespace, found in the container runtimes' state on disk (netns/containers: no runtime
// socket, no daemon). One target per network namespace, not per container: a pod's containers
// share its namespace, and the pod's labels (cAdvisor's `namespace`, `pod`, and the pod UID)
// name it; containers that share the host's namespace (hostNetwork pods) are members of the
// host's target. The runtimes' state is read again only when it changed (a state directory's
// mtime), when a member's process is gone, or after `interval` ms: a scrape costs a few stat()s.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NetNamespace, NetnsError, type ContainerRuntime } from 'netns';
import { defaultContainerRoots, listContainers, type ContainerInfo, type ContainerRoot } from 'netns/containers';
import { globRegExp, isGlob } from 'netns/sysctld';
import { specSettings } from 'netns/explain';

/** The labels every series of a namespace carries (cAdvisor's names for the pod's). */
export interface NamespaceLabels {
  /** The network namespace's inode number. */
  netns: string;
  /** Kubernetes namespace of the pod ('' outside Kubernetes and for the host). */
  namespace: string;
  pod: string;
  /** The pod's UID. */
  uid: string;
  /** The container's name outside Kubernetes ('' for a pod's namespace, which its containers share, and for the host). */
  container: string;
  /** The runtime that keeps it ('' for the host). */
  runtime: string;
  /** 'true' for the host's namespace (which hostNetwork pods share). */
  host_network: 'true' | 'false';
}

/** A container in a target's namespace. */
export interface Member {
  id: string;
  runtime: ContainerRuntime;
  /** Kubernetes' container name, else the runtime's name for it. */
  name: string;
  namespace: string;
  pod: string;
  uid: string;
  /** 'sandbox' for a pod's pause container. */
  type: 'sandbox' | 'container' | '';
  pid: number;
}

/** One network namespace to export. */
export interface Target {
  /** `DEV:INO`. */
  id: string;
  labels: NamespaceLabels;
  members: Member[];
  /** A handle on the namespace, owned by the discovery (valid until the next scan that drops it). */
  ns: NetNamespace;
  /**
   * The net.* keys its containers' specs asked for (OCI `linux.sysctl`: `docker run --sysctl`,
   * Kubernetes `securityContext.sysctls`), dotted key to value; the last started container wins
   * a key several set. Absent for the host and when no spec set one.
   */
  spec?: ReadonlyMap<string, string>;
}

/** Where the targets come from; the collector asks at every scrape. */
export interface TargetSource {
  /**
   * The targets now, or undefined when nothing changed since the last call (the cheap path).
   * Errors of single containers are counted in `errors`, never thrown.
   */
  scan(): Promise<Target[] | undefined>;
  /** Containers (or namespaces) that could not be read in the last scan. */
  readonly errors: number;
  close(): void;
}

export interface DiscoveryOptions {
  /** The host's namespace is that of this pid (1 with hostPID) instead of the exporter's own. */
  hostPid?: number;
  /** Leave the host's namespace out. */
  noHost?: boolean;
  /** Only containers of this runtime. */
  runtime?: ContainerRuntime;
  /** The state directories to read instead of the defaults. */
  roots?: ContainerRoot[];
  /** Kubernetes namespaces (names or globs) whose pods are exported; containers outside Kubernetes count as namespace ''. */
  namespaces?: readonly string[];
  /** Kubernetes namespaces (names or globs) left out. */
  excludeNamespaces?: readonly string[];
  /** Read the runtimes' state again at least this often (ms), changed or not. */
  interval?: number;
}

const globs = (list: readonly string[]): RegExp[] =>
  list.map((g) => (isGlob(g) ? globRegExp(g) : new RegExp(`^${g.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)));

/** The inode of a `DEV:INO` id. */
const inoOf = (id: string): string => id.slice(id.indexOf(':') + 1);

/** Namespaces of running containers and the host's, re-read when the runtimes' state changes. */
export class ContainerDiscovery implements TargetSource {
  #options: DiscoveryOptions;
  #include: RegExp[] | undefined;
  #exclude: RegExp[];
  #host: NetNamespace | undefined;
  #targets: Target[] = [];
  /** (container id, pid, start time) -> namespace id, from earlier scans: a container is opened once. */
  #seen = new Map<string, string>();
  /** mtime and inode of each watched directory at the last scan. */
  #stamps = new Map<string, string>();
  #scannedAt = 0;
  #errors = 0;
  #first = true;

  constructor(options: DiscoveryOptions = {}) {
    this.#options = options;
    this.#include = options.namespaces && options.namespaces.length > 0 ? globs(options.namespaces) : undefined;
    this.#exclude = globs(options.excludeNamespaces ?? []);
  }

  get errors(): number {
    return this.#errors;
  }

  /** The host's namespace (opened once: pid 1's, or the exporter's own). */
  get host(): NetNamespace {
    return (this.#host ??=
      this.#options.hostPid !== undefined ? NetNamespace.fromPid(this.#options.hostPid) : NetNamespace.current());
  }

  async scan(): Promise<Target[] | undefined> {
    if (!this.#first && !this.#stale()) return undefined;
    this.#first = false;
    await yieldToLoop();
    const next = this.#read();
    const keep = new Set(next.map((t) => t.ns));
    for (const t of this.#targets) if (!keep.has(t.ns) && t.ns !== this.#host) t.ns.close();
    this.#targets = next;
    return next;
  }

  close(): void {
    for (const t of this.#targets) if (t.ns !== this.#host) t.ns.close();
    this.#targets = [];
    this.#host?.close();
    this.#host = undefined;
  }

  /** The watched directories: the state roots, and the directories holding the containers found. */
  #watched(): string[] {
    const dirs = new Set((this.#options.roots ?? defaultContainerRoots()).map((r) => r.dir));
    for (const d of this.#stamps.keys()) dirs.add(d);
    return [...dirs];
  }

  #stamp(dir: string): string {
    try {
      const st = fs.statSync(dir);
      return `${st.ino}:${st.mtimeMs}`;
    } catch {
      return '-';
    }
  }

  /** Whether the runtimes' state may have changed since the last scan. */
  #stale(): boolean {
    if (Date.now() - this.#scannedAt >= (this.#options.interval ?? 60_000)) return true;
    for (const [dir, stamp] of this.#stamps) if (this.#stamp(dir) !== stamp) return true;
    // A member's process gone (a container stopped, its state left behind): read again.
    for (const t of this.#targets)
      for (const m of t.members)
        try {
          process.kill(m.pid, 0);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ESRCH') return true;
        }
    return false;
  }

  #wanted(podNamespace: string): boolean {
    if (this.#include && !this.#include.some((re) => re.test(podNamespace))) return false;
    return !this.#exclude.some((re) => re.test(podNamespace));
  }

  /** One full read of the runtimes' state. */
  #read(): Target[] {
    this.#scannedAt = Date.now();
    let errors = 0;
    const o = this.#options;
    const found = listContainers({
      ...(o.runtime !== undefined ? { runtime: o.runtime } : {}),
      ...(o.roots !== undefined ? { roots: o.roots } : {}),
    });
    const stamps = new Map<string, string>();
    for (const dir of this.#watched()) stamps.set(dir, '');
    for (const c of found) stamps.set(path.dirname(path.dirname(c.stateFile)), '');
    for (const dir of stamps.keys()) stamps.set(dir, this.#stamp(dir));
    this.#stamps = stamps;

    const host = o.noHost ? undefined : this.host;
    const hostId = this.host.id;
    const byNs = new Map<string, { ns: NetNamespace | undefined; members: Member[]; infos: ContainerInfo[] }>();
    const old = new Map(this.#targets.map((t) => [t.id, t.ns]));
    const seen = new Map<string, string>();
    for (const c of found) {
      if (!c.running) continue;
      const m = memberOf(c);
      if (m.namespace !== '' || !c.kubernetes) {
        if (!this.#wanted(m.namespace)) continue;
      }
      const tag = `${c.runtime}/${c.namespace ?? ''}/${c.id}/${c.pid}/${c.startTime}`;
      let id = this.#seen.get(tag);
      let ns: NetNamespace | undefined;
      if (id === undefined || (id !== hostId && !old.has(id) && !byNs.has(id))) {
        try {
          ns = NetNamespace.fromContainer(c);
        } catch (e) {
          if (!(e instanceof NetnsError)) throw e;
          if (e.code !== 'ESRCH') errors++; // stopped meanwhile: not an error
          continue;
        }
        id = ns.id;
      }
      seen.set(tag, id);
      let g = byNs.get(id);
      if (!g) byNs.set(id, (g = { ns: undefined, members: [], infos: [] }));
      if (id === hostId) ns?.close();
      else if (g.ns === undefined) g.ns = ns ?? old.get(id);
      else ns?.close();
      g.members.push(m);
      g.infos.push(c);
    }
    this.#seen = seen;
    this.#errors = errors;

    const targets: Target[] = [];
    if (host) {
      const members = byNs.get(hostId)?.members ?? [];
      targets.push({ id: hostId, ns: host, members, labels: hostLabels(inoOf(hostId)) });
    }
    for (const [id, g] of byNs) {
      if (id === hostId || g.ns === undefined) continue;
      const t: Target = { id, ns: g.ns, members: g.members, labels: labelsOf(inoOf(id), g.members, g.infos) };
      const spec = new Map([...specSettings(g.infos)].map(([k, v]) => [k, v.value]));
      if (spec.size > 0) t.spec = spec;
      targets.push(t);
    }
    return targets;
  }
}

/** The host's labels: nothing but its inode and host_network. */
export function hostLabels(netns: string): NamespaceLabels {
  return { netns, namespace: '', pod: '', uid: '', container: '', runtime: '', host_network: 'true' };
}

function memberOf(c: ContainerInfo): Member {
  const k = c.kubernetes;
  return {
    id: c.id,
    runtime: c.runtime,
    name: k?.containerName ?? (k?.type === 'sandbox' ? '' : (c.name ?? c.id)),
    namespace: k?.podNamespace ?? '',
    pod: k?.podName ?? '',
    uid: k?.podUid ?? '',
    type: k?.type ?? '',
    pid: c.pid,
  };
}

/**
 * A namespace's labels from its members: a pod's (from its sandbox, else any member of a pod),
 * with `container` empty as cAdvisor has it for a pod's network; outside Kubernetes, the
 * container created first names it.
 */
function labelsOf(netns: string, members: Member[], infos: ContainerInfo[]): NamespaceLabels {
  const pod = members.find((m) => m.type === 'sandbox' && m.pod !== '') ?? members.find((m) => m.pod !== '');
  if (pod)
    return {
      netns,
      namespace: pod.namespace,
      pod: pod.pod,
      uid: pod.uid,
      container: '',
      runtime: pod.runtime,
      host_network: 'false',
    };
  const order = infos
    .map((c, i) => ({ c, m: members[i]! }))
    .sort((a, b) => (a.c.created ?? '').localeCompare(b.c.created ?? '') || a.c.id.localeCompare(b.c.id));
  const first = order[0]!.m;
  return {
    netns,
    namespace: '',
    pod: '',
    uid: '',
    container: first.name,
    runtime: first.runtime,
    host_network: 'false',
  };
}

/** Let the event loop run (other requests, timers) between two long steps. */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
