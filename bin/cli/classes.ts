// What explain and diff share: how a class is shown, and how to set a key.
import { valuesEqual } from 'netns';
import { paint, shq } from './output.js';

const CANNOT = new Set(['host-only', 'shared', 'readonly']);

/** The short "how to set it" cell: a command line, or why it cannot be set per namespace. */
export function howShort(c: { class: string; key: string }, value: string | null, sel: string): string {
  if (CANNOT.has(c.class)) return `cannot: ${c.class}`;
  if (c.class === 'hidden') return 'cannot: hidden in a rootless container';
  const v = value ?? 'VALUE';
  return sel ? `netns sysctl ${sel} -w ${shq(`${c.key}=${v}`)}` : `netns exec --sysctl ${shq(`${c.key}=${v}`)} -- CMD`;
}

function classColour(cls: string): string {
  switch (cls) {
    case 'inherited':
      return '32';
    case 'default':
      return '33';
    case 'host-only':
    case 'hidden':
    case 'shared':
    case 'readonly':
      return '35';
    default:
      return '2';
  }
}

/** A class name, coloured on a terminal. */
export function paintClass(cls: string): string {
  return paint(classColour(cls), cls);
}

/** Table style: the CLASS column (index 3) coloured. */
export const classColumn = (col: number, c: string): string => (col === 3 ? paintClass(c) : c);

/** conf/neigh entries of one device (not all/default): they exist where the device exists. */
export function deviceOf(key: string): string | undefined {
  const m = /^net\.ipv[46]\.(?:conf|neigh)\.([^.]+)\./.exec(key);
  return m && m[1] !== 'all' && m[1] !== 'default' ? m[1] : undefined;
}

/** Equal by value, absent equal to absent. */
export function sameValue(a: string | null, b: string | null): boolean {
  if (a === null || b === null) return a === b;
  return valuesEqual(a, b);
}
