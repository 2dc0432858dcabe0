#!/usr/bin/env node
// Audit of the explain rule base on this machine: every key of /proc/sys/net with its class and
// the rule (or observation) behind it, then the count per class, the unknown keys and any
// contradiction between a rule and what the kernel shows. Needs root (creates one namespace),
// changes nothing, and uses dist/ (run `npm run build:ts` first).
//   node scripts/explain-audit.mjs [--json] [--max-unknown-percent N]
// Exit status 1 when unknown keys reach N percent (default 1) or a rule is contradicted.
import { classify } from '../dist/index.js';
import { kernelSupport, defaultContext } from '../dist/subpaths/explain.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const i = args.indexOf('--max-unknown-percent');
const maxPct = i >= 0 ? Number(args[i + 1]) : 1;

const rows = classify();
const counts = {};
for (const r of rows) counts[r.class] = (counts[r.class] ?? 0) + 1;
const unknown = rows.filter((r) => r.class === 'unknown');
const contradictions = rows.filter((r) => r.evidence.contradiction);
const pct = rows.length ? (100 * unknown.length) / rows.length : 0;
const summary = {
  kernel: kernelSupport(defaultContext()),
  keys: rows.length,
  counts,
  unknownPercent: Number(pct.toFixed(2)),
  unknown: unknown.map((r) => ({ key: r.key, reason: r.evidence.reason })),
  contradictions: contradictions.map((r) => ({ key: r.key, contradiction: r.evidence.contradiction })),
};
if (json) {
  process.stdout.write(
    JSON.stringify(
      {
        ...summary,
        rows: rows.map((r) => ({
          key: r.key,
          class: r.class,
          rule: r.evidence.rule?.id ?? null,
          reason: r.evidence.reason,
        })),
      },
      null,
      2,
    ) + '\n',
  );
} else {
  for (const r of rows) process.stdout.write(`${r.key}\t${r.class}\t${r.evidence.rule?.id ?? '-'}\n`);
  process.stdout.write(
    `\n${summary.kernel.note}\n${rows.length} keys: ${Object.entries(counts)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}\n`,
  );
  process.stdout.write(
    `unknown: ${unknown.length} (${summary.unknownPercent}%)${unknown.map((r) => `\n  ${r.key}: ${r.evidence.reason}`).join('')}\n`,
  );
  process.stdout.write(
    `contradictions: ${contradictions.length}${contradictions.map((r) => `\n  ${r.key}: ${r.evidence.contradiction}`).join('')}\n`,
  );
}
process.exitCode = pct >= maxPct || contradictions.length > 0 ? 1 : 0;
