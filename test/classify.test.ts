// classify / compare / explain on the running kernel. Needs root (creates namespaces; the probe
// tests change a few harmless host values for a moment and check that every one is restored:
// the host's whole /proc/sys/net is compared before and after, on a host whose
// tcp_allowed_congestion_control lacks the current default, so that the side effect of putting
// the default back is seen).
import t, { type Test } from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { NetNamespace } from '../lib/namespace/handle.js';
import { native, sysctlWalk } from '../lib/native/index.js';
import { type NetnsError, classify, compare, explain, type Classification } from '../lib/index.js';
import { HOST_PROBE_SAFE } from '../lib/subpaths/explain.js';
import { KERNEL_RULES, findRule, defaultContext } from '../lib/explain/rules.js';
import { keyFromRel } from '../lib/keypath.js';
import { parseKey, valuesEqual, type TargetExplanation } from '../lib/index.js';
import {
  holdHostLock,
  ipNetnsAdd,
  narrowAllowedCongestionControl,
  procSysNetSnapshot,
  sh,
  snapshotDiff,
  stagedRoot,
} from './helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = new URL('../dist/index.js', import.meta.url).href;
/**
 * Children run plain node: tap wraps child_process to pass its hooks (and a signal-exit
 * listener) down through the environment, so start node through `env -i`.
 */
const plainNode = (args: string[]): [string, string[]] => [
  '/usr/bin/env',
  ['-i', `PATH=${process.env.PATH ?? '/usr/bin:/bin'}`, process.execPath, ...args],
];

/**
 * Hold the host lock for this test, with the host's allowed congestion control narrowed (put
 * back at teardown, before the lock is released: teardowns run last registered first).
 */
async function hostForProbing(t: Test): Promise<void> {
  t.teardown(await holdHostLock());
  const narrowed = narrowAllowedCongestionControl();
  if (narrowed) t.teardown(narrowed.restore);
}

const byKey = (list: Classification[]): Map<string, Classification> => new Map(list.map((c) => [c.key, c]));

t.test('keys in both syntaxes map to the same rule', async (t) => {
  t.equal(keyFromRel('ipv4/conf/eth0.100/rp_filter'), 'net.ipv4.conf.eth0/100.rp_filter');
  t.equal(explain('net/ipv4/tcp_congestion_control').key, explain('net.ipv4.tcp_congestion_control').key);
  t.throws(() => explain('net.ipv4..x'), RangeError);
});

t.test('compare: every key of either namespace, equal by value', async (t) => {
  const a = NetNamespace.create();
  const b = NetNamespace.create();
  t.teardown(() => {
    a.close();
    b.close();
  });
  native.sysctlWrite(a.fd, 'ipv4/tcp_keepalive_time', '600');
  const entries = compare(a, b);
  const walkKeys = sysctlWalk(a.fd, '', 0).keys.length;
  t.ok(entries.length >= walkKeys, 'at least every key of a');
  const ka = entries.find((e) => e.key === 'net.ipv4.tcp_keepalive_time')!;
  t.same([ka.a, ka.b, ka.equal], ['600', '7200', false]);
  const rmem = entries.find((e) => e.key === 'net.ipv4.tcp_rmem')!;
  t.ok(rmem.equal, 'multi-number values equal across namespaces');
  t.match(rmem.a, /\t/, 'raw text keeps the kernel tabs');
  const host = NetNamespace.current();
  t.teardown(() => host.close());
  const hv = compare(host, a).find((e) => e.key === 'net.core.netdev_max_backlog');
  if (hv)
    t.same([typeof hv.a, hv.b, hv.equal], ['string', null, false], 'present only on one side: null and not equal');
});

t.test('compare(host, fresh): status tells value differences from one-sided and unreadable keys', async (t) => {
  using host = NetNamespace.current();
  using fresh = NetNamespace.create();
  const entries = compare(host, fresh);
  const count = (s: string) => entries.filter((e) => e.status === s).length;
  t.equal(
    entries.filter((e) => !e.equal).length,
    count('different') + count('a-only') + count('b-only') + count('unreadable'),
    'every entry that is not equal has one of the four other statuses',
  );
  t.ok(count('a-only') > count('different'), `most "not equal" entries are absent on one side (${count('a-only')})`);
  for (const e of entries) {
    if (e.status === 'different') t.ok(e.a !== null && e.b !== null && !e.equal, `${e.key}: both read, values differ`);
    if (e.status === 'a-only') t.ok(e.b === null && e.bError === undefined, `${e.key}: absent in the fresh namespace`);
    if (e.status === 'unreadable') t.ok(e.aError !== undefined || e.bError !== undefined, `${e.key}: an errno`);
  }
  t.equal(entries.find((e) => e.key === 'net.ipv4.tcp_ehash_entries')?.status, 'different');
  t.equal(entries.find((e) => e.key === 'net.ipv4.route.flush')?.status, 'unreadable', 'write-only on both sides');
});

t.test('settable: which keys a container can set, and why not (no remedy suggests a refused write)', async (t) => {
  const list = classify();
  const m = byKey(list);
  t.same(m.get('net.ipv4.tcp_keepalive_time')?.settable.reason, 'per-namespace');
  const ehash = m.get('net.ipv4.tcp_ehash_entries')!;
  t.same([ehash.class, ehash.settable.container, ehash.settable.reason], ['parent', false, 'read-only']);
  t.match(ehash.settable.why, /net\.ipv4\.tcp_child_ehash_entries/);
  const nmb = m.get('net.core.netdev_max_backlog');
  if (nmb?.class === 'host-only') t.equal(nmb.settable.reason, 'host-only', 'a truly global key');
  const hostDev = list.find((c) => c.class === 'host-only' && /^net\.ipv4\.conf\.(?!all\.|default\.|lo\.)/.test(c.key));
  if (hostDev) t.equal(hostDev.settable.reason, 'host-interface', `${hostDev.key}: the host's own interface`);
  t.equal(m.get('net.core.rmem_max')?.settable.reason, 'global');
  for (const c of list) {
    const ch = c.evidence.observed.child;
    if (c.settable.container) t.ok(ch.present && ch.writable, `${c.key}: settable only where a namespace may write it`);
  }
  const e = explain('net.ipv4.tcp_ehash_entries');
  t.equal(e.howToSet.inside, undefined, 'no write inside offered');
  t.equal(e.howToSet.atStart, undefined);
  t.same([e.remedies.docker.available, e.remedies.kubernetes.available], [false, false], 'nor docker --sysctl');
  t.same(e.settable, ehash.settable);
});

t.test('explain(ns): provenance of a namespace of our own, its own interface, and the API checks', async (t) => {
  const name = ipNetnsAdd(t, 'prov');
  using ns = NetNamespace.fromName(name);
  // conf.default before the interface is created: the interface takes it; then one entry set on it.
  // A value the host's conf.default does not have (which the namespace copied at creation).
  const rpf = fs.readFileSync('/proc/sys/net/ipv4/conf/default/rp_filter', 'utf8').trim() === '2' ? 1 : 2;
  ns.sysctl.set('net.ipv4.conf.default.rp_filter', rpf);
  sh('ip', ['-n', name, 'link', 'add', 'pv0', 'type', 'veth', 'peer', 'name', 'pv1']);
  ns.sysctl.set('net.ipv4.conf.pv1.rp_filter', 0);
  // Neither the kernel's default (60) nor the host's value.
  ns.sysctl.set(
    'net.ipv4.tcp_fin_timeout',
    fs.readFileSync('/proc/sys/net/ipv4/tcp_fin_timeout', 'utf8').trim() === '33' ? 34 : 33,
  );
  const r = explain(ns, [
    'net.ipv4.conf',
    'net.ipv4.tcp_fin_timeout',
    'net.ipv4.tcp_keepalive_time',
    'net.ipv4.tcp_ehash_entries',
    'net.ipv4.no_such_key',
  ]);
  const k = (key: string) => r.keys.find((x) => x.key === key)!;
  t.equal(r.namespace, ns.id);
  t.same(r.containers, [], 'no container in it: no spec');
  t.equal(r.hostIsInitial, true);
  const pv0 = k('net.ipv4.conf.pv0.rp_filter');
  t.same(
    [pv0.value, pv0.provenance.kind, pv0.provenance.from],
    [String(rpf), 'interface', { key: 'net.ipv4.conf.default.rp_filter', value: String(rpf) }],
    'took conf.default when created',
  );
  t.same([pv0.host, pv0.fresh], [null, null], "the host's same-named entries do not apply");
  t.equal(pv0.settable.container, true);
  t.equal(k('net.ipv4.conf.pv1.rp_filter').provenance.kind, 'changed', 'set on the interface since');
  // conf.default is copied from the host at creation (inherited): another value now is a host
  // change since, or a change inside; with no record of the host's past values, both are said.
  const dflt = k('net.ipv4.conf.default.rp_filter');
  t.same(
    [dflt.class, dflt.provenance.kind, dflt.provenance.alternatives],
    ['inherited', 'host-changed', ['changed']],
    "conf.default: not the host's value now, and writable inside: either",
  );
  t.equal(k('net.ipv4.tcp_fin_timeout').provenance.kind, 'changed');
  t.match(
    k('net.ipv4.tcp_fin_timeout').remedy,
    /^netns sysctl --pid PID -w net\.ipv4\.tcp_fin_timeout=\d+$/,
    "the host's value, by a placeholder pid",
  );
  t.equal(k('net.ipv4.tcp_keepalive_time').provenance.kind, 'default');
  const ehash = k('net.ipv4.tcp_ehash_entries');
  t.same([ehash.provenance.kind, ehash.settable.reason, ehash.writable], ['parent', 'read-only', false]);
  t.match(ehash.remedy ?? '', /^cannot be set: read-only/);
  t.same([k('net.ipv4.no_such_key').present, k('net.ipv4.no_such_key').provenance.kind], [false, 'absent']);
  t.ok(
    r.keys.every((x) => x.key.startsWith('net.ipv4.conf.') || !x.key.startsWith('net.ipv6')),
    'only the keys asked for',
  );
  t.ok(
    r.keys.every((x) => (x.effective !== undefined) === /^net\.ipv[46]\.conf\./.test(x.key)),
    'effective: on every conf key asked for, on no other (test/effective.test.ts checks the values)',
  );
  t.ok(
    r.keys.every((x) => x.write === undefined),
    'write: no process given and no container in the namespace (test/write-diagnosis.test.ts has one)',
  );
  t.throws(() => explain(ns, 'net.x' as never), TypeError);
  t.throws(() => explain(ns, ['net..x']), RangeError);
});

t.test('netns explain --name, --pid, --path: one namespace, its remedies naming it as given', async (t) => {
  const name = ipNetnsAdd(t, 'provcli');
  const cli = fileURLToPath(new URL('../dist/bin/netns.js', import.meta.url));
  const fin = fs.readFileSync('/proc/sys/net/ipv4/tcp_fin_timeout', 'utf8').trim() === '33' ? '34' : '33';
  {
    using ns = NetNamespace.fromName(name);
    ns.sysctl.set('net.ipv4.tcp_fin_timeout', Number(fin));
  }
  const child = spawn('ip', ['netns', 'exec', name, 'sleep', '600'], { stdio: 'ignore' });
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  const ino = fs.statSync(`/run/netns/${name}`).ino;
  for (let i = 0; i < 500 && fs.statSync(`/proc/${child.pid}/ns/net`).ino !== ino; i++)
    await new Promise((r) => setTimeout(r, 10));
  const run = (args: string[]) => spawnSync(...plainNode([cli, 'explain', ...args]), { encoding: 'utf8' });
  const targets: [string[], string][] = [
    [['--name', name], `--name ${name}`],
    [['--pid', String(child.pid)], `--pid ${child.pid}`],
    [['--path', `/run/netns/${name}`], `--path /run/netns/${name}`],
  ];
  for (const [words, selector] of targets) {
    const j = run([...words, '--json', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_time']);
    t.equal(j.status, 0, j.stderr);
    const r = JSON.parse(j.stdout) as TargetExplanation;
    t.equal(r.namespace.split(':')[1], String(ino), `${selector}: the namespace`);
    const k = r.keys.find((x) => x.key === 'net.ipv4.tcp_fin_timeout')!;
    t.same([k.value, k.provenance.kind], [fin, 'changed']);
    t.equal(k.remedy, `netns sysctl ${selector} -w net.ipv4.tcp_fin_timeout=${k.host}`, 'the remedy names the target');
    t.equal(r.keys.find((x) => x.key === 'net.ipv4.tcp_keepalive_time')?.provenance.kind, 'default');
  }
  const table = run(['--name', name]);
  t.equal(table.status, 0, table.stderr);
  t.match(table.stdout, /no container found in it: no spec to compare with/);
  t.match(
    table.stdout,
    new RegExp(`^net\\.ipv4\\.tcp_fin_timeout +${fin} +\\d+ +60 +changed +netns sysctl --name `, 'm'),
  );
  t.notMatch(table.stdout, /^net\.ipv4\.tcp_keepalive_time /m, 'the default rows only with --all');
  t.match(run(['--name', name, '--all']).stdout, /^net\.ipv4\.tcp_keepalive_time +\d+ +\d+ +\d+ +default/m);
  const detail = run(['--name', name, 'net.ipv4.tcp_fin_timeout']);
  t.match(detail.stdout, /^net\.ipv4\.tcp_fin_timeout\n +value: +\d+\n/m);
  t.match(detail.stdout, /settable: +yes: /);
  const bad = run(['--name', name, '--settable']);
  t.equal(bad.status, 2, '--settable goes without a target');
});

t.test('classify: anchors of the lesson on this kernel', async (t) => {
  const list = classify();
  const m = byKey(list);
  t.equal(m.get('net.ipv4.tcp_congestion_control')?.class, 'inherited');
  for (const k of ['time', 'intvl', 'probes'])
    t.equal(m.get(`net.ipv4.tcp_keepalive_${k}`)?.class, 'default', `keepalive_${k}`);
  t.equal(m.get('net.core.somaxconn')?.class, 'default');
  t.equal(m.get('net.ipv4.tcp_available_congestion_control')?.class, 'shared');
  // A host-only key: net.core.netdev_max_backlog where this kernel hides it from new namespaces.
  const ns = NetNamespace.create();
  t.teardown(() => ns.close());
  let hidden = true;
  try {
    native.sysctlRead(ns.fd, 'core/netdev_max_backlog');
    hidden = false;
  } catch {
    /* absent in the new namespace */
  }
  const nmb = m.get('net.core.netdev_max_backlog')!;
  if (hidden) t.equal(nmb.class, 'host-only', 'netdev_max_backlog is hidden here, so host-only');
  else t.not(nmb.class, 'host-only', 'netdev_max_backlog is visible in a new namespace here');
  t.ok(
    list.some((c) => c.class === 'host-only' && !c.key.includes('.conf.') && !c.key.includes('.neigh.')),
    'some global host-only key',
  );
  // Read-only mirrors of global values.
  for (const c of list.filter((c) => c.class === 'readonly')) {
    t.ok(
      c.evidence.observed.host.writable && !c.evidence.observed.child.writable,
      `${c.key}: writable on host, not in child`,
    );
  }
  // The creator's tcp_child_ehash_entries decides tcp_ehash_entries.
  if (m.has('net.ipv4.tcp_ehash_entries')) t.equal(m.get('net.ipv4.tcp_ehash_entries')!.class, 'parent');
});

t.test('classify: evidence is present for each class, and equal values never decide alone', async (t) => {
  const list = classify();
  const seen = new Set(list.map((c) => c.class));
  t.ok(
    seen.has('host-only') && seen.has('default') && seen.has('inherited') && seen.has('shared') && seen.has('readonly'),
  );
  for (const c of list) {
    const o = c.evidence.observed;
    t.ok(c.evidence.reason.length > 0, `${c.key}: reason`);
    switch (c.class) {
      case 'host-only':
        if (!(o.host.present && !o.child.present)) t.fail(`${c.key}: host-only without the presence evidence`);
        break;
      case 'child-only':
        if (!(!o.host.present && o.child.present)) t.fail(`${c.key}: child-only without the presence evidence`);
        break;
      case 'readonly':
        if (!(o.host.writable && !o.child.writable && c.evidence.rule))
          t.fail(`${c.key}: readonly without mode + rule evidence`);
        break;
      case 'shared':
      case 'parent':
        if (!(c.evidence.rule?.verified || c.evidence.probe)) t.fail(`${c.key}: ${c.class} without rule or probe`);
        break;
      case 'inherited':
      case 'default':
        if (o.equal !== false && !(c.evidence.rule?.verified || c.evidence.probe))
          t.fail(`${c.key}: ${c.class} on equal values without a rule or probe`);
        if (c.class === 'inherited' && !c.evidence.rule?.verified && !c.evidence.probe)
          t.fail(`${c.key}: inherited without rule or probe`);
        break;
    }
    const rule = c.evidence.rule;
    if (rule)
      t.ok(rule.fn && rule.file && rule.versions && rule.explanation, `${c.key}: rule carries fn, file, versions`);
  }
  const json = JSON.parse(JSON.stringify(list[0]));
  t.same(Object.keys(json).sort(), ['child', 'class', 'evidence', 'host', 'key', 'settable']);
});

t.test('classify: run twice, same result', async (t) => {
  const a = byKey(classify());
  const b = byKey(classify());
  let compared = 0;
  for (const [k, c] of a) {
    const d = b.get(k);
    if (!d) continue; // a device came or went meanwhile (shared host)
    compared++;
    if (c.class !== d.class) t.fail(`${k}: ${c.class} then ${d.class}`);
  }
  t.ok(compared > 500, `${compared} keys compared`);
});

t.test('rules: data is complete, version ranges are honoured, unverified rules are marked', async (t) => {
  for (const r of KERNEL_RULES) {
    t.ok(r.id && r.fn && r.file && r.versions && r.explanation, r.id);
    t.type(r.verified, 'boolean');
    t.ok(Array.isArray(r.checked) && r.checked.length > 0, `${r.id}: checked lines`);
  }
  t.equal(findRule('ipv4/tcp_rmem', defaultContext(0, '6.18.0'))?.id, 'tcp_sk_init.rmem_wmem');
  t.equal(findRule('ipv4/tcp_rmem', defaultContext(0, '4.14.0')), undefined, 'not before 4.15');
  const ctx3 = defaultContext(3, '6.18.0');
  const r = findRule('ipv4/conf/default/rp_filter', ctx3)!;
  t.equal(typeof r.class === 'function' ? r.class(ctx3, 'ipv4/conf/default/rp_filter') : r.class, 'parent');
  const r6 = findRule('ipv6/conf/all/forwarding', defaultContext(0, '6.18.0'))!;
  t.equal(
    typeof r6.class === 'function' ? r6.class(defaultContext(0), '') : r6.class,
    'default',
    'ipv6 mode 0: compiled-in',
  );
  t.equal(
    typeof r6.class === 'function' ? r6.class(defaultContext(1), '') : r6.class,
    'inherited',
    'ipv6 mode 1: init_net',
  );
  // An unverified rule never settles equal values.
  const list = classify({ keys: ['net.ipv4.udp_hash_entries', 'net.ipv4.tcp_fack'] });
  for (const c of list)
    if (c.evidence.rule && !c.evidence.rule.verified) t.equal(c.class, 'unknown', `${c.key}: unverified rule alone`);
});

t.test('probe: settles keys, restores every host value', async (t) => {
  await hostForProbing(t); // the host probe changes host values for a moment
  const before = procSysNetSnapshot();
  const list = classify({ probe: true });
  const after = procSysNetSnapshot();
  t.same(snapshotDiff(before, after), [], 'host /proc/sys/net unchanged after probing, side effects included');
  const m = byKey(list);
  const cc = m.get('net.ipv4.tcp_congestion_control')!;
  t.equal(cc.class, 'inherited');
  t.equal(cc.evidence.probe?.host?.outcome, 'from-host', 'congestion control followed the host change');
  t.equal(cc.evidence.probe?.host?.restored, true);
  const ka = m.get('net.ipv4.tcp_keepalive_time')!;
  t.equal(ka.class, 'default');
  t.equal(ka.evidence.probe?.host?.outcome, 'not-from-host');
  for (const c of list) {
    const hp = c.evidence.probe?.host;
    if (hp) {
      t.ok(HOST_PROBE_SAFE.includes(parseKey(c.key).rel), `${c.key}: host-probed only if on the safe list`);
      t.equal(hp.restored, true, `${c.key}: restored`);
    }
    if (/\.conf\.|forwarding|rp_filter|\.route\.|\.neigh\./.test(c.key)) t.notOk(hp, `${c.key}: never host-probed`);
  }
  t.ok(list.filter((c) => c.evidence.probe?.parent?.outcome === 'not-from-creator').length > 10, 'parent probe ran');
  // The probes confirm the rule base: no rule is contradicted by a probe. (A conf.all.X write
  // reaches every device's X: the parent probe reads all originals before writing any.)
  t.same(
    list.filter((c) => /but the probe shows/.test(c.evidence.reason)).map((c) => `${c.key}: ${c.evidence.reason}`),
    [],
    'every probe agrees with its rule',
  );
  const lo = m.get('net.ipv6.conf.lo.addr_gen_mode');
  if (lo?.evidence.probe?.parent)
    t.equal(
      lo.evidence.probe.parent.outcome,
      'not-from-creator',
      'a device key is not mistaken for a copy from the creator',
    );
});

/** A child node running `script` (an ES module) that says APPLIED once its host probe has changed the host. */
function scriptChild(t: Test, script: string, args: string[] = []) {
  const child = spawn(...plainNode(['--input-type=module', '-e', script, ...args]), {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const applied = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('APPLIED')) resolve();
    });
    child.on('exit', () => reject(new Error(`the probing child ended before APPLIED: ${out} ${err}`)));
  });
  const exit = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('exit', (code, sig) => resolve([code, sig])),
  );
  return { child, applied, exit, output: () => ({ out, err }) };
}

/** classify's host probe of `keys` in a child that holds the changes for `holdMs`. */
function probingChild(t: Test, keys: string[], holdMs: number) {
  return scriptChild(
    t,
    `
    import { classify } from ${JSON.stringify(dist)};
    import * as fs from 'node:fs';
    classify({ probe: true, keys: ${JSON.stringify(keys)}, hostProbeHoldMs: ${holdMs},
      onHostProbeApplied: () => fs.writeSync(1, 'APPLIED\\n') });
    fs.writeSync(1, 'RETURNED\\n');
  `,
  );
}

for (const [signal, observer] of [
  ['SIGTERM', false],
  ['SIGTERM', true],
  ['SIGINT', false],
] as const)
  t.test(
    `probe: a ${signal} mid-probe still restores the host, then kills the process${observer ? ' (with a signal-exit style listener)' : ''}`,
    async (t) => {
      const keys = ['net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_congestion_control', 'net.core.somaxconn'];
      await hostForProbing(t); // the child's host probe changes host values for a moment
      const before = procSysNetSnapshot();
      const orig = native.sysctlRead(-1, 'ipv4/tcp_keepalive_time');
      const script = `
    import { classify } from ${JSON.stringify(dist)};
    import * as fs from 'node:fs';
    // Like signal-exit: a listener that re-raises only when it is the last one.
    const observer = (sig) => {
      if (process.listeners(sig).length === 1) { process.removeListener(sig, observer); process.kill(process.pid, sig); }
    };
    if (${JSON.stringify('OBSERVER')} === process.argv[1]) process.on(${JSON.stringify(signal)}, observer);
    classify({ probe: true, keys: ${JSON.stringify(keys)}, hostProbeHoldMs: 1500,
      onHostProbeApplied: () => fs.writeSync(1, 'APPLIED\\n') });
    fs.writeSync(1, 'RETURNED\\n');
    // As if descheduled on a loaded machine before the event loop turns: the guard must still
    // be there when the pending signal is read.
    for (const until = Date.now() + 400; Date.now() < until; );
    setTimeout(() => fs.writeSync(1, 'SURVIVED\\n'), 3000);
  `;
      const c = scriptChild(t, script, [observer ? 'OBSERVER' : 'PLAIN']);
      await c.applied;
      const duringProbe = native.sysctlRead(-1, 'ipv4/tcp_keepalive_time');
      c.child.kill(signal);
      const [code, sig] = await c.exit;
      const { out, err } = c.output();
      t.equal(err, '', 'no error output');
      t.ok(
        !valuesEqual(duringProbe, orig),
        `host value was changed when the signal came (${duringProbe.trim()} vs ${orig.trim()})`,
      );
      t.match(out, /RETURNED/, 'the probe finished (and restored) before the signal was acted on');
      t.notMatch(out, /SURVIVED/, 'the signal was not swallowed');
      t.same([code, sig], [null, signal], `died of the re-raised ${signal}`);
      t.same(snapshotDiff(before, procSysNetSnapshot()), [], 'host /proc/sys/net unchanged, side effects included');
    },
  );

const JOURNAL = '/run/netns-host-probe.json';

/** The process warnings emitted from now until the test ends. */
function processWarnings(t: Test): Error[] {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  t.teardown(() => process.off('warning', onWarning));
  return warnings;
}

t.test('probe: a SIGKILL mid-probe leaves its journal, and the next probe puts the host back first', async (t) => {
  const keys = ['net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_congestion_control', 'net.core.somaxconn'];
  await hostForProbing(t);
  t.teardown(() => fs.rmSync(JOURNAL, { force: true }));
  const before = procSysNetSnapshot();
  const orig = native.sysctlRead(-1, 'ipv4/tcp_keepalive_time');
  const c = probingChild(t, keys, 10_000);
  await c.applied;
  const journal = JSON.parse(fs.readFileSync(JOURNAL, 'utf8'));
  t.equal(journal.pid, c.child.pid, 'the journal names the probing process');
  t.same(
    journal.values.find((v: [string, string]) => v[0] === 'ipv4/tcp_keepalive_time'),
    ['ipv4/tcp_keepalive_time', orig.trim()],
    'and holds the original',
  );
  c.child.kill('SIGKILL'); // no handler can run: the restore never happens
  t.same(await c.exit, [null, 'SIGKILL']);
  t.not(native.sysctlRead(-1, 'ipv4/tcp_keepalive_time'), orig, 'the host keeps the nudged value');
  t.ok(fs.existsSync(JOURNAL), 'and the journal stays');
  const warnings = processWarnings(t);
  // Any probing classify puts the host back first, even one that host-probes nothing itself.
  classify({ probe: true, keys: ['net.ipv4.ip_forward'] });
  await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
  t.same(
    snapshotDiff(before, procSysNetSnapshot()),
    [],
    'host /proc/sys/net as before the killed probe, side effects included',
  );
  t.notOk(fs.existsSync(JOURNAL), 'the journal is gone');
  t.ok(
    warnings.some(
      (w) =>
        (w as NodeJS.ErrnoException).code === 'NETNS_HOST_PROBE_RECOVERED' && w.message.includes(String(c.child.pid)),
    ),
    'a warning says what was put back, and whose probe left it',
  );
  const list = classify({ probe: true, keys });
  t.equal(
    list.find((x) => x.key === 'net.ipv4.tcp_congestion_control')?.evidence.probe?.host?.outcome,
    'from-host',
    'a host probe runs again',
  );
  t.same(snapshotDiff(before, procSysNetSnapshot()), []);
});

t.test('probe: a restore write that fails once and then succeeds is not a failure', async (t) => {
  const keys = ['net.ipv4.tcp_keepalive_time'];
  await hostForProbing(t);
  t.teardown(() => fs.rmSync(JOURNAL, { force: true }));
  const before = procSysNetSnapshot();
  const orig = native.sysctlWrite;
  t.teardown(() => {
    native.sysctlWrite = orig;
  });
  let armed = false;
  let refused = 0;
  native.sysctlWrite = (...args: Parameters<typeof orig>) => {
    if (armed) {
      armed = false;
      refused++;
      throw Object.assign(new Error('EAGAIN: resource temporarily unavailable, write'), {
        nativeErrno: true,
        errno: 11,
        code: 'EAGAIN',
        syscall: 'write',
      });
    }
    return orig(...args);
  };
  // Armed once the nudge is written: the first write of the restore fails.
  const list = classify({ probe: true, keys, onHostProbeApplied: () => (armed = true) });
  t.equal(refused, 1, 'the first restore write failed');
  const hp = list.find((x) => x.key === keys[0])?.evidence.probe?.host;
  t.equal(hp?.restored, true, 'the retry put the value back');
  t.same(snapshotDiff(before, procSysNetSnapshot()), [], 'host /proc/sys/net unchanged');
  t.notOk(fs.existsSync(JOURNAL), 'and the journal is released');
});

t.test(
  "probe: a worker terminated mid-probe leaves its journal, and the process's next probe puts the host back",
  async (t) => {
    const keys = ['net.ipv4.tcp_keepalive_time', 'net.core.somaxconn'];
    await hostForProbing(t);
    t.teardown(() => fs.rmSync(JOURNAL, { force: true }));
    const before = procSysNetSnapshot();
    const orig = native.sysctlRead(-1, 'ipv4/tcp_keepalive_time');
    // A data: URL is an ES module on every Node line (eval's module detection differs by line).
    const src = `import { classify } from ${JSON.stringify(dist)};
    import { parentPort } from 'node:worker_threads';
    classify({ probe: true, keys: ${JSON.stringify(keys)}, hostProbeHoldMs: 10000,
      onHostProbeApplied: () => parentPort.postMessage('APPLIED') });
    parentPort.postMessage('RETURNED');`;
    const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent(src)}`));
    t.teardown(() => w.terminate());
    const got = await new Promise<unknown>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    t.equal(got, 'APPLIED');
    const journal = JSON.parse(fs.readFileSync(JOURNAL, 'utf8'));
    t.equal(journal.pid, process.pid, 'the journal names this process');
    t.not(journal.tid, process.pid, "and the worker's own thread");
    await w.terminate(); // mid-probe: its restore never runs
    t.not(native.sysctlRead(-1, 'ipv4/tcp_keepalive_time'), orig, 'the host keeps the nudged value');
    t.ok(fs.existsSync(JOURNAL), 'and the journal stays');
    const warnings = processWarnings(t);
    // The process lives on, its thread does not: not EBUSY, but a recovery.
    const list = classify({ probe: true, keys });
    await new Promise((r) => setImmediate(r));
    t.ok(
      warnings.some((x) => (x as NodeJS.ErrnoException).code === 'NETNS_HOST_PROBE_RECOVERED'),
      'a warning says what was put back',
    );
    t.equal(list.find((x) => x.key === keys[0])?.evidence.probe?.host?.restored, true, 'and a host probe ran');
    t.same(snapshotDiff(before, procSysNetSnapshot()), [], 'host /proc/sys/net as before, side effects included');
    t.notOk(fs.existsSync(JOURNAL), 'the journal is gone');
  },
);

t.test('observers without a probe wait for a running host probe, and say what one left', async (t) => {
  const key = 'net.ipv4.tcp_keepalive_time';
  await hostForProbing(t);
  t.teardown(() => fs.rmSync(JOURNAL, { force: true }));
  const before = procSysNetSnapshot();
  const orig = native.sysctlRead(-1, 'ipv4/tcp_keepalive_time').trim();
  // A short probe: classify waits for it, and sees the host's own value.
  const short = probingChild(t, [key], 600);
  await short.applied;
  t.not(native.sysctlRead(-1, 'ipv4/tcp_keepalive_time').trim(), orig, 'the probe has nudged the host');
  const [waited] = classify({ keys: [key] });
  t.equal(waited?.host, orig, 'classify waited for the probe and read the host value it restored');
  t.equal(waited?.class, 'default');
  t.notOk(
    waited?.evidence.notes?.some((n) => /host probe/.test(n)),
    'with no note of the probe',
  );
  await short.exit;
  // A probe that outlasts the wait: its keys are unknown, with a note naming it and the host's value.
  const long = probingChild(t, [key], 20_000);
  await long.applied;
  const [during] = classify({ keys: [key] });
  t.equal(during?.class, 'unknown', 'a key the running probe has nudged is not classified');
  t.ok(
    during?.evidence.notes?.some((n) => n.includes(`process ${long.child.pid}`) && n.includes(orig)),
    "the note names the probing process and the host's own value",
  );
  long.child.kill('SIGKILL');
  await long.exit;
  // One that ended before its restore: the nudge is what the host has; the note says so.
  const [left] = classify({ keys: [key] });
  t.not(left?.host, orig, 'the host keeps the nudge');
  t.ok(
    left?.evidence.notes?.some((n) => n.includes('ended before its restore') && n.includes(orig)),
    'and the note says whose probe left it, and the value a probing classify puts back',
  );
  classify({ probe: true, keys: [key] }); // puts it back
  t.same(snapshotDiff(before, procSysNetSnapshot()), [], 'host /proc/sys/net as before, side effects included');
});

t.test('probe: one host probe at a time (EBUSY names the one running)', async (t) => {
  // The second asks for another key: what it would read of the first's keys is nudged.
  const keys = ['net.ipv4.tcp_keepalive_time'];
  await hostForProbing(t);
  t.teardown(() => fs.rmSync(JOURNAL, { force: true }));
  const before = procSysNetSnapshot();
  const c = probingChild(t, keys, 1500);
  await c.applied;
  let e: unknown;
  try {
    classify({ probe: true, keys: ['net.core.somaxconn'] });
  } catch (x) {
    e = x;
  }
  t.equal((e as NetnsError)?.code, 'EBUSY', 'a second probe is refused while the first runs');
  t.match((e as Error)?.message, new RegExp(`Process ${c.child.pid} is probing`), 'and told which process');
  t.same(await c.exit, [0, null], 'the first finished');
  t.match(c.output().out, /RETURNED/);
  t.same(
    snapshotDiff(before, procSysNetSnapshot()),
    [],
    'host /proc/sys/net unchanged: the refused probe wrote nothing',
  );
  t.notOk(fs.existsSync(JOURNAL), 'the journal is gone');
  classify({ probe: true, keys }); // and probing works again
  t.same(snapshotDiff(before, procSysNetSnapshot()), []);
});

t.test('probe needs root; unprivileged classify fails cleanly', async (t) => {
  const script = `
    import { classify } from ${JSON.stringify(stagedRoot() + 'dist/index.js')};
    try { classify({ probe: true }); console.log('NO ERROR'); } catch (e) { console.log(e.code); }
  `;
  const r = spawnSync(...plainNode(['--input-type=module', '-e', script]), {
    cwd: '/',
    uid: 65534,
    gid: 65534,
    encoding: 'utf8',
  });
  t.equal(r.stderr, '', 'no error output');
  t.equal(r.stdout.trim(), 'EPERM');
});

t.test('explain: a sentence and how to set it', async (t) => {
  const ka = explain('net.ipv4.tcp_keepalive_time');
  t.equal(ka.class, 'default');
  t.match(ka.sentence, /default/);
  t.match(ka.howToSet.inside?.api, /NetNamespace\.fromPid\(PID\)\.sysctl\.set\('net\.ipv4\.tcp_keepalive_time'/);
  t.match(ka.howToSet.inside?.cli, /netns sysctl --pid PID -w net\.ipv4\.tcp_keepalive_time=/);
  t.match(ka.howToSet.atStart?.api, /spawnInNetns\(.*sysctl/);
  t.match(ka.howToSet.atStart?.cli, /netns exec --sysctl net\.ipv4\.tcp_keepalive_time=/);
  t.notOk(ka.howToSet.cannot);

  const cc = explain('net/ipv4/tcp_congestion_control');
  t.equal(cc.class, 'inherited');
  t.match(cc.sentence, /copied from the host/);

  const avail = explain('net.ipv4.tcp_available_congestion_control');
  t.match(avail.howToSet.cannot, /^shared/);
  t.notOk(avail.howToSet.inside);

  const host = classify({ keys: ['net.core'] }).find((c) => c.class === 'host-only')!;
  const ho = explain(host.key);
  t.match(ho.howToSet.cannot, /^host-only/);

  const ro = classify({ keys: ['net.core', 'net.netfilter'] }).find((c) => c.class === 'readonly');
  if (ro) t.match(explain(ro.key).howToSet.cannot, /^shared/);

  t.throws(() => explain('net.ipv4.no_such_key_here'), { code: 'ENOENT' });
});

t.test('lib and dist agree (children use dist)', async (t) => {
  t.ok(fs.existsSync(fileURLToPath(dist)), 'dist built (npm run build:ts)');
});
