// The kernel tier on a real host (the `host` line of the matrix): what presence alone shows,
// without writing anything: the keys a new namespace lacks, the keys a namespace owned by a user
// namespace hides, and classify()'s answer for them. Root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as os from 'node:os';
import { classify } from 'netns';
import { keyFromRel } from 'netns/sysctld';
import { presence, record, recordText, usernsEffects, verdicts } from './oracle.js';
import { LINE, rulesUserns, saveResult } from './common.js';

const x = presence();
const seen = verdicts(x);
saveResult('observed', recordText(record(LINE, os.release(), x, seen)));

test('classify() agrees with what presence shows: host-only and child-only keys', () => {
  const wrong: string[] = [];
  for (const c of classify()) {
    const v = seen.get(c.key.slice(4).replace(/[./]/g, (ch) => (ch === '.' ? '/' : '.')));
    if (v?.cls && c.class !== v.cls) wrong.push(`${c.key}: ${c.class}; observed ${v.cls}`);
  }
  assert.deepEqual(wrong, []);
});

test('the rule base knows what a namespace owned by a user namespace hides here', () => {
  const { hidden } = usernsEffects(x);
  assert.deepEqual(
    hidden.filter((r) => rulesUserns(r) !== 'hidden').map(keyFromRel),
    [],
    `${hidden.length} keys hidden on ${LINE}`,
  );
});
