// The classification decision (lib/explain/decide.ts) on made-up observations: pure, no root,
// no namespaces. Each case is what a host and a fresh namespace could show for one key.
import t from 'tap';
import { applyProbe, decide } from '../../lib/explain/decide.js';
import { deviceOf } from '../../lib/keypath.js';
import { defaultContext, findRule } from '../../lib/explain/rules.js';
import type { Observation } from '../../lib/explain/observe.js';

const ctx = defaultContext(0, '6.18.0');
type Entry = [rel: string, mode: number, value: string | null];
const snap = (...entries: Entry[]): Observation => ({
  map: new Map(entries.map(([rel, mode, value]) => [rel, { mode, out: value === null ? null : `${value}\n` }])),
});
const INIT = ['core/netdev_max_backlog', 0o644, '1000'] as Entry;

t.test('presence alone settles host-only and child-only', async (t) => {
  const host = snap(['core/only_here', 0o644, '1'], INIT);
  const child = snap(['core/only_there', 0o644, '2']);
  const h = decide('core/only_here', host, child, ctx, true, false);
  t.equal(h.class, 'host-only');
  t.equal(h.key, 'net.core.only_here');
  t.equal(h.host, '1');
  t.equal(h.child, null);
  t.match(h.evidence.reason, /present on the host, absent in a fresh namespace/);
  t.equal(decide('core/only_there', host, child, ctx, true, false).class, 'child-only');
});

t.test('writable on the host, read-only inside, same value: readonly', async (t) => {
  const c = decide('core/x', snap(['core/x', 0o644, '5']), snap(['core/x', 0o444, '5']), ctx, true, false);
  t.equal(c.class, 'readonly');
  t.equal(c.evidence.observed.equal, true);
  t.equal(c.evidence.observed.host.mode, '644');
  t.equal(c.evidence.observed.child.writable, false);
  const d = decide('core/x', snap(['core/x', 0o644, '5']), snap(['core/x', 0o444, '6']), ctx, true, false);
  t.equal(d.class, 'unknown', 'read-only inside but a different value: not settled');
});

t.test('a rule decides when values are equal; observation agrees when they differ', async (t) => {
  const rel = 'ipv4/tcp_keepalive_time';
  t.equal(findRule(rel, ctx)?.id, 'tcp_sk_init.keepalive');
  const equal = decide(rel, snap([rel, 0o644, '7200'], INIT), snap([rel, 0o644, '7200']), ctx, true, false);
  t.equal(equal.class, 'default');
  t.match(equal.evidence.reason, /rule tcp_sk_init\.keepalive \(values equal: the rule decides\)/);
  const differ = decide(rel, snap([rel, 0o644, '600'], INIT), snap([rel, 0o644, '7200']), ctx, true, false);
  t.equal(differ.class, 'default');
  t.match(differ.evidence.reason, /values differ, consistent/);
  t.same([differ.host, differ.child], ['600', '7200']);
});

t.test('without a rule, equal values never decide alone; different ones mean default', async (t) => {
  const rel = 'core/no_rule_for_this';
  t.equal(findRule(rel, ctx), undefined);
  t.equal(decide(rel, snap([rel, 0o644, '1']), snap([rel, 0o644, '1']), ctx, true, false).class, 'unknown');
  t.equal(decide(rel, snap([rel, 0o644, '1']), snap([rel, 0o644, '2']), ctx, true, false).class, 'default');
  t.equal(
    decide(rel, snap([rel, 0o644, '1']), snap([rel, 0o644, '2']), ctx, false, false).class,
    'unknown',
    'not observed from the initial namespace',
  );
  t.equal(
    decide(rel, snap([rel, 0o200, null]), snap([rel, 0o200, null]), ctx, true, false).class,
    'unknown',
    'unreadable',
  );
});

t.test('a host value that kept changing is unknown, with a note', async (t) => {
  const rel = 'ipv4/tcp_keepalive_time';
  const c = decide(rel, snap([rel, 0o644, '7200']), snap([rel, 0o644, '7200']), ctx, true, true);
  t.equal(c.class, 'unknown');
  t.match(c.evidence.notes?.join(' '), /changed while it was being observed/);
});

t.test('per-device entries are noted', async (t) => {
  t.equal(deviceOf('ipv4/conf/eth0/rp_filter'), 'eth0');
  t.equal(deviceOf('ipv4/conf/all/rp_filter'), undefined);
  t.equal(deviceOf('ipv6/neigh/lo/retrans_time_ms'), 'lo');
  const rel = 'ipv4/conf/eth0/rp_filter';
  const c = decide(rel, snap([rel, 0o644, '1']), snap(), ctx, true, false);
  t.equal(c.class, 'host-only');
  t.match(c.evidence.notes?.[0], /Per-device entry of "eth0" \(present on the host only\)/);
});

t.test('probes settle a key, and a probe against the rule makes it unknown', async (t) => {
  const rel = 'core/no_rule_for_this';
  const base = (): ReturnType<typeof decide> =>
    decide(rel, snap([rel, 0o644, '1']), snap([rel, 0o644, '1']), ctx, true, false);
  const a = base();
  applyProbe(a, { outcome: 'from-creator' }, undefined, true);
  t.equal(a.class, 'parent');
  const b = base();
  applyProbe(b, { outcome: 'not-from-creator' }, { outcome: 'from-host', restored: true }, true);
  t.equal(b.class, 'inherited');
  const c = base();
  applyProbe(c, undefined, { outcome: 'not-from-host', restored: true }, true);
  t.equal(c.class, 'default');
  const d = base();
  applyProbe(
    d,
    { outcome: 'error', error: 'host value changed by a write in a child namespace (1 -> 2); restored' },
    undefined,
    true,
  );
  t.equal(d.class, 'shared');
  const e = base();
  applyProbe(e, { outcome: 'inconclusive' }, undefined, true);
  t.equal(e.class, 'unknown');
  t.match(e.evidence.reason, /parent probe: inconclusive; no host probe/);
  const k = 'ipv4/tcp_keepalive_time';
  const f = decide(k, snap([k, 0o644, '7200'], INIT), snap([k, 0o644, '7200']), ctx, true, false);
  applyProbe(f, { outcome: 'from-creator' }, undefined, true);
  t.equal(f.class, 'unknown');
  t.match(f.evidence.reason, /predicts default but the probe shows parent/);
});
