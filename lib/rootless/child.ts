// RootlessChild: a command started inside a rootless namespace, as a ChildProcess-like object.
import { EventEmitter } from 'node:events';
import type * as net from 'node:net';
import { constants as osConstants } from 'node:os';
import { invalid, toNetnsError } from '../errors.js';
import { native } from '../native/index.js';

/** How a command ended: an exit code, or the signal that killed it. */
export interface RootlessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const signalNames = new Map<number, NodeJS.Signals>(
  Object.entries(osConstants.signals).map(([k, v]) => [v as number, k as NodeJS.Signals]),
);

/**
 * A command started inside a rootless namespace: a `ChildProcess`-like object. It is a child
 * of this process (the helper starts it with CLONE_PARENT), reaped here. Events: `'exit'`
 * (code, signal) and `'close'` (code, signal) once stdout/stderr have closed too.
 */
export class RootlessChild extends EventEmitter {
  /** Its pid (the same number in this process's pid namespace). */
  readonly pid: number;
  /** Writable end of its stdin when `'pipe'`, else null. */
  readonly stdin: net.Socket | null;
  /** Readable end of its stdout when `'pipe'`, else null. */
  readonly stdout: net.Socket | null;
  /** Readable end of its stderr when `'pipe'`, else null. */
  readonly stderr: net.Socket | null;
  /** `[stdin, stdout, stderr]`. */
  readonly stdio: [net.Socket | null, net.Socket | null, net.Socket | null];
  /** Exit code once it has exited normally, else null. */
  exitCode: number | null = null;
  /** Name of the signal that killed it, else null. */
  signalCode: NodeJS.Signals | null = null;
  /** Whether kill() delivered a signal. */
  killed = false;
  /** Resolves when it has exited (and has been reaped). Never rejects for a normal exit. */
  readonly exited: Promise<RootlessExit>;
  #pidfd: number;

  /** @internal Takes ownership of `pidfd` and the streams. */
  static of(
    pid: number,
    pidfd: number,
    streams: [net.Socket | null, net.Socket | null, net.Socket | null],
  ): RootlessChild {
    return new RootlessChild(pid, pidfd, streams);
  }

  /** Get one from `ns.rootless.spawn()` or `spawnInNetns()`. */
  private constructor(pid: number, pidfd: number, streams: [net.Socket | null, net.Socket | null, net.Socket | null]) {
    super();
    this.pid = pid;
    this.#pidfd = pidfd;
    this.stdio = streams;
    [this.stdin, this.stdout, this.stderr] = streams;
    const readers = [this.stdout, this.stderr].filter((s): s is net.Socket => s !== null);
    const closed = Promise.all(
      readers.map((s) => new Promise<void>((res) => (s.closed ? res() : s.once('close', () => res())))),
    );
    this.exited = native.pidfdWait(pidfd, pid).then(
      ([code, sig]) => {
        this.#release();
        this.exitCode = code;
        this.signalCode = sig === null ? null : (signalNames.get(sig) ?? (`SIG${sig}` as NodeJS.Signals));
        const r: RootlessExit = { code: this.exitCode, signal: this.signalCode };
        if (this.stdin && !this.stdin.destroyed) this.stdin.destroy();
        this.emit('exit', r.code, r.signal);
        void closed.then(() => this.emit('close', r.code, r.signal));
        return r;
      },
      (e: unknown) => {
        this.#release();
        const err = toNetnsError(e);
        this.emit('error', err);
        throw err;
      },
    );
    // 'error' listeners are optional; an unobserved rejection of `exited` must not crash.
    this.exited.catch(() => {});
  }

  #release(): void {
    if (this.#pidfd >= 0) {
      native.close(this.#pidfd);
      this.#pidfd = -1;
    }
  }

  /** Send a signal (default SIGTERM) through its pidfd. Returns false once it has exited. */
  kill(signal: NodeJS.Signals | number = 'SIGTERM'): boolean {
    const n = typeof signal === 'number' ? signal : (osConstants.signals as Record<string, number>)[signal];
    if (n === undefined || !Number.isInteger(n)) invalid('a signal name or number', 'signal', signal);
    if (this.#pidfd < 0) return false;
    try {
      native.pidfdSendSignal(this.#pidfd, n);
      if (n !== 0) this.killed = true;
      return true;
    } catch {
      return false;
    }
  }
}
