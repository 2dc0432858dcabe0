// npm run check:layers: the import graph of lib/ holds its layers, and bin/ reaches the library
// only through its package name. Fails (exit 1) on any import cycle among lib/'s files, on any
// import of a higher layer or of another folder of the same layer, and on a bin/ file that
// imports lib/ by path. Every import counts, `import type` and `export ... from` included (a
// type-only cycle is still two files that cannot be read apart).
//
//   node scripts/check-layers.mjs [ROOT]     ROOT holds lib/ and bin/ (default: this checkout)
//
// The layers, lowest first; a file may import its own folder and any lower layer:
//   native  <  base (lib/*.ts: errors, hints and the other leaves)  <  sysctl  <  rootless
//   <  container  <  namespace  <  explain | process  <  audit  <  the entries (lib/index.ts and
//   lib/subpaths/*.ts, the package's exports), which may import anything. The leaves
//   (lib/keypath.ts, lib/userns.ts, lib/printable.ts) import nothing of lib/.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const LAYERS = [
  ['native'],
  ['.'],
  ['sysctl'],
  ['rootless'],
  ['container'],
  ['namespace'],
  ['explain', 'process'],
  ['audit'],
];
/**
 * Leaves: files of the base layer that import no file of lib/ at all (node: builtins only), so
 * that anything may use them: the key<->path conversion, the user-namespace settings, and the
 * one escape of names for a terminal.
 */
const LEAVES = ['keypath.ts', 'userns.ts', 'printable.ts'];
/** The package's entry points: the root export and the subpath exports. */
const isEntry = (rel) => rel === 'index.ts' || rel.startsWith('subpaths/');

const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
const lib = join(root, 'lib');
const bin = join(root, 'bin');

/** Every .ts file under `dir`, as paths relative to `dir` with '/' separators. */
function tsFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true })
    .map((f) => String(f).split(sep).join('/'))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .sort();
}

/** The module specifiers a file imports or re-exports (static, type-only and import() alike). */
function specifiers(file) {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return info.importedFiles.map((f) => f.fileName);
}

/** The folder of a lib/ file ('.' for lib/ itself) and its layer (Infinity for the entry). */
function placeOf(rel) {
  const folder = rel.includes('/') ? rel.slice(0, rel.indexOf('/')) : '.';
  if (isEntry(rel)) return { folder, layer: Infinity };
  const layer = LAYERS.findIndex((l) => l.includes(folder));
  return { folder, layer };
}

const layerName = (n) => (n === Infinity ? 'the entry' : LAYERS[n].map((f) => (f === '.' ? 'base' : f)).join('/'));

const problems = [];
const files = tsFiles(lib);
/** lib file -> the lib files it imports. */
const graph = new Map(files.map((f) => [f, []]));

for (const f of files) {
  const from = placeOf(f);
  if (from.layer === -1)
    problems.push(`lib/${f}: folder "${from.folder}" has no layer (add it to LAYERS in scripts/check-layers.mjs)`);
  for (const s of specifiers(join(lib, f))) {
    if (!s.startsWith('.')) continue; // node: builtins and packages
    const target = relative(lib, resolve(dirname(join(lib, f)), s))
      .split(sep)
      .join('/')
      .replace(/\.js$/, '.ts');
    if (target.startsWith('..')) {
      problems.push(`lib/${f}: imports ${s}, outside lib/`);
      continue;
    }
    if (!graph.has(target)) {
      problems.push(`lib/${f}: imports ${s}, which is not a file of lib/`);
      continue;
    }
    graph.get(f).push(target);
    if (LEAVES.includes(f)) problems.push(`lib/${f} is a leaf: it imports lib/${target}`);
    const to = placeOf(target);
    if (to.folder === from.folder || to.layer < from.layer) continue;
    problems.push(
      `lib/${f} (${layerName(from.layer)}) imports lib/${target} (${layerName(to.layer)}): ` +
        (to.layer === from.layer ? 'another folder of the same layer' : 'a higher layer'),
    );
  }
}

// Cycles: the strongly connected components of more than one file (or a file importing itself).
function cycles() {
  let index = 0;
  const idx = new Map(),
    low = new Map(),
    onStack = new Set(),
    stack = [],
    out = [];
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const scc = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || graph.get(v).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

/** One path around a component, for the message: a -> b -> ... -> a. */
function loopThrough(scc) {
  const inside = new Set(scc);
  const start = scc[0];
  const prev = new Map([[start, null]]);
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift();
    for (const w of graph.get(v)) {
      if (!inside.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let x = v; x !== start; x = prev.get(x)) path.splice(1, 0, x);
        return [...path, start].map((p) => `lib/${p}`).join(' -> ');
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return scc.map((p) => `lib/${p}`).join(', ');
}

for (const scc of cycles()) problems.push(`import cycle: ${loopThrough(scc)}`);

// bin/: the CLI uses the library as its users do, through the package name.
const binFiles = tsFiles(bin);
for (const f of binFiles) {
  for (const s of specifiers(join(bin, f))) {
    if (!s.startsWith('.')) continue;
    const target = relative(bin, resolve(dirname(join(bin, f)), s));
    if (target.startsWith('..')) problems.push(`bin/${f}: imports ${s} by path; import the library as 'netns'`);
  }
}

const edges = [...graph.values()].reduce((n, e) => n + e.length, 0);
if (problems.length > 0) {
  for (const p of problems) console.error(`check-layers: ${p}`);
  console.error(
    `check-layers: ${problems.length} problem${problems.length === 1 ? '' : 's'} in ${files.length} lib/ files (${edges} imports) and ${binFiles.length} bin/ files`,
  );
  process.exit(1);
}
console.log(
  `check-layers: ok: ${files.length} lib/ files, ${edges} imports, no cycle, no upward import; ${binFiles.length} bin/ files import the library as 'netns'`,
);
