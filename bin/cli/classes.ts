// What explain and diff share: how a class is shown. (How to set a key is the library's
// remedyCommand(); which classes cannot be set per namespace, its settablePerNamespace().)
import { valuesEqual } from 'netns';
import { settablePerNamespace } from 'netns/explain';
import { paint } from './output.js';

function classColour(cls: string): string {
  if (cls === 'inherited') return '32';
  if (cls === 'default') return '33';
  return settablePerNamespace(cls) ? '2' : '35';
}

/** A class name, coloured on a terminal. */
export function paintClass(cls: string): string {
  return paint(classColour(cls), cls);
}

/** Table style: the CLASS column (index 3) coloured. */
export const classColumn = (col: number, c: string): string => (col === 3 ? paintClass(c) : c);

/** Equal by value, absent equal to absent. */
export function sameValue(a: string | null, b: string | null): boolean {
  if (a === null || b === null) return a === b;
  return valuesEqual(a, b);
}
