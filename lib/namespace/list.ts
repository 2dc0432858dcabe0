// NetNamespace.list: every network namespace on the host that is named or that a process is in.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NETNS_RUN_DIRS } from './named.js';
import { fsdecode, fsencode } from '../native/index.js';
import { listContainers } from '../container/find.js';
import type { ContainerInfo, ContainerOptions } from '../container/types.js';

/** A container in a namespace, as {@link NetNamespace.list} shows it. */
export type NamespaceContainer = Pick<
  ContainerInfo,
  'runtime' | 'oci' | 'id' | 'name' | 'namespace' | 'pid' | 'kubernetes'
>;

/** Options of {@link NetNamespace.list}. */
export interface ListOptions {
  /** Where to look for containers (see fromContainer), or false to name none. */
  containers?: ContainerOptions | false;
}

/** One network namespace found on the host by {@link NetNamespace.list}. */
export interface NamespaceInfo {
  /** `"DEV:INO"` of the namespace. */
  id: string;
  /** Names under /run/netns (or /var/run/netns) that are bind mounts of it. */
  names: string[];
  /** Processes whose main thread is in it, ascending. */
  pids: number[];
  /**
   * Command line of its first readable pid (arguments joined by spaces, as `ps -o args` shows them), or
   * `[comm]` for a kernel thread; absent when there is no pid or it cannot be read.
   */
  command?: string;
  /** The running containers whose init process is in it (from their runtimes' state on disk). */
  containers: NamespaceContainer[];
}

function idOf(dev: number | bigint, ino: number | bigint): string {
  return `${dev}:${ino}`;
}

/**
 * Every network namespace on the host that is named (/run/netns) or that some process is
 * in, with its names, pids and containers (`found`: containers already listed). Processes that
 * cannot be inspected (no permission) are left out.
 */
export function listNamespaces(options: ListOptions = {}, found?: ContainerInfo[]): NamespaceInfo[] {
  const self = fs.statSync('/proc/self/ns/net');
  const nsfsDev = self.dev;
  const byId = new Map<string, NamespaceInfo>();
  const entry = (id: string): NamespaceInfo => {
    let e = byId.get(id);
    if (!e) byId.set(id, (e = { id, names: [], pids: [], containers: [] }));
    return e;
  };
  const seenDirs = new Set<string>();
  for (const dir of NETNS_RUN_DIRS) {
    let real: string;
    let names: string[];
    try {
      real = fs.realpathSync(dir);
      if (seenDirs.has(real)) continue;
      seenDirs.add(real);
      // Names are bytes: read as such, so that one that is not UTF-8 is still exact (fsdecode).
      names = fs.readdirSync(dir, { encoding: 'buffer' }).map(fsdecode);
    } catch {
      continue;
    }
    for (const n of names) {
      try {
        const st = fs.statSync(fsencode(path.join(dir, n)));
        if (st.dev !== nsfsDev) continue; // a file that is not (or no longer) mounted
        const e = entry(idOf(st.dev, st.ino));
        if (!e.names.includes(n)) e.names.push(n);
      } catch {
        /* raced with removal */
      }
    }
  }
  const nsOfPid = new Map<number, NamespaceInfo>();
  for (const p of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(p)) continue;
    try {
      const st = fs.statSync(`/proc/${p}/ns/net`);
      const e = entry(idOf(st.dev, st.ino));
      e.pids.push(Number(p));
      nsOfPid.set(Number(p), e);
    } catch {
      /* exited, kernel thread or no permission */
    }
  }
  if (options.containers !== false)
    for (const c of found ?? listContainers(options.containers ?? {})) {
      const e = c.running ? nsOfPid.get(c.pid) : undefined;
      if (!e) continue;
      const s: NamespaceContainer = { runtime: c.runtime, oci: c.oci, id: c.id, pid: c.pid };
      if (c.name !== undefined) s.name = c.name;
      if (c.namespace !== undefined) s.namespace = c.namespace;
      if (c.kubernetes !== undefined) s.kubernetes = c.kubernetes;
      e.containers.push(s);
    }
  const out = [...byId.values()];
  for (const e of out) {
    e.pids.sort((a, b) => a - b);
    e.names.sort();
    for (const pid of e.pids) {
      const command = commandOf(pid);
      if (command !== undefined) {
        e.command = command;
        break;
      }
    }
  }
  return out.sort((a, b) => (a.pids[0] ?? Infinity) - (b.pids[0] ?? Infinity) || a.id.localeCompare(b.id));
}

/** `/proc/PID/cmdline` with NULs as spaces, `[comm]` for a kernel thread, undefined if gone. */
function commandOf(pid: number): string | undefined {
  try {
    const args = fsdecode(fs.readFileSync(`/proc/${pid}/cmdline`)).split('\0');
    while (args.length > 0 && args[args.length - 1] === '') args.pop();
    if (args.length > 0) return args.join(' ');
    return `[${fsdecode(fs.readFileSync(`/proc/${pid}/comm`)).trim()}]`;
  } catch {
    return undefined; // exited meanwhile, or not ours to read
  }
}
