// The repository's self-link: the root devDependency `"netns": "file:."` links node_modules/netns
// to the checkout, so that the workspace packages (packages/*, e.g. netns-exporter) resolve their
// dependency on netns by its name, as they do once published. npm then runs the root's install
// and prepare scripts twice in one `npm ci`: once for that link, then for the root itself. The
// first run is skipped (the same checkout is built right after); every other install runs as
// before, a consumer's included (there INIT_CWD is the consumer's project, not this package).
//
//   node scripts/self-link.mjs COMMAND [ARGS...]   runs COMMAND, unless this is the self-link's run
import { spawnSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = realpathSync(fileURLToPath(new URL('..', import.meta.url)));

/** Whether npm runs this lifecycle script for the self-link (a dependency node whose target is the project being installed). */
export function isSelfLinkRun(env = process.env) {
  if (env.npm_package_resolved === undefined || env.INIT_CWD === undefined) return false; // the root's own run
  try {
    return realpathSync(env.INIT_CWD) === root;
  } catch {
    return false;
  }
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [cmd, ...args] = process.argv.slice(2);
  if (cmd === undefined) {
    console.error('usage: node scripts/self-link.mjs COMMAND [ARGS...]');
    process.exit(64);
  }
  if (isSelfLinkRun()) {
    console.log(
      `netns: skipping ${process.env.npm_lifecycle_event ?? cmd} for the self-link node_modules/netns (the checkout is built next)`,
    );
    process.exit(0);
  }
  const r = spawnSync(cmd, args, { stdio: 'inherit', shell: false });
  if (r.error) console.error(`netns: ${cmd}: ${r.error.message}`);
  process.exit(r.status ?? 1);
}
