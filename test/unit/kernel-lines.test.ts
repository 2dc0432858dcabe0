// The rule base against what each kernel line really did (test/kernels/observed/LINE.json,
// recorded by `npm run test:kernels -- --record`: every key's class as the VM experiment found
// it, its values on the host and in a new namespace, and whether a namespace owned by a user
// namespace has it). Replayed through decide() with that line's version, without root or a VM:
// the rule base must put no key in a wrong class on any recorded line, know which keys a user
// namespace hides there, and say "observed" exactly for the lines where a rule is in force.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { classify } from '../../lib/explain/classify.js';
import { explain } from '../../lib/explain/explain.js';
import { keyFromRel } from '../../lib/keypath.js';
import { decide } from '../../lib/explain/decide.js';
import { KERNEL_RULES, VERIFIED_LINES, defaultContext, findRule, ruleEvidence } from '../../lib/explain/rules.js';
import type { Observation } from '../../lib/explain/observe.js';
import { ERRNO } from '../../lib/errors.js';
import type { NativeOutcome } from '../../lib/native/index.js';
import type { Classification, RuleContext } from '../../lib/explain/types.js';

type Side = [mode: number, value: string | null, error?: string];
interface Recorded {
  line: string;
  release: string;
  how: 'experiment' | 'presence';
  keys: Record<
    string,
    { class: string | null; why: string; host: Side | null; fresh: Side | null; userns: [number, boolean] | null }
  >;
}

const dir = new URL('../kernels/observed/', import.meta.url);
const records: Recorded[] = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(fs.readFileSync(new URL(f, dir), 'utf8')) as Recorded)
  .sort((a, b) => a.line.localeCompare(b.line, undefined, { numeric: true }));

const outcome = (s: Side): NativeOutcome => {
  if (s[1] !== null) return s[1];
  if (s[2] === 'EACCES') return null;
  return { errno: ERRNO[s[2] as keyof typeof ERRNO] ?? ERRNO.EIO, syscall: 'read', nativeErrno: true };
};
function snapshot(r: Recorded, side: 'host' | 'fresh'): Observation {
  const map: Observation['map'] = new Map();
  for (const [rel, k] of Object.entries(r.keys)) {
    const s = k[side];
    if (s) map.set(rel, { mode: s[0], out: outcome(s) });
  }
  return { map };
}
/** No recorded key in a wrong class, at most 1% of the settled ones unknown. */
function agrees(t: Test, r: Recorded, classOf: (rel: string) => Classification | undefined): void {
  const wrong: string[] = [];
  const unknown: string[] = [];
  let settled = 0;
  for (const [rel, k] of Object.entries(r.keys)) {
    if (!k.class) continue;
    settled++;
    const c = classOf(rel);
    if (!c || c.class === 'unknown') unknown.push(`${rel}: ${c?.evidence.reason ?? 'not listed'}`);
    else if (c.class !== k.class)
      wrong.push(`${rel}: ${c.class} (${c.evidence.reason}); observed ${k.class} (${k.why})`);
  }
  t.same(wrong, [], 'keys in a wrong class');
  t.ok(unknown.length <= settled / 100, `${unknown.length} unknown of ${settled}: ${unknown.join('; ')}`);
}

const ctxOf = (line: string, userns = false): RuleContext => ({
  ...defaultContext(0, `${line}.0`),
  ...(userns ? { childUserns: true } : {}),
});

t.test('every verified line has a record, and every record is a verified line', async (t) => {
  t.same(
    records.map((r) => r.line),
    VERIFIED_LINES.map((l) => l.line),
  );
  for (const l of VERIFIED_LINES) t.equal(l.how, 'observed', `${l.line}: observed`);
});

for (const r of records) {
  t.test(`${r.line} (${r.release}, ${r.how}): no key in a wrong class, at most 1% unknown`, async (t) => {
    const host = snapshot(r, 'host');
    const fresh = snapshot(r, 'fresh');
    const ctx = ctxOf(r.line);
    agrees(t, r, (rel) => decide(rel, host, fresh, ctx, true, false));
  });

  t.test(`${r.line}: the rule base knows what a namespace owned by a user namespace hides`, async (t) => {
    const ctx = ctxOf(r.line, true);
    const bad: string[] = [];
    let hidden = 0;
    for (const [rel, k] of Object.entries(r.keys)) {
      if (!k.fresh) continue;
      const rule = findRule(rel, ctx);
      const says = rule ? ruleEvidence(rule, rel, ctx).userns === 'hidden' : false;
      if (k.userns === null) hidden++;
      if (says !== (k.userns === null))
        bad.push(`${rel}: ${k.userns === null ? 'hidden' : 'present'}, the rules say ${says ? 'hidden' : 'present'}`);
    }
    t.same(bad, []);
    t.comment(`${hidden} keys hidden on ${r.line}`);
  });
}

t.test("each rule's checked lines say observed exactly where it decides a key of a recorded line", async (t) => {
  const inForce = new Map<string, Set<string>>();
  for (const r of records) {
    const ctx = ctxOf(r.line);
    for (const rel of Object.keys(r.keys)) {
      const id = findRule(rel, ctx)?.id;
      if (id) (inForce.get(id) ?? inForce.set(id, new Set()).get(id)!).add(r.line);
    }
  }
  for (const rule of KERNEL_RULES) {
    if (rule.id === 'ensure_safe_net_sysctl') continue; // cited, never matched by key
    const said = new Map(rule.checked.filter((c) => c.how === 'observed').map((c) => [c.line, c.holds]));
    for (const r of records) {
      const used = inForce.get(rule.id)?.has(r.line) ?? false;
      t.equal(
        said.get(r.line),
        used,
        `${rule.id} on ${r.line}: ${used ? 'decides keys there' : 'decides no key there'}`,
      );
    }
  }
});

t.test('lib/explain/kernel-lines.ts is what the records give (node scripts/kernel-lines.mjs)', async (t) => {
  const r = spawnSync(
    process.execPath,
    [fileURLToPath(new URL('../../scripts/kernel-lines.mjs', import.meta.url)), '--check'],
    { encoding: 'utf8' },
  );
  t.equal(r.status, 0, r.stderr);
});

for (const r of records.filter((x) => x.how === 'experiment')) {
  t.test(
    `classify({ kernel: '${r.line}' }): the rule base alone agrees with the experiment on ${r.line}`,
    async (t) => {
      const got = new Map(classify({ kernel: r.line }).map((c) => [c.key, c]));
      agrees(t, r, (rel) => got.get(keyFromRel(rel)));
    },
  );
}

t.test('explain({ kernel }): the lesson for 6.1, with the line it was verified on', async (t) => {
  const cc = explain('net.ipv4.tcp_congestion_control', { kernel: '6.1' });
  t.same(
    [cc.class, cc.kernel.line, cc.kernel.verified, cc.kernel.ruleCheckedOnRunning],
    ['inherited', '6.1', true, true],
  );
  t.match(cc.kernel.note, /verified on 6\.1: Debian 12 linux-image-6\.1/);
  t.same([cc.host, cc.child], [null, null], 'nothing observed');
  const ka = explain('net.ipv4.tcp_keepalive_time', { kernel: '6.1.0-57-amd64' });
  t.same([ka.class, ka.kernel.line, ka.evidence.rule?.expect], ['default', '6.1', '7200']);
  t.match(ka.sentence, /reset to the kernel's built-in default/);
});

t.test(
  'explain({ kernel }): keys whose class changes between lines, keys a line lacks, keys a user namespace hides',
  async (t) => {
    const cls = (key: string, line: string): string => explain(key, { kernel: line }).class;
    t.same(
      ['5.10', '6.1', '6.12'].map((l) => cls('net.core.rmem_default', l)),
      ['host-only', 'host-only', 'readonly'],
    );
    t.same(
      ['5.10', '6.1', '6.12'].map((l) => cls('net.core.optmem_max', l)),
      ['host-only', 'host-only', 'default'],
    );
    t.same(
      ['5.10', '6.1'].map((l) => cls('net.ipv4.icmp_msgs_per_sec', l)),
      ['host-only', 'default'],
    );
    t.same(
      ['5.10', '6.1'].map((l) => cls('net.ipv4.route.min_pmtu', l)),
      ['host-only', 'default'],
    );
    t.same(
      ['5.10', '6.1'].map((l) => cls('net.ipv4.tcp_max_tw_buckets', l)),
      ['default', 'parent'],
    );
    const gone = explain('net.ipv4.udp_hash_entries', { kernel: '6.1' });
    t.equal(gone.class, 'unknown');
    t.match(gone.sentence, /does not exist on 6\.1/);
    t.match(explain('net.core.somaxconn', { kernel: '6.1' }).evidence.notes?.join(' '), /user namespace/);
    t.notMatch(explain('net.core.somaxconn', { kernel: '6.12' }).evidence.notes?.join(' ') ?? '', /user namespace/);
    t.match(
      explain('net.ipv4.neigh.eth0.gc_stale_time', { kernel: '5.10' }).evidence.notes?.join(' '),
      /user namespace/,
      "a device entry, answered as lo's",
    );
  },
);

t.test('explain({ kernel }) off the verified lines says what it does not know', async (t) => {
  const e = explain('net.ipv4.tcp_keepalive_time', { kernel: '5.15' });
  t.same([e.class, e.kernel.line, e.kernel.verified, e.kernel.ruleCheckedOnRunning], ['default', '5.15', false, false]);
  t.match(
    e.kernel.note,
    /5\.15 is not a verified line \(5\.10, 6\.1, 6\.12, 6\.18\)\. Not known on 5\.15: whether the key exists there/,
  );
  t.match(e.evidence.notes?.join(' '), /not a line the kernel matrix recorded/);
  t.throws(() => explain('net.ipv4.tcp_keepalive_time', { kernel: 'six' }), RangeError);
  t.throws(() => classify({ kernel: '6.1', probe: true }), RangeError);
});
