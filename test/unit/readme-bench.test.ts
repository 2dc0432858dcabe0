// bench/README.md's block is the summary (the run, the targets) of the report that wrote
// bench/results.md: both are written by one `npm run bench`, and neither is edited by hand.
import fs from 'node:fs';
import t from 'tap';
import { BENCH_END, BENCH_START, reportOf, summaryOf, withBenchBlock } from '../../bench/readme.js';

const page = fs.readFileSync(new URL('../../bench/README.md', import.meta.url), 'utf8');
const results = fs.readFileSync(new URL('../../bench/results.md', import.meta.url), 'utf8');

t.test("bench/README.md's block is bench/results.md's run and targets", async (t) => {
  t.ok(page.includes(BENCH_START) && page.includes(BENCH_END), 'bench/README.md has a bench block');
  const report = reportOf(results);
  t.match(report, /## Targets \(issues? 17[^)]*\)/, 'the report has its targets');
  t.match(
    summaryOf(report),
    /^## The latest run\n\n- CPU: .*\n[\s\S]*\n## Targets \(issues? 17[^)]*\)\n\n\| method \| target/,
    'the summary: the run, then the targets',
  );
  t.equal(withBenchBlock(page, report), page, 'rewriting the block from bench/results.md changes nothing');
  const changed = page.replace(
    /(### Targets[\s\S]*?\| )(\d)/,
    (_m, a: string, d: string) => a + String((Number(d) + 1) % 10),
  );
  t.not(changed, page);
  t.not(withBenchBlock(changed, report), changed, 'a figure edited by hand in bench/README.md is caught');
});

t.test('withBenchBlock refuses a page without the markers, summaryOf a report without targets', async (t) => {
  t.throws(() => withBenchBlock('# no block\n', '## Results\n\n- CPU: x\n\n## Targets\n'), /no bench block/);
  t.throws(() => summaryOf('## Results\n\n- CPU: x\n'), /no "## Targets"/);
});
