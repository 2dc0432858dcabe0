// The explain rule base and remedies as data (lib/explain/kernel-rules.ts, rules.ts,
// k8s-sysctls.ts, remediesFor in lib/hints.ts): pure, no root, no namespaces.
import t from 'tap';
import {
  KERNEL_RULES,
  VERIFIED_LINES,
  defaultContext,
  findRule,
  kernelNote,
  kernelSupport,
  ruleEvidence,
} from '../../lib/explain/rules.js';
import { K8S_SAFE_SYSCTLS } from '../../lib/explain/k8s-sysctls.js';
import { remediesFor } from '../../lib/explain/remedies.js';

const ctx = defaultContext(0, '6.18.44');

t.test('every rule has a function, a file, checked lines and an explanation; ids are unique', async (t) => {
  const ids = new Set<string>();
  for (const r of KERNEL_RULES) {
    t.ok(r.id && r.fn && r.file && r.versions && r.explanation, r.id);
    t.notOk(ids.has(r.id), `${r.id}: unique`);
    ids.add(r.id);
    t.ok(r.checked.length > 0, `${r.id}: checked lines`);
    for (const c of r.checked)
      t.ok(
        VERIFIED_LINES.some((l) => l.line === c.line),
        `${r.id}: ${c.line} is a verified line`,
      );
    t.ok(r.file.startsWith('net/'), `${r.id}: a file under net/`);
  }
});

t.test('family rules give way to a specific rule that excludes this kernel', async (t) => {
  t.equal(findRule('ipv4/tcp_rmem', ctx)?.id, 'tcp_sk_init.rmem_wmem');
  t.equal(findRule('ipv4/tcp_rmem', defaultContext(0, '4.14.0')), undefined, 'no ipv4 family fallback before 4.15');
  t.equal(
    findRule('ipv4/some_new_key', ctx)?.id,
    'ipv4_sysctl_init_net.pernet',
    'an unknown ipv4 key: the family rule',
  );
  t.equal(findRule('core/tstamp_allow_data', defaultContext(0, '6.12.0'))?.class, 'host-only');
  t.equal(findRule('core/tstamp_allow_data', ctx)?.class, 'default');
  t.equal(
    findRule('core/tstamp_allow_data', defaultContext(0, '6.15.0')),
    undefined,
    'between the checked lines: no claim',
  );
  t.equal(findRule('ipv4/conf/lo/disable_policy', ctx)?.id, 'inetdev_init.loopback_nopolicy');
  t.equal(findRule('ipv4/route/gc_thresh', ctx)?.class, 'host-only');
  t.equal(findRule('ipv4/route/min_pmtu', ctx)?.class, 'default');
});

t.test('devconf_inherit_init_net 0-3: ipv4 and ipv6 differ at 0', async (t) => {
  const cls = (rel: string, m: number): string =>
    ruleEvidence(findRule(rel, defaultContext(m, '6.18.0'))!, rel, defaultContext(m, '6.18.0')).class;
  t.same(
    [0, 1, 2, 3].map((m) => cls('ipv4/conf/default/rp_filter', m)),
    ['inherited', 'inherited', 'default', 'parent'],
  );
  t.same(
    [0, 1, 2, 3].map((m) => cls('ipv6/conf/default/forwarding', m)),
    ['default', 'inherited', 'default', 'parent'],
  );
  t.same(
    [0, 1, 2, 3].map((m) => cls('ipv4/ip_forward', m)),
    ['inherited', 'inherited', 'default', 'parent'],
    'ip_forward is conf.all.forwarding',
  );
  const dev = ruleEvidence(findRule('ipv4/conf/eth0/rp_filter', ctx)!, 'ipv4/conf/eth0/rp_filter', ctx);
  t.equal(dev.sourceKey, 'net.ipv4.conf.default.rp_filter', "a device copies its namespace's conf.default");
});

t.test(
  "ipv6 device entries that ipv6_add_dev does not copy from conf.default: mtu (the link MTU), lo's accept_dad and use_tempaddr",
  async (t) => {
    for (const [rel, id, expect] of [
      ['ipv6/conf/lo/mtu', 'ipv6_add_dev.mtu', '65536'],
      ['ipv6/conf/eth0/mtu', 'ipv6_add_dev.mtu', undefined],
      ['ipv6/conf/lo/accept_dad', 'ipv6_add_dev.loopback', '-1'],
      ['ipv6/conf/lo/use_tempaddr', 'ipv6_add_dev.loopback', '-1'],
    ] as const) {
      const e = ruleEvidence(findRule(rel, ctx)!, rel, ctx);
      t.equal(e.id, id, rel);
      t.equal(e.sourceKey, undefined, `${rel}: not a copy of conf.default`);
      t.equal(e.expect, expect, `${rel}: a fresh namespace gets ${expect ?? "the device's own value"}`);
    }
    for (const rel of [
      'ipv6/conf/default/mtu',
      'ipv6/conf/all/mtu',
      'ipv6/conf/eth0/accept_dad',
      'ipv6/conf/lo/forwarding',
    ])
      t.equal(findRule(rel, ctx)?.id, 'addrconf_init_net.devconf', `${rel}: the devconf rule`);
  },
);

t.test('child hash sizes come from the creator; user-namespace-hidden keys', async (t) => {
  const e = ruleEvidence(findRule('ipv4/tcp_ehash_entries', ctx)!, 'ipv4/tcp_ehash_entries', ctx);
  t.same([e.class, e.sourceKey], ['parent', 'net.ipv4.tcp_child_ehash_entries']);
  const u = ruleEvidence(findRule('ipv4/udp_hash_entries', ctx)!, 'ipv4/udp_hash_entries', ctx);
  t.same([u.class, u.sourceKey], ['parent', 'net.ipv4.udp_child_hash_entries']);
  const hid = (rel: string): string | undefined => ruleEvidence(findRule(rel, ctx)!, rel, ctx).userns;
  t.equal(hid('core/xfrm_acq_expires'), 'hidden');
  t.equal(hid('ipv6/route/gc_thresh'), 'hidden');
  t.equal(hid('ipv6/route/max_size'), undefined, 'the one ipv6 route entry a user namespace keeps');
  t.equal(hid('ipv4/tcp_keepalive_time'), undefined);
});

t.test('kernel awareness: on and off the verified lines', async (t) => {
  const rule = findRule('ipv4/tcp_keepalive_time', ctx)!;
  t.equal(kernelNote(rule, ctx).checkedOnRunning, true);
  const off = defaultContext(0, '6.5.0');
  t.equal(kernelNote(rule, off).checkedOnRunning, false);
  t.match(
    kernelNote(rule, off).note,
    /not checked on 6\.5: it holds on 5\.10 \(observed\), 6\.1 \(observed, source\), 6\.12 \(observed, source\), 6\.18 \(observed\)/,
  );
  t.equal(kernelSupport(off).verified, false);
  t.match(kernelSupport(off).note, /not for 6\.5/);
  t.equal(kernelSupport(defaultContext(0, '6.12.9')).verified, true);
});

t.test('remedies: docker, the kubelet safe set, unsafe keys, host-only keys, interfaces', async (t) => {
  const ka = remediesFor({ key: 'net.ipv4.tcp_keepalive_time', class: 'default', value: '600' });
  t.equal(ka.docker.command, 'docker run --sysctl net.ipv4.tcp_keepalive_time=600 IMAGE');
  t.same([ka.kubernetes.safe, ka.kubernetes.since, ka.kubernetes.kernel], [true, '1.29', '4.5']);
  t.match(ka.kubernetes.securityContext, /name: net\.ipv4\.tcp_keepalive_time, value: "600"/);
  t.match(ka.initContainer, /privileged.*prefer securityContext\.sysctls/);
  const rmem = remediesFor({ key: 'net.ipv4.tcp_rmem', class: 'inherited', value: '4096 131072 6291456' });
  t.equal(rmem.kubernetes.since, '1.32');
  t.equal(
    rmem.docker.command,
    "docker run --sysctl 'net.ipv4.tcp_rmem=4096 131072 6291456' IMAGE",
    'quoted when the value has blanks',
  );
  const cc = remediesFor({ key: 'net.ipv4.tcp_congestion_control', class: 'inherited', value: 'bbr' });
  t.equal(cc.kubernetes.safe, false);
  t.match(cc.kubernetes.text, /--allowed-unsafe-sysctls='net\.ipv4\.tcp_congestion_control'.*Pod Security/);
  const host = remediesFor({ key: 'net.core.netdev_max_backlog', class: 'host-only', value: '1000' });
  t.same([host.docker.available, host.kubernetes.available], [false, false]);
  t.match(host.instead, /No per-container setting exists: set it on the node/);
  const dev = remediesFor({ key: 'net.ipv4.conf.eth0.rp_filter', class: 'inherited', value: '1', device: 'eth0' });
  t.equal(dev.docker.command, 'docker run --sysctl net.ipv4.conf.default.rp_filter=1 IMAGE');
  t.match(dev.docker.text, /com\.docker\.network\.endpoint\.sysctls=net\.ipv4\.conf\.IFNAME\.rp_filter=1/);
  const lo = remediesFor({ key: 'net.ipv4.conf.lo.rp_filter', class: 'inherited', value: '0', device: 'lo' });
  t.equal(
    lo.docker.command,
    'docker run --sysctl net.ipv4.conf.lo.rp_filter=0 IMAGE',
    'lo exists when docker applies it',
  );
  const hostDev = remediesFor({ key: 'net.ipv4.conf.eth0.rp_filter', class: 'host-only', value: '1', device: 'eth0' });
  t.match(hostDev.instead, /host's interface "eth0"/);
  const vlan = remediesFor({
    key: 'net.ipv4.conf.eth0/100.rp_filter',
    class: 'inherited',
    value: '1',
    device: 'eth0.100',
  });
  t.equal(
    vlan.docker.command,
    'docker run --sysctl net.ipv4.conf.default.rp_filter=1 IMAGE',
    'a VLAN interface (a dot in its name) too',
  );
  t.match(vlan.docker.text, /sysctls=net\.ipv4\.conf\.IFNAME\.rp_filter=1/);
  t.match(
    remediesFor({ key: 'net.ipv4.conf.eth0/100.rp_filter', class: 'host-only', value: '1', device: 'eth0.100' })
      .instead,
    /\(e\.g\. net\.ipv4\.conf\.eth0\.rp_filter\)/,
  );
  for (const s of K8S_SAFE_SYSCTLS) t.match(s.name, /^net\.ipv4\./, `${s.name}: a net key`);
});
