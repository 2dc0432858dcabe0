// How the sysctl layer reaches one namespace. The default backend switches the calling thread
// (or the addon's executor thread) into the namespace inside one native call; the rootless
// backend (a helper process) plugs in behind the same interface.
import { native, sysctlWalk, sysctlWalkAsync, type NativeOutcome, type WalkResult } from './native/index.js';

export interface SysctlBackend {
  read(rel: string): string;
  write(rel: string, value: string): string | null;
  batch(rels: string[], values: (string | null)[], stopOnError: boolean): NativeOutcome[];
  walk(prefix: string, flags: number): WalkResult;
  /** An fd on one key opened inside the namespace: [fd, granted access 0 r / 1 rw / 2 w]. */
  open(rel: string, access: 0 | 1): [number, 0 | 1 | 2];
  readAsync(rel: string): Promise<string>;
  writeAsync(rel: string, value: string): Promise<string | null>;
  batchAsync(rels: string[], values: (string | null)[], stopOnError: boolean): Promise<NativeOutcome[]>;
  walkAsync(prefix: string, flags: number): Promise<WalkResult>;
  /** Keep the namespace alive for a key handle; returns the release function. */
  hold(): () => void;
  /** The namespace's id ("DEV:INO"), or undefined for "wherever the caller is". */
  readonly nsId?: string | undefined;
}

/** Backend over a namespace fd; `fd()` is -1 for "where the calling thread is". */
export class SwitchingBackend implements SysctlBackend {
  constructor(private readonly fd: () => number) {}
  read(rel: string): string {
    return native.sysctlRead(this.fd(), rel);
  }
  write(rel: string, value: string): string | null {
    return native.sysctlWrite(this.fd(), rel, value);
  }
  batch(rels: string[], values: (string | null)[], stopOnError: boolean): NativeOutcome[] {
    return native.sysctlBatch(this.fd(), rels, values, stopOnError);
  }
  walk(prefix: string, flags: number): WalkResult {
    return sysctlWalk(this.fd(), prefix, flags);
  }
  open(rel: string, access: 0 | 1): [number, 0 | 1 | 2] {
    return native.sysctlOpen(this.fd(), rel, access);
  }
  readAsync(rel: string): Promise<string> {
    return native.sysctlReadAsync(this.fd(), rel);
  }
  writeAsync(rel: string, value: string): Promise<string | null> {
    return native.sysctlWriteAsync(this.fd(), rel, value);
  }
  batchAsync(rels: string[], values: (string | null)[], stopOnError: boolean): Promise<NativeOutcome[]> {
    return native.sysctlBatchAsync(this.fd(), rels, values, stopOnError);
  }
  walkAsync(prefix: string, flags: number): Promise<WalkResult> {
    return sysctlWalkAsync(this.fd(), prefix, flags);
  }
  hold(): () => void {
    return holdNamespace(this.fd());
  }
}

/**
 * Keep the namespace behind `fd` alive with a private dup; returns the (idempotent) release.
 * -1 (the caller's own namespace) needs nothing.
 */
export function holdNamespace(fd: number): () => void {
  if (fd < 0) return () => {};
  const mine = native.dup(fd);
  let done = false;
  return () => {
    if (!done) {
      done = true;
      native.close(mine);
    }
  };
}
