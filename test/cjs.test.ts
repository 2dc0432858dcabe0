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

t.test('the subpath exports, from require() and import(), and nothing else of dist/', async (t) => {
  // Needs nothing but dist/ (no namespace is made).
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netns-cjs-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(root, path.join(dir, 'node_modules/netns'));
  const script = `const subpaths = ['explain', 'sysctld', 'containers', 'rootless'];
const out = {};
for (const s of subpaths) {
  const m = require('netns/' + s);
  out[s] = { keys: Object.keys(m).sort(), same: false };
}
let deep;
try { require('netns/dist/hints.js'); deep = 'loaded'; } catch (e) { deep = e.code; }
Promise.all(subpaths.map((s) => import('netns/' + s))).then((ms) => {
  ms.forEach((m, i) => { const s = subpaths[i]; out[s].same = Object.keys(m).every((k) => k === 'default' || m[k] === require('netns/' + s)[k]); });
  process.stdout.write(JSON.stringify({ out, deep }));
});`;
  const [cmd, args] = plainNode(['-e', script]);
  const r = spawnSync(cmd, args, { cwd: dir, encoding: 'utf8', env: childEnv() });
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stderr, '', 'no warning');
  const { out, deep } = JSON.parse(r.stdout || '{}') as {
    out: Record<string, { keys: string[]; same: boolean }>;
    deep: string;
  };
  t.same(out.explain?.keys, [
    'EFFECTIVE_LINES',
    'EFFECTIVE_RULES',
    'HOST_PROBE_SAFE',
    'K8S_SAFE_SYSCTLS',
    'KERNEL_RULES',
    'VERIFIED_LINES',
    'combineText',
    'defaultContext',
    'diagnoseWriteFrom',
    'effectiveFrom',
    'effectiveInputs',
    'effectiveLineFor',
    'effectiveRule',
    'effectiveRuleOf',
    'findRule',
    'kernelSupport',
    'mountOf',
    'parseMountinfo',
    'parseStatus',
    'provenanceOf',
    'remediesFor',
    'remedyCommand',
    'settableFor',
    'settablePerNamespace',
    'specSettings',
  ]);
  t.ok(
    out.sysctld?.keys.includes('parseConf') && out.sysctld.keys.includes('SYSTEM_DIRS'),
    'netns/sysctld: the parser',
  );
  t.same(out.containers?.keys, [
    'CONTAINER_RUNTIMES',
    'containerLabel',
    'containerName',
    'defaultContainerRoots',
    'findContainer',
    'listContainers',
    'trustNote',
  ]);
  t.same(out.rootless?.keys, [
    'RootlessChild',
    'RootlessHelper',
    'hasCapSysAdmin',
    'rootlessSupport',
    'userNamespaceSettings',
  ]);
  for (const s of Object.keys(out))
    t.equal(out[s]!.same, true, `netns/${s}: require() and import() give the same module`);
  t.equal(deep, 'ERR_PACKAGE_PATH_NOT_EXPORTED', 'files of dist/ that no export names cannot be required');
});
