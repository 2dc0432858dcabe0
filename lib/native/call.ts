// The call area (native/netns.h AddonData::CallArea): the hottest reads take their arguments
// from, and leave their result in, memory the addon and JavaScript share, so that no JS value
// crosses N-API on their way (each would cost more than the rest of the call; see
// bench/analysis.md). Synchronous and one per environment: read the result before the next call.
import { native } from './binding.js';

/** Layout of CallArea: int32 fd, relLen, n, spare; then the rel bytes. */
const REL_OFFSET = 16;
const ints = new Int32Array(native.callArea, 0, 4);
const relArea = new Uint8Array(native.callArea, REL_OFFSET, native.callArea.byteLength - REL_OFFSET - 1);
const { fdPread, sysctlReadInto } = native;

/** Where fdPread and sysctlReadInto leave the bytes (4 KiB, one per environment). */
export const readBuf = new Uint8Array(native.readBuffer);

/** pread(fd, readBuf, 4 KiB, 0): the byte count (a count of readBuf.length: there may be more). */
export function preadInto(fd: number): number {
  ints[0] = fd;
  fdPread();
  return ints[2]!;
}

/**
 * Open `rel` (its UTF-8 bytes, a validated path under /proc/sys/net) inside namespace `nsfd`
 * (-1: where the thread is), read it into readBuf, close it: the byte count (a count of
 * readBuf.length: there may be more).
 */
export function readInto(nsfd: number, rel: Uint8Array): number {
  ints[0] = nsfd;
  if (rel !== lastRel) {
    // Only this function writes the path bytes: the same key read again is already there.
    ints[1] = rel.length;
    relArea.set(rel);
    lastRel = rel;
  }
  sysctlReadInto();
  return ints[2]!;
}
/** The path whose bytes the call area holds now. */
let lastRel: Uint8Array | undefined;
