// netns-exporter's collector and discovery against real namespaces (made here) and real runc
// containers (started here): one series per key per namespace with the namespace's labels,
// node_exporter's shapes (fields, index, info), the interface in a device label and only for
// the interfaces asked for, expected values with a mismatch series that always exists, the
// snapshots kept across scrapes and closed when a namespace goes, and the pod labels read from
// the CRI annotations, a hostNetwork container counted in the host's namespace; a tenant's
// namespace of 2,000 interfaces counted, never listed or walked whole, reported truncated, with
// label values exact; the server and the command.
// Needs root (namespaces, containers), iproute2, runc and busybox-static for the container part.
import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NetNamespace } from 'netns';
import { effectiveFrom } from 'netns/explain';
import { expectationsFrom } from 'netns/sysctld';
import {
  Collector,
  ContainerDiscovery,
  KeySelection,
  effectiveFamily,
  familyName,
  hostLabels,
  parseFlags,
  serve,
  splitKey,
  startExporter,
  type Target,
  type TargetSource,
} from '../packages/exporter/src/index.js';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { checkThreadsAtEnd, childEnv, fdCount, plainNode, sh } from './helpers.js';
import { containerId, missing, run, runcBundle, runcRun, tempDir } from './containers-env.js';

checkThreadsAtEnd(t);

/** Targets given by the test; scan() reports them once after each change. */
class Given implements TargetSource {
  errors = 0;
  #targets: Target[];
  #fresh = true;
  closed = false;
  constructor(targets: Target[]) {
    this.#targets = targets;
  }
  set(targets: Target[]): void {
    this.#targets = targets;
    this.#fresh = true;
  }
  async scan(): Promise<Target[] | undefined> {
    if (!this.#fresh) return undefined;
    this.#fresh = false;
    return this.#targets;
  }
  close(): void {
    this.closed = true;
  }
}

/** The handles, closed at the test's end. */
function closedAtEnd<T extends NetNamespace[]>(t: Test, ...handles: T): T {
  t.teardown(() => {
    for (const h of handles) h.close();
  });
  return handles;
}

/** A target for a namespace made here, labelled as a pod. */
function podTarget(ns: NetNamespace, pod: string): Target {
  return {
    id: ns.id,
    ns,
    members: [],
    labels: {
      ...hostLabels(String(ns.ino)),
      namespace: 'prod',
      pod,
      uid: `uid-${pod}`,
      runtime: 'containerd',
      host_network: 'false',
    },
  };
}

/** Parsed samples: [name, labels, value]. */
function samples(text: string): { name: string; labels: Record<string, string>; value: string }[] {
  const out: { name: string; labels: Record<string, string>; value: string }[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1]!, labels, value: m[3]! });
  }
  return out;
}

const find = (text: string, name: string, where: Record<string, string>) =>
  samples(text).filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v));

t.test('collector: one series per key per namespace, with its labels, kept across scrapes', async (t) => {
  const [host, a, b] = closedAtEnd(t, NetNamespace.current(), NetNamespace.create(), NetNamespace.create());
  a.sysctl.set('net.ipv4.tcp_keepalive_time', 600);
  const source = new Given([
    { id: host.id, ns: host, members: [], labels: hostLabels(String(host.ino)) },
    podTarget(a, 'web-0'),
    podTarget(b, 'web-1'),
  ]);
  await a.sysctl.listAsync(); // the library's one /proc/sys/net root fd, opened by the first walk
  const fds0 = fdCount();
  const c = new Collector({ source, build: { version: '9.9.9', netnsVersion: '0.1.0' } });
  const text = await c.collect();
  const ka = find(text, 'netns_sysctl_net_ipv4_tcp_keepalive_time', { pod: 'web-0' });
  t.equal(ka.length, 1, 'one series for the namespace');
  t.same(ka[0]!.labels, {
    netns: String(a.ino),
    namespace: 'prod',
    pod: 'web-0',
    uid: 'uid-web-0',
    container: '',
    runtime: 'containerd',
    host_network: 'false',
  });
  t.equal(ka[0]!.value, '600', 'the value inside');
  t.equal(find(text, 'netns_sysctl_net_ipv4_tcp_keepalive_time', { pod: 'web-1' })[0]?.value, '7200');
  t.equal(
    find(text, 'netns_sysctl_net_ipv4_tcp_keepalive_time', { host_network: 'true' })[0]?.value,
    fs.readFileSync('/proc/sys/net/ipv4/tcp_keepalive_time', 'utf8').trim(),
    "the host's own",
  );
  // node_exporter's shapes: one family per named field, text as netns_sysctl_info.
  const rmem = b.sysctl.getRaw('net.ipv4.tcp_rmem').split(/\s+/);
  t.same(
    ['min', 'default', 'max'].map((f) => find(text, `netns_sysctl_net_ipv4_tcp_rmem_${f}`, { pod: 'web-1' })[0]?.value),
    rmem,
    'tcp_rmem as _min, _default, _max',
  );
  const cc = find(text, 'netns_sysctl_info', { pod: 'web-1', name: 'net.ipv4.tcp_congestion_control' });
  t.same(
    cc.map((s) => [s.labels.value, s.labels.index, s.value]),
    [[b.sysctl.getRaw('net.ipv4.tcp_congestion_control'), '0', '1']],
  );
  // Per-interface keys: the interface in a label, only those asked for (all, default, eth0).
  t.same(
    find(text, 'netns_sysctl_net_ipv4_conf_rp_filter', { pod: 'web-1' })
      .map((s) => s.labels.device)
      .sort(),
    ['all', 'default'],
    'lo is not exported; a fresh namespace has no eth0',
  );
  t.match(text, /^# TYPE netns_sysctl_net_core_somaxconn gauge$/m);
  t.match(text, /^netns_exporter_build_info\{version="9\.9\.9",netns_version="0\.1\.0",nodejs_version="v[\d.]+"\} 1$/m);
  t.match(text, /^netns_namespaces 3$/m);
  t.match(text, /^netns_scrape_errors 0$/m);
  t.match(text, /^netns_scrape_duration_seconds \d/m);
  t.notMatch(text, /netns_sysctl_mismatch/, 'no expectations: no mismatch family');
  // Every family once, its samples together (the text format's rule).
  const names = samples(text).map((s) => s.name);
  const seen = new Set<string>();
  names.forEach((n, i) => {
    if (i > 0 && names[i - 1] !== n) t.notOk(seen.has(n), `${n}'s samples are together`);
    seen.add(n);
  });
  const held = fdCount() - fds0;
  t.ok(held > 3 * 10, `fds held across scrapes (${held})`);
  b.sysctl.set('net.ipv4.tcp_keepalive_time', 601);
  const again = await c.collect();
  t.equal(find(again, 'netns_sysctl_net_ipv4_tcp_keepalive_time', { pod: 'web-1' })[0]?.value, '601', 'a change seen');
  t.equal(fdCount() - fds0, held, 'no fd opened for the second scrape');
  // A namespace that goes: its snapshot is closed, its series leave.
  source.set([podTarget(a, 'web-0')]);
  const fewer = await c.collect();
  t.same(find(fewer, 'netns_sysctl_net_ipv4_tcp_keepalive_time', { pod: 'web-1' }), []);
  t.ok(fdCount() - fds0 < held, 'its fds closed');
  const [x, y] = await Promise.all([c.collect(), c.collect()]);
  t.equal(x, y, 'scrapes asked for together share one read');
  c.close();
  t.ok(source.closed, 'close() closes the source');
  t.equal(fdCount(), fds0, 'close() gives every fd back');
  await t.rejects(c.collect(), /closed/);
});

t.test('expected values: a mismatch series per expected key, always; host-only keys on the host only', async (t) => {
  const [host, a] = closedAtEnd(t, NetNamespace.current(), NetNamespace.create());
  const hostBacklog = fs.readFileSync('/proc/sys/net/core/netdev_max_backlog', 'utf8').trim();
  const expect = expectationsFrom(
    [
      'net.ipv4.tcp_keepalive_time = 7200',
      'net.ipv4.tcp_rmem = 4096 131072 6291456',
      'net.ipv4.tcp_congestion_control = nosuchcc',
      `net.core.netdev_max_backlog = ${hostBacklog}`,
      'net.ipv4.no_such_key = 1',
      'net.ipv4.conf.*.forwarding = 0',
    ].join('\n'),
    'expect.conf',
  );
  const source = new Given([
    { id: host.id, ns: host, members: [], labels: hostLabels(String(host.ino)) },
    podTarget(a, 'p'),
  ]);
  const c = new Collector({ source, expect, selection: new KeySelection({ include: ['net.core.somaxconn'] }) });
  t.teardown(() => c.close());
  const text = await c.collect();
  const mm = (pod: string) =>
    Object.fromEntries(find(text, 'netns_sysctl_mismatch', { pod }).map((s) => [s.labels.name, s.value]));
  t.same(
    mm('p'),
    {
      'net.ipv4.tcp_keepalive_time': '0',
      'net.ipv4.tcp_rmem':
        a.sysctl.getRaw('net.ipv4.tcp_rmem').split(/\s+/).join(' ') === '4096 131072 6291456' ? '0' : '1',
      'net.ipv4.tcp_congestion_control': '1',
      'net.ipv4.no_such_key': '1',
      'net.ipv4.conf.all.forwarding': '0',
      'net.ipv4.conf.default.forwarding': '0',
    },
    'every expected key, matching or not, present or not; netdev_max_backlog (host-only) not for a pod',
  );
  t.equal(mm('')['net.core.netdev_max_backlog'], '0', 'but for the host');
  t.same(
    find(text, 'netns_sysctl_expected', { pod: 'p', name: 'net.ipv4.tcp_rmem' }).map((s) => [s.labels.index, s.value]),
    [
      ['0', '4096'],
      ['1', '131072'],
      ['2', '6291456'],
    ],
  );
  t.equal(find(text, 'netns_sysctl_expected', { pod: 'p', name: 'net.ipv4.tcp_keepalive_time' })[0]?.value, '7200');
  t.same(
    find(text, 'netns_sysctl_expected', { name: 'net.ipv4.tcp_congestion_control' }),
    [],
    'no number: no expected gauge',
  );
  t.equal(
    find(text, 'netns_sysctl_net_ipv4_tcp_keepalive_time', { pod: 'p' })[0]?.value,
    '7200',
    'an expected key is exported too',
  );
  a.sysctl.set('net.ipv4.tcp_keepalive_time', 600);
  const after = await c.collect();
  t.equal(
    find(after, 'netns_sysctl_mismatch', { pod: 'p', name: 'net.ipv4.tcp_keepalive_time' })[0]?.value,
    '1',
    'the deviation appears',
  );
});

t.test('expected values from the containers\' own specs (source="spec"), beside the file\'s', async (t) => {
  const [a] = closedAtEnd(t, NetNamespace.create());
  a.sysctl.set('net.ipv4.tcp_keepalive_time', 600);
  const spec = new Map([
    ['net.ipv4.tcp_keepalive_time', '600'],
    ['net.ipv4.tcp_fin_timeout', '30'],
    ['net.ipv4.no_such_key', '1'],
    ['net.ipv4.tcp_fastopen_key', '00000000-00000000-00000000-00000000'],
  ]);
  const source = new Given([{ ...podTarget(a, 'p'), spec }]);
  const expect = expectationsFrom('net.ipv4.tcp_keepalive_time = 7200\n', 'expect.conf');
  for (const all of [false, true]) {
    const c = new Collector({ source, expect, selection: new KeySelection({ include: ['net.core.somaxconn'], all }) });
    t.teardown(() => c.close());
    source.set([{ ...podTarget(a, 'p'), spec }]);
    const text = await c.collect();
    const mm = (x: string) =>
      find(x, 'netns_sysctl_mismatch', { pod: 'p' })
        .map((s) => [s.labels.name, s.labels.source, s.value])
        .sort();
    t.same(
      mm(text),
      [
        ['net.ipv4.no_such_key', 'spec', '1'],
        ['net.ipv4.tcp_fin_timeout', 'spec', '1'],
        ['net.ipv4.tcp_keepalive_time', 'file', '1'],
        ['net.ipv4.tcp_keepalive_time', 'spec', '0'],
      ],
      `${all ? '--sysctl.all: ' : ''}the spec's keys against the namespace, the file's apart; a secret never`,
    );
    t.equal(
      find(text, 'netns_sysctl_expected', { pod: 'p', name: 'net.ipv4.tcp_fin_timeout', source: 'spec' })[0]?.value,
      '30',
    );
    t.equal(
      find(text, 'netns_sysctl_net_ipv4_tcp_fin_timeout', { pod: 'p' })[0]?.value,
      '60',
      'the key is read and exported',
    );
    t.notMatch(text, /fastopen_key/);
    a.sysctl.set('net.ipv4.tcp_fin_timeout', 30);
    t.equal(
      find(await c.collect(), 'netns_sysctl_mismatch', { pod: 'p', name: 'net.ipv4.tcp_fin_timeout' })[0]?.value,
      '0',
      'set as the spec asked',
    );
    // A container with another spec joins: the keys are chosen again.
    source.set([{ ...podTarget(a, 'p'), spec: new Map([['net.ipv4.tcp_fin_timeout', '45']]) }]);
    t.same(mm(await c.collect()), [
      ['net.ipv4.tcp_fin_timeout', 'spec', '1'],
      ['net.ipv4.tcp_keepalive_time', 'file', '1'],
    ]);
    a.sysctl.set('net.ipv4.tcp_fin_timeout', 60);
    c.close();
  }
  // The host's hostNetwork members cannot set network keys: no spec expectations there.
  const [host] = closedAtEnd(t, NetNamespace.current());
  const h = new Collector({
    source: new Given([{ id: host.id, ns: host, members: [], labels: hostLabels(String(host.ino)), spec }]),
    selection: new KeySelection({ include: ['net.core.somaxconn'] }),
  });
  t.teardown(() => h.close());
  t.notMatch(await h.collect(), /source="spec"/);
});

t.test('host tuning a pod does not get: the host against what a new namespace gets', async (t) => {
  // A namespace of ours stands in for the host (the host's own sysctls are left alone).
  const [fakeHost, a, b, c2] = closedAtEnd(
    t,
    NetNamespace.create(),
    NetNamespace.create(),
    NetNamespace.create(),
    NetNamespace.create(),
  );
  fakeHost.sysctl.set('net.ipv4.tcp_keepalive_time', 600); // tuned: a new namespace gets 7200
  b.sysctl.set('net.ipv4.tcp_keepalive_time', 600); // has the host's value
  c2.sysctl.set('net.ipv4.tcp_keepalive_time', 900); // its own
  const source = new Given([
    { id: fakeHost.id, ns: fakeHost, members: [], labels: hostLabels(String(fakeHost.ino)) },
    podTarget(a, 'a'),
    podTarget(b, 'b'),
    podTarget(c2, 'c'),
  ]);
  const c = new Collector({ source });
  t.teardown(() => c.close());
  const text = await c.collect();
  const missing = Object.fromEntries(
    find(text, 'netns_sysctl_host_tuning_missing', {}).map((x) => [`${x.labels.pod}/${x.labels.name}`, x.value]),
  );
  t.same(
    missing,
    {
      'a/net.ipv4.tcp_keepalive_time': '1',
      'b/net.ipv4.tcp_keepalive_time': '0',
      'c/net.ipv4.tcp_keepalive_time': '0',
    },
    'only the key the host tuned; 1 where the pod has what a new namespace gets',
  );
});

t.test(
  'effective values: what the kernel uses for an interface, from inputs read in the same scrape, exported or not',
  async (t) => {
    const [ns] = closedAtEnd(t, NetNamespace.create());
    ns.runSync(() => sh('ip', ['link', 'add', 'eth0', 'type', 'ifb']));
    ns.sysctl.set('net.ipv4.conf.all.rp_filter', 2);
    ns.sysctl.set('net.ipv4.conf.eth0.rp_filter', 1);
    const RP = 'netns_sysctl_net_ipv4_conf_rp_filter';
    const oracle = (key: string) => effectiveFrom(key, (k) => ns.sysctl.getRaw(k)).effective;
    const series = (text: string, name: string) => find(text, name, {}).map((s) => [s.labels.device, s.value]);

    // Keys chosen by globs: all, default and eth0 exported, eth0's effective value beside them.
    const c = new Collector({
      source: new Given([podTarget(ns, 'p')]),
      selection: new KeySelection({
        include: ['net.ipv4.conf.*.rp_filter', 'net.ipv4.conf.*.tag', 'net.ipv4.neigh.*.gc_stale_time'],
      }),
    });
    t.teardown(() => c.close());
    const text = await c.collect();
    t.equal(oracle('net.ipv4.conf.eth0.rp_filter'), '2', "netns' effectiveFrom: max(all 2, eth0 1)");
    t.same(series(text, `${RP}_effective`), [['eth0', '2']], 'max(all, DEV) for eth0; none for all and default');
    t.same(
      find(text, `${RP}_effective`, {})[0]?.labels,
      find(text, RP, { device: 'eth0' })[0]?.labels,
      "the labels of the key's own series",
    );
    t.match(text, /^# HELP netns_sysctl_net_ipv4_conf_rp_filter_effective .*max\(all, DEV\)/m, 'HELP names the rule');
    t.match(text, /^# TYPE netns_sysctl_net_ipv4_conf_rp_filter_effective gauge$/m);
    t.equal(find(text, 'netns_sysctl_net_ipv4_conf_tag', { device: 'eth0' }).length, 1, 'tag exported');
    t.equal(find(text, 'netns_sysctl_net_ipv4_neigh_gc_stale_time', { device: 'eth0' }).length, 1, 'so is a neigh key');
    t.notMatch(text, /_tag_effective|_gc_stale_time_effective/, 'no effective series for keys without a rule');
    t.match(text, /^netns_scrape_errors 0$/m);
    ns.sysctl.set('net.ipv4.conf.all.rp_filter', 0);
    t.same(series(await c.collect(), `${RP}_effective`), [['eth0', '1']], "conf.all set to 0: eth0's own 1");

    // Keys named exactly (nothing listed): the inputs are read, not exported.
    ns.sysctl.set('net.ipv4.conf.all.rp_filter', 2);
    ns.sysctl.set('net.ipv4.conf.all.accept_redirects', 0);
    ns.sysctl.set('net.ipv4.conf.eth0.accept_redirects', 1);
    ns.sysctl.set('net.ipv4.conf.eth0.forwarding', 0);
    const ar = 'netns_sysctl_net_ipv4_conf_accept_redirects';
    const one = ns.sysctl.snapshot(['net.ipv4.conf.eth0.rp_filter']);
    const snapFds = fdCount();
    one.close();
    const perSnapshot = snapFds - fdCount() - 1; // what a snapshot holds besides its keys' fds
    const fds0 = fdCount();
    const exact = new Collector({
      source: new Given([podTarget(ns, 'p')]),
      selection: new KeySelection({ include: ['net.ipv4.conf.eth0.rp_filter', 'net.ipv4.conf.eth0.accept_redirects'] }),
    });
    t.teardown(() => exact.close());
    const x = await exact.collect();
    t.same(series(x, RP), [['eth0', '1']], 'conf.all.rp_filter is not exported');
    t.same(series(x, `${RP}_effective`), [['eth0', '2']], 'but read: max(all 2, eth0 1)');
    t.same(series(x, `${ar}_effective`), [['eth0', '1']], 'accept_redirects: all || DEV, eth0 does not forward');
    t.same(find(x, 'netns_sysctl_net_ipv4_conf_forwarding', {}), [], 'forwarding is not exported');
    t.equal(
      fdCount() - fds0,
      perSnapshot + 5,
      "one snapshot of five keys: the two asked for, both conf.all's, eth0's forwarding",
    );
    ns.sysctl.set('net.ipv4.conf.eth0.forwarding', 1);
    const y = await exact.collect();
    t.same(series(y, `${ar}_effective`), [['eth0', '0']], 'eth0 now forwards: all && DEV; the unexported input read');
    t.equal(oracle('net.ipv4.conf.eth0.accept_redirects'), '0');
    ns.sysctl.set('net.ipv4.conf.all.rp_filter', 1);
    t.same(series(await exact.collect(), `${RP}_effective`), [['eth0', '1']], 'conf.all changed between scrapes');
    t.match(y, /^netns_scrape_errors 0$/m);

    // --sysctl.all: from the walk's values. Every conf key of eth0 against netns' effectiveFrom.
    const walk = new Collector({ source: new Given([podTarget(ns, 'p')]), selection: new KeySelection({ all: true }) });
    t.teardown(() => walk.close());
    const w = await walk.collect();
    const raw = ns.sysctl.getAll().raw;
    let checked = 0;
    for (const key of Object.keys(raw)) {
      const p = splitKey(key.slice(4).replace(/\./g, '/'));
      if (p.device !== 'eth0' || !/^net\.ipv[46]\.conf\./.test(key)) continue;
      const got = find(w, `${familyName(p.familyKey)}_effective`, { device: 'eth0' }).map((s) => s.value);
      const want = effectiveFamily(p.familyKey) && effectiveFrom(key, (k) => raw[k]).effective;
      t.same(got, want ? [want] : [], `${key}: ${want ?? 'no rule: none'}`);
      if (want) checked++;
    }
    t.ok(checked > 20, `effective values of ${checked} conf keys of eth0`);
    t.same(
      samples(w).filter((s) => s.name.endsWith('_effective') && s.labels.device !== 'eth0'),
      [],
      'none for all, default or lo',
    );
    t.match(w, /^netns_scrape_errors 0$/m);
    ns.sysctl.set('net.ipv4.conf.all.rp_filter', 2);
    t.same(series(await walk.collect(), `${RP}_effective`), [['eth0', '2']], 'conf.all changed between walks');

    // --no-sysctl.effective: none, and no input read that is not exported.
    const fds1 = fdCount();
    const off = new Collector({
      source: new Given([podTarget(ns, 'p')]),
      selection: new KeySelection({ include: ['net.ipv4.conf.eth0.rp_filter'], effective: false }),
    });
    t.teardown(() => off.close());
    const o = await off.collect();
    t.same(series(o, RP), [['eth0', '1']], 'the key is exported');
    t.notMatch(o, /_effective/, 'its effective value is not');
    t.equal(fdCount() - fds1, perSnapshot + 1, "one snapshot of the one key: conf.all's entry not opened");
    const offAll = new Collector({
      source: new Given([podTarget(ns, 'p')]),
      selection: new KeySelection({ all: true, effective: false }),
    });
    t.teardown(() => offAll.close());
    const oa = await offAll.collect();
    t.ok(find(oa, RP, { device: 'eth0' }).length === 1, '--sysctl.all: eth0 exported');
    t.notMatch(oa, /_effective/, 'and no effective series');
  },
);

t.test('interfaces: only those asked for, a glob bounded by its limit, hostile names kept exact', async (t) => {
  const ns = NetNamespace.create();
  t.teardown(() => ns.close());
  const names = ['tv0', 'tv1', 'tv2', 'tv3', 'q"a\\b'];
  ns.runSync(() => {
    names.forEach((n, i) => {
      sh('ip', ['link', 'add', n, 'type', 'veth', 'peer', 'name', `pp${i}`]);
    });
  });
  const source = new Given([podTarget(ns, 'p')]);
  const c = new Collector({
    source,
    selection: new KeySelection({ include: ['net.ipv4.conf.*.forwarding'], devices: ['q*', 'tv*'], deviceLimit: 3 }),
  });
  t.teardown(() => c.close());
  const devs = (text: string) =>
    find(text, 'netns_sysctl_net_ipv4_conf_forwarding', {})
      .map((s) => s.labels.device!)
      .sort();
  const text = await c.collect();
  t.same(devs(text), ['q"a\\b', 'tv0', 'tv1'], 'the first three by name; the peers and lo never');
  t.match(text, /device="q\\"a\\\\b"/, 'the name escaped in the text format, exact once read');
  t.match(text, /^netns_sysctl_devices_skipped 2$/m);
  ns.runSync(() => sh('ip', ['link', 'del', 'tv0']));
  await c.collect(); // sees tv0 gone: its keys are chosen again for the next scrape
  t.same(devs(await c.collect()), ['q"a\\b', 'tv1', 'tv2']);
  // An interface that comes later is seen when the namespace is listed again.
  ns.runSync(() => sh('ip', ['link', 'add', 'q0', 'type', 'veth', 'peer', 'name', 'pq0']));
  const relisting = new Collector({
    source: new Given([podTarget(ns, 'p')]),
    selection: new KeySelection({ include: ['net.ipv4.conf.*.forwarding'], devices: ['eth0'] }),
    relistInterval: 0,
  });
  t.teardown(() => relisting.close());
  t.same(devs(await relisting.collect()), [], 'no eth0 yet');
  ns.runSync(() => sh('ip', ['link', 'set', 'q0', 'name', 'eth0']));
  t.same(devs(await relisting.collect()), ['eth0'], 'the eth0 a CNI plugin adds later');
});

t.test(
  '--sysctl.all: a walk of each namespace, secrets and unasked interfaces left out, the loop given back',
  async (t) => {
    const a = NetNamespace.create();
    const b = NetNamespace.create();
    t.teardown(() => {
      a.close();
      b.close();
    });
    a.runSync(() => sh('ip', ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'other0']));
    const source = new Given([podTarget(a, 'a'), podTarget(b, 'b')]);
    const c = new Collector({ source, selection: new KeySelection({ all: true }) });
    t.teardown(() => c.close());
    let turns = 0;
    const tick = setInterval(() => turns++, 0);
    const text = await c.collect();
    clearInterval(tick);
    t.ok(turns > 0, 'timers ran while the namespaces were walked');
    const keys = a.sysctl.list().filter((k) => !/\.(lo|other0)\./.test(k) && !/fastopen_key|stable_secret/.test(k));
    const families = new Set(
      samples(text)
        .filter((s) => s.labels.pod === 'a')
        .map((s) => s.name),
    );
    t.ok(families.size > 200, `hundreds of families (${families.size})`);
    t.ok(families.has('netns_sysctl_net_ipv4_conf_forwarding'));
    t.same(
      find(text, 'netns_sysctl_net_ipv4_conf_forwarding', { pod: 'a' })
        .map((s) => s.labels.device)
        .sort(),
      ['all', 'default', 'eth0'],
    );
    t.notMatch(text, /fastopen_key|stable_secret/, 'secrets are never exported');
    t.notMatch(text, /device="(lo|other0)"/);
    t.ok(keys.length > 300);
    t.match(text, /^netns_scrape_errors 0$/m);
    // The next walk reuses each key's slot: the same series, the values read again.
    a.sysctl.set('net.core.somaxconn', 1234);
    const next = await c.collect();
    t.equal(find(next, 'netns_sysctl_net_core_somaxconn', { pod: 'a' })[0]?.value, '1234', 'a change seen');
    const series = (x: string) => samples(x).filter((s) => s.name.startsWith('netns_sysctl_')).length;
    t.equal(series(next), series(text), 'the same series');
  },
);

t.test(
  "a tenant's 2,000 interfaces: counted, never listed; the namespace reported truncated; labels exact",
  async (t) => {
    const [ns, small] = closedAtEnd(t, NetNamespace.create(), NetNamespace.create());
    // One `ip -batch` call, as a tenant would: 2,000 interfaces (ifb: 2,000 bridges hold the RTNL
    // lock for ~30 s after the namespace is gone, stalling the next test), an eth0, and names matched by a
    // glob: a terminal escape sequence with a quote and a backslash, and bytes that are not UTF-8.
    const dir = fs.mkdtempSync('/tmp/netns-exp-flood-');
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    const batch = path.join(dir, 'batch');
    const lines = Array.from({ length: 2000 }, (_, i) => `link add d${i} type ifb\n`);
    fs.writeFileSync(
      batch,
      Buffer.concat([
        Buffer.from(`${lines.join('')}link add eth0 type ifb\nlink add va type ifb\nlink add ve`),
        Buffer.from([0xff]),
        Buffer.from(' type ifb\n'),
      ]),
    );
    const hostile = 've\x1b[31m"x\\'; // ip -batch reads quotes and backslashes itself: given as an argument
    ns.runSync(() => {
      sh('ip', ['-batch', batch]);
      sh('ip', ['link', 'add', hostile, 'type', 'ifb']);
    });
    t.equal(
      ns.runSync(() => fs.readdirSync('/proc/sys/net/ipv4/conf').length),
      2000 + 4 + 1 + 2,
      'the namespace has its interfaces (and lo, all, default)',
    );
    small.runSync(() => sh('ip', ['link', 'add', 'eth0', 'type', 'bridge']));

    // Each way of reading a whole namespace, spied on: none may be used on the flooded one.
    const whole: string[] = [];
    for (const [name, n] of [
      ['flooded', ns],
      ['small', small],
    ] as const) {
      const s = n.sysctl as unknown as Record<string, (...a: unknown[]) => unknown>;
      for (const m of ['list', 'listAsync', 'getAll', 'getAllAsync']) {
        const orig = s[m]!.bind(n.sysctl);
        s[m] = (...a: unknown[]) => {
          whole.push(`${name}.${m}`);
          return orig(...a);
        };
      }
    }
    const source = new Given([podTarget(ns, 'tenant'), podTarget(small, 'small')]);
    const selection = new KeySelection({ devices: ['all', 'default', 'eth0', 'v*'], deviceLimit: 2 });
    const c = new Collector({ source, selection });
    t.teardown(() => c.close());
    const fds0 = fdCount();
    let turns = 0;
    const tick = setInterval(() => turns++, 0);
    const text = await c.collect();
    clearInterval(tick);
    t.ok(turns > 0, 'timers ran while the interfaces were counted (read off the event loop)');
    t.same(whole, ['small.listAsync'], 'the small namespace listed whole; the flooded one never');
    t.equal(
      find(text, 'netns_interfaces', { pod: 'tenant' })[0]?.value,
      String(2000 + 5),
      'the 2,000, eth0, lo and three matched by the glob',
    );
    t.equal(find(text, 'netns_sysctl_truncated', { pod: 'tenant' })[0]?.value, '1', 'truncated, with the counts');
    t.equal(find(text, 'netns_interfaces', { pod: 'small' })[0]?.value, '2');
    t.equal(find(text, 'netns_sysctl_truncated', { pod: 'small' })[0]?.value, '0');
    const devs = (text: string, pod: string, suffix = '') =>
      find(text, `netns_sysctl_net_ipv4_conf_rp_filter${suffix}`, { pod })
        .map((s) => s.labels.device!)
        .sort();
    t.same(
      devs(text, 'tenant'),
      ['all', 'default', 'eth0', 'va', hostile].sort(),
      'the interfaces asked for; never the 2,000; the glob within its limit',
    );
    t.same(
      devs(text, 'tenant', '_effective'),
      ['eth0', 'va', hostile].sort(),
      'effective values for those interfaces, their inputs read within the bound; none for all and default',
    );
    t.ok(
      text.includes(`device="ve\x1b[31m\\"x\\\\"`),
      'the escape sequence raw in the label (the text format escapes only \\ " and newline)',
    );
    t.notMatch(text, /\ufffd/, 'the name that is not UTF-8 is in no series');
    t.match(text, /^netns_sysctl_devices_skipped 1$/m, 'it is counted as left out');
    t.ok(fdCount() - fds0 < 200, `fds held for both namespaces: ${fdCount() - fds0}`);
    t.match(text, /^netns_scrape_errors 0$/m);
    t.equal(find(text, 'netns_sysctl_net_core_somaxconn', { pod: 'tenant' }).length, 1, 'its other keys are read');

    // A relist later stays bounded too; so does --sysctl.all (a walk of just the interfaces exported).
    whole.length = 0;
    const relisting = new Collector({ source: new Given([podTarget(ns, 'tenant')]), selection, relistInterval: 0 });
    t.teardown(() => relisting.close());
    await relisting.collect();
    t.same(devs(await relisting.collect(), 'tenant'), ['all', 'default', 'eth0', 'va', hostile].sort());
    const all = new Collector({
      source: new Given([podTarget(ns, 'tenant'), podTarget(small, 'small')]),
      selection: new KeySelection({ all: true, devices: ['all', 'default', 'eth0'] }),
    });
    t.teardown(() => all.close());
    const fds1 = fdCount();
    const walked = await all.collect();
    t.same(whole, ['small.getAllAsync'], 'with --sysctl.all: the small one walked whole, the flooded one not');
    t.equal(fdCount(), fds1, 'the bounded read closes what it opened');
    t.equal(find(walked, 'netns_sysctl_truncated', { pod: 'tenant' })[0]?.value, '1');
    t.same(devs(walked, 'tenant'), ['all', 'default', 'eth0']);
    t.same(devs(walked, 'tenant', '_effective'), ['eth0'], 'from the bounded read');
    const families = new Set(
      samples(walked)
        .filter((s) => s.labels.pod === 'tenant')
        .map((s) => s.name),
    );
    const smallFamilies = new Set(
      samples(walked)
        .filter((s) => s.labels.pod === 'small')
        .map((s) => s.name),
    );
    t.same(
      [...smallFamilies].filter((f) => !families.has(f)),
      [],
      'every family of a plain namespace is read in the flooded one',
    );
    t.match(walked, /^netns_scrape_errors 0$/m);
    // The bound is a flag: lowered under a plain namespace's count, that one is read bounded.
    const lowered = new Collector({
      source: new Given([podTarget(small, 'small')]),
      selection: new KeySelection({ include: ['net.ipv4.conf.*.rp_filter'], maxInterfaces: 1 }),
    });
    t.teardown(() => lowered.close());
    whole.length = 0;
    const low = await lowered.collect();
    t.equal(find(low, 'netns_sysctl_truncated', { pod: 'small' })[0]?.value, '1');
    t.same(devs(low, 'small'), ['all', 'default', 'eth0'], 'the same series, read bounded');
    t.same(whole, []);
  },
);

t.test('the server: metrics (gzip when asked), landing page, probes, errors; the command', async (t) => {
  const [ns] = closedAtEnd(t, NetNamespace.create());
  const c = new Collector({ source: new Given([podTarget(ns, 'p')]) });
  t.teardown(() => c.close());
  const server = await serve(c, { host: '127.0.0.1', port: 0, telemetryPath: '/m', version: '1.2.3' });
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const plain = await fetch(`${base}/m`, { headers: { 'accept-encoding': 'identity' } });
  t.equal(plain.status, 200);
  t.equal(plain.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  t.equal(plain.headers.get('content-encoding'), null);
  const text = await plain.text();
  t.match(text, /^netns_sysctl_net_core_somaxconn\{.*pod="p".*\} \d+$/m);
  t.match(text, /^process_open_fds \d+$/m, "the exporter's own process");
  t.match(text, /^process_cpu_seconds_total [\d.e-]+$/m);
  const zipped = await fetch(`${base}/m`, { headers: { 'accept-encoding': 'gzip' } });
  t.equal(zipped.headers.get('content-encoding'), 'gzip', 'gzip when Prometheus asks for it');
  t.match(await zipped.text(), /netns_sysctl_net_core_somaxconn/);
  const home = await fetch(`${base}/`);
  t.match(await home.text(), /netns-exporter 1\.2\.3.*href="\/m"/s, 'a landing page linking the metrics');
  for (const p of ['/-/healthy', '/-/ready']) t.equal((await fetch(base + p)).status, 200, p);
  t.equal((await fetch(`${base}/metrics`)).status, 404);
  t.equal((await fetch(`${base}/m`, { method: 'POST' })).status, 405);
  const lines: string[] = [];
  const failing = new Collector({
    source: {
      errors: 0,
      scan: () => Promise.reject(new Error('boom')),
      close: () => {},
    },
  });
  const bad = await serve(failing, {
    host: '127.0.0.1',
    port: 0,
    telemetryPath: '/metrics',
    version: '0',
    log: (l) => lines.push(l),
  });
  t.teardown(() => new Promise<void>((r) => bad.close(() => r())));
  const r = await fetch(`http://127.0.0.1:${(bad.address() as { port: number }).port}/metrics`);
  t.equal(r.status, 500, 'a scrape that fails is a 500');
  t.same(lines, ['netns-exporter: scrape failed: boom'], 'and logged');

  // startExporter: the flags as the command reads them.
  const dir = fs.mkdtempSync('/tmp/netns-exp-start-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'a.conf'), 'net.ipv4.tcp_keepalive_time = 1\n');
  fs.writeFileSync(path.join(dir, 'b.conf'), 'net.ipv4.tcp_keepalive_time = 7200\n');
  const { config } = parseFlags([
    '--web.listen-address=127.0.0.1:0',
    `--containers.root=runc=${dir}/no-such-root`,
    `--sysctl.expect=${dir}/a.conf`,
    `--sysctl.expect=${dir}/b.conf`,
    '--sysctl.include=net.core.somaxconn',
  ]);
  const running = await startExporter(config);
  t.match(running.url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  const got = await (await fetch(running.url)).text();
  t.match(
    got,
    /^netns_sysctl_mismatch\{.*host_network="true",name="net\.ipv4\.tcp_keepalive_time",source="file"\} [01]$/m,
  );
  t.match(
    got,
    /^netns_sysctl_expected\{.*name="net\.ipv4\.tcp_keepalive_time",source="file"\} 7200$/m,
    'a later file wins',
  );
  t.match(got, /^netns_exporter_build_info\{version="\d+\.\d+\.\d+",netns_version="\d+\.\d+\.\d+"/m);
  await running.close();
  await t.rejects(startExporter({ ...config, expectFiles: [`${dir}/missing.conf`] }), { code: 'ENOENT' });

  // The command itself: --version, --help, a flag it cannot use (exit 2).
  const cli = path.join(fileURLToPath(new URL('..', import.meta.url)), 'packages/exporter/bin/netns-exporter.js');
  const [cmd, args] = plainNode([cli, '--version']);
  const v = spawnSync(cmd, args, { encoding: 'utf8', env: childEnv() });
  t.match(v.stdout, /^netns-exporter \d+\.\d+\.\d+ \(netns \d+\.\d+\.\d+, node v/);
  const [hc, ha] = plainNode([cli, '--help']);
  t.match(spawnSync(hc, ha, { encoding: 'utf8', env: childEnv() }).stdout, /--sysctl\.include=KEY\[:FIELD,\.\.\.\]/);
  const [bc, ba] = plainNode([cli, '--sysctl.include=kernel.hostname']);
  const b = spawnSync(bc, ba, { encoding: 'utf8', env: childEnv() });
  t.equal(b.status, 2, 'a flag it cannot use: exit 2');
  t.match(b.stderr, /^netns-exporter: Expected a net\.\* key/);
  const [pc, pa] = plainNode([cli, `--web.listen-address=127.0.0.1:${(server.address() as { port: number }).port}`]);
  const taken = spawnSync(pc, pa, { encoding: 'utf8', env: childEnv(), timeout: 30_000 });
  t.equal(taken.status, 1, 'a port taken: exit 1');
  t.match(taken.stderr, /EADDRINUSE/);
});

const why = missing(['runc']);
t.test(
  'discovery: pods from CRI annotations, one target per namespace, hostNetwork in the host',
  { skip: why ?? false },
  async (t) => {
    const dir = tempDir(t, 'netns-exp-disc');
    const root = path.join(dir, 'runc-root');
    const sandboxId = containerId('nexp-sb');
    const sb = runcRun(
      t,
      sandboxId,
      runcBundle(
        path.join(dir, 'sb'),
        {
          'io.kubernetes.cri.container-type': 'sandbox',
          'io.kubernetes.cri.sandbox-id': sandboxId,
          'io.kubernetes.cri.sandbox-name': 'web-0',
          'io.kubernetes.cri.sandbox-namespace': 'prod',
          'io.kubernetes.cri.sandbox-uid': 'c0ffee00-0000-4000-8000-000000000001',
        },
        { 'net.ipv4.tcp_keepalive_time': '600' },
      ),
      root,
    );
    const appBundle = runcBundle(path.join(dir, 'app'), {
      'io.kubernetes.cri.container-type': 'container',
      'io.kubernetes.cri.container-name': 'nginx',
      'io.kubernetes.cri.sandbox-id': sandboxId,
      'io.kubernetes.cri.sandbox-name': 'web-0',
      'io.kubernetes.cri.sandbox-namespace': 'prod',
      'io.kubernetes.cri.sandbox-uid': 'c0ffee00-0000-4000-8000-000000000001',
    });
    joinNetwork(appBundle, `/proc/${sb.pid}/ns/net`);
    const app = runcRun(t, containerId('nexp-app'), appBundle, root);
    const hostNetBundle = runcBundle(path.join(dir, 'hn'), {
      'io.kubernetes.cri.container-type': 'container',
      'io.kubernetes.cri.container-name': 'agent',
      'io.kubernetes.cri.sandbox-name': 'agent-x',
      'io.kubernetes.cri.sandbox-namespace': 'kube-system',
      'io.kubernetes.cri.sandbox-uid': 'c0ffee00-0000-4000-8000-000000000002',
    });
    joinNetwork(hostNetBundle, undefined);
    const hn = runcRun(t, containerId('nexp-hn'), hostNetBundle, root);
    const plain = runcRun(t, containerId('nexp-plain'), runcBundle(path.join(dir, 'plain')), root);

    const d = new ContainerDiscovery({ roots: [{ runtime: 'runc', dir: root }] });
    t.teardown(() => d.close());
    const targets = (await d.scan())!;
    t.ok(targets, 'the first scan reads');
    const hostT = targets.find((x) => x.labels.host_network === 'true')!;
    t.equal(hostT.id, NetNamespace.current().id, "the host's target is the exporter's own namespace");
    t.same(
      hostT.members.map((m) => [m.id, m.namespace, m.pod, m.name]),
      [[hn.id, 'kube-system', 'agent-x', 'agent']],
      'the hostNetwork container is a member of the host',
    );
    const pod = targets.find((x) => x.labels.pod === 'web-0')!;
    t.same(pod.labels, {
      netns: fs.readlinkSync(`/proc/${sb.pid}/ns/net`).replace(/\D/g, ''),
      namespace: 'prod',
      pod: 'web-0',
      uid: 'c0ffee00-0000-4000-8000-000000000001',
      container: '',
      runtime: 'runc',
      host_network: 'false',
    });
    t.same(pod.members.map((m) => m.id).sort(), [sb.id, app.id].sort(), "one target for the pod's two containers");
    t.same([...(pod.spec ?? [])], [['net.ipv4.tcp_keepalive_time', '600']], "the sysctls its sandbox's spec set");
    t.equal(hostT.spec, undefined, 'none for the host');
    t.same(pod.members.find((m) => m.id === app.id)?.name, 'nginx');
    const other = targets.find((x) => x.members.some((m) => m.id === plain.id))!;
    t.same(
      [other.labels.container, other.labels.pod, other.labels.runtime],
      [plain.id, '', 'runc'],
      'outside Kubernetes: the container names it',
    );
    t.equal(targets.length, 3);
    t.equal(await d.scan(), undefined, 'nothing changed: no read');

    // A container that stops: seen at the next scan (its process is gone), its target dropped.
    run('runc', ['--root', root, 'kill', plain.id, 'KILL']);
    for (let i = 0; i < 50 && fs.existsSync(`/proc/${pid(root, plain.id)}`); i++)
      await new Promise((r) => setTimeout(r, 50));
    const after = await d.scan();
    t.ok(after, 'read again');
    t.notOk(
      after!.some((x) => x.members.some((m) => m.id === plain.id)),
      'gone',
    );
    t.equal(after!.length, 2);

    const only = new ContainerDiscovery({
      roots: [{ runtime: 'runc', dir: root }],
      namespaces: ['kube-*'],
      noHost: true,
    });
    t.teardown(() => only.close());
    t.same(
      (await only.scan())!.map((x) => x.labels.pod),
      [],
      'hostNetwork pods need the host; prod is not kube-*',
    );
    const prod = new ContainerDiscovery({ roots: [{ runtime: 'runc', dir: root }], namespaces: ['prod'] });
    t.teardown(() => prod.close());
    t.same(
      (await prod.scan())!.map((x) => x.labels.pod),
      ['', 'web-0'],
      'the host, and the pods of the namespaces asked for',
    );
  },
);

/** The pid runc recorded for a container. */
function pid(root: string, id: string): number {
  return (JSON.parse(fs.readFileSync(path.join(root, id, 'state.json'), 'utf8')) as { init_process_pid: number })
    .init_process_pid;
}

/** Point a bundle's network namespace at `nsPath`, or share the caller's (the host's) when undefined. */
function joinNetwork(bundle: string, nsPath: string | undefined): void {
  const file = path.join(bundle, 'config.json');
  const spec = JSON.parse(fs.readFileSync(file, 'utf8'));
  const ns = (spec.linux.namespaces as { type: string; path?: string }[]).filter((n) => n.type !== 'network');
  if (nsPath !== undefined) ns.push({ type: 'network', path: nsPath });
  spec.linux.namespaces = ns;
  fs.writeFileSync(file, JSON.stringify(spec));
}
