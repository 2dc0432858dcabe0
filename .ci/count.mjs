// Print "N passed, N failed, N skipped" from tap's final summary line, e.g.
//   # { total: 141, pass: 139, fail: 1, skip: 1 }
// plus extra CI checks, and exit non-zero on any failure or when no summary was printed.
import { readFileSync } from 'node:fs';

const [file, statusArg, extraArg] = process.argv.slice(2);
const text = readFileSync(file, 'utf8');
const status = Number(statusArg);
const extraFailed = Number(extraArg ?? 0);
const lines = text.split('\n').filter((l) => /^# \{ total: \d+/.test(l));
const last = lines.at(-1);
const num = (name) => {
  const m = last && new RegExp(`\\b${name}: (\\d+)`).exec(last);
  return m ? Number(m[1]) : 0;
};
let passed = num('pass');
let failed = num('fail');
const skipped = num('skip') + num('todo');
if (!last) failed += 1; // the run died before reporting
if (status !== 0 && failed === 0) failed += 1; // e.g. coverage below threshold, a crashed file
failed += extraFailed;
passed += 0;
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
