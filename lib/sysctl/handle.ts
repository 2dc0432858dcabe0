// SysctlHandle: an fd on one key opened inside its namespace, read with pread and written with
// pwrite at offset 0; it keeps the namespace alive until close().
import { ERRNO, closedError, netnsError } from '../errors.js';
import type { ParsedKey } from './keys.js';
import { isNativeErrno, native, preadInto, readBuf } from '../native/index.js';
import { keyError } from './key-error.js';
import { formatValue, parseValue, rawText, valueFromBytes, type GenericInput, type SysctlValue } from './values.js';

/**
 * A cached handle on one key: an fd opened inside the namespace, read with pread and written
 * with pwrite at offset 0. It keeps its namespace alive until `close()`. `V` is what it reads and
 * `I` what it writes, from the key it was opened with (see `ValueOf` and `InputOf`):
 * `open('net.ipv4.tcp_rmem')` reads `[number, number, number]`.
 */
export class SysctlHandle<V = SysctlValue, I = GenericInput> implements Disposable {
  /** The key, in dot form. */
  readonly key: string;
  /** Whether the key could be opened for writing here. */
  readonly writable: boolean;
  /** Whether the key could be opened for reading here. */
  readonly readable: boolean;
  #pk: ParsedKey;
  #fd: number;
  #release: () => void;
  #sameAsCaller: boolean;

  /** @internal Takes ownership of `fd`; `release` lets the namespace go. */
  static of<V, I>(
    pk: ParsedKey,
    fd: number,
    granted: 0 | 1 | 2,
    release: () => void,
    sameAsCaller: boolean,
  ): SysctlHandle<V, I> {
    return new SysctlHandle<V, I>(pk, fd, granted, release, sameAsCaller);
  }

  /** Get one with `sysctl.open(key)`. */
  private constructor(pk: ParsedKey, fd: number, granted: 0 | 1 | 2, release: () => void, sameAsCaller: boolean) {
    this.#pk = pk;
    this.key = pk.key;
    this.#fd = fd;
    this.readable = granted !== 2;
    this.writable = granted !== 0;
    this.#release = release;
    this.#sameAsCaller = sameAsCaller;
    handles.register(this, { fd, release }, this);
  }

  #live(syscall: 'pread' | 'pwrite'): number {
    if (this.#fd < 0) throw closedError(`SysctlHandle on ${this.key}`, syscall, this.key);
    return this.#fd;
  }

  #fail(e: unknown, op: 'read' | 'write', value?: string): never {
    if (isNativeErrno(e)) {
      if (e.errno === ERRNO.ENOENT)
        throw netnsError(ERRNO.ENOENT, e.syscall, { key: this.key, reason: 'stale-handle' });
      throw keyError(e, this.#pk, op, value, this.#sameAsCaller);
    }
    throw e;
  }

  #readText(): string {
    const fd = this.#live('pread');
    try {
      return native.fdRead(fd);
    } catch (e) {
      this.#fail(e, 'read');
    }
  }

  /** The exact text, without the trailing newline. */
  readRaw(): string {
    return rawText(this.#readText());
  }

  /** The typed value. */
  read(): V {
    const fd = this.#live('pread');
    let n: number;
    try {
      n = preadInto(fd);
    } catch (e) {
      this.#fail(e, 'read');
    }
    // A value that fills the buffer may be longer: read it whole.
    return (n < readBuf.length ? valueFromBytes(readBuf, n) : parseValue(this.#readText())) as V;
  }

  /** Write the value (pwrite at offset 0) and return the value read back. */
  write(value: I): V {
    const fd = this.#live('pwrite');
    const text = formatValue(value, this.key);
    try {
      native.fdWrite(fd, text + '\n');
      if (!this.readable) return parseValue(text) as V;
      const n = preadInto(fd);
      return (n < readBuf.length ? valueFromBytes(readBuf, n) : parseValue(native.fdRead(fd))) as V;
    } catch (e) {
      this.#fail(e, 'write', text);
    }
  }

  /** Promise form of {@link read} (a pread takes well under a microsecond). */
  async readAsync(): Promise<V> {
    return this.read();
  }

  /** Promise form of {@link write}. */
  async writeAsync(value: I): Promise<V> {
    return this.write(value);
  }

  /** Close the fd and release the namespace. Idempotent; returns `this`. */
  close(): this {
    if (this.#fd >= 0) {
      handles.unregister(this);
      const fd = this.#fd;
      this.#fd = -1;
      try {
        native.close(fd);
      } finally {
        this.#release();
      }
    }
    return this;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

const handles = new FinalizationRegistry<{ fd: number; release: () => void }>(({ fd, release }) => {
  try {
    native.close(fd);
  } catch {
    /* ignore */
  }
  release();
});
