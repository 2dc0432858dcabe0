// CommonJS consumers: require('netns') from a .cjs file, on the Node line running the suite
// (require(esm): 20.19+, 22.12+, 24+; the engines range). The package is reached by its name,
// through node_modules, as an installed one is.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { childEnv, plainNode } from './helpers.js';

// Needs: root (CAP_SYS_ADMIN) for the namespace the fixture creates; dist/ built.
const root = fileURLToPath(new URL('..', import.meta.url));

t.test('require("netns") from a .cjs file', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netns-cjs-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(root, path.join(dir, 'node_modules/netns'));
  fs.copyFileSync(path.join(root, 'test/fixtures/consumer/smoke.cjs'), path.join(dir, 'smoke.cjs'));
  const script = `const m = require('./smoke.cjs'); const n = require('netns');
process.stdout.write(JSON.stringify({ ok: m.ok, same: n === require('netns'), keys: Object.keys(n).length }));`;
  const [cmd, args] = plainNode(['-e', script]);
  const r = spawnSync(cmd, args, { cwd: dir, encoding: 'utf8', env: childEnv() });
  t.equal(r.status, 0, `node ${process.version} ran it: ${r.stderr}`);
  t.equal(r.stderr, '', 'no warning (require(esm) is not experimental on a supported line)');
  const out = JSON.parse(r.stdout || '{}') as { ok?: boolean; same?: boolean; keys?: number };
  t.equal(out.ok, true, 'the fixture read a sysctl on the host and inside a new namespace');
  t.equal(out.same, true, 'one module instance');
  t.ok((out.keys ?? 0) > 20, `the named exports are there (${out.keys})`);
});
