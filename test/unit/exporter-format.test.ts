// netns-exporter's pure parts: the text format (names, escaping), how keys become families
// (node_exporter's sysctl collector: index labels, field names, an info family for text, the
// interface in a device label), which keys and interfaces are chosen, and the flags.
import t from 'tap';
import {
  DEFAULT_DEVICES,
  DEFAULT_INCLUDE,
  FLAGS,
  FlagError,
  KeySelection,
  effectiveFamily,
  escapeLabelValue,
  familyName,
  metricName,
  parseDuration,
  parseFlags,
  parseListen,
  splitKey,
  usage,
} from '../../packages/exporter/src/index.js';
import { Family, escapeHelp, labelPairs } from '../../packages/exporter/src/exposition.js';
import { catalogueKind, isInteger, kindOfValue } from '../../packages/exporter/src/keys.js';

t.test('text format: names sanitized, label values and help escaped, families', async (t) => {
  t.equal(metricName('net.ipv4.tcp_keepalive_time'), 'net_ipv4_tcp_keepalive_time');
  t.equal(metricName('net.ipv6.conf.eth0-1:x.y'), 'net_ipv6_conf_eth0_1_x_y', "colons are the user's: replaced too");
  t.equal(metricName('9a'), '_9a');
  t.equal(escapeLabelValue('plain'), 'plain');
  t.equal(escapeLabelValue('a"b\\c\nd'), 'a\\"b\\\\c\\nd', 'backslash, quote and newline escaped');
  t.equal(escapeLabelValue('tab\there é'), 'tab\there é', 'anything else as it is');
  t.equal(escapeHelp('a\\b\nc "q"'), 'a\\\\b\\nc "q"');
  t.equal(
    labelPairs([
      ['a', 'x'],
      ['b', 'y"'],
    ]),
    'a="x",b="y\\""',
  );
  const f = new Family('x_total', 'help', 'counter');
  t.equal(f.text(), '', 'no samples: no family');
  f.sample('', 1);
  f.sample('a="1"', 2);
  t.equal(f.text(), '# HELP x_total help\n# TYPE x_total counter\nx_total 1\nx_total{a="1"} 2\n');
});

t.test('keys: the interface moves to a device label; family names from the key', async (t) => {
  t.same(splitKey('ipv4/tcp_keepalive_time'), {
    rel: 'ipv4/tcp_keepalive_time',
    key: 'net.ipv4.tcp_keepalive_time',
    familyKey: 'net.ipv4.tcp_keepalive_time',
  });
  t.same(splitKey('ipv4/conf/eth0.100/rp_filter'), {
    rel: 'ipv4/conf/eth0.100/rp_filter',
    key: 'net.ipv4.conf.eth0/100.rp_filter',
    familyKey: 'net.ipv4.conf.rp_filter',
    device: 'eth0.100',
  });
  t.equal(splitKey('ipv6/neigh/default/gc_thresh1').device, 'default', 'all and default are devices here');
  t.equal(splitKey('ipv6/neigh/lo/retrans_time_ms').familyKey, 'net.ipv6.neigh.retrans_time_ms');
  t.equal(familyName('net.ipv4.tcp_keepalive_time'), 'netns_sysctl_net_ipv4_tcp_keepalive_time');
  t.equal(familyName('net.ipv4.conf.rp_filter'), 'netns_sysctl_net_ipv4_conf_rp_filter');
});

t.test('effective values: a family per conf key with a known rule, its HELP naming the rule', async (t) => {
  const rp = effectiveFamily('net.ipv4.conf.rp_filter');
  t.equal(rp?.name, 'netns_sysctl_net_ipv4_conf_rp_filter_effective', "the key's own family name and _effective");
  t.match(rp?.help, /as the kernel uses it for the interface in the device label/);
  t.match(rp?.help, /max\(all, DEV\) \(IN_DEV_RPFILTER\(in_dev\) = IN_DEV_MAXCONF\(in_dev, RP_FILTER\);/, 'the rule');
  t.match(rp?.help, /netns' rule of the Linux (5\.10|6\.1|6\.12) source/, 'the kernel line whose rule it is');
  t.match(
    effectiveFamily('net.ipv4.conf.accept_redirects')?.help,
    /all && DEV on a forwarding device, all \|\| DEV on the others/,
  );
  t.match(effectiveFamily('net.ipv6.conf.forwarding')?.help, /used as it is for every device/);
  t.match(effectiveFamily('net.ipv6.conf.hop_limit')?.help, /not combined: each device uses its own entry/);
  t.equal(effectiveFamily('net.ipv4.conf.tag'), undefined, 'an entry nothing in the kernel reads: none');
  t.equal(effectiveFamily('net.ipv6.conf.stable_secret'), undefined, 'a secret: none');
  t.equal(effectiveFamily('net.ipv4.conf.no_such_entry'), undefined, 'no rule known: none');
  t.equal(effectiveFamily('net.ipv4.neigh.gc_stale_time'), undefined, 'neigh keys have no rule');
  t.equal(effectiveFamily('net.ipv4.tcp_rmem'), undefined);
});

t.test('kinds: catalogue first, else the value; integers as the kernel prints them', async (t) => {
  t.equal(catalogueKind('net.ipv4.tcp_keepalive_time', undefined), 'number');
  t.equal(catalogueKind('net.ipv4.tcp_rmem', ['min', 'default', 'max']), 'fields');
  t.equal(catalogueKind('net.ipv4.tcp_rmem', undefined), 'vector');
  t.equal(catalogueKind('net.ipv4.tcp_congestion_control', undefined), 'text');
  t.equal(catalogueKind('net.not.in.catalogue', undefined), undefined);
  t.equal(kindOfValue('42', undefined), 'number');
  t.equal(kindOfValue('1\t2\t3', undefined), 'vector');
  t.equal(kindOfValue('1\t2', ['a', 'b']), 'fields');
  t.equal(kindOfValue('reno cubic', undefined), 'text');
  for (const x of ['0', '-1', '18446744073709551615', '123456789012345678901234']) t.ok(isInteger(x), x);
  for (const x of ['', '-', '1 2', '0x10', '+1', '1.5', ' 1']) t.notOk(isInteger(x), JSON.stringify(x));
});

t.test('selection: includes, excludes, secrets, interfaces by name and by glob with a limit', async (t) => {
  const def = new KeySelection();
  t.ok(def.selects(splitKey('ipv4/tcp_keepalive_time')));
  t.ok(def.selects(splitKey('ipv4/conf/eth0/rp_filter')), 'the default rp_filter glob');
  t.notOk(def.selects(splitKey('ipv4/tcp_fastopen')));
  t.notOk(def.exactOnly, 'the default list has a glob');
  t.same(def.devicesOf(['lo', 'eth0', 'all', 'default', 'veth9']).devices, new Set(['eth0', 'all', 'default']));

  const s = new KeySelection({
    include: ['net.ipv4.tcp_*', 'net.ipv4.tcp_fastopen_key', 'net.ipv6.conf.*.stable_secret', 'net.core.somaxconn'],
    exclude: ['net.ipv4.tcp_ecn*'],
    devices: ['eth0', 'veth*'],
    deviceLimit: 2,
  });
  t.ok(s.selects(splitKey('ipv4/tcp_rmem')));
  t.notOk(s.selects(splitKey('ipv4/tcp_ecn_fallback')), 'excluded');
  t.notOk(s.selects(splitKey('ipv4/tcp_fastopen_key')), 'a secret, named or not');
  t.notOk(s.selects(splitKey('ipv6/conf/eth0/stable_secret')), 'a secret');
  t.ok(KeySelection.secret('ipv6/conf/all/stable_secret'));
  const present = ['eth0', 'veth3', 'veth1', 'veth2', 'lo', 'x"y'];
  t.same(
    s.devicesOf(present),
    { devices: new Set(['eth0', 'veth1', 'veth2']), skipped: 1 },
    'names, then globs in order, up to the limit',
  );
  t.same(
    s.devicesOf(['veth\udcff', 'veth\x1b[31m', 'veth1']),
    { devices: new Set(['veth1', 'veth\x1b[31m']), skipped: 1 },
    'a name that is not UTF-8 (a lone surrogate, as fsdecode gives it) is never selected, and counted; control characters are',
  );
  t.equal(new KeySelection().maxInterfaces, 256, 'the interface bound by default');
  t.same(new KeySelection({ include: ['net.core.somaxconn', 'net.ipv4.tcp_rmem:lo,mid,hi'] }).exactRels(), [
    'core/somaxconn',
    'ipv4/tcp_rmem',
  ]);
  const f = new KeySelection({ include: ['net.ipv4.tcp_rmem:lo,mid,hi'] });
  t.same(f.fieldsOf('net.ipv4.tcp_rmem'), ['lo', 'mid', 'hi'], "a flag's field names win");
  t.same(f.fieldsOf('net.ipv4.tcp_wmem'), ['min', 'default', 'max'], "node_exporter's names by default");
  t.ok(f.exactOnly);
  t.ok(new KeySelection({ all: true }).selects(splitKey('core/anything')));
  t.throws(() => new KeySelection({ include: ['kernel.pid_max'] }), RangeError, 'only net.*');
  t.throws(() => new KeySelection({ include: ['net.ipv4..x'] }), RangeError);
  t.throws(() => new KeySelection({ include: ['net.ipv4.tcp_rmem:a b'] }), RangeError);
  t.throws(() => new KeySelection({ devices: ['a/b'] }), RangeError);
  t.throws(() => new KeySelection({ deviceLimit: -1 }), RangeError);
  t.throws(() => new KeySelection({ maxInterfaces: 1.5 }), RangeError);
});

t.test('flags: defaults, every flag parsed, mistakes are FlagErrors', async (t) => {
  const d = parseFlags([]);
  t.same(
    [d.config.host, d.config.port, d.config.telemetryPath],
    ['127.0.0.1', 9813, '/metrics'],
    'loopback by default',
  );
  t.same(d.config.expectFiles, []);
  t.equal(d.config.discovery.interval, 60_000);
  const p = parseFlags([
    '--web.listen-address=:9999',
    '--web.telemetry-path',
    '/m',
    '--sysctl.include=net.core.somaxconn',
    '--sysctl.include=net.ipv4.tcp_rmem:a,b,c',
    '--sysctl.exclude=net.ipv4.tcp_ecn',
    '--sysctl.device=eth*',
    '--sysctl.device-limit=3',
    '--sysctl.max-interfaces=1000',
    '--sysctl.expect=/a',
    '--sysctl.expect=/b',
    '--host.pid=1',
    '--host.disable',
    '--containers.runtime=containerd',
    '--containers.root=containerd=/run/containerd/runc',
    '--kubernetes.namespace=prod-*',
    '--kubernetes.exclude-namespace=kube-system',
    '--discovery.interval=5m',
    '--sysctl.all',
    '--no-sysctl.effective',
  ]);
  t.same(p.config, {
    host: '::',
    port: 9999,
    telemetryPath: '/m',
    selection: {
      deviceLimit: 3,
      maxInterfaces: 1000,
      all: true,
      effective: false,
      include: ['net.core.somaxconn', 'net.ipv4.tcp_rmem:a,b,c'],
      exclude: ['net.ipv4.tcp_ecn'],
      devices: ['eth*'],
    },
    expectFiles: ['/a', '/b'],
    discovery: {
      interval: 300_000,
      hostPid: 1,
      noHost: true,
      runtime: 'containerd',
      roots: [{ runtime: 'containerd', dir: '/run/containerd/runc' }],
      namespaces: ['prod-*'],
      excludeNamespaces: ['kube-system'],
    },
  });
  t.same(parseListen('[::1]:80'), { host: '::1', port: 80 });
  t.same(parseListen('0.0.0.0:0'), { host: '0.0.0.0', port: 0 });
  t.equal(parseDuration('500ms', 'x'), 500);
  t.equal(parseDuration('90', 'x'), 90_000);
  t.equal(parseDuration('1h', 'x'), 3_600_000);
  for (const bad of [
    ['--nope'],
    ['--web.listen-address=9813'],
    ['--web.listen-address=h:99999'],
    ['--web.telemetry-path=/'],
    ['--web.telemetry-path=/-/healthy'],
    ['--sysctl.device-limit=-1'],
    ['--sysctl.max-interfaces=many'],
    ['--sysctl.include=kernel.hostname'],
    ['--host.pid=0'],
    ['--containers.runtime=lxc'],
    ['--containers.root=/run/runc'],
    ['--discovery.interval=soon'],
    ['positional'],
  ])
    t.throws(() => parseFlags(bad), FlagError, bad.join(' '));
  t.equal(parseFlags(['--help']).help, true);
  t.equal(parseFlags(['--version']).version, true);
  const help = usage();
  for (const f of FLAGS) t.match(help, `--${f.name}`, `--help lists --${f.name}`);
  t.match(help, DEFAULT_INCLUDE[0]!);
  t.match(help, DEFAULT_DEVICES.join(' '));
});
