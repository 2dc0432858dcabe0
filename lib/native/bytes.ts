// Names are bytes; JavaScript strings are UTF-16. The addon hands out and takes every path, key
// and value through one conversion (native/bytes.cc): UTF-8 where the bytes are UTF-8, and each
// byte that is not part of valid UTF-8 as the lone surrogate U+DC80 + (byte - 0x80) (Python's
// "surrogateescape", PEP 383). Valid UTF-8 never decodes to a lone surrogate, so two different
// names never become one string, and a string that came from the kernel goes back to the same
// bytes. These are that conversion for bytes and strings that do not cross the addon (file
// names read with node:fs, what the CLI writes to a pipe).
import { native } from './binding.js';

/** A lone surrogate: only a string that stands for bytes that are not UTF-8 holds one. */
const LONE = /\p{Cs}/u;

/**
 * The string the library uses for the bytes of a name: UTF-8 decoded, each byte that is not
 * part of valid UTF-8 as the lone surrogate U+DC80 + (byte - 0x80). Inverse of {@link fsencode}.
 */
export function fsdecode(bytes: Uint8Array): string {
  return native.fsdecode(bytes);
}

/**
 * The bytes a string from the library stands for: UTF-8, with each lone surrogate
 * U+DC80-U+DCFF as the byte it stands for (any other lone surrogate as U+FFFD, as Node writes
 * it). `fsencode(fsdecode(b))` equals `b` for every byte string `b`.
 */
export function fsencode(text: string): Buffer {
  return LONE.test(text) ? native.fsencode(text) : Buffer.from(text, 'utf8');
}

/** The length in bytes of the name `text` stands for (fsencode(text).length). */
export function byteLength(text: string): number {
  return LONE.test(text) ? native.fsencode(text).length : Buffer.byteLength(text);
}

/** Whether `text` stands for bytes that are not UTF-8 (it holds a lone surrogate). */
export function hasRawBytes(text: string): boolean {
  return LONE.test(text);
}
