// npm run test:unit: the unit tier (test/unit/*.test.ts: no root, no namespaces). Each file
// runs as a plain node process with the project's TypeScript loader (scripts/ts-loader, as
// `npm test` runs it), so the tier also runs from a checkout the user cannot write to (tap's
// runner keeps state in .tap/; the loader's cache is skipped when it cannot be written).
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const loader = new URL('./ts-loader/register.mjs', import.meta.url).href;
const files = readdirSync(new URL('../test/unit/', import.meta.url))
  .filter((f) => f.endsWith('.test.ts'))
  .sort();
/** Run one file: { ok, out }. Transpiled only (types are checked by tsc). */
function run(f) {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [`--import=${loader}`, `test/unit/${f}`], {
      cwd: root,
      // All files run at once: on a loaded machine tap's 30 s default per file is too short.
      env: { ...process.env, TAP_TIMEOUT: process.env.TAP_TIMEOUT ?? '300' },
    });
    let out = '';
    c.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    c.stderr.setEncoding('utf8').on('data', (d) => (out += d));
    c.on('close', (code) => resolve({ ok: code === 0, out }));
  });
}

const results = await Promise.all(files.map(run));
let failed = 0;
files.forEach((f, i) => {
  const { ok, out } = results[i];
  if (!ok) {
    failed++;
    process.stdout.write(out);
  }
  const summary = /# \{ total: (\d+), pass: (\d+)[^}]*\}/.exec(out)?.[0] ?? '';
  console.log(`${ok ? 'ok' : 'not ok'} - test/unit/${f} ${summary}`);
});
console.log(`# ${files.length - failed} of ${files.length} unit test files passed`);
process.exit(failed === 0 ? 0 : 1);
