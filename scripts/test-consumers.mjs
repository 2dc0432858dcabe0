// npm run test:consumers: type-check a consumer of the package (test/consumers/) the ways users
// set TypeScript up: ES modules with moduleResolution node16, nodenext and bundler, and
// CommonJS with nodenext; all strict, with exactOptionalPropertyTypes, and with the package's
// own .d.ts checked too (skipLibCheck off). And TypeScript's default setup: `tsc --strict
// default.ts` with no tsconfig at all (target ES5, module CommonJS, moduleResolution node10).
// Each runs in a temporary directory whose node_modules/netns is this checkout (built: npm run
// build:ts), as an installed package is.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const setups = [
  { name: 'esm-node16', type: 'module', file: 'consumer.ts', module: 'node16', moduleResolution: 'node16' },
  { name: 'esm-nodenext', type: 'module', file: 'consumer.ts', module: 'nodenext', moduleResolution: 'nodenext' },
  { name: 'esm-bundler', type: 'module', file: 'consumer.ts', module: 'esnext', moduleResolution: 'bundler' },
  { name: 'cjs-nodenext', type: 'commonjs', file: 'consumer.cts', module: 'nodenext', moduleResolution: 'nodenext' },
  { name: 'default', type: 'commonjs', file: 'default.ts' },
];
const work = mkdtempSync(join(tmpdir(), 'netns-consumers-'));
let failed = 0;
try {
  for (const s of setups) {
    const dir = join(work, s.name);
    mkdirSync(join(dir, 'node_modules'), { recursive: true });
    symlinkSync(root, join(dir, 'node_modules/netns'));
    symlinkSync(join(root, 'node_modules/@types'), join(dir, 'node_modules/@types'));
    cpSync(join(root, 'test/consumers', s.file), join(dir, s.file));
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: `consumer-${s.name}`, private: true, type: s.type }),
    );
    if (s.module === undefined) {
      run(s, dir, [tsc, '--strict', s.file], `${s.file}, tsc --strict with no tsconfig`);
      continue;
    }
    const compilerOptions = {
      module: s.module,
      moduleResolution: s.moduleResolution,
      target: 'es2022',
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      skipLibCheck: false,
      noEmit: true,
      types: ['node'],
    };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: [s.file] }, null, 2));
    run(s, dir, [tsc, '-p', dir], `${s.file}, module ${s.module}, moduleResolution ${s.moduleResolution}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

function run(s, dir, args, what) {
  try {
    execFileSync(process.execPath, args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    console.log(`ok: ${s.name} (${what})`);
  } catch (e) {
    failed++;
    console.log(`not ok: ${s.name}\n${e.stdout}${e.stderr}`);
  }
}
