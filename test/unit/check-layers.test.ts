// npm run check:layers (scripts/check-layers.mjs): the layers of lib/ hold, and the check fails
// when they do not. Negative controls: a copy of this checkout's lib/ and bin/ with one bad
// import added, and a small tree with one violation of each kind.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const script = path.join(repo, 'scripts/check-layers.mjs');

function check(root?: string): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [script, ...(root === undefined ? [] : [root])], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

function tree(t: Test, files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netns-layers-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const [f, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), text);
  }
  return dir;
}

t.test('this checkout: no cycle, no upward import', async (t) => {
  const r = check();
  t.equal(r.status, 0, r.out);
  t.match(r.out, /^check-layers: ok: \d+ lib\/ files/);
});

t.test('negative control: this lib/ with one upward import added fails', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netns-layers-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.cpSync(path.join(repo, 'lib'), path.join(dir, 'lib'), { recursive: true });
  fs.cpSync(path.join(repo, 'bin'), path.join(dir, 'bin'), { recursive: true });
  t.equal(check(dir).status, 0, 'the copy passes as it is');
  const errors = path.join(dir, 'lib/errors.ts');
  fs.writeFileSync(errors, `import type { ParsedKey } from './sysctl/keys.js';\n${fs.readFileSync(errors, 'utf8')}`);
  const r = check(dir);
  t.equal(r.status, 1);
  t.match(
    r.out,
    /lib\/errors\.ts \(base\) imports lib\/sysctl\/keys\.ts \(sysctl\): a higher layer/,
    'a type-only import counts',
  );
  t.match(r.out, /import cycle: lib\/errors\.ts -> lib\/sysctl\/keys\.ts -> lib\/errors\.ts/);
});

t.test('negative control: one violation of each kind', async (t) => {
  const dir = tree(t, {
    'lib/index.ts': "export * from './audit/audit.js';\n",
    'lib/subpaths/explain.ts': "export * from '../explain/x.js';\nexport * from '../native/index.js';\n",
    'lib/errors.ts': 'export const E = 1;\n',
    'lib/native/index.ts': "import { E } from '../errors.js';\nexport const N = E;\n",
    'lib/sysctl/a.ts': "import { E } from '../errors.js';\nexport { B } from './b.js';\nexport const A = E;\n",
    'lib/sysctl/b.ts': "import { A } from './a.js';\nexport const B = () => A;\n",
    'lib/explain/x.ts': "export const X = import('../process/y.js');\n",
    'lib/process/y.ts': 'export const Y = 1;\n',
    'lib/audit/audit.ts': "import '../sysctl/a.js';\nimport '../nowhere.js';\nexport const Z = 1;\n",
    'lib/extra/z.ts': 'export const Q = 1;\n',
    'lib/printable.ts': "import { E } from './errors.js';\nexport const P = E;\n",
    'bin/cli.ts': "import { E } from '../lib/errors.js';\nimport { A } from 'netns';\nconsole.log(E, A);\n",
  });
  const r = check(dir);
  t.equal(r.status, 1);
  t.match(r.out, /lib\/native\/index\.ts \(native\) imports lib\/errors\.ts \(base\): a higher layer/);
  t.match(
    r.out,
    /import cycle: lib\/sysctl\/a\.ts -> lib\/sysctl\/b\.ts -> lib\/sysctl\/a\.ts/,
    'a cycle inside one folder',
  );
  t.match(
    r.out,
    /lib\/explain\/x\.ts \(explain\/process\) imports lib\/process\/y\.ts \(explain\/process\): another folder of the same layer/,
    'import() counts',
  );
  t.match(r.out, /lib\/audit\/audit\.ts: imports \.\.\/nowhere\.js, which is not a file of lib\//);
  t.match(r.out, /lib\/extra\/z\.ts: folder "extra" has no layer/);
  t.match(r.out, /bin\/cli\.ts: imports \.\.\/lib\/errors\.js by path; import the library as 'netns'/);
  t.notMatch(r.out, /lib\/index\.ts|lib\/subpaths/, 'the entries (root and subpath exports) may import anything');
  t.match(
    r.out,
    /lib\/printable\.ts is a leaf: it imports lib\/errors\.ts/,
    'a leaf imports nothing, even of its layer',
  );
  t.match(r.out, /check-layers: 7 problems/);
});
