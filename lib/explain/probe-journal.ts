// The host probe's journal: before it changes a host value, the probe records every original
// in one file, and removes the file once every value is back. A probe killed in between
// (SIGKILL, the OOM killer: signals it can catch are held until the restore, see
// signal-guard.ts) leaves the file; the next host probe puts those values back before anything
// else. The file also keeps two probes from running at once: each would take the other's
// nudged values for the originals and leave them behind. It lives in /run (a tmpfs, emptied
// at boot, as the host's sysctls are reset at boot); NETNS_HOST_PROBE_JOURNAL moves it.
import * as fs from 'node:fs';
import { threadId } from 'node:worker_threads';
import { ERRNO, netnsError } from '../errors.js';
import { procStartTime } from '../container/read.js';
import type { SysctlBackend } from '../sysctl/backend.js';
import { readRel } from './observe.js';

/** Where the journal is. */
export function journalPath(): string {
  return process.env.NETNS_HOST_PROBE_JOURNAL || '/run/netns-host-probe.json';
}

interface Journal {
  pid: number;
  /** The owner's start time (field 22 of /proc/PID/stat): a reused pid is not the owner. */
  start: string;
  /** The owner's thread (worker_threads.threadId): workers of one process may probe. */
  thread: number;
  /**
   * The owner's OS thread and its start time: a worker terminated mid-probe (its restore never
   * runs) leaves its process alive, and only its thread gone. Absent in older journals.
   */
  tid?: number;
  tidStart?: string;
  /** [path below /proc/sys/net, original value] in the order to write them back. */
  values: [string, string][];
}

/** A process's (or, with `tid`, one of its threads') start time as recorded; undefined if gone. */
function startOf(pid: number, tid?: number): string | undefined {
  const t = procStartTime(pid, tid === undefined ? undefined : `/proc/${pid}/task/${tid}/stat`);
  return t === undefined ? undefined : String(t);
}

function readJournal(path: string): Journal | undefined {
  try {
    const j = JSON.parse(fs.readFileSync(path, 'utf8')) as Journal;
    if (
      !Number.isInteger(j.pid) ||
      typeof j.start !== 'string' ||
      !Number.isInteger(j.thread) ||
      (j.tid !== undefined && !Number.isInteger(j.tid)) ||
      (j.tidStart !== undefined && typeof j.tidStart !== 'string') ||
      !Array.isArray(j.values)
    )
      return undefined;
    for (const v of j.values)
      if (!Array.isArray(v) || typeof v[0] !== 'string' || typeof v[1] !== 'string') return undefined;
    return j;
  } catch {
    return undefined;
  }
}

/** Write `value` back to `rel` unless it holds it already, then verify; false when it does not hold it. */
export function restoreExactly(b: SysctlBackend, rel: string, value: string): boolean {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      if (readRel(b, rel) !== value) b.write(rel, value);
    } catch {
      /* checked below */
    }
    if (readRel(b, rel) === value) return true;
  }
  return false;
}

/**
 * Take the journal for this process, after putting back what a probe that did not finish left
 * in it; the originals are recorded next ({@link recordJournal}), read only now that nothing
 * of another probe is left on the host. Throws EBUSY when a live process holds it, EIO
 * (`not-restored`) when a value left behind cannot be put back.
 */
export function claimJournal(host: SysctlBackend): void {
  const path = journalPath();
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = fs.openSync(path, 'wx', 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw e;
      recoverFrom(host, path);
      continue;
    }
    try {
      fs.writeSync(fd, JSON.stringify(mine([])));
    } finally {
      fs.closeSync(fd);
    }
    return;
  }
}

/** Record the originals in this process's journal (replaced whole: a reader sees old or new). */
export function recordJournal(values: [string, string][]): void {
  const path = journalPath();
  const tmp = `${path}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(mine(values)), { mode: 0o600 });
  fs.renameSync(tmp, path);
}

function mine(values: [string, string][]): Journal {
  const j: Journal = { pid: process.pid, start: startOf(process.pid) ?? '', thread: threadId, values };
  // /proc/thread-self is a link to PID/task/TID.
  const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
  const tidStart = startOf(process.pid, tid);
  if (Number.isInteger(tid) && tidStart !== undefined) {
    j.tid = tid;
    j.tidStart = tidStart;
  }
  return j;
}

/** "process PID", or "process PID (thread TID)" for a probe on another thread than the main one. */
function ownerOf(j: Journal): string {
  return `process ${j.pid}${j.tid !== undefined && j.tid !== j.pid ? ` (thread ${j.tid})` : ''}`;
}

const capital = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** Whether the journal's owner still runs: its process, and (when recorded) its thread. */
function ownerLives(j: Journal): boolean {
  if (j.start === '' || startOf(j.pid) !== j.start) return false;
  if (j.tid === undefined || j.tidStart === undefined) return true;
  return startOf(j.pid, j.tid) === j.tidStart;
}

/**
 * Put back what a host probe that did not finish left (and remove its journal); EBUSY while a
 * live process holds the journal. Nothing to do without one.
 */
export function recoverJournal(host: SysctlBackend): void {
  const path = journalPath();
  if (fs.existsSync(path)) recoverFrom(host, path);
}

/** A journal found in place: busy if its owner lives, else its values are put back and it goes. */
function recoverFrom(host: SysctlBackend, path: string): void {
  const j = readJournal(path);
  if (j === undefined) {
    // Being written (a live owner between open and write), or not ours to read: a few
    // milliseconds old is the former; older, nothing in it can be put back.
    let age = Number.POSITIVE_INFINITY;
    try {
      age = Date.now() - fs.statSync(path).mtimeMs;
    } catch {
      return; // gone meanwhile: try again
    }
    if (age < 2000)
      throw netnsError(ERRNO.EBUSY, 'open', {
        path,
        hint: 'Another process is starting a host probe; try again when it is done',
      });
    fs.rmSync(path, { force: true });
    return;
  }
  // This thread's own, left by a probe of it whose restore failed (a probe runs synchronously,
  // so none of this thread is running now): recovered like a dead process's, as is one whose
  // thread is gone (a worker terminated mid-probe).
  const own = j.pid === process.pid && j.thread === threadId;
  if (!own && ownerLives(j))
    throw netnsError(ERRNO.EBUSY, 'open', {
      path,
      hint: `${capital(ownerOf(j))} is probing the host's values (classify with probe); try again when it is done`,
    });
  const failed = j.values.filter(([rel, value]) => !restoreExactly(host, rel, value));
  if (failed.length > 0)
    throw netnsError(ERRNO.EIO, 'write', {
      path: `/proc/sys/net/${failed[0]![0]}`,
      reason: 'not-restored',
      value: failed[0]![1],
    });
  process.emitWarning(
    `restored the host values a host probe of ${ownerOf(j)} left behind (it ended before its restore): ${j.values
      .map(([rel, v]) => `${rel}=${v}`)
      .join(', ')}`,
    { code: 'NETNS_HOST_PROBE_RECOVERED' },
  );
  // Only if it is still that journal: another process may have recovered and claimed meanwhile.
  const again = readJournal(path);
  if (again?.pid === j.pid && again.start === j.start && again.thread === j.thread) fs.rmSync(path, { force: true });
}

/** Remove the journal once every value is back (only if it is this process's). */
export function releaseJournal(): void {
  const path = journalPath();
  const j = readJournal(path);
  if (j?.pid === process.pid && j.thread === threadId) fs.rmSync(path, { force: true });
}

/** A host probe's journal as an observer finds it (see {@link awaitHostProbe}). */
export interface HostProbeInProgress {
  /** "process PID" or "process PID (thread TID)"; "a host probe" when the file cannot be read. */
  owner: string;
  /** Whether the probe is still running (false: it ended before its restore). */
  live: boolean;
  /** What it changed, and each original: [path below /proc/sys/net, value] (empty: unreadable). */
  values: ReadonlyMap<string, string>;
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * For an observer that changes nothing (classify and explain without a probe): wait up to
 * `maxMs` for a running host probe to end, since the host values it has nudged are not the
 * host's own. Returns what is left then: undefined when no journal, else the probe still
 * running, or the nudges of one that ended before its restore (they stay until a probing
 * classify puts them back).
 */
export function awaitHostProbe(maxMs = 2000): HostProbeInProgress | undefined {
  const path = journalPath();
  const deadline = Date.now() + maxMs;
  for (;;) {
    let j: Journal | undefined;
    let age: number;
    try {
      age = Date.now() - fs.statSync(path).mtimeMs;
      j = readJournal(path);
    } catch {
      return undefined; // none, or gone meanwhile
    }
    // Unreadable (not root) or being written: running while young.
    const live = j ? ownerLives(j) : age < 2000;
    if (!live || Date.now() >= deadline) {
      const owner = j ? ownerOf(j) : 'a host probe';
      return { owner, live, values: new Map(j?.values ?? []) };
    }
    Atomics.wait(pause, 0, 0, 10);
  }
}
