// The explain rule base against the running kernel: every key of /proc/sys/net classified, each
// rule checked against what the kernel shows, a wrong rule caught, and the subtleties the lesson
// names (devconf_inherit_init_net 0-3, interfaces created later, child hash sizes, keys hidden in
// a namespace owned by a user namespace). Needs root (creates namespaces); the devconf test
// changes net.core.devconf_inherit_init_net on the host for a moment, under
// /tmp/netns-host.lock, and restores it (checked).
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as zlib from 'node:zlib';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NetNamespace } from '../lib/namespace/handle.js';
import { classify, explain, type Classification } from '../lib/index.js';
import { KERNEL_RULES, defaultContext, ruleEvidence } from '../lib/explain/rules.js';
import type { KernelRule } from '../lib/explain/types.js';
import { parseKey } from '../lib/sysctl/keys.js';
import { K8S_SAFE_SYSCTLS } from '../lib/explain/k8s-sysctls.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const env = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' };
const sh = (script: string): { status: number | null; stdout: string; stderr: string } => {
  const r = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8', env, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
};
const readHost = (rel: string): string => fs.readFileSync(`/proc/sys/net/${rel}`, 'utf8').trim();
const knob = '/proc/sys/net/core/devconf_inherit_init_net';

let all: Classification[] = [];
t.before(() => {
  all = classify();
});

t.test('every key of /proc/sys/net here has a class; under 1% unknown; no contradiction', async (t) => {
  const unknown = all.filter((c) => c.class === 'unknown');
  t.ok(all.length > 500, `${all.length} keys`);
  t.ok(
    unknown.length / all.length < 0.01,
    `unknown: ${unknown.length} of ${all.length}: ${unknown.map((c) => `${c.key} (${c.evidence.reason})`).join('; ')}`,
  );
  t.same(
    all.filter((c) => c.evidence.contradiction).map((c) => `${c.key}: ${c.evidence.contradiction}`),
    [],
    'no rule is contradicted by this kernel',
  );
  const names = new Set(all.map((c) => c.key));
  for (const k of [
    'net.ipv4.icmp_echo_ignore_all',
    'net.ipv4.ip_nonlocal_bind',
    'net.ipv4.fib_multipath_hash_policy',
    'net.ipv4.tcp_child_ehash_entries',
  ])
    if (names.has(k)) t.not(all.find((c) => c.key === k)!.class, 'unknown', `${k} is settled`);
});

t.test('the audit script lists every key and exits 0', async (t) => {
  const r = spawnSync(process.execPath, [`${root}/scripts/explain-audit.mjs`, '--json'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  t.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  t.ok(doc.keys > 500);
  t.equal(doc.rows.length, doc.keys);
  t.ok(doc.unknownPercent < 1);
  t.same(doc.contradictions, []);
  t.equal(doc.kernel.running, `${defaultContext().kernel[0]}.${defaultContext().kernel[1]}`);
});

t.test('each rule against observation on this kernel', async (t) => {
  const byRule = new Map<string, Classification[]>();
  for (const c of all)
    if (c.evidence.rule) byRule.set(c.evidence.rule.id, [...(byRule.get(c.evidence.rule.id) ?? []), c]);
  const unused: string[] = [];
  for (const r of KERNEL_RULES) {
    const list = byRule.get(r.id);
    if (!list) {
      unused.push(r.id);
      continue;
    }
    for (const c of list) {
      const rev = c.evidence.rule!;
      // A per-device entry of a host interface is host-only by presence whatever its rule says.
      const hostDevice = c.class === 'host-only' && c.evidence.observed.child.present === false;
      if (!hostDevice) t.equal(c.class, rev.class, `${c.key}: ${r.id} predicts ${rev.class}`);
      if (rev.expect !== undefined)
        t.ok(
          c.child !== null && c.child.trim() === rev.expect,
          `${c.key}: a fresh namespace has ${rev.expect} (${r.id})`,
        );
      if (rev.sourceKey && c.class === 'inherited' && c.evidence.observed.source)
        t.equal(c.evidence.observed.source.equal, true, `${c.key}: equals the host's ${rev.sourceKey}`);
    }
    t.ok(
      r.checked.some((x) => x.line === '6.1' && x.how === 'source'),
      `${r.id}: checked in 6.1 source`,
    );
    t.ok(
      r.checked.some((x) => x.line === '6.12' && x.how === 'source'),
      `${r.id}: checked in 6.12 source`,
    );
    t.ok(
      r.checked.some((x) => x.line === '6.18'),
      `${r.id}: checked on 6.18`,
    );
  }
  t.comment(`rules with no key on this machine (other kernel lines or modules): ${unused.join(', ') || 'none'}`);
});

t.test('a rule that observation contradicts makes the key unknown, with the contradiction', async (t) => {
  const wrong = (over: Partial<KernelRule> & { id: string; match: RegExp }): KernelRule => ({
    class: 'default',
    fn: 'made_up',
    file: 'net/made/up.c',
    versions: 'test',
    verified: true,
    checked: [{ line: '6.18', how: 'observed', holds: true }],
    explanation: 'an injected wrong rule',
    ...over,
  });
  const rules = [
    wrong({ id: 'wrong.expect', match: /^ipv4\/tcp_keepalive_time$/, expect: () => '600' }),
    wrong({ id: 'wrong.host_only', match: /^core\/somaxconn$/, class: 'host-only' }),
    wrong({ id: 'wrong.readonly', match: /^ipv4\/tcp_fin_timeout$/, class: 'readonly' }),
    wrong({
      id: 'wrong.copy',
      match: /^ipv4\/tcp_syn_retries$/,
      class: 'inherited',
      source: () => 'ipv4/tcp_keepalive_time',
    }),
    ...KERNEL_RULES,
  ];
  const keys = [
    'net.ipv4.tcp_keepalive_time',
    'net.core.somaxconn',
    'net.ipv4.tcp_fin_timeout',
    'net.ipv4.tcp_syn_retries',
    'net.ipv4.tcp_keepalive_intvl',
  ];
  const list = new Map(classify({ keys, rules }).map((c) => [c.key, c]));
  for (const k of keys.slice(0, 4)) {
    const c = list.get(k)!;
    t.equal(c.class, 'unknown', `${k}: unknown`);
    t.match(c.evidence.contradiction, /rule wrong\./, `${k}: ${c.evidence.contradiction}`);
    t.match(c.evidence.reason, /^contradiction: /);
  }
  t.equal(list.get('net.ipv4.tcp_keepalive_intvl')!.class, 'default', 'the real rules still decide the other keys');
  t.notOk(list.get('net.ipv4.tcp_keepalive_intvl')!.evidence.contradiction);
  const e = explain('net.ipv4.tcp_keepalive_time', { rules });
  t.match(e.sentence, /disagree/, 'explain says the rule and the kernel disagree');
});

t.test('kernel awareness: the verified lines, and what is not known off them', async (t) => {
  const e = explain('net.ipv4.tcp_keepalive_time');
  t.same(
    e.kernel.verifiedLines.map((l) => l.line),
    ['5.10', '6.1', '6.12', '6.18'],
  );
  const running = `${defaultContext().kernel[0]}.${defaultContext().kernel[1]}`;
  t.equal(e.kernel.running, running);
  t.equal(e.kernel.verified, ['5.10', '6.1', '6.12', '6.18'].includes(running));
  const off = explain('net.ipv4.tcp_keepalive_time', { context: { kernel: [6, 5] } });
  t.equal(off.kernel.running, '6.5');
  t.equal(off.kernel.verified, false);
  t.equal(off.kernel.ruleCheckedOnRunning, false);
  t.match(off.kernel.note, /not for 6\.5/);
  t.match(off.evidence.rule?.kernel.note, /not checked on 6\.5/);
  t.equal(off.class, 'default', 'the rule still answers, marked as not verified on that line');
  // A key whose history differs before a rule's first version gets no family fallback there.
  const old = classify({ keys: ['net.ipv4.tcp_rmem'], context: { kernel: [4, 14] } })[0]!;
  t.equal(old.evidence.rule, null, 'no rule for tcp_rmem before 4.15');
});

t.test('explain: a sentence, its source, docker and Kubernetes remedies; JSON has the same', async (t) => {
  const keys = [
    'net.ipv4.tcp_congestion_control',
    'net.ipv4.tcp_keepalive_time',
    'net.ipv4.tcp_keepalive_intvl',
    'net.ipv4.tcp_keepalive_probes',
    'net.ipv4.icmp_echo_ignore_all',
    'net.ipv4.conf.lo.rp_filter',
  ];
  for (const k of keys) {
    const e = explain(k);
    t.ok(e.sentence.length > 20, `${k}: sentence`);
    t.match(e.source, /^\w+\(\).* in net\//, `${k}: source names a kernel function and file`);
    t.match(e.remedies.docker.command, /^docker run --sysctl net\.ipv4\./, `${k}: docker`);
    t.match(e.remedies.kubernetes.securityContext, /securityContext: \{ sysctls:/, `${k}: k8s`);
    t.match(e.remedies.initContainer, /privileged/);
    const safe = K8S_SAFE_SYSCTLS.find((s) => s.name === k);
    t.equal(e.remedies.kubernetes.safe, safe !== undefined, `${k}: safe set`);
    if (safe) t.equal(e.remedies.kubernetes.since, safe.since);
    else t.match(e.remedies.kubernetes.text, /--allowed-unsafe-sysctls/);
  }
  t.equal(explain('net.ipv4.tcp_keepalive_probes').remedies.kubernetes.since, '1.29');
  t.equal(explain('net.ipv4.tcp_congestion_control').remedies.kubernetes.safe, false);
  const mode = Number(fs.readFileSync(knob, 'utf8').trim());
  for (const k of ['net.ipv4.conf.default.forwarding', 'net.ipv6.conf.default.forwarding']) {
    const e = explain(k);
    t.match(
      e.sentence,
      new RegExp(`devconf_inherit_init_net = ${mode} here`),
      `${k}: says where conf.default comes from at this mode`,
    );
    t.match(e.sentence, /the two families differ/);
  }
  const lo = explain('net.ipv4.conf.lo.rp_filter');
  t.match(lo.sentence, /conf\.default at the moment it is created/);
  // ipv6 lo.mtu is lo's link MTU (65536), not a copy of conf.default.mtu (1280).
  const mtu = explain('net.ipv6.conf.lo.mtu');
  t.equal(mtu.evidence.rule?.id, 'ipv6_add_dev.mtu');
  t.equal(mtu.evidence.observed.source, undefined, 'no source key compared');
  t.notMatch(mtu.sentence, /takes its .* from that namespace's conf\.default/, mtu.sentence);
  t.match(mtu.sentence, /link\) MTU/);
  t.notMatch(mtu.evidence.reason, /values differ/);
  t.match(mtu.source, /^ipv6_add_dev\(\)/);
  const dad = explain('net.ipv6.conf.lo.accept_dad');
  t.equal(dad.evidence.observed.source, undefined);
  t.notMatch(dad.sentence, /takes its .* from that namespace's conf\.default/, dad.sentence);
  const ro = explain('net.netfilter.nf_conntrack_max');
  t.equal(ro.remedies.docker.available, false);
  t.match(ro.remedies.instead, /No per-container setting exists/);
  const cli = spawnSync(process.execPath, [`${root}/dist/bin/netns.js`, 'explain', '--json', ...keys], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  t.equal(cli.status, 0, cli.stderr);
  const rows = JSON.parse(cli.stdout);
  t.same(
    rows.map((r: Classification) => r.key),
    keys,
  );
  for (const r of rows) {
    t.ok(
      r.sentence && r.source && r.remedies?.docker && r.remedies?.kubernetes && r.kernel?.verifiedLines,
      `${r.key}: JSON carries sentence, source, remedies, kernel`,
    );
  }
  const text = spawnSync(process.execPath, [`${root}/dist/bin/netns.js`, 'explain', 'net.ipv4.tcp_keepalive_time'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  t.match(text.stdout, /source:\s+tcp_sk_init\(\) in net\/ipv4\/tcp_ipv4\.c/);
  t.match(text.stdout, /docker:\s+docker run --sysctl net\.ipv4\.tcp_keepalive_time=/);
  t.match(text.stdout, /kubernetes:.*safe set since Kubernetes 1\.29/);
});

t.test("an interface created later takes its namespace's conf.default at that moment", async (t) => {
  const ns = NetNamespace.create();
  t.teardown(() => ns.close());
  const path = `/proc/${process.pid}/fd/${ns.fd}`;
  ns.sysctl.set('net.ipv4.conf.default.arp_ignore', 2);
  ns.sysctl.set('net.ipv6.conf.default.hop_limit', 33);
  const add = (name: string): boolean => {
    for (const type of [['dummy'], ['veth', 'peer', 'name', `${name}p`]]) {
      const r = spawnSync('nsenter', [`--net=${path}`, 'ip', 'link', 'add', name, 'type', ...type], {
        encoding: 'utf8',
        env,
      });
      if (r.status === 0) return true;
    }
    return false;
  };
  const made = add('tst0');
  t.ok(made, 'a dummy or veth interface is created inside our own namespace');
  if (!made) return;
  t.equal(ns.sysctl.get('net.ipv4.conf.tst0.arp_ignore'), 2, "ipv4: from the namespace's conf.default");
  t.equal(ns.sysctl.get('net.ipv6.conf.tst0.hop_limit'), 33, "ipv6: from the namespace's conf.default");
  t.not(readHost('ipv4/conf/default/arp_ignore'), '2', "not the host's value (the host keeps its own)");
  ns.sysctl.set('net.ipv4.conf.default.arp_ignore', 1);
  t.equal(ns.sysctl.get('net.ipv4.conf.tst0.arp_ignore'), 2, 'a later conf.default change does not reach it');
  t.ok(add('tst1'));
  t.equal(
    ns.sysctl.get('net.ipv4.conf.tst1.arp_ignore'),
    1,
    'an interface created after the change takes the new value',
  );
});

/**
 * A namespace A (a `sleep` started with unshare -n) for `fn`, which gets A's ns/net path: what
 * `nsenter --net=PATH unshare -n` creates there has A as its creator.
 */
async function withCreator<T>(fn: (a: string) => T): Promise<T> {
  const child = spawn('unshare', ['-n', '--', 'sleep', '60'], { stdio: 'ignore', env });
  try {
    const self = fs.readlinkSync('/proc/self/ns/net');
    const path = `/proc/${child.pid}/ns/net`;
    for (let i = 0; i < 200; i++) {
      try {
        if (fs.readlinkSync(path) !== self) break;
      } catch {
        /* not started yet */
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    if (fs.readlinkSync(path) === self) throw new Error('unshare -n did not start');
    return fn(path);
  } finally {
    child.kill('SIGKILL');
  }
}
const inNs = (path: string, argv: string[]): string => {
  const r = spawnSync('nsenter', [`--net=${path}`, ...argv], { encoding: 'utf8', env, timeout: 30_000 });
  if (r.status !== 0) throw new Error(`nsenter ${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
/** Write inside A (our own namespace: plain writes to its /proc/sys/net). */
const setIn = (path: string, rel: string, v: string): void =>
  void inNs(path, ['sh', '-c', 'echo "$1" > "/proc/sys/net/$0"', rel, v]);
/** A namespace B created from A: the values it starts with. */
const childOf = (path: string, rels: string[]): string[] =>
  inNs(path, ['unshare', '-n', '--', 'sh', '-c', 'for r in "$@"; do cat "/proc/sys/net/$r"; done', 'sh', ...rels])
    .trim()
    .split('\n');

t.test('child hash sizes: set in the creator, fixed at creation; 0 = the global table, shown negative', async (t) => {
  const [tcp, udp] = await withCreator((a) => {
    setIn(a, 'ipv4/tcp_child_ehash_entries', '2048');
    setIn(a, 'ipv4/udp_child_hash_entries', '2048');
    return childOf(a, ['ipv4/tcp_ehash_entries', 'ipv4/udp_hash_entries']);
  });
  t.equal(tcp, '2048', 'own TCP table of the size the creator asked for');
  t.equal(udp, '2048', 'own UDP table too');
  const plain = all.find((c) => c.key === 'net.ipv4.tcp_ehash_entries')!;
  t.equal(
    Number(plain.child),
    -Math.abs(Number(readHost('ipv4/tcp_ehash_entries'))),
    'creator at 0: the global table, negative',
  );
  t.equal(plain.class, 'parent');
  t.equal(plain.evidence.rule?.sourceKey, 'net.ipv4.tcp_child_ehash_entries');
});

t.test(
  'net.core.devconf_inherit_init_net 0-3: where conf.all/default come from, ipv4 and ipv6',
  { skip: fs.existsSync(knob) ? false : 'this kernel has no devconf_inherit_init_net (< 5.1)' },
  async (t) => {
    const orig = fs.readFileSync(knob, 'utf8').trim();
    t.teardown(() => {
      if (fs.readFileSync(knob, 'utf8').trim() !== orig) fs.writeFileSync(knob, orig);
    });
    const hostArp = readHost('ipv4/conf/default/arp_ignore');
    const hostHop = readHost('ipv6/conf/default/hop_limit');
    const aArp = hostArp === '2' ? '1' : '2';
    const aHop = hostHop === '33' ? '34' : '33';
    const compiled = { arp: '0', hop: '64' }; // ipv4_devconf_dflt / ipv6_devconf_dflt
    const rels = ['ipv4/conf/default/arp_ignore', 'ipv6/conf/default/hop_limit'];
    // The host knob is held at MODE only while A creates B, under the shared host lock, and put
    // back by a trap even if creating B fails.
    const atMode =
      'trap \'echo "$0" > "$2"\' EXIT; echo "$1" > "$2"; nsenter --net="$3" unshare -n -- cat "/proc/sys/net/$4" "/proc/sys/net/$5"';
    await withCreator((a) => {
      setIn(a, rels[0]!, aArp);
      setIn(a, rels[1]!, aHop);
      for (const mode of [0, 1, 2, 3]) {
        const r = spawnSync(
          'flock',
          ['/tmp/netns-host.lock', 'sh', '-c', atMode, orig, String(mode), knob, a, rels[0]!, rels[1]!],
          { encoding: 'utf8', env, timeout: 30_000 },
        );
        t.equal(fs.readFileSync(knob, 'utf8').trim(), orig, `mode ${mode}: the host knob is restored`);
        if (r.status !== 0) throw new Error(r.stderr);
        const [arp, hop] = r.stdout.trim().split('\n');
        const ctx = defaultContext(mode);
        const predict = (rel: string, host: string, creator: string, comp: string): string => {
          const rule = KERNEL_RULES.find((x) => x.match.test(rel))!;
          const cls = ruleEvidence(rule, rel, ctx).class;
          return cls === 'inherited' ? host : cls === 'parent' ? creator : comp;
        };
        t.equal(
          arp,
          predict(rels[0]!, hostArp, aArp, compiled.arp),
          `mode ${mode}: ipv4 conf.default as the rule says`,
        );
        t.equal(
          hop,
          predict(rels[1]!, hostHop, aHop, compiled.hop),
          `mode ${mode}: ipv6 conf.default as the rule says`,
        );
        if (mode === 0) t.equal(hop, compiled.hop, 'mode 0: ipv6 takes compiled-in values while ipv4 copies the host');
        if (mode === 3) t.same([arp, hop], [aArp, aHop], 'mode 3: both from the creating namespace');
      }
    });
  },
);

t.test('a namespace owned by a user namespace: the entries the rules say are hidden are absent', async (t) => {
  const list = (userns: boolean): Set<string> | null => {
    const r = sh(`unshare ${userns ? '-U -r ' : ''}-n -- sh -c 'cd /proc/sys/net && find . -type f'`);
    return r.status === 0
      ? new Set(
          r.stdout
            .trim()
            .split('\n')
            .map((l) => l.replace(/^\.\//, '')),
        )
      : null;
  };
  const plain = list(false);
  const owned = list(true);
  t.ok(plain && owned, 'a plain and a user-namespace-owned network namespace were listed');
  if (!plain || !owned) return;
  const ctx = defaultContext();
  for (const rel of plain) {
    const rule = KERNEL_RULES.find((r) => r.match.test(rel));
    const hidden = rule ? ruleEvidence(rule, rel, ctx).userns === 'hidden' : false;
    t.equal(!owned.has(rel), hidden, `${rel}: ${hidden ? 'hidden' : 'present'} in a user-namespace-owned namespace`);
  }
  t.ok(plain.has('core/xfrm_acq_expires') && !owned.has('core/xfrm_acq_expires'), 'xfrm_* are hidden');
  t.equal(parseKey('net.ipv6.route.max_size').rel, 'ipv6/route/max_size');
});

/** The kernel's build configuration, when it can be read. */
function kernelConfig(): Map<string, string> | null {
  let text: string | undefined;
  try {
    text = zlib.gunzipSync(fs.readFileSync('/proc/config.gz')).toString();
  } catch {
    try {
      text = fs.readFileSync(`/boot/config-${os.release()}`, 'utf8');
    } catch {
      return null;
    }
  }
  return new Map([...text.matchAll(/^(CONFIG_\w+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
}
const config = kernelConfig();

t.test(
  'feature-dependent keys exist only with their feature (built in, or its module loaded)',
  { skip: config ? false : 'the kernel configuration is not readable (/proc/config.gz, /boot/config-*)' },
  async (t) => {
    const has = (opt: string, mod: string): boolean => {
      const v = config!.get(opt);
      return v === 'y' || (v === 'm' && fs.existsSync(`/sys/module/${mod}`));
    };
    const keys = new Set(all.map((c) => c.key));
    const any = (prefix: string): boolean => [...keys].some((k) => k.startsWith(prefix));
    t.equal(
      any('net.bridge.bridge-nf-'),
      has('CONFIG_BRIDGE_NETFILTER', 'br_netfilter'),
      'net.bridge.* with br_netfilter',
    );
    t.equal(
      any('net.netfilter.nf_conntrack_'),
      has('CONFIG_NF_CONNTRACK', 'nf_conntrack'),
      'net.netfilter.nf_conntrack_* with nf_conntrack',
    );
    t.equal(any('net.mptcp.'), has('CONFIG_MPTCP', 'mptcp'), 'net.mptcp.* with MPTCP');
    for (const id of ['br_netfilter_sysctl_init_net.constants', 'nf_conntrack_pernet_init.constants'])
      t.match(KERNEL_RULES.find((r) => r.id === id)!.explanation, /load|module/, `${id} says it needs its module`);
  },
);
