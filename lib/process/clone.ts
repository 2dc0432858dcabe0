// cloneNetns: the lesson's clone(CLONE_NEWNET) program, as a Promise.
import { ERRNO, fromNative, invalid, netnsError, type NetnsError } from '../errors.js';
import { parseKey, type KeyInput, type ParsedKey } from '../sysctl/keys.js';
import { isNativeErrno, native } from '../native/index.js';
import { entryPairs, type SetManyEntries } from '../sysctl/set-many.js';
import { keyError } from '../sysctl/key-error.js';
import { copyArray, formatValue, rawText } from '../sysctl/values.js';

/** Options of {@link cloneNetns}. */
export interface CloneNetnsOptions {
  /**
   * Keys to read inside the new namespace (dot form `net.ipv4.tcp_keepalive_time` or slash
   * form `net/ipv4/tcp_keepalive_time`), after the writes.
   */
  read?: readonly KeyInput[];
  /**
   * Keys to write first, in order; each is read back, and the value in effect is reported.
   * A failed write is reported in `errors` and the child carries on with the next key.
   */
  write?: SetManyEntries;
  /**
   * Also make a new user namespace (`CLONE_NEWUSER`) that owns the network namespace, with
   * the child's root mapped to `uid`/`gid` outside (default: this process's effective ids).
   * The parent writes `setgroups` "deny", then `uid_map` and `gid_map`; the child waits for
   * that before it touches anything. Works without root where unprivileged user namespaces
   * are allowed.
   */
  user?: boolean | { uid?: number; gid?: number };
}

/** What {@link cloneNetns} resolves with. */
export interface CloneNetnsResult {
  /** The child's pid. It has been reaped by the time the promise settles. */
  pid: number;
  /**
   * `"DEV:INO"` of the namespace the child was born in, as the child saw it. The namespace
   * went away with the child (nothing else held it), so this only identifies it historically:
   * the kernel reuses namespace inode numbers soon.
   */
  netnsId: string;
  /** Raw text of every key read or written-and-read-back, trailing newline removed. */
  values: Record<string, string>;
  /** Keys whose read or write failed, by key. */
  errors: Record<string, NetnsError>;
  /** Whether a user namespace was made too. */
  user: boolean;
}

function checkId(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xfffffffe)
    invalid('an integer id from 0 to 4294967294', name, v, typeof v === 'number' ? RangeError : TypeError);
  return v;
}

/**
 * Create a network namespace the way the lesson's C program does: `clone(2)` with
 * `CLONE_NEWNET | SIGCHLD` (plus `CLONE_NEWUSER` with `user`). The child is born in the new
 * namespace, performs the writes then the reads, reports them over a pipe and exits; the
 * promise resolves once it has been reaped.
 *
 * Nothing blocks the event loop: the clone, the wait and the reaping happen on a thread the
 * addon owns for this call (not the libuv pool). The child is always reaped, even if nobody
 * awaits the promise; it is killed if the Node environment shuts down first, and it dies
 * with this process (`PR_SET_PDEATHSIG`). Between clone and exit the child only makes
 * async-signal-safe system calls (it is a copy of one thread of a multithreaded process).
 *
 * Needs CAP_SYS_ADMIN (root) unless `user` is set.
 */
export async function cloneNetns(options: CloneNetnsOptions = {}): Promise<CloneNetnsResult> {
  const trace = new Error();
  if (options === null || typeof options !== 'object') invalid('an options object', 'options', options);
  // Each option read once (copy, validate, use).
  const { write, read, user: userOpt } = options;
  const writes = prepareWrites(write);
  const reads = read === undefined ? [] : Array.isArray(read) ? copyArray(read) : read;
  if (!Array.isArray(reads)) invalid('an array of keys', 'read', reads);
  const readKeys = reads.map((k) => parseKey(k as KeyInput));
  let user: [number, number] | null = null;
  if (userOpt !== undefined && userOpt !== false) {
    const u = userOpt === true ? {} : userOpt;
    if (u === null || typeof u !== 'object') invalid('a boolean or { uid, gid }', 'user', userOpt);
    const { uid, gid } = u;
    const euid = process.geteuid?.() ?? 0;
    const egid = process.getegid?.() ?? 0;
    user = [checkId(uid ?? euid, 'user.uid'), checkId(gid ?? egid, 'user.gid')];
  }

  const keys = [...writes.map(([k]) => k), ...readKeys];
  const rels = keys.map((k) => k.rel);
  const texts = [...writes.map(([, v]) => v), ...readKeys.map(() => null)];

  let report;
  try {
    report = await native.cloneNetns(
      rels,
      texts.map((t) => (t === null ? null : t + '\n')),
      user,
    );
  } catch (e) {
    if (!isNativeErrno(e)) throw e;
    throw withTrace(fromNative(e, { op: 'clone', user: user !== null }), trace);
  }

  if (report.signal !== null || report.exitCode !== 0 || report.protocolError) {
    const how =
      report.signal !== null
        ? `was killed by signal ${report.signal}`
        : report.protocolError
          ? 'sent a malformed report'
          : `exited with status ${report.exitCode}`;
    throw withTrace(
      netnsError(ERRNO.EINTR, 'clone', {
        message: `EINTR: the clone child (pid ${report.pid}) ${how} before reporting`,
        reason: 'incomplete',
      }),
      trace,
    );
  }
  if (report.dev === undefined || report.ino === undefined) {
    const e = report.identError;
    throw withTrace(
      e
        ? fromNative(e)
        : netnsError(ERRNO.EIO, 'stat', { path: '/proc/self/ns/net', message: 'EIO: no namespace identity reported' }),
      trace,
    );
  }

  const result: CloneNetnsResult = {
    pid: report.pid,
    netnsId: `${report.dev}:${report.ino}`,
    values: {},
    errors: {},
    user: user !== null,
  };
  report.results.forEach((o, i) => {
    const pk = keys[i]!;
    const key = pk.key;
    const text = texts[i] ?? undefined;
    if (isNativeErrno(o)) {
      result.errors[key] = keyError(o, pk, text === undefined ? 'read' : 'write', text, false);
      delete result.values[key];
    } else if (typeof o === 'string') {
      result.values[key] = rawText(o);
      delete result.errors[key];
    } else if (o === null) {
      // Written, not readable: report what was written.
      result.values[key] = text!;
    }
  });
  return result;
}

function prepareWrites(entries: SetManyEntries | undefined): [ParsedKey, string][] {
  if (entries === undefined) return [];
  return entryPairs(entries, 'write').map(([key, value]) => {
    const pk = parseKey(key);
    return [pk, formatValue(value, pk.key)];
  });
}

function withTrace<E extends Error>(err: E, trace: Error): E {
  const callerFrames = trace.stack?.split('\n').slice(1).join('\n');
  if (callerFrames) err.stack = `${err.name}: ${err.message}\n${callerFrames}`;
  return err;
}
