// The README's performance block is the report of the run that wrote bench/results.md.
import fs from 'node:fs';
import t from 'tap';
import { BENCH_END, BENCH_START, reportOf, withBenchBlock } from '../../bench/readme.js';

const readme = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const results = fs.readFileSync(new URL('../../bench/results.md', import.meta.url), 'utf8');

t.test('the README block is bench/results.md\'s report', async (t) => {
  t.ok(readme.includes(BENCH_START) && readme.includes(BENCH_END), 'the README has a bench block');
  const report = reportOf(results);
  t.match(report, /## Targets \(issue 17\)/, 'the report has its targets');
  t.equal(withBenchBlock(readme, report), readme, 'rewriting the block from bench/results.md changes nothing');
  const changed = readme.replace(/(### Targets[^]*?\| )(\d)/, (_m, a: string, d: string) => a + String((Number(d) + 1) % 10));
  t.not(changed, readme);
  t.not(withBenchBlock(changed, report), changed, 'a figure edited by hand in the README is caught');
});

t.test('withBenchBlock refuses a README without the markers', async (t) => {
  t.throws(() => withBenchBlock('# no block\n', '## Results\n'), /no bench block/);
});
