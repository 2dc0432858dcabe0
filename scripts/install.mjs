// npm's install script: use the prebuilt binaries the package ships when one fits this host
// and loads, else build from source with node-gyp (needs g++, make, python3).
// NETNS_BUILD_FROM_SOURCE=1 always builds (so does npm_config_build_from_source=true).
// With scripts disabled (npm --ignore-scripts, pnpm and bun by default) nothing runs, and the
// loader (lib/native/binding.ts) takes the prebuilt binary directly.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isSelfLinkRun } from './self-link.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
// In a checkout, npm runs this once for the self-link node_modules/netns and once for the
// checkout itself (scripts/self-link.mjs): the first would build the same tree twice.
if (isSelfLinkRun()) {
  console.log('netns: skipping the install script for the self-link node_modules/netns (the checkout is built next)');
  process.exit(0);
}
const dir = `${root}prebuilds/${process.platform}-${process.arch}`;
const env = (name) => (process.env[name] ?? '').trim().toLowerCase();
const fromSource =
  ['1', 'true'].includes(env('NETNS_BUILD_FROM_SOURCE')) || env('npm_config_build_from_source') === 'true';

/** Why the prebuilt binary does not fit, or null when it loads here. */
function prebuiltProblem() {
  if (!existsSync(`${dir}/netns.node`) || !existsSync(`${dir}/netns-rootless`))
    return `no prebuilt binary for ${process.platform}-${process.arch}`;
  // Loaded in a child, so a crash or a dynamic-linker error (an older glibc, musl) stays there.
  const r = spawnSync(process.execPath, ['-e', 'require(process.argv[1]).nsInfo', `${dir}/netns.node`], {
    encoding: 'utf8',
  });
  if (r.status !== 0)
    return `the prebuilt binary does not load here: ${(r.stderr || r.error?.message || '').split('\n').find((l) => /Error|error/.test(l)) ?? `exit ${r.status}`}`;
  return null;
}

const problem = fromSource ? 'a build from source was asked for' : prebuiltProblem();
if (problem === null) {
  console.log(`netns: using the prebuilt binaries in prebuilds/${process.platform}-${process.arch}`);
  process.exit(0);
}
console.log(`netns: ${problem}; building from source with node-gyp`);
// npm tells its scripts where its own node-gyp is; pnpm and yarn put one on PATH.
const gyp = process.env.npm_config_node_gyp;
const r =
  gyp && existsSync(gyp)
    ? spawnSync(process.execPath, [gyp, 'rebuild'], { cwd: root, stdio: 'inherit' })
    : spawnSync('node-gyp', ['rebuild'], { cwd: root, stdio: 'inherit' });
if (r.error) console.error(`netns: cannot run node-gyp: ${r.error.message}`);
process.exit(r.status ?? 1);
