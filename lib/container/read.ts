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
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DOCKER_DATA_ROOT } from './roots.js';
import type { ContainerInfo, ContainerRoot, ContainerRuntime, KubernetesNames } from './types.js';

/** The largest JSON file read (containers-storage's containers.json lists every container). */
const JSON_LIMIT = 64 << 20;

/**
 * A JSON file, or undefined. Only a regular file is read, and only up to JSON_LIMIT: a path from
 * a rootless runtime's state (a bundle) is the user's to choose, and a FIFO there must not
 * block the scan (O_NONBLOCK), nor a huge file fill memory.
 */
function readJson(file: string): unknown {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch {
    return undefined; // gone meanwhile, or not ours to read
  }
  try {
    const st = fs.fstatSync(fd);
    return st.isFile() && st.size <= JSON_LIMIT ? JSON.parse(fs.readFileSync(fd, 'utf8')) : undefined;
  } catch {
    return undefined; // being written, or not JSON
  } finally {
    fs.closeSync(fd);
  }
}

function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
// (Numbers; early runc wrote init_process_start as a string of digits.)
const num = (v: unknown): number | undefined => {
  const n = typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? n : undefined;
};

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
 * A state file's JSON and its owner, read through one fd opened without following a symlink
 * (a state file is never one; a link could lead into another runtime's root).
 */
function readStateFile(file: string): { json: unknown; uid: number } | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW); // libuv adds O_CLOEXEC
  } catch {
    return undefined;
  }
  try {
    const st = fs.fstatSync(fd);
    return st.isFile() ? { json: JSON.parse(fs.readFileSync(fd, 'utf8')), uid: st.uid } : undefined;
  } catch {
    return undefined; // being written, or not JSON
  } finally {
    fs.closeSync(fd);
  }
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
}

/** runc's state.json (also containerd's shim and Docker's, which run runc). */
export function parseRuncState(json: unknown, stateFile: string): StateRecord | undefined {
  const s = obj(json);
  const id = str(s.id);
  const pid = num(s.init_process_pid);
  const startTime = num(s.init_process_start);
  if (id === undefined || pid === undefined || startTime === undefined) return undefined;
  const labels = obj(s.config).labels;
  const r: StateRecord = { oci: 'runc', id, pid, startTime, stateFile, labels: {} };
  // runc records the bundle and the spec's annotations as "KEY=VALUE" labels.
  let bundle: string | undefined;
  if (Array.isArray(labels))
    for (const l of labels) {
      if (typeof l !== 'string' || !l.includes('=')) continue;
      const eq = l.indexOf('=');
      if (l.startsWith('bundle=')) bundle = l.slice(7);
      else r.labels[l.slice(0, eq)] = l.slice(eq + 1);
    }
  const created = str(s.created);
  if (created !== undefined) r.created = created;
  if (bundle) r.bundle = bundle;
  const sysctl = stringMap(obj(s.config).sysctl);
  if (sysctl !== undefined) r.sysctl = sysctl;
  return r;
}

/** A JSON object's string-valued entries (a spec's sysctl map), or undefined when it is not an object. */
function stringMap(v: unknown): Record<string, string> | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}

/** crun's status file; its directory name is the id. */
export function parseCrunStatus(json: unknown, stateFile: string, id: string): StateRecord | undefined {
  const s = obj(json);
  const pid = num(s.pid);
  const startTime = num(s['process-start-time']);
  if (pid === undefined || startTime === undefined) return undefined;
  const r: StateRecord = { oci: 'crun', id, pid, startTime, stateFile, labels: {} };
  const created = str(s.created);
  const bundle = str(s.bundle);
  if (created !== undefined) r.created = created;
  if (bundle !== undefined) r.bundle = bundle;
  return r;
}

/**
 * The state record in directory `dir` (ROOT/ID or ROOT/NAMESPACE/ID), if it holds one. runc
 * names a container's directory by its id: a state.json recording another id is not runc's.
 */
export function readStateDir(dir: string): StateRecord | undefined {
  const id = path.basename(dir);
  const runcFile = path.join(dir, 'state.json');
  const crunFile = path.join(dir, 'status');
  const runc = readStateFile(runcFile);
  const crun = runc === undefined ? readStateFile(crunFile) : undefined;
  const rec = runc ? parseRuncState(runc.json, runcFile) : crun ? parseCrunStatus(crun.json, crunFile, id) : undefined;
  if (rec === undefined || rec.id !== id) return undefined;
  rec.owner = (runc ?? crun)!.uid;
  return rec;
}

function subdirs(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
      .map((d) => d.name)
      .sort();
  } catch {
    return []; // no such root (that runtime is not in use), or not ours to read
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

/** What a bundle's config.json says: its annotations and its `linux.sysctl` map (read once). */
function bundleSpec(bundle: string | undefined): {
  annotations: Record<string, string>;
  sysctl?: Record<string, string>;
} {
  if (bundle === undefined) return { annotations: {} };
  const spec = obj(readJson(path.join(bundle, 'config.json')));
  const sysctl = stringMap(obj(spec.linux).sysctl);
  const annotations = stringMap(spec.annotations) ?? {};
  return sysctl === undefined ? { annotations } : { annotations, sysctl };
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

/**
 * containers-storage's container list in directory `dir` (GRAPHROOT/DRIVER-containers:
 * `containers.json`, and `volatile-containers.json` for a transient store): id -> first name.
 */
function storageNames(dir: string, into: Map<string, string>): void {
  for (const file of ['containers.json', 'volatile-containers.json']) {
    const list = readJson(path.join(dir, file));
    if (!Array.isArray(list)) continue;
    for (const c of list) {
      const o = obj(c);
      const cid = str(o.id);
      const names = Array.isArray(o.names) ? o.names.filter((n): n is string => typeof n === 'string') : [];
      if (cid !== undefined && names[0] !== undefined && !into.has(cid)) into.set(cid, names[0]);
    }
  }
}

/** The DRIVER-containers directories of a containers-storage graph root. */
function driverDirs(graphroot: string): string[] {
  return subdirs(graphroot)
    .filter((d) => d.endsWith('-containers'))
    .map((d) => path.join(graphroot, d));
}

/** Names by id that Docker and containers-storage (Podman, CRI-O) keep, each file read once per scan. */
export class NameSources {
  #storage = new Map<string, Map<string, string>>();
  #fallback: Map<string, string> | undefined;

  /**
   * Docker's name for a container: "Name" of DATA_ROOT/containers/ID/config.v2.json (the
   * daemon's --data-root, /var/lib/docker by default), when that file is the container's.
   */
  docker(id: string, dataRoot = DOCKER_DATA_ROOT): string | undefined {
    const config = obj(readJson(path.join(dataRoot, 'containers', id, 'config.v2.json')));
    if (config.ID !== id) return undefined;
    return str(config.Name)?.replace(/^\//, '');
  }

  /**
   * containers-storage's first name for a container (Podman's name; CRI-O's k8s_... name).
   * Podman's bundle is the container's own directory, GRAPHROOT/DRIVER-containers/ID/userdata
   * (whatever --root and storage driver it runs with): the list beside it is read first. Else
   * the default graph root's, and the calling user's own (rootless Podman).
   */
  storage(id: string, bundle?: string): string | undefined {
    if (bundle !== undefined && path.basename(bundle) === 'userdata' && path.basename(path.dirname(bundle)) === id) {
      const dir = path.dirname(path.dirname(bundle));
      if (path.basename(dir).endsWith('-containers')) {
        let names = this.#storage.get(dir);
        if (names === undefined) {
          names = new Map();
          storageNames(dir, names);
          this.#storage.set(dir, names);
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
      for (const r of roots) for (const dir of driverDirs(r)) storageNames(dir, this.#fallback);
    }
    return this.#fallback.get(id);
  }
}

function nameOf(c: ContainerInfo, names: NameSources, dataRoot: string | undefined): string | undefined {
  const k = c.kubernetes;
  if (k?.type === 'sandbox' && k.podName) return k.podName;
  if (k?.containerName) return k.containerName;
  const a = c.annotations;
  if (a['nerdctl/name']) return a['nerdctl/name'];
  if (c.runtime === 'docker') return names.docker(c.id, dataRoot);
  if (c.runtime === 'podman' || c.runtime === 'cri-o') return names.storage(c.id, c.bundle);
  return undefined;
}

/** A container from its state record: annotations, names, and whether it still runs. */
function describe(
  rec: StateRecord,
  base: ContainerRuntime,
  namespace: string | undefined,
  names: NameSources,
  dataRoot?: string,
): ContainerInfo {
  const spec = bundleSpec(rec.bundle);
  const annotations = { ...rec.labels, ...spec.annotations };
  const started = procStartTime(rec.pid);
  const c: ContainerInfo = {
    runtime: engineOf(base, rec.oci, annotations),
    oci: rec.oci,
    id: rec.id,
    pid: rec.pid,
    startTime: rec.startTime,
    running: started === rec.startTime && (rec.owner === undefined || ownerMayName(rec.owner, `/proc/${rec.pid}`)),
    stateFile: rec.stateFile,
    annotations,
  };
  if (namespace !== undefined) c.namespace = namespace;
  if (rec.created !== undefined) c.created = rec.created;
  if (rec.bundle !== undefined) c.bundle = rec.bundle;
  // What runc recorded it applied at creation wins over a config.json that may have been edited since.
  if (rec.sysctl !== undefined) {
    c.sysctl = rec.sysctl;
    c.sysctlSource = rec.stateFile;
  } else if (spec.sysctl !== undefined && rec.bundle !== undefined) {
    c.sysctl = spec.sysctl;
    c.sysctlSource = path.join(rec.bundle, 'config.json');
  }
  const k = kubernetesNames(annotations);
  if (k) c.kubernetes = k;
  const name = nameOf(c, names, dataRoot);
  if (name !== undefined) c.name = name;
  return c;
}

/**
 * Every container under one root. Each entry is a container directory (state.json or status),
 * or, as in containerd's runc root, a namespace directory holding container directories.
 */
export function readRoot(root: ContainerRoot, names: NameSources = new NameSources()): ContainerInfo[] {
  const out: ContainerInfo[] = [];
  for (const entry of subdirs(root.dir)) {
    const dir = path.join(root.dir, entry);
    const rec = readStateDir(dir);
    if (rec) {
      out.push(describe(rec, root.runtime, undefined, names, root.dataRoot));
      continue;
    }
    for (const sub of subdirs(dir)) {
      const r = readStateDir(path.join(dir, sub));
      if (r) out.push(describe(r, root.runtime === 'runc' ? 'containerd' : root.runtime, entry, names, root.dataRoot));
    }
  }
  return out;
}
