// The README's bench block: the report of the run that wrote bench/results.md, one heading
// level down, between two markers. Written by bench.ts; test/unit/readme-bench.test.ts checks
// that the README and bench/results.md agree.

export const BENCH_START = '<!-- bench:start -->';
export const BENCH_END = '<!-- bench:end -->';

/** `readme` with its bench block replaced by `report` (the "## Results" … targets text). */
export function withBenchBlock(readme: string, report: string): string {
  const a = readme.indexOf(BENCH_START), b = readme.indexOf(BENCH_END);
  if (a < 0 || b < a) throw new Error(`README.md has no bench block (${BENCH_START} … ${BENCH_END})`);
  return readme.slice(0, a + BENCH_START.length) + '\n' + report.trim().replace(/^## /gm, '### ') + '\n' + readme.slice(b);
}

/** The report part of bench/results.md: from "## Results" up to the hand-written analysis. */
export function reportOf(results: string): string {
  const a = results.indexOf('## Results');
  const b = results.indexOf('## Where the time goes');
  if (a < 0) throw new Error('bench/results.md has no "## Results" section');
  return results.slice(a, b < 0 ? undefined : b);
}
