// The public types reject wrong values: `tsc` on test/types (fixtures with @ts-expect-error
// lines for wrong values, and lines that must compile), and a control proving the harness fails
// when a wrong value is accepted. Needs nothing but the dev dependencies (no root, no namespace).
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { childEnv, plainNode } from './helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
const fixture = path.join(root, 'test/types/sysctl-values.ts');

function runTsc(project: string): { status: number | null; out: string } {
  const r = spawnSync(...plainNode([tsc, '-p', project, '--pretty', 'false']), {
    encoding: 'utf8',
    env: childEnv(),
    cwd: root,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

t.test('the fixtures type-check: every @ts-expect-error is an error, every other line compiles', async (t) => {
  const text = fs.readFileSync(fixture, 'utf8');
  t.ok((text.match(/@ts-expect-error/g) ?? []).length >= 20, 'the fixture holds the wrong-value lines');
  t.match(
    text,
    /@ts-expect-error[^\n]*\n\s*sysctl\.set\('net\.ipv4\.tcp_keepalive_time', 'abc'\);/,
    "'abc' for a numeric key is among them",
  );
  const r = runTsc(path.join(root, 'test/types'));
  t.equal(r.out, '', 'tsc reports nothing');
  t.equal(r.status, 0, 'tsc exits 0');
});

t.test('control: a wrong value that type-checks fails the harness with TS2578', async (t) => {
  // The fixture with one wrong value replaced by a right one, as if the types accepted 'abc':
  // its @ts-expect-error is then unused, and tsc must say so and fail.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netns-types-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const wrong = "sysctl.set('net.ipv4.tcp_keepalive_time', 'abc');";
  const lines = fs
    .readFileSync(fixture, 'utf8')
    .replace("from '../../lib/index.js'", `from ${JSON.stringify(path.join(root, 'lib/index.js'))}`)
    .split('\n');
  const at = lines.findIndex((l) => l.trim() === wrong);
  t.ok(at > 0 && lines[at - 1]!.includes('@ts-expect-error'), 'the line and its directive are found');
  lines[at] = lines[at]!.replace("'abc'", '600');
  fs.writeFileSync(path.join(dir, 'control.ts'), lines.join('\n'));
  fs.writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      extends: path.join(root, 'tsconfig.json'),
      compilerOptions: {
        noEmit: true,
        declaration: false,
        sourceMap: false,
        rootDir: '/',
        typeRoots: [path.join(root, 'node_modules/@types')],
      },
      include: ['control.ts'],
    }),
  );
  const r = runTsc(dir);
  t.not(r.status, 0, 'tsc fails');
  const errors = r.out.split('\n').filter((l) => / error TS\d+:/.test(l));
  t.same(
    errors.map((l) => l.replace(/^.*control\.ts/, 'control.ts')),
    [`control.ts(${at},3): error TS2578: Unused '@ts-expect-error' directive.`],
    'exactly the unused directive is reported',
  );
});
