// The Markdown pages hold together: every relative link in every *.md of the repository names a
// file that exists, and a `#fragment` names a heading of that page (GitHub's anchors); the
// README's example is examples/quickstart.ts, which test/examples.test.ts runs.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';

const root = path.resolve(new URL('../..', import.meta.url).pathname);
const SKIP_DIRS = new Set(['node_modules', 'dist', 'build', 'prebuilds', '.git', '.tap', 'coverage']);

function markdownFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) out.push(...markdownFiles(path.join(dir, e.name)));
    } else if (e.name.endsWith('.md')) out.push(path.join(dir, e.name));
  }
  return out;
}

/** The text outside fenced code blocks and inline code spans (links there are not links). */
function prose(md: string): string {
  return md.replace(/^(```|~~~)[\s\S]*?^\1/gm, '').replace(/`[^`\n]*`/g, '');
}

/** A heading's anchor as GitHub makes it: rendered text, lower case, punctuation dropped, spaces to '-'. */
export function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links: their text
    .replace(/[`*]/g, '') // code spans and emphasis: their text
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{N}\p{M}\p{Pc}\- ]/gu, '').replace(/ /g, '-');
}

/** Every anchor of a page, duplicates numbered as GitHub numbers them (x, x-1, x-2). */
export function anchors(md: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of md.replace(/^(```|~~~)[\s\S]*?^\1/gm, '').matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const s = slug(m[1]!);
    const n = seen.get(s) ?? 0;
    seen.set(s, n + 1);
    out.add(n === 0 ? s : `${s}-${n}`);
  }
  return out;
}

/** [text](target) and [ref]: target links of a page. */
export function links(md: string): string[] {
  const text = prose(md);
  const inline = [...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
  const refs = [...text.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1]!);
  return [...inline, ...refs];
}

/** What is wrong with one link of `file`, or undefined. */
function problem(file: string, target: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined; // https:, mailto:
  const [p, fragment] = target.split('#', 2) as [string, string | undefined];
  const dest = p === '' ? file : path.resolve(path.dirname(file), decodeURIComponent(p));
  if (!fs.existsSync(dest)) return `${target}: no such file`;
  if (fragment === undefined || fragment === '') return undefined;
  if (!dest.endsWith('.md')) return undefined; // a line anchor in source is the host's business
  if (!anchors(fs.readFileSync(dest, 'utf8')).has(decodeURIComponent(fragment)))
    return `${target}: no heading with that anchor`;
  return undefined;
}

t.test('the anchor and link readers', async (t) => {
  t.equal(slug('NetNamespace.fromPid(*pid*) -> *NetNamespace*'), 'netnamespacefrompidpid---netnamespace');
  t.equal(
    slug('Snapshot handles: sysctl.snapshot([*prefix*]) -> *SysctlSnapshotHandle*'),
    'snapshot-handles-sysctlsnapshotprefix---sysctlsnapshothandle',
  );
  t.equal(slug('`netns/explain`: rule tables'), 'netnsexplain-rule-tables');
  t.same([...anchors('# A\n## B\n```\n# not a heading\n```\n## B\n')], ['a', 'b', 'b-1']);
  t.same(links('[a](x.md) `[b](y.md)` [c](z.md#h "t")\n```\n[d](w.md)\n```\n[e]: ref.md\n'), [
    'x.md',
    'z.md#h',
    'ref.md',
  ]);
});

t.test('every relative link in every Markdown page resolves', async (t) => {
  const files = markdownFiles(root);
  for (const must of [
    'README.md',
    'docs/api.md',
    'docs/cli.md',
    'docs/install.md',
    'examples/README.md',
    'bench/README.md',
  ])
    t.ok(files.includes(path.join(root, must)), `${must} is among the pages checked`);
  let checked = 0;
  for (const file of files) {
    const bad = links(fs.readFileSync(file, 'utf8'))
      .map((l) => problem(file, l))
      .filter((p) => p !== undefined);
    checked += links(fs.readFileSync(file, 'utf8')).length;
    t.same(bad, [], path.relative(root, file));
  }
  t.ok(checked > 50, `${checked} links checked`);
});

t.test('the checker catches a broken link and a missing anchor', async (t) => {
  const readme = path.join(root, 'README.md');
  t.match(problem(readme, 'docs/no-such-page.md'), /no such file/);
  t.match(problem(readme, 'docs/api.md#no-such-heading'), /no heading/);
  t.equal(problem(readme, 'docs/api.md#errors'), undefined);
});

t.test("the README's example is examples/quickstart.ts", async (t) => {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const block = /## Example\n[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  t.ok(block, 'the README has an example');
  const file = fs.readFileSync(path.join(root, 'examples/quickstart.ts'), 'utf8');
  // The file is the block plus its opening comment (what it is, how to run it).
  t.equal(file.replace(/^(\/\/.*\n)+/, ''), block);
});
