// node .ci/count.mjs [--extra N] FILE:STATUS...: print one line "N passed, N failed, N skipped"
// summed over the TAP outputs of several runs (one per Node line), each read from tap's final
// summary line, e.g.
//   # { total: 141, pass: 139, fail: 1, skip: 1 }
// plus N failed extra CI checks; exit non-zero on any failure, or when a run printed no summary.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
let extraFailed = 0;
if (args[0] === '--extra') {
  extraFailed = Number(args[1] ?? 0);
  args.splice(0, 2);
}
let passed = 0;
let failed = extraFailed;
let skipped = 0;
for (const arg of args) {
  const cut = arg.lastIndexOf(':');
  const file = arg.slice(0, cut);
  const status = Number(arg.slice(cut + 1));
  const text = readFileSync(file, 'utf8');
  const last = text
    .split('\n')
    .filter((l) => /^# \{ total: \d+/.test(l))
    .at(-1);
  const num = (name) => {
    const m = last && new RegExp(`\\b${name}: (\\d+)`).exec(last);
    return m ? Number(m[1]) : 0;
  };
  let f = num('fail');
  if (!last) f += 1; // the run died before reporting
  if (status !== 0 && f === 0) f += 1; // e.g. coverage below threshold, a crashed file
  passed += num('pass');
  failed += f;
  skipped += num('skip') + num('todo');
}
if (args.length === 0) failed += 1; // nothing ran
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
