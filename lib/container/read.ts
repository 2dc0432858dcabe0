// Reading container state from disk, without calling a runtime binary or daemon:
//   runc    ROOT/ID/state.json: id, init_process_pid, init_process_start, created,
//           config.labels ["bundle=DIR", ...] (libcontainer's State, written at start);
//   crun    ROOT/ID/status: pid, process-start-time, bundle, created (libcrun's status file);
//   containerd's runc shim: ROOT/NAMESPACE/ID/state.json (runc's, with --root ROOT/NAMESPACE).
// The bundle's config.json gives the OCI annotations (Kubernetes names from the CRI plugin or
// CRI-O, Podman's manager); Docker's and containers-storage's own files give names:
//   Docker  runc's state in EXEC_ROOT/runtime-runc/moby, names in DATA_ROOT/containers/ID/config.v2.json;
//   Podman  runc's (crun's) default root, names in GRAPHROOT/DRIVER-containers/containers.json,
//           beside its bundle GRAPHROOT/DRIVER-containers/ID/userdata.
// Every file is read through statefile.ts (size, depth, field types, who could have written
// it); a bad one is reported to the scan and skipped, and each record says whose it is.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { printable } from '../printable.js';
import { DOCKER_DATA_ROOT } from './roots.js';
import {
  badFields,
  checkFields,
  combine,
  countOf,
  type FieldSpec,
  idMismatch,
  isProblem,
  LIST_FILE_LIMIT,
  type Provenance,
  type JsonRead,
  readJsonFile,
  readJsonIn,
  STATE_FILE_LIMIT,
  StateDir,
  type StateProblem,
} from './statefile.js';
import type { ContainerInfo, ContainerRoot, ContainerRuntime, ContainerStateError, KubernetesNames } from './types.js';

/** The start time of process `pid` (field 22 of /proc/PID/stat, or of `statFile`), undefined if gone. */
export function procStartTime(pid: number, statFile = `/proc/${pid}/stat`): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(statFile, 'latin1');
  } catch {
    return undefined;
  }
  // comm may hold spaces and parentheses: the fields start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  if (state === 'Z' || state === 'X') return undefined; // exited, not yet reaped
  const t = Number(fields[19]);
  return Number.isSafeInteger(t) ? t : undefined;
}

let bootTime: number | undefined;

/**
 * When a container started, RFC 3339: the runtime's record (`created`), else its init
 * process's start (clock ticks after boot, at USER_HZ = 100, plus the boot time from /proc/stat).
 */
export function startedAt(c: { created?: string | undefined; startTime: number }): string | undefined {
  if (c.created !== undefined && !Number.isNaN(Date.parse(c.created))) return c.created;
  try {
    bootTime ??= Number(/^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'latin1'))?.[1]);
  } catch {
    return undefined;
  }
  if (!Number.isFinite(bootTime) || bootTime <= 0) return undefined;
  return new Date((bootTime + c.startTime / 100) * 1000).toISOString();
}

/**
 * Whether a state file owned by `owner` may name the process whose /proc directory is
 * `procDir`. Root's may name any process. Another user's (a rootless runtime's, under
 * /run/user/UID, which root reads by default) only that user's own: a process running as
 * `owner`, or in a user namespace whose root is `owner` (a rootless container, whatever user
 * runs inside it). Otherwise anyone could write a state file naming any pid with its true
 * start time (/proc/PID/stat is world-readable) and have that process taken for a container.
 */
export function ownerMayName(owner: number, procDir: string): boolean {
  if (owner === 0) return true;
  try {
    const uid = /^Uid:\s+(\d+)/m.exec(fs.readFileSync(`${procDir}/status`, 'latin1'));
    if (uid && Number(uid[1]) === owner) return true;
    return fs
      .readFileSync(`${procDir}/uid_map`, 'latin1')
      .split('\n')
      .some((l) => {
        const [inside, outside] = l.trim().split(/\s+/);
        return inside === '0' && Number(outside) === owner;
      });
  } catch {
    return false; // gone
  }
}

interface StateRecord {
  oci: 'runc' | 'crun';
  id: string;
  pid: number;
  startTime: number;
  created?: string;
  bundle?: string;
  stateFile: string;
  /** Annotations the state file itself records (runc's labels). */
  labels: Record<string, string>;
  /** The spec's sysctls as runc recorded them (`config.sysctl`), when it did. */
  sysctl?: Record<string, string>;
  /** The uid owning the state file (set by readStateDir). */
  owner?: number;
  /** Who could have written the state file (set by readStateDir). */
  prov?: Provenance;
}

/** The fields of runc's state.json read (libcontainer's State). */
const RUNC_STATE: FieldSpec = {
  id: 'string',
  init_process_pid: 'count',
  init_process_start: 'count',
  created: 'string?',
  config: { labels: 'strings?', sysctl: 'string-map?' },
};

/** The fields of crun's status file read. */
const CRUN_STATUS: FieldSpec = { pid: 'count', 'process-start-time': 'count', created: 'string?', bundle: 'string?' };

/** A bundle's config.json: the OCI spec's annotations and `linux.sysctl`. */
const BUNDLE_CONFIG: FieldSpec = { annotations: 'string-map?', linux: { sysctl: 'string-map?' } };

/** Docker's DATA_ROOT/containers/ID/config.v2.json. */
const DOCKER_CONFIG: FieldSpec = { ID: 'string', Name: 'string?' };

/** One entry of containers-storage's containers.json. */
const STORAGE_ENTRY: FieldSpec = { id: 'string', names: 'strings?' };

const rec = (v: unknown): Record<string, unknown> => v as Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * runc's state.json (also containerd's shim and Docker's, which run runc), its fields checked:
 * the record, or what is wrong with it.
 */
export function parseRuncState(json: unknown, stateFile: string): StateRecord | { problem: string } {
  const bad = checkFields(json, RUNC_STATE);
  if (bad !== undefined) return { problem: bad };
  const s = rec(json);
  const r: StateRecord = {
    oci: 'runc',
    id: s.id as string,
    pid: countOf(s.init_process_pid)!,
    startTime: countOf(s.init_process_start)!,
    stateFile,
    labels: {},
  };
  // runc records the bundle and the spec's annotations as "KEY=VALUE" labels.
  let bundle: string | undefined;
  for (const l of (rec(s.config ?? {}).labels ?? []) as string[]) {
    const eq = l.indexOf('=');
    if (eq < 0) continue;
    if (l.startsWith('bundle=')) bundle = l.slice(7);
    else r.labels[l.slice(0, eq)] = l.slice(eq + 1);
  }
  const created = str(s.created);
  if (created !== undefined) r.created = created;
  if (bundle) r.bundle = bundle;
  const sysctl = rec(s.config ?? {}).sysctl as Record<string, string> | undefined | null;
  if (sysctl) r.sysctl = sysctl;
  return r;
}

/** crun's status file, its fields checked (its directory name is the id): the record, or what is wrong with it. */
export function parseCrunStatus(json: unknown, stateFile: string, id: string): StateRecord | { problem: string } {
  const bad = checkFields(json, CRUN_STATUS);
  if (bad !== undefined) return { problem: bad };
  const s = rec(json);
  const r: StateRecord = {
    oci: 'crun',
    id,
    pid: countOf(s.pid)!,
    startTime: countOf(s['process-start-time'])!,
    stateFile,
    labels: {},
  };
  const created = str(s.created);
  const bundle = str(s.bundle);
  if (created !== undefined) r.created = created;
  if (bundle !== undefined) r.bundle = bundle;
  return r;
}

/**
 * The state record in container directory `name` of `parent` (ROOT/ID or ROOT/NAMESPACE/ID):
 * undefined when it holds no state file (not a container's directory), a problem when it holds
 * a bad one. runc names a container's directory by its id: a state.json recording another id
 * is a problem too.
 */
function stateIn(dir: StateDir): StateRecord | StateProblem | undefined {
  const id = path.basename(dir.path);
  const runcFile = path.join(dir.path, 'state.json');
  const crunFile = path.join(dir.path, 'status');
  let read = dir.readJson('state.json');
  const runc = read !== undefined;
  if (!runc) read = dir.readJson('status');
  if (read === undefined || isProblem(read)) return read;
  const r = runc ? parseRuncState(read.json, runcFile) : parseCrunStatus(read.json, crunFile, id);
  if ('problem' in r) return badFields(runc ? runcFile : crunFile, r.problem, read.prov);
  if (r.id !== id) return idMismatch(r.stateFile, r.id, read.prov);
  r.owner = read.prov.owner;
  r.prov = read.prov;
  return r;
}

/**
 * The state record in directory `dir` (ROOT/ID or ROOT/NAMESPACE/ID), if it holds a good one:
 * how opening a container reads its state again.
 */
export function readStateDir(dir: string): StateRecord | undefined {
  const d = StateDir.open(dir);
  if (!(d instanceof StateDir)) return undefined;
  try {
    const r = stateIn(d);
    return r === undefined || isProblem(r) ? undefined : r;
  } finally {
    d.close();
  }
}

/** The Kubernetes names in a bundle's annotations (the CRI plugin's, else CRI-O's). */
export function kubernetesNames(a: Record<string, string>): KubernetesNames | undefined {
  const k: KubernetesNames = {};
  const set = (field: keyof KubernetesNames, ...keys: string[]): void => {
    for (const key of keys) {
      const v = a[key];
      if (v !== undefined && v !== '') {
        (k as Record<string, string>)[field] = v;
        return;
      }
    }
  };
  set('podNamespace', 'io.kubernetes.cri.sandbox-namespace', 'io.kubernetes.pod.namespace');
  set('podName', 'io.kubernetes.cri.sandbox-name', 'io.kubernetes.pod.name');
  set('podUid', 'io.kubernetes.cri.sandbox-uid', 'io.kubernetes.pod.uid');
  set('sandboxId', 'io.kubernetes.cri.sandbox-id', 'io.kubernetes.cri-o.SandboxID');
  const type = a['io.kubernetes.cri.container-type'] ?? a['io.kubernetes.cri-o.ContainerType'];
  if (type === 'sandbox' || type === 'container') k.type = type;
  if (k.type !== 'sandbox') set('containerName', 'io.kubernetes.cri.container-name', 'io.kubernetes.container.name');
  return Object.keys(k).length > 0 ? k : undefined;
}

/**
 * Which engine made a container found in a runc or crun root, by its bundle's annotations; else
 * the OCI runtime whose state file it is.
 */
function engineOf(base: ContainerRuntime, oci: 'runc' | 'crun', a: Record<string, string>): ContainerRuntime {
  if (base !== 'runc' && base !== 'crun') return base;
  if (a['io.container.manager'] === 'libpod') return 'podman';
  if (Object.keys(a).some((k) => k.startsWith('io.kubernetes.cri-o.'))) return 'cri-o';
  return oci;
}

/** Where containers-storage keeps its containers by default, as root: GRAPHROOT/DRIVER-containers. */
const STORAGE_GRAPHROOT = '/var/lib/containers/storage';

/** A name, and who could have written the file it came from (none: the annotations, already counted). */
interface Named {
  name: string;
  prov?: Provenance;
}

/**
 * One scan of container state: the problems found, reported as they are (each file once), and
 * the names by id that Docker and containers-storage (Podman, CRI-O) keep, each file read once.
 */
export class StateScan {
  #onError: ((e: ContainerStateError) => void) | undefined;
  #storage = new Map<string, Map<string, Named>>();
  #fallback: Map<string, Named> | undefined;
  #reported = new Set<string>();

  /** Directories that hold the files read (bundles' parents...), each walked from / once per scan. */
  #dirs = new Map<string, StateDir | StateProblem | undefined>();

  constructor(onError?: (e: ContainerStateError) => void) {
    this.#onError = onError;
  }

  /** Close the directories held (idempotent); the scan may go on, walking them again. */
  close(): void {
    for (const d of this.#dirs.values()) if (d instanceof StateDir) d.close();
    this.#dirs.clear();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * The JSON file `file`, as readJsonFile() reads it, but through its grandparent walked once
   * per scan (bundles share one: /run/containerd/io.containerd.runtime.v2.task/NAMESPACE).
   * The verdict on that directory holds for the scan: one root judged trustworthy no other user
   * can change, and one judged otherwise stays so.
   */
  #read(file: string, limit: number): JsonRead {
    const parent = path.dirname(file);
    const grand = path.dirname(parent);
    if (grand === parent) return readJsonFile(file, limit);
    let g = this.#dirs.get(grand);
    if (!this.#dirs.has(grand)) this.#dirs.set(grand, (g = StateDir.open(grand)));
    if (!(g instanceof StateDir)) return g;
    return readJsonIn(g.sub(path.basename(parent)), path.basename(file), limit);
  }

  /** Report a file skipped (each path once per scan). */
  report(p: StateProblem, skipped: ContainerStateError['skipped']): void {
    if (this.#reported.has(p.path)) return;
    this.#reported.add(p.path);
    this.#onError?.({ ...p, skipped });
  }

  /**
   * A file that adds names or annotations, read as StateDir reads one; a problem reported and
   * undefined returned. `claimant`: the owner of the state file that named it (a bundle): when
   * that is not root, a file another user owns is not theirs to claim, and is not read into
   * their container's record.
   */
  extra(file: string, spec: FieldSpec | 'list', claimant?: number): { json: unknown; prov: Provenance } | undefined {
    const r = this.#read(file, spec === 'list' ? LIST_FILE_LIMIT : STATE_FILE_LIMIT);
    if (r === undefined) return undefined;
    if (isProblem(r)) {
      this.report(r, 'file');
      return undefined;
    }
    if (claimant !== undefined && claimant !== 0 && r.prov.owner !== claimant) {
      this.report(foreignOwner(file, claimant, r.prov), 'file');
      return undefined;
    }
    const bad = spec === 'list' ? listProblem(r.json) : checkFields(r.json, spec);
    if (bad !== undefined) {
      this.report(badFields(file, bad, r.prov), 'file');
      return undefined;
    }
    return r;
  }

  /** What a bundle's config.json says: its annotations and its `linux.sysctl` map, and whose it is. */
  bundleSpec(
    bundle: string | undefined,
    claimant: number | undefined,
  ): { annotations: Record<string, string>; sysctl?: Record<string, string>; prov?: Provenance } {
    if (bundle === undefined) return { annotations: {} };
    const r = this.extra(path.join(bundle, 'config.json'), BUNDLE_CONFIG, claimant);
    if (r === undefined) return { annotations: {} };
    const spec = rec(r.json);
    const annotations = (spec.annotations ?? {}) as Record<string, string>;
    const sysctl = rec(spec.linux ?? {}).sysctl as Record<string, string> | undefined | null;
    return sysctl ? { annotations, sysctl, prov: r.prov } : { annotations, prov: r.prov };
  }

  /**
   * Docker's name for a container: "Name" of DATA_ROOT/containers/ID/config.v2.json (the
   * daemon's --data-root, /var/lib/docker by default), when that file is the container's.
   */
  docker(id: string, dataRoot = DOCKER_DATA_ROOT): Named | undefined {
    const r = this.extra(path.join(dataRoot, 'containers', id, 'config.v2.json'), DOCKER_CONFIG);
    const config = rec(r?.json ?? {});
    if (r === undefined || config.ID !== id) return undefined;
    const name = str(config.Name)?.replace(/^\//, '');
    return name ? { name, prov: r.prov } : undefined;
  }

  /**
   * containers-storage's first name for a container (Podman's name; CRI-O's k8s_... name).
   * Podman's bundle is the container's own directory, GRAPHROOT/DRIVER-containers/ID/userdata
   * (whatever --root and storage driver it runs with): the list beside it is read first. Else
   * the default graph root's, and the calling user's own (rootless Podman).
   */
  storage(id: string, bundle?: string, claimant?: number): Named | undefined {
    if (bundle !== undefined && path.basename(bundle) === 'userdata' && path.basename(path.dirname(bundle)) === id) {
      const dir = path.dirname(path.dirname(bundle));
      if (path.basename(dir).endsWith('-containers')) {
        const key = `${claimant ?? 0}:${dir}`;
        let names = this.#storage.get(key);
        if (names === undefined) {
          names = new Map();
          this.#storageNames(dir, names, claimant);
          this.#storage.set(key, names);
        }
        const name = names.get(id);
        if (name !== undefined) return name;
      }
    }
    if (this.#fallback === undefined) {
      this.#fallback = new Map();
      const roots = [STORAGE_GRAPHROOT];
      const home =
        process.env.XDG_DATA_HOME ?? (process.env.HOME ? path.join(process.env.HOME, '.local/share') : undefined);
      if (home) roots.push(path.join(home, 'containers/storage'));
      for (const r of roots) for (const dir of driverDirs(r)) this.#storageNames(dir, this.#fallback);
    }
    return this.#fallback.get(id);
  }

  /**
   * containers-storage's container list in directory `dir` (GRAPHROOT/DRIVER-containers:
   * `containers.json`, and `volatile-containers.json` for a transient store): id -> first name.
   */
  #storageNames(dir: string, into: Map<string, Named>, claimant?: number): void {
    for (const file of ['containers.json', 'volatile-containers.json']) {
      const r = this.extra(path.join(dir, file), 'list', claimant);
      if (r === undefined) continue;
      for (const c of r.json as Record<string, unknown>[]) {
        const cid = c.id as string;
        const first = (c.names as string[] | undefined)?.[0];
        if (first !== undefined && first !== '' && !into.has(cid)) into.set(cid, { name: first, prov: r.prov });
      }
    }
  }
}

/** What is wrong with a containers.json (an array of { id, names }), or undefined. */
function listProblem(json: unknown): string | undefined {
  if (!Array.isArray(json)) return 'the file is not an array';
  for (let i = 0; i < json.length; i++) {
    const bad = checkFields(json[i], STORAGE_ENTRY, `[${i}].`);
    if (bad !== undefined) return bad;
  }
  return undefined;
}

/** The problem a file named by a user's state file, but owned by another user, is. */
function foreignOwner(file: string, claimant: number, prov: Provenance): StateProblem {
  return {
    code: 'EPERM',
    reason: 'foreign-owner',
    path: file,
    message: `EPERM: named by a state file of uid ${claimant}, but owned by uid ${prov.owner}: '${printable(file)}'`,
    trust: prov.trust,
    owner: prov.owner,
  };
}

/** The DRIVER-containers directories of a containers-storage graph root. */
function driverDirs(graphroot: string): string[] {
  const d = StateDir.open(graphroot);
  if (!(d instanceof StateDir)) return [];
  try {
    const out: string[] = [];
    for (const n of d.subdirs()) {
      if (!n.endsWith('-containers')) continue;
      const sub = d.sub(n); // a directory, not a link to one
      if (!(sub instanceof StateDir)) continue;
      sub.close();
      out.push(path.join(graphroot, n));
    }
    return out;
  } finally {
    d.close();
  }
}

function nameOf(c: ContainerInfo, scan: StateScan, dataRoot: string | undefined, claimant: number): Named | undefined {
  const k = c.kubernetes;
  const fromAnnotations = (name: string): Named => ({ name });
  if (k?.type === 'sandbox' && k.podName) return fromAnnotations(k.podName);
  if (k?.containerName) return fromAnnotations(k.containerName);
  const a = c.annotations;
  if (a['nerdctl/name']) return fromAnnotations(a['nerdctl/name']);
  if (c.runtime === 'docker') return scan.docker(c.id, dataRoot);
  if (c.runtime === 'podman' || c.runtime === 'cri-o') return scan.storage(c.id, c.bundle, claimant);
  return undefined;
}

/** A container from its state record: annotations, names, whether it still runs, and whose its record is. */
function describe(
  r: StateRecord,
  base: ContainerRuntime,
  namespace: string | undefined,
  scan: StateScan,
  dataRoot?: string,
): ContainerInfo {
  const stateProv = r.prov!;
  const spec = scan.bundleSpec(r.bundle, stateProv.owner);
  const annotations = { ...r.labels, ...spec.annotations };
  let prov = combine(stateProv, spec.prov);
  const started = procStartTime(r.pid);
  const c: ContainerInfo = {
    runtime: engineOf(base, r.oci, annotations),
    oci: r.oci,
    id: r.id,
    pid: r.pid,
    startTime: r.startTime,
    running: started === r.startTime && ownerMayName(stateProv.owner, `/proc/${r.pid}`),
    stateFile: r.stateFile,
    annotations,
    trust: prov.trust,
    owner: stateProv.owner,
  };
  if (namespace !== undefined) c.namespace = namespace;
  if (r.created !== undefined) c.created = r.created;
  if (r.bundle !== undefined) c.bundle = r.bundle;
  // What runc recorded it applied at creation wins over a config.json that may have been edited since.
  if (r.sysctl !== undefined) {
    c.sysctl = r.sysctl;
    c.sysctlSource = r.stateFile;
  } else if (spec.sysctl !== undefined && r.bundle !== undefined) {
    c.sysctl = spec.sysctl;
    c.sysctlSource = path.join(r.bundle, 'config.json');
  }
  const k = kubernetesNames(annotations);
  if (k) c.kubernetes = k;
  if (prov.untrustedPath !== undefined) c.untrustedPath = prov.untrustedPath;
  const named = nameOf(c, scan, dataRoot, stateProv.owner);
  if (named !== undefined) {
    c.name = named.name;
    prov = combine(prov, named.prov);
    c.trust = prov.trust;
    if (prov.untrustedPath !== undefined) c.untrustedPath = prov.untrustedPath;
  }
  return c;
}

/**
 * Every container under one root. Each entry is a container directory (state.json or status),
 * or, as in containerd's runc root, a namespace directory holding container directories. A bad
 * state file (or directory) is reported to `scan` and skipped; the others are read.
 */
export function readRoot(root: ContainerRoot, scan?: StateScan): ContainerInfo[] {
  if (scan === undefined) {
    using own = new StateScan();
    return readRoot(root, own);
  }
  const out: ContainerInfo[] = [];
  const top = StateDir.open(root.dir);
  if (top === undefined) return out; // no such root: that runtime is not in use
  if (!(top instanceof StateDir)) {
    scan.report(top, 'container');
    return out;
  }
  using _top = top;
  const skip = (p: StateProblem): void => scan.report(p, 'container');
  for (const entry of top.subdirs()) {
    const dir = top.sub(entry);
    if (dir === undefined) continue; // removed meanwhile
    if (!(dir instanceof StateDir)) {
      skip(dir);
      continue;
    }
    using _dir = dir;
    const r = stateIn(dir);
    if (r !== undefined) {
      if (isProblem(r)) skip(r);
      else out.push(describe(r, root.runtime, undefined, scan, root.dataRoot));
      continue;
    }
    // containerd's layout: a namespace directory of container directories.
    for (const sub of dir.subdirs()) {
      const d = dir.sub(sub);
      if (d === undefined) continue;
      if (!(d instanceof StateDir)) {
        skip(d);
        continue;
      }
      using _d = d;
      const x = stateIn(d);
      if (x === undefined) continue;
      if (isProblem(x)) skip(x);
      else out.push(describe(x, root.runtime === 'runc' ? 'containerd' : root.runtime, entry, scan, root.dataRoot));
    }
  }
  return out;
}
