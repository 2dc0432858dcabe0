// The kernel tier, as root: classify() and explain() against what this kernel really does
// (oracle.ts: an experiment with plain fs and unshare), the rule base's knowledge of what a
// user-namespace-owned namespace hides, the demo's claims, and `netns explain`. In the matrix's
// VM only: the experiment changes global values of the kernel (and restores them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classify, explain, type Classification } from 'netns';
import { keyFromRel } from 'netns/sysctld';
import * as os from 'node:os';
import { experiment, record, recordText, usernsEffects, verdicts, type Experiment, type KeyVerdict } from './oracle.js';
import { IN_VM, LINE, NETNS_CLI, ROOT, rulesUserns, run, saveResult } from './common.js';

const skip = IN_VM ? false : "changes the kernel's global values: runs in the matrix's VMs only (npm run test:kernels)";

let classes: Classification[] = [];
let x: Experiment | undefined;
let seen = new Map<string, KeyVerdict>();
const rel = (key: string): string => key.slice(4).replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));

test('classify() as root, every key', { skip }, () => {
  classes = classify();
  assert.ok(classes.length > 300, `${classes.length} keys`);
});

test('the experiment: presence, the creator, the host (plain fs and unshare)', { skip }, () => {
  x = experiment();
  seen = verdicts(x);
  assert.ok(x.hostWritten.length > 100, `${x.hostWritten.length} host keys changed for the experiment`);
  assert.ok(x.childWritten.length > 100, `${x.childWritten.length} keys changed in a creating namespace`);
});

/** classify() against the experiment: agreeing, wrong and unknown keys. */
function agreement(): { settled: number; agree: string[]; wrong: string[]; unknown: string[] } {
  const r = { settled: 0, agree: [] as string[], wrong: [] as string[], unknown: [] as string[] };
  for (const c of classes) {
    const v = seen.get(rel(c.key));
    if (!v?.cls) continue;
    r.settled++;
    if (c.class === v.cls) r.agree.push(c.key);
    else if (c.class === 'unknown') r.unknown.push(`${c.key}: unknown (${c.evidence.reason}); observed ${v.cls}`);
    else r.wrong.push(`${c.key}: classify says ${c.class} (${c.evidence.reason}); observed ${v.cls} (${v.why})`);
  }
  return r;
}

test('classify() puts no key in a class this kernel contradicts', { skip }, () => {
  assert.ok(x, 'the experiment ran');
  const a = agreement();
  const hidden = usernsEffects(x);
  const byClass: Record<string, number> = {};
  for (const c of classes) byClass[c.class] = (byClass[c.class] ?? 0) + 1;
  saveResult('classify', {
    line: LINE,
    keys: classes.length,
    settled: a.settled,
    agree: a.agree.length,
    agreementPct: a.settled ? Math.floor((10000 * a.agree.length) / a.settled) / 100 : 0,
    wrong: a.wrong,
    unknown: a.unknown,
    unsettled: [...seen].filter(([, v]) => !v.cls).length,
    byClass,
    hidden: hidden.hidden.map(keyFromRel),
    usernsReadonly: hidden.readonly.map(keyFromRel),
    notRestored: x.notRestored,
  });
  // Every key, as observed, for the rule base (npm run test:kernels -- --record keeps it).
  saveResult('observed', recordText(record(LINE, os.release(), x, seen)));
  assert.deepEqual(a.wrong, [], 'keys in a wrong class');
});

test('classify() agrees with the experiment for at least 99% of the keys it settles', { skip }, () => {
  const a = agreement();
  const pct = (100 * a.agree.length) / a.settled;
  assert.ok(pct >= 99, `${pct.toFixed(2)}% (${a.agree.length}/${a.settled}); unknown: ${a.unknown.join('; ')}`);
});

test('no kernel rule is contradicted by what this kernel shows', { skip }, () => {
  const bad = classes.filter((c) => c.evidence.contradiction).map((c) => `${c.key}: ${c.evidence.contradiction}`);
  assert.deepEqual(bad, []);
});

test('the rule base knows what a namespace owned by a user namespace hides here', { skip }, () => {
  assert.ok(x, 'the experiment ran');
  const { hidden } = usernsEffects(x);
  const missed = hidden.filter((r) => rulesUserns(r) !== 'hidden').map(keyFromRel);
  const wrong = Object.keys(x.userns)
    .filter((r) => x!.fresh[r] && rulesUserns(r) === 'hidden')
    .map(keyFromRel);
  assert.deepEqual({ missed, wrong }, { missed: [], wrong: [] }, `${hidden.length} keys hidden on ${LINE}`);
});

test('explain(): the lesson on this kernel, verified for this line', { skip }, () => {
  const cc = explain('net.ipv4.tcp_congestion_control');
  assert.equal(cc.class, 'inherited');
  for (const [k, v] of [
    ['time', '7200'],
    ['intvl', '75'],
    ['probes', '9'],
  ] as const) {
    const e = explain(`net.ipv4.tcp_keepalive_${k}`);
    assert.equal(e.class, 'default', k);
    assert.equal(e.child, v, k);
  }
  assert.equal(cc.kernel.running, LINE);
  assert.equal(cc.kernel.verified, true, cc.kernel.note);
});

test('netns explain --json agrees with explain()', { skip }, () => {
  const keys = ['net.ipv4.tcp_congestion_control', 'net.ipv4.tcp_keepalive_time', 'net.core.somaxconn'];
  const cli = JSON.parse(run(process.execPath, [NETNS_CLI, 'explain', '--json', ...keys])) as {
    key: string;
    class: string;
  }[];
  assert.deepEqual(
    cli.map((e) => [e.key, e.class]),
    keys.map((k) => [k, explain(k).class]),
  );
});

test("the demo's claims hold on this kernel", { skip }, () => {
  const out = run(process.execPath, [`${ROOT}dist/examples/inherited-vs-default.js`]);
  assert.match(out, /net\.ipv4\.tcp_congestion_control\s+(\S+)\s+\1\s+\1\s+inherited from host/);
  for (const [k, d] of [
    ['time', 7200],
    ['intvl', 75],
    ['probes', 9],
  ] as const)
    assert.match(out, new RegExp(`net\\.ipv4\\.tcp_keepalive_${k}\\s+\\d+\\s+${d}\\s+${d}\\s+reset to kernel default`));
  assert.match(out, /Host restored: 4 key\(s\) changed, 4 restored\./);
  assert.doesNotMatch(out, /✘/);
});
