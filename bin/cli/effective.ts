// The lines below a table that name each interface entry the kernel does not use as it shows
// (conf.all takes part): netns diff, diff --all and explain TARGET print the library's account.
import type { EffectiveValue } from 'netns';
import { shown } from './output.js';

/**
 * The rows whose interface entry is not the value the kernel uses (conf.all takes part), one
 * line each with the library's account (`effective 2 = max(all 2, eth0 1): loose`), or ''.
 */
export function effectiveNotes(rows: readonly { key: string; effective?: EffectiveValue }[], indent = ''): string {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const r of rows)
    if (r.effective?.differs && !seen.has(r.key)) {
      seen.add(r.key);
      lines.push(`${indent}  ${shown(r.key)}: ${r.effective.text}`); // text: built from printable() parts
    }
  if (lines.length === 0) return '';
  return `${indent}the kernel uses another value than the entry shows (conf.all takes part; netns explain TARGET KEY says more):\n${lines.join('\n')}\n`;
}
