// The block bench/README.md shows of the latest run: the machine and the targets from the report
// that bench/results.md holds, one heading level down, between two markers. Written by bench.ts
// after a full run; test/unit/readme-bench.test.ts checks that the two files agree.

export const BENCH_START = '<!-- bench:start -->';
export const BENCH_END = '<!-- bench:end -->';

/** What the block shows of a report: the run (machine, date, load averages) and the targets. */
export function summaryOf(report: string): string {
  const run = /^## Results\n\n((?:- .*\n)+)/m.exec(report)?.[1];
  const targets = report.indexOf('## Targets');
  if (run === undefined || targets < 0)
    throw new Error('the report has no run description ("## Results" list) or no "## Targets"');
  return `## The latest run\n\n${run}\n${report.slice(targets).trim()}\n`;
}

/** `page` with its bench block replaced by the summary of `report` (the "## Results" … targets text). */
export function withBenchBlock(page: string, report: string): string {
  const a = page.indexOf(BENCH_START),
    b = page.indexOf(BENCH_END);
  if (a < 0 || b < a) throw new Error(`the page has no bench block (${BENCH_START} … ${BENCH_END})`);
  return (
    page.slice(0, a + BENCH_START.length) +
    '\n' +
    summaryOf(report).trim().replace(/^## /gm, '### ') +
    '\n' +
    page.slice(b)
  );
}

/** The report part of bench/results.md: from "## Results" up to the hand-written analysis. */
export function reportOf(results: string): string {
  const a = results.indexOf('## Results');
  const b = results.indexOf('## Where the time goes');
  if (a < 0) throw new Error('bench/results.md has no "## Results" section');
  return results.slice(a, b < 0 ? undefined : b);
}
