// Text for a person's terminal: the one escape of everything a tenant or a file on disk names
// (interface names inside keys, namespace names, container ids and names, pod names, values,
// and the messages that quote them). A leaf: it imports nothing.
//
// The convention is bash's $'...' (and printf %b, and C): a backslash is written `\\`, and every
// byte of a character a terminal could act on, or that a person could not see, is written
// `\xNN` (two lowercase hex digits) -- C0 controls and DEL, C1 controls (U+0080-U+009F, whose
// UTF-8 is two bytes: U+009B, CSI, is `\xc2\x9b`), the Unicode bidirectional and line
// controls (U+061C, U+200E, U+200F, U+2028-U+202E, U+2066-U+2069), and each byte of a name
// that is not UTF-8 (a lone surrogate U+DC80-U+DCFF stands for one, see fsdecode). The text is
// unambiguous and `$'TEXT'` in bash gives back the exact bytes. Any other lone surrogate (not
// from bytes; only a JavaScript string can hold one) is written `\uXXXX`.

// Everything printable() rewrites; with the u flag, [\ud800-\udfff] matches lone surrogates only.
const UNSAFE = /[\0-\x1f\x7f-\x9f\\\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]/u;
const UNSAFE_ALL = /[\0-\x1f\x7f-\x9f\\\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]/gu;
const CONTROL_ALL = /[\0-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]/gu;

const hex = (b: number): string => `\\x${b.toString(16).padStart(2, '0')}`;

function escapeOne(ch: string): string {
  const c = ch.charCodeAt(0);
  if (c === 0x5c) return '\\\\';
  if (c < 0x80) return hex(c);
  if (c < 0x800) return hex(0xc0 | (c >> 6)) + hex(0x80 | (c & 0x3f));
  if (c >= 0xdc80 && c <= 0xdcff) return hex(c - 0xdc00);
  if (c >= 0xd800 && c <= 0xdfff) return `\\u${c.toString(16).padStart(4, '0')}`;
  return hex(0xe0 | (c >> 12)) + hex(0x80 | ((c >> 6) & 0x3f)) + hex(0x80 | (c & 0x3f));
}

/**
 * `text` as a person may see it on a terminal: controls, bidirectional controls and the bytes
 * of a name that is not UTF-8 as `\xNN`, the backslash as `\\`; everything else as it is.
 * `printable('e\x1b[31m')` is `e\x1b[31m` written with a real backslash (6 characters,
 * none of them ESC). Unambiguous: `$'…'` in bash gives back the exact bytes. Use it for
 * every name or value that came from a tenant or a file when printing for a person; JSON and
 * programs get the exact strings.
 */
export function printable(text: string): string {
  return UNSAFE.test(text) ? text.replace(UNSAFE_ALL, escapeOne) : text;
}

/**
 * printable() for text already made of printable parts (a message whose names were escaped
 * when it was put together): controls that a name put in raw would bring are escaped as
 * printable() escapes them, and backslashes are left alone (they are printable()'s own escapes).
 * The last guard before a terminal, not a replacement for printable().
 */
export function terminalSafe(text: string): string {
  return UNSAFE.test(text) ? text.replace(CONTROL_ALL, escapeOne) : text;
}

/**
 * One word of a suggested command line, as a shell reads it: as it is when plainly safe,
 * 'single-quoted' when it holds nothing printable() would change but tabs, else bash's $'…' with
 * printable()'s escapes (`$'e\x1b[31m'`), which is both safe on a terminal and, pasted into
 * bash, zsh or ksh (and POSIX.1-2024 shells), the exact bytes.
 */
export function shellWord(s: string): string {
  if (/^[A-Za-z0-9_.,:/=@%+-]+$/.test(s)) return s;
  // A tab (the separator of a vector value) is harmless on a terminal: it stays in '…'.
  const plain = s.replaceAll('\t', ' ');
  if (printable(plain) === plain) return `'${s.replace(/'/g, `'\\''`)}'`;
  return `$'${printable(s).replace(/'/g, "\\'")}'`;
}
