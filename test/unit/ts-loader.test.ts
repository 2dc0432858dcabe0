// scripts/ts-loader (how every test file runs): a .ts file is transpiled once and then read from
// the cache, `.js` specifiers reach `.ts` files, and the cache is pruned to half of its bound
// once it passes it, oldest entries first. Each run is a child node with a cache of its own.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const loader = fileURLToPath(new URL('../../scripts/ts-loader/register.mjs', import.meta.url));

function run(file: string, cache: string): string {
  const r = spawnSync(process.execPath, [`--import=${loader}`, file], {
    encoding: 'utf8',
    env: { ...process.env, NETNS_TS_CACHE: cache },
  });
  if (r.status !== 0) throw new Error(`node ${file}: ${r.stderr}`);
  return r.stdout.trim();
}

t.test('transpiled once, then read from the cache; .js specifiers reach .ts files', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netns-ts-loader-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const cache = path.join(dir, 'cache');
  fs.writeFileSync(path.join(dir, 'dep.ts'), 'export const n: number = 41;\n');
  fs.writeFileSync(path.join(dir, 'main.ts'), "import { n } from './dep.js';\nconsole.log(n + 1);\n");
  t.equal(run(path.join(dir, 'main.ts'), cache), '42');
  const entries = fs.readdirSync(cache);
  t.equal(entries.length, 2, 'one entry per file');
  // A hit is read, not transpiled again: an entry changed behind the loader's back shows.
  for (const e of entries) {
    const p = path.join(cache, e);
    const text = fs.readFileSync(p, 'utf8');
    if (text.includes('41')) fs.writeFileSync(p, text.replace('41', '99'));
  }
  t.equal(run(path.join(dir, 'main.ts'), cache), '100', 'the cached output ran');
  fs.writeFileSync(path.join(dir, 'dep.ts'), 'export const n: number = 1;\n');
  t.equal(run(path.join(dir, 'main.ts'), cache), '2', 'an edited source is a new entry');
  t.equal(fs.readdirSync(cache).length, 3);
});

t.test('past 2,000 entries, the oldest go, down to 1,000', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netns-ts-loader-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const cache = path.join(dir, 'cache');
  fs.mkdirSync(cache);
  for (let i = 0; i < 2000; i++) {
    const p = path.join(cache, `${String(i).padStart(64, '0')}.js`);
    fs.writeFileSync(p, '');
    fs.utimesSync(p, 1_700_000_000 + i, 1_700_000_000 + i);
  }
  fs.writeFileSync(path.join(dir, 'a.ts'), 'console.log(1 as number);\n');
  t.equal(run(path.join(dir, 'a.ts'), cache), '1');
  const left = fs.readdirSync(cache).sort();
  t.equal(left.length, 1000);
  t.notOk(left.includes(`${'0'.repeat(64)}.js`), 'the oldest went');
  t.ok(left.includes(`${String(1999).padStart(64, '0')}.js`), 'the newest stayed');
  t.equal(left.filter((n) => !/^0+\d+\.js$/.test(n)).length, 1, "and the new file's entry");
});
