// node scripts/check-package.mjs: what `npm pack` would put in the tarball, checked. It must
// carry the library (dist/ with its types), the CLI, the prebuilt binaries of both arches, the
// sources a rebuild needs (native/, binding.gyp), the docs and the examples' sources; and no
// compiled examples, benchmarks, tests, build output or CI files. The tarball stays under a
// size bound. Run in CI (.ci/extra) and before publishing; needs dist/ and prebuilds/ built
// (npm run build:ts, npm run build:prebuilds).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const MAX_PACKED = 1 << 20; // bytes: the tarball
const MAX_UNPACKED = 4 << 20; // bytes: installed

const [pack] = JSON.parse(
  execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { encoding: 'utf8' }),
);
const files = new Map(pack.files.map((f) => [f.path, f]));
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const problems = [];

const required = [
  'package.json',
  'README.md',
  'binding.gyp',
  'scripts/install.mjs',
  ...readdirSync('docs')
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
  pkg.main,
  pkg.types,
  // every export (types first, then the module) and every typesVersions path
  ...Object.values(pkg.exports).flatMap((e) => (typeof e === 'string' ? [e] : [e.types, e.default])),
  ...Object.values(pkg.typesVersions?.['*'] ?? {}).flat(),
  ...Object.values(pkg.bin),
  ...readdirSync('native', { recursive: true })
    .filter((f) => /\.(cc|h)$/.test(f))
    .map((f) => `native/${f}`),
  ...readdirSync('examples')
    .filter((f) => /\.(ts|md)$/.test(f))
    .map((f) => `examples/${f}`),
  ...['x64', 'arm64'].flatMap((a) => [`prebuilds/linux-${a}/netns.node`, `prebuilds/linux-${a}/netns-rootless`]),
].map((p) => p.replace(/^\.\//, ''));
for (const p of required) if (!files.has(p)) problems.push(`missing: ${p}`);
for (const [name, e] of Object.entries(pkg.exports))
  if (typeof e !== 'string' && Object.keys(e)[0] !== 'types')
    problems.push(`exports['${name}']: "types" must come first`);

// Programs keep their executable bit (npm keeps the owner's x bit as 0755).
for (const p of [
  ...Object.values(pkg.bin),
  'prebuilds/linux-x64/netns-rootless',
  'prebuilds/linux-arm64/netns-rootless',
]) {
  const f = files.get(p.replace(/^\.\//, ''));
  if (f && (f.mode & 0o111) === 0) problems.push(`not executable: ${p}`);
}

const forbidden = [
  [/^test\//, 'tests'],
  [/\.test\.[cm]?[jt]s$/, 'tests'],
  [/^dist\/(examples|bench|test|kernels)\//, 'compiled examples, benchmarks or tests'],
  [/^bench\//, 'benchmarks'],
  [/^build\//, 'build output'],
  [/\.o$/, 'object files'],
  [/^(coverage|\.tap|\.ci|node_modules)\//, 'CI or local state'],
];
for (const path of files.keys()) {
  for (const [re, what] of forbidden) if (re.test(path)) problems.push(`${what} in the tarball: ${path}`);
}
if (pack.size > MAX_PACKED) problems.push(`tarball is ${pack.size} bytes, over ${MAX_PACKED}`);
if (pack.unpackedSize > MAX_UNPACKED)
  problems.push(`unpacked size is ${pack.unpackedSize} bytes, over ${MAX_UNPACKED}`);

if (problems.length) {
  console.error(`check-package: ${problems.length} problem(s) in ${pack.filename}:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(
  `check-package: ${pack.filename}: ${pack.entryCount} files, ${pack.size} bytes packed, ${pack.unpackedSize} unpacked: ok`,
);
