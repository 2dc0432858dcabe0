// How much of a namespace diff and explain read: --max-interfaces, --max-keys, --device; and
// the line that says a namespace was over them (the library's Truncation, printed).
import type { Truncation, WalkLimits } from 'netns';
import { UsageError } from './errors.js';

export const limitOptions = {
  'max-interfaces': { type: 'string' },
  'max-keys': { type: 'string' },
  device: { type: 'string', multiple: true },
} as const;

export const LIMITS_HELP = `Bounds (whatever a tenant creates; a namespace over them is reported truncated on stderr):
      --max-interfaces N  interfaces read per namespace (default 256; lo and --device first)
      --max-keys N        keys read per namespace (default 50000; keys of no interface: all)
      --device NAME       always read interface NAME (repeatable), e.g. --device eth0`;

export interface LimitValues {
  'max-interfaces'?: string;
  'max-keys'?: string;
  device?: string[];
}

function count(v: string | undefined, option: string, command: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) > 0xffffffff)
    throw new UsageError(`--${option} expects a whole number from 0 to 4294967295, got ${JSON.stringify(v)}`, command);
  return Number(v);
}

/** The library's WalkLimits from the options (checked: a bad number is a usage error). */
export function limitsOf(v: LimitValues, command: string): WalkLimits {
  const limits: WalkLimits = {};
  const maxInterfaces = count(v['max-interfaces'], 'max-interfaces', command);
  const maxKeys = count(v['max-keys'], 'max-keys', command);
  if (maxInterfaces !== undefined) limits.maxInterfaces = maxInterfaces;
  if (maxKeys !== undefined) limits.maxKeys = maxKeys;
  if (v.device !== undefined) limits.devices = v.device;
  return limits;
}

/** "2001 interfaces, 256 read (--max-interfaces 256), 33218 keys read (--max-keys 50000)". */
export function truncationText(t: Truncation): string {
  return `${t.interfaces} interfaces, ${t.interfacesRead} read (--max-interfaces ${t.maxInterfaces}), ${t.keysRead} keys read (--max-keys ${t.maxKeys})`;
}
