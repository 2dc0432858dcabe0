// Where a value in a namespace comes from (lib/explain/provenance.ts), whether a container can set
// a key (settableFor, the one rule behind every remedy, lib/explain/remedies.ts), the spec's
// sysctls as the explanation reads them (specSettings), and compare()'s status: pure, on made-up
// facts and snapshots. No root, no namespaces. The live runc case is in test/containers.test.ts.
import t from 'tap';
import { provenanceOf, type ProvenanceFacts } from '../../lib/explain/provenance.js';
import { remediesFor, remedyCommand, settableFor } from '../../lib/explain/remedies.js';
import { interfaceSource, specSettings } from '../../lib/explain/target.js';
import { defaultContext } from '../../lib/explain/rules.js';
import { compare } from '../../lib/explain/observe.js';
import type { ContainerInfo } from '../../lib/container/types.js';
import type { SysctlSnapshot } from '../../lib/sysctl/sysctl.js';

const KA = 'net.ipv4.tcp_keepalive_time';
const CC = 'net.ipv4.tcp_congestion_control';
const T = '2026-01-02T03:04:05Z';
const SPEC = { value: '30', container: 'c1', file: '/run/runc/c1/state.json' };

/** A writable key of `cls` in a namespace, the host and a new namespace as given. */
const facts = (over: Partial<ProvenanceFacts>): ProvenanceFacts => ({
  key: KA,
  value: '7200',
  present: true,
  writable: true,
  class: 'default',
  host: '600',
  fresh: '7200',
  started: T,
  ...over,
});

t.test('provenance: spec, then the class decides against the host now and a new namespace now', async (t) => {
  const spec = provenanceOf(facts({ value: '30', spec: SPEC }));
  t.equal(spec.kind, 'spec', 'equal to what the spec asked');
  t.same(spec.spec, SPEC);
  t.match(spec.why, /set at start by the spec of container c1 \(\/run\/runc\/c1\/state\.json\) to "30"/);
  const drift = provenanceOf(facts({ value: '45', spec: SPEC }));
  t.equal(drift.kind, 'changed', 'the spec asked for 30, it holds 45: changed since the start');
  t.match(drift.why, new RegExp(`set "30" at start, and it is "45" now: changed since the container started at ${T}`));
  t.same(drift.spec, SPEC, 'drift keeps what the spec asked');

  const def = provenanceOf(facts({}));
  t.equal(def.kind, 'default', "the kernel's value for a new namespace");
  t.match(def.why, /the host's "600" does not reach it/);
  const changed = provenanceOf(facts({ value: '611' }));
  t.equal(changed.kind, 'changed');
  t.equal(changed.alternatives, undefined, 'a default key never holds a value it was not given: no doubt');
  t.match(provenanceOf(facts({ value: '600' })).why, /equals the host's value, which a new namespace does not copy/);

  const inh = provenanceOf(facts({ key: CC, class: 'inherited', value: 'cubic', host: 'cubic', fresh: 'cubic' }));
  t.equal(inh.kind, 'inherited', "copied from the host, equal to the host's value now");
  const moved = provenanceOf(facts({ key: CC, class: 'inherited', value: 'bbr', host: 'cubic', fresh: 'cubic' }));
  t.equal(moved.kind, 'host-changed', 'the host has another value now');
  t.same(moved.alternatives, ['changed'], 'writable inside: a change inside cannot be ruled out');
  t.match(
    moved.why,
    new RegExp(`the host may have changed since the container started at ${T} \\(it then had "bbr"\\)`),
  );
  t.match(moved.why, /no record of the host's past values tells which/);
  const ro = provenanceOf(
    facts({ key: CC, class: 'inherited', value: 'bbr', host: 'cubic', fresh: 'cubic', writable: false }),
  );
  t.equal(ro.kind, 'host-changed');
  t.equal(ro.alternatives, undefined, 'read-only inside: nothing inside changed it, so the host did');
  const src = provenanceOf(
    facts({
      key: 'net.ipv4.ip_forward',
      class: 'inherited',
      value: '1',
      host: '1',
      fresh: '1',
      sourceKey: 'net.ipv4.conf.all.forwarding',
    }),
  );
  t.match(src.why, /equal to the host's net\.ipv4\.conf\.all\.forwarding now/);
  t.match(
    provenanceOf(facts({ started: undefined, key: CC, class: 'inherited', value: 'bbr', host: 'x', fresh: 'x' })).why,
    /changed since the start/,
  );
});

t.test('provenance: parent, global, interfaces, unknown classes, absent and unreadable keys', async (t) => {
  const ehash = {
    key: 'net.ipv4.tcp_ehash_entries',
    class: 'parent' as const,
    host: '262144',
    writable: false,
    sourceKey: 'net.ipv4.tcp_child_ehash_entries',
  };
  t.equal(provenanceOf(facts({ ...ehash, value: '-262144', fresh: '-262144' })).kind, 'parent');
  const creator = provenanceOf(facts({ ...ehash, value: '4096', fresh: '-262144' }));
  t.equal(creator.kind, 'host-changed', "read-only: the creating namespace's tcp_child_ehash_entries changed since");
  t.equal(creator.alternatives, undefined);
  t.equal(provenanceOf(facts({ class: 'readonly', value: '212992', host: '212992', writable: false })).kind, 'global');
  t.equal(provenanceOf(facts({ class: 'shared', value: 'reno cubic', host: 'reno cubic' })).kind, 'global');

  const eth0 = { key: 'net.ipv4.conf.eth0.rp_filter', class: 'unknown' as const, host: null, fresh: null };
  const took = provenanceOf(
    facts({ ...eth0, value: '2', interfaceSource: { key: 'net.ipv4.conf.default.rp_filter', value: '2' } }),
  );
  t.equal(took.kind, 'interface', "equal to its namespace's conf.default: what it took when created");
  t.same(took.from, { key: 'net.ipv4.conf.default.rp_filter', value: '2' });
  const set = provenanceOf(
    facts({ ...eth0, value: '0', interfaceSource: { key: 'net.ipv4.conf.default.rp_filter', value: '2' } }),
  );
  t.equal(set.kind, 'changed');
  t.match(set.why, /set on the interface since \(or net\.ipv4\.conf\.default\.rp_filter changed after/);
  t.equal(
    provenanceOf(
      facts({ ...eth0, key: 'net.ipv6.conf.eth0.mtu', value: '1500', interfaceSource: { rule: 'link MTU' } }),
    ).kind,
    'interface',
  );

  const unk = { class: 'unknown' as const };
  t.equal(
    provenanceOf(facts({ ...unk, value: '1', host: '1', fresh: '1' })).kind,
    'unknown',
    'equal to both: not told',
  );
  t.equal(provenanceOf(facts({ ...unk, value: '1', host: '2', fresh: '1' })).kind, 'default');
  const u = provenanceOf(facts({ ...unk, value: '3', host: '2', fresh: '1' }));
  t.same([u.kind, u.alternatives], ['changed', ['host-changed']]);
  t.equal(provenanceOf(facts({ ...unk, fresh: null })).kind, 'unknown', 'not classified: nothing to compare with');
  t.equal(provenanceOf(facts({ present: false, value: null })).kind, 'absent');
  t.match(provenanceOf(facts({ value: null, error: 'EIO' })).why, /cannot be read in this namespace \(EIO\)/);
});

t.test(
  'settableFor: one rule for every remedy: parent keys read-only in a namespace, host-only split, global',
  async (t) => {
    const s = (o: Parameters<typeof settableFor>[0]) => settableFor(o);
    t.same(s({ key: KA, class: 'default', present: true, writable: true }), {
      container: true,
      reason: 'per-namespace',
      why: 'each namespace has its own value, writable inside (by pid, docker run --sysctl, securityContext.sysctls)',
    });
    const ehash = s({
      key: 'net.ipv4.tcp_ehash_entries',
      class: 'parent',
      present: true,
      writable: false,
      sourceKey: 'net.ipv4.tcp_child_ehash_entries',
    });
    t.same([ehash.container, ehash.reason], [false, 'read-only']);
    t.match(
      ehash.why,
      /fixed when the namespace is created, from the creating namespace's net\.ipv4\.tcp_child_ehash_entries/,
    );
    t.same(
      [
        s({ key: 'net.core.netdev_max_backlog', class: 'host-only', present: false }).reason,
        s({ key: 'net.ipv4.conf.eth0.rp_filter', class: 'host-only', present: false, device: 'eth0' }).reason,
        s({ key: 'net.core.xfrm_aevent_etime', class: 'hidden', present: false }).reason,
        s({ key: 'net.core.rmem_max', class: 'readonly', present: true, writable: false }).reason,
        s({ key: 'net.ipv4.tcp_available_congestion_control', class: 'shared' }).reason,
        s({ key: 'net.ipv4.conf.all.mc_forwarding', class: 'inherited', present: true, writable: false }).reason,
        s({ key: 'net.x', class: 'default', present: false }).reason,
        s({ key: 'net.x', class: 'unknown' }).reason,
        s({ key: 'net.x', class: 'unknown', writable: true }).reason,
      ],
      [
        'host-only',
        'host-interface',
        'hidden-in-userns',
        'global',
        'global',
        'read-only',
        'absent',
        'unknown',
        'per-namespace',
      ],
      "the host's own interfaces' entries apart from truly global keys",
    );
    t.match(
      s({ key: 'net.ipv4.conf.eth0/100.rp_filter', class: 'host-only', device: 'eth0.100' }).why,
      /host's interface "eth0\.100".*net\.ipv4\.conf\.IF\.rp_filter/,
    );

    // No remedy suggests a write the kernel refuses.
    const cmd = remedyCommand({
      key: 'net.ipv4.tcp_ehash_entries',
      class: 'parent',
      value: '262144',
      target: ['--container', 'c1'],
      writable: false,
    });
    t.match(cmd, /^cannot be set: read-only in a namespace/);
    t.match(
      remedyCommand({ key: 'net.x', class: 'unknown', value: '1', target: ['--pid', '7'] }),
      /^cannot be set per container: not classified/,
      'nothing known of it: no write suggested',
    );
    const r = remediesFor({
      key: 'net.ipv4.tcp_ehash_entries',
      class: 'parent',
      value: '262144',
      present: true,
      writable: false,
      sourceKey: 'net.ipv4.tcp_child_ehash_entries',
    });
    t.same([r.docker.available, r.docker.command, r.kubernetes.available], [false, undefined, false]);
    t.match(r.instead, /set net\.ipv4\.tcp_child_ehash_entries in the namespace that creates/);
  },
);

t.test('specSettings: net.* keys of every form, hostile keys dropped, the last container started wins', async (t) => {
  const c = (id: string, startTime: number, sysctl: Record<string, string>): ContainerInfo => ({
    runtime: 'runc',
    oci: 'runc',
    id,
    pid: 1,
    startTime,
    running: true,
    stateFile: `/s/${id}/state.json`,
    annotations: {},
    sysctl,
    sysctlSource: `/s/${id}/state.json`,
  });
  const m = specSettings([
    c('late', 20, { 'net.ipv4.tcp_keepalive_probes': '7' }),
    c('early', 10, {
      'net/ipv4/tcp_keepalive_intvl': '30',
      'net.ipv4.tcp_keepalive_probes': '5',
      'kernel.shmmax': '1',
      'net.ipv4.../../../kernel/x': '1',
      'net.ipv4.conf.eth0/100.rp_filter': '2',
    }),
  ]);
  t.same(Object.fromEntries([...m].map(([k, v]) => [k, [v.value, v.container]])), {
    'net.ipv4.tcp_keepalive_intvl': ['30', 'early'],
    'net.ipv4.tcp_keepalive_probes': ['7', 'late'],
    'net.ipv4.conf.eth0/100.rp_filter': ['2', 'early'],
  });
  t.equal(m.get('net.ipv4.tcp_keepalive_intvl')?.file, '/s/early/state.json');
});

t.test("interfaceSource: conf entries from the namespace's conf.default, neigh from the host's defaults", async (t) => {
  const ctx = defaultContext(0, '6.12.0');
  const asked: string[] = [];
  const valueIn = (rel: string): string | null => {
    asked.push(rel);
    return rel.endsWith('rp_filter') ? '2' : '30000';
  };
  t.same(interfaceSource('ipv4/conf/eth0/rp_filter', ctx, valueIn), {
    key: 'net.ipv4.conf.default.rp_filter',
    value: '2',
  });
  t.same(interfaceSource('ipv4/neigh/eth0/base_reachable_time_ms', ctx, valueIn), {
    key: 'net.ipv4.neigh.default.base_reachable_time_ms',
    value: '30000',
  });
  t.same(asked, ['ipv4/conf/default/rp_filter', 'ipv4/neigh/default/base_reachable_time_ms']);
  t.match(interfaceSource('ipv6/conf/eth0/mtu', ctx, valueIn), { rule: /link/ }, 'an ipv6 MTU: from the link');
});

t.test('compare: status separates value differences from one-sided and unreadable keys', async (t) => {
  const snap = (raw: Record<string, string>, unreadable: Record<string, string> = {}): SysctlSnapshot =>
    ({
      values: {},
      raw,
      unreadable: Object.fromEntries(Object.entries(unreadable).map(([k, code]) => [k, { code }])),
    }) as unknown as SysctlSnapshot;
  const a = snap(
    { 'net.a.equal': '1', 'net.a.diff': '1', 'net.a.host_only': '5', 'net.a.ws': '1\t2' },
    { 'net.a.secret': 'EIO', 'net.a.flush': 'EACCES' },
  );
  const b = snap(
    { 'net.a.equal': '1', 'net.a.diff': '2', 'net.a.child_only': '6', 'net.a.ws': '1 2', 'net.a.flush': '0' },
    {
      'net.a.secret': 'EIO',
    },
  );
  const by = Object.fromEntries(compare(a, b).map((e) => [e.key, [e.status, e.equal]]));
  t.same(by, {
    'net.a.child_only': ['b-only', false],
    'net.a.diff': ['different', false],
    'net.a.equal': ['equal', true],
    'net.a.flush': ['unreadable', false],
    'net.a.host_only': ['a-only', false],
    'net.a.secret': ['unreadable', false],
    'net.a.ws': ['equal', true],
  });
});

t.test('provenance and settable texts show tenant names through printable(); the fields stay exact', async (t) => {
  const ESC = '\x1b[31m';
  const evil = { value: `v${ESC}`, container: `c${ESC}\u202e`, file: `/run/x${ESC}/state.json` };
  const p = provenanceOf(facts({ key: `net.ipv4.conf.e${ESC}.rp_filter`, value: `w${ESC}`, spec: evil }));
  t.equal(p.kind, 'changed');
  t.notMatch(p.why, /[\x1b\u202e]/, 'no control character reaches the sentence');
  t.match(p.why, 'container c\\x1b[31m\\xe2\\x80\\xae set');
  const asked = provenanceOf(facts({ value: `v${ESC}`, spec: evil }));
  t.equal(asked.kind, 'spec');
  t.match(asked.why, 'container c\\x1b[31m\\xe2\\x80\\xae (/run/x\\x1b[31m/state.json) to "v\\x1b[31m"');
  t.match(p.why, 'set "v\\x1b[31m" at start, and it is "w\\x1b[31m" now');
  t.same(p.spec, evil, 'the spec itself is kept exact');
  const absent = provenanceOf(facts({ key: `net.ipv4.conf.e${ESC}.rp_filter`, present: false, value: null }));
  t.match(absent.why, /^net\.ipv4\.conf\.e\\x1b\[31m\.rp_filter does not exist/);
  const s = settableFor({ key: `net.ipv4.conf.e${ESC}.rp_filter`, class: 'host-only', device: `e${ESC}` });
  t.notMatch(s.why, /\x1b/);
  t.match(s.why, 'interface "e\\x1b[31m"');
});
