// Module hooks of register.mjs: `.js` specifiers that name a `.ts` file (NodeNext style) resolve
// to it, and `.ts` files load as ES modules transpiled by TypeScript's transpileModule (what
// ts-node's transpile-only mode does), with an inline source map for stack traces and coverage.
// Output is cached in node_modules/.cache/netns-ts (or $NETNS_TS_CACHE), keyed by the source,
// the file's path, TypeScript's version and the options below. Each edit of a file adds an
// entry (a few KB to 100 KB): past MAX_ENTRIES, the first process that writes one removes the
// oldest, down to half of that (a cache hit rewrites nothing, so a file unchanged for long may
// be transpiled once more).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cacheDir = process.env.NETNS_TS_CACHE || path.join(root, 'node_modules/.cache/netns-ts');
const OPTIONS_ID = 'es2022-esnext-inline-v1';
const MAX_ENTRIES = 2000;
let pruned = false; // at most once per process
let ts; // loaded on the first cache miss only
let tsVersion;

function typescriptVersion() {
  if (tsVersion === undefined) {
    try {
      tsVersion = JSON.parse(fs.readFileSync(path.join(root, 'node_modules/typescript/package.json'), 'utf8')).version;
    } catch {
      tsVersion = 'unknown';
    }
  }
  return tsVersion;
}

export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (e) {
    if (
      e?.code !== 'ERR_MODULE_NOT_FOUND' ||
      !/\.[cm]?js$/.test(specifier) ||
      !(specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('file:'))
    )
      throw e;
    const ts = specifier
      .replace(/\.js$/, '.ts')
      .replace(/\.mjs$/, '.mts')
      .replace(/\.cjs$/, '.cts');
    return next(ts, context);
  }
}

export async function load(url, context, next) {
  if (!url.startsWith('file:') || !/\.m?ts$/.test(new URL(url).pathname)) return next(url, context);
  const file = fileURLToPath(url);
  const source = fs.readFileSync(file, 'utf8');
  const key = createHash('sha256')
    .update(`${typescriptVersion()}\0${OPTIONS_ID}\0${file}\0`)
    .update(source)
    .digest('hex');
  const cached = path.join(cacheDir, `${key}.js`);
  let out;
  try {
    out = fs.readFileSync(cached, 'utf8');
  } catch {
    ts ??= (await import('typescript')).default;
    out = ts.transpileModule(source, {
      fileName: file,
      compilerOptions: {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ESNext,
        esModuleInterop: true,
        inlineSourceMap: true,
        inlineSources: true,
        lib: ['lib.es2022.d.ts', 'lib.esnext.disposable.d.ts'],
      },
    }).outputText;
    try {
      fs.mkdirSync(cacheDir, { recursive: true });
      const tmp = `${cached}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, out);
      fs.renameSync(tmp, cached); // atomic: a parallel process reads the whole file or none
      if (!pruned) prune();
    } catch {
      /* a read-only checkout: no cache, the same output */
    }
  }
  return { format: 'module', source: out, shortCircuit: true };
}

/** Remove the oldest entries once there are more than MAX_ENTRIES. */
function prune() {
  pruned = true;
  const names = fs.readdirSync(cacheDir).filter((n) => n.endsWith('.js'));
  if (names.length <= MAX_ENTRIES) return;
  const aged = [];
  for (const n of names) {
    try {
      aged.push([fs.statSync(path.join(cacheDir, n)).mtimeMs, n]);
    } catch {
      /* removed meanwhile by another process */
    }
  }
  aged.sort((a, b) => a[0] - b[0]);
  for (const [, n] of aged.slice(0, aged.length - MAX_ENTRIES / 2)) fs.rmSync(path.join(cacheDir, n), { force: true });
}
