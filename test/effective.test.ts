// Effective values of per-interface keys, confirmed by packets on the running kernel: the
// experiments of test/kernels/tier/packets.ts (the kernel tier runs the same ones in each line's
// VM), each a set of namespaces of the test's own wired with veth pairs, every combination of
// conf.all and the device's entry compared with what effectiveValue() says the kernel uses. Also
// the conf.default copy rule, on files.
// Needs: root, iproute2 (ip, veth), busybox (ping, ping6, arping), /dev/kmsg for log_martians.
// Nothing touches the host's interfaces or sysctls: every link is created inside the test's
// namespaces, which are deleted when each experiment ends.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NetNamespace, auditNamespace, explain } from '../lib/index.js';
import { effectiveValue, effectiveFrom } from '../lib/explain/effective.js';
import { checkThreadsAtEnd, childEnv, ipNetnsAdd, plainNode, sh } from './helpers.js';
import {
  BUSYBOX,
  arpAccept,
  arpIgnore,
  forwarding,
  kmsgReader,
  logMartians,
  rpFilter,
  labOf,
  type Row,
} from './kernels/tier/packets.js';

checkThreadsAtEnd(t);

const why =
  process.getuid?.() !== 0
    ? 'needs root: makes namespaces and veth pairs'
    : BUSYBOX === undefined
      ? 'needs busybox (apt-get install busybox-static) for ping, ping6 and arping'
      : undefined;
const noKmsg = ((): string | undefined => {
  const r = why === undefined ? kmsgReader() : undefined;
  r?.close();
  return r ? undefined : 'cannot read the kernel log (/dev/kmsg)';
})();

/** The library as the experiments use it: each call opens the named namespace and closes it. */
const lab = labOf<NetNamespace>(
  (n) => NetNamespace.fromName(n),
  (ns, k, v) => ns.sysctl.set(k, v),
  effectiveValue,
);

function report(t: Test, rows: Row[]): void {
  t.ok(rows.length > 0, 'observed something');
  for (const r of rows) t.ok(r.ok, `${r.name}: ${r.detail}`);
}

t.test('rp_filter: a spoofed source is dropped exactly when max(all, DEV) is 1 (strict)', { skip: why }, async (t) =>
  report(t, await rpFilter(lab)),
);

t.test(
  'arp_ignore: a request for another interface is answered exactly when max(all, DEV) is 0',
  { skip: why },
  async (t) => report(t, await arpIgnore(lab)),
);

t.test('arp_accept: a gratuitous ARP makes an entry by max(all, DEV) (5.10: or)', { skip: why }, async (t) =>
  report(t, await arpAccept(lab)),
);

t.test('log_martians: a dropped spoofed source is logged exactly when all || DEV', { skip: why ?? noKmsg }, async (t) =>
  report(t, await logMartians(lab)),
);

t.test('IPv4 forwarding: the input device alone decides; conf.all propagates on write', { skip: why }, async (t) =>
  report(t, await forwarding(lab, 'ipv4')),
);

t.test(
  'IPv6 forwarding: conf.all alone decides (and force_forwarding where the kernel has it)',
  { skip: why },
  async (t) => report(t, await forwarding(lab, 'ipv6')),
);

/** A namespace of the test's own, its handle closed and the namespace deleted at teardown. */
function namespace(t: Test, prefix: string): { name: string; ns: NetNamespace } {
  const name = ipNetnsAdd(t, prefix);
  const ns = NetNamespace.fromName(name);
  t.teardown(() => ns.close());
  return { name, ns };
}

t.test('ipv4 conf.default reaches only devices whose entry was never set', { skip: why }, async (t) => {
  const { name, ns } = namespace(t, 'pbd');
  sh('ip', ['-n', name, 'link', 'add', 'fresh', 'type', 'veth', 'peer', 'name', 'touched']);
  sh('ip', ['-n', name, 'link', 'add', 'withaddr', 'type', 'veth', 'peer', 'name', 'addrp']);
  sh('ip', ['-n', name, 'addr', 'add', '10.7.0.1/24', 'dev', 'withaddr']); // marks every entry of the device set
  const get = (k: string): string => ns.sysctl.getRaw(`net.ipv4.conf.${k}`);
  ns.sysctl.set('net.ipv4.conf.touched.log_martians', '0'); // marks this one entry set
  ns.sysctl.set('net.ipv4.conf.default.log_martians', '1');
  t.same(
    { fresh: get('fresh.log_martians'), touched: get('touched.log_martians'), withaddr: get('withaddr.log_martians') },
    { fresh: '1', touched: '0', withaddr: '0' },
    'a conf.default write reaches the untouched device only (devinet_copy_dflt_conf)',
  );
  ns.sysctl.set('net.ipv4.conf.default.route_localnet', '1');
  t.equal(get('fresh.route_localnet'), '0', 'route_localnet (ipv4_doint_and_flush) is not copied to existing devices');
  const e = effectiveValue(ns, 'net.ipv4.conf.default.log_martians');
  t.equal(e.scope, 'default');
  t.equal(e.effective, null);
  t.match(e.rule?.onWrite, /never set/);
});

t.test('effectiveValue reads all and DEV in the same namespace, not the caller', { skip: why }, async (t) => {
  const { name, ns } = namespace(t, 'pbe');
  sh('ip', ['-n', name, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1']);
  ns.sysctl.set('net.ipv4.conf.all.rp_filter', '2');
  ns.sysctl.set('net.ipv4.conf.v0.rp_filter', '1');
  const e = effectiveValue(ns, 'net.ipv4.conf.v0.rp_filter');
  t.same(e.inputs, { 'net.ipv4.conf.v0.rp_filter': '1', 'net.ipv4.conf.all.rp_filter': '2' });
  t.equal(e.text, 'effective 2 = max(all 2, v0 1): loose');
  t.equal(e.differs, true);
  // The same from values already read, e.g. a snapshot of that namespace.
  const snap = ns.sysctl.getAll('net.ipv4.conf');
  t.same(effectiveFrom('net.ipv4.conf.v0.rp_filter', (k) => snap.raw[k]).text, e.text, 'from a snapshot');
});

t.test(
  'explain(ns, keys) and netns explain --name NS KEY: a veth device with all/DEV set, effective values and rules',
  { skip: why },
  async (t) => {
    const { name, ns } = namespace(t, 'pbx');
    sh('ip', ['-n', name, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1']);
    const set = (k: string, v: string) => ns.sysctl.set(k, v);
    set('net.ipv4.conf.all.rp_filter', '2');
    set('net.ipv4.conf.v0.rp_filter', '1');
    set('net.ipv4.conf.all.log_martians', '0');
    set('net.ipv4.conf.v0.log_martians', '1');
    set('net.ipv4.conf.all.accept_source_route', '0');
    set('net.ipv4.conf.v0.accept_source_route', '1');
    set('net.ipv6.conf.all.forwarding', '1'); // reaches every device (addrconf_fixup_forwarding)
    set('net.ipv6.conf.v0.forwarding', '0');
    const keys = [
      'net.ipv4.conf.v0.rp_filter',
      'net.ipv4.conf.v0.log_martians',
      'net.ipv4.conf.v0.accept_source_route',
      'net.ipv6.conf.v0.forwarding',
      'net.ipv4.conf.all.rp_filter',
      'net.ipv4.tcp_keepalive_time',
    ];
    const r = explain(ns, keys);
    const by = new Map(r.keys.map((k) => [k.key, k]));
    const expect: [string, string, string, string, RegExp][] = [
      ['net.ipv4.conf.v0.rp_filter', '2', 'max', 'effective 2 = max(all 2, v0 1): loose', /inetdevice\.h/],
      ['net.ipv4.conf.v0.log_martians', '1', 'or', 'effective 1 = or(all 0, v0 1): on', /inetdevice\.h/],
      ['net.ipv4.conf.v0.accept_source_route', '0', 'and', 'effective 0 = and(all 0, v0 1)', /inetdevice\.h/],
      ['net.ipv6.conf.v0.forwarding', '1', 'all', 'effective 1 = all 1', /net\/ipv6/],
    ];
    for (const [key, value, combine, text, file] of expect) {
      const e = by.get(key)?.effective;
      t.equal(e?.effective, value, `${key}: the value the kernel uses`);
      t.equal(e?.rule?.combine, combine, `${key}: the rule`);
      t.ok(e?.text.startsWith(text), `${key}: ${e?.text}`);
      t.match(e?.rule?.file ?? e?.rule?.uses.map((u) => u.file).join(' '), file, `${key}: cited`);
    }
    t.equal(by.get('net.ipv4.conf.v0.rp_filter')?.value, '1', "beside the entry's own value");
    t.equal(by.get('net.ipv4.conf.all.rp_filter')?.effective?.scope, 'all', 'conf.all: how it takes part');
    t.equal(by.get('net.ipv4.tcp_keepalive_time')?.effective, undefined, 'no effective value for other keys');
    t.equal(by.get('net.ipv4.conf.v0.rp_filter')?.write, undefined, 'no process given: no write diagnosis');

    const cli = fileURLToPath(new URL('../dist/bin/netns.js', import.meta.url));
    const run = (args: string[]) => {
      const [cmd, a] = plainNode([cli, ...args]);
      return spawnSync(cmd, a, { encoding: 'utf8', input: '', env: childEnv({}), timeout: 120_000 });
    };
    const human = run(['explain', '--name', name, ...keys.slice(0, 4)]);
    t.equal(human.status, 0, human.stderr);
    t.match(human.stdout, /effective: +effective 2 = max\(all 2, v0 1\): loose/);
    t.match(human.stdout, /kernel rule: +IN_DEV_RPFILTER/);
    t.match(human.stdout, /effective: +effective 0 = and\(all 0, v0 1\)/);
    const j = JSON.parse(run(['explain', '--name', name, '--json', keys[0]!]).stdout);
    t.equal(j.keys[0].effective.effective, '2', '--json carries it');
    t.equal(j.keys[0].effective.rule.combine, 'max');

    // The audit of the namespace carries it on the interface's entries; netns diff lists those
    // the kernel does not use as they show, even when --devices leaves them out of the table.
    const audit = auditNamespace(ns, { oneSided: true, classify: false }).targets[0]!;
    const rp = audit.oneSided?.find((d) => d.key === 'net.ipv4.conf.v0.rp_filter');
    t.equal(rp?.effective?.text, 'effective 2 = max(all 2, v0 1): loose', 'auditNamespace: oneSided entry');
    t.equal(
      audit.differences.find((d) => d.key === 'net.ipv4.conf.all.rp_filter')?.effective,
      undefined,
      'conf.all itself has none',
    );
    const diff = run(['diff', '--name', name]);
    t.equal(diff.status, 0, diff.stderr);
    t.match(diff.stdout, /the kernel uses another value than the entry shows/);
    t.match(diff.stdout, /^ {2}net\.ipv4\.conf\.v0\.rp_filter: effective 2 = max\(all 2, v0 1\): loose$/m);
    t.notMatch(
      diff.stdout,
      /v0\.log_martians: effective/,
      'not when the entry is the value used (or(all 0, v0 1) is 1)',
    );
    const table = run(['explain', '--name', name]);
    t.equal(table.status, 0, table.stderr);
    t.match(
      table.stdout,
      /^ {2}net\.ipv4\.conf\.v0\.rp_filter: effective 2 = max\(all 2, v0 1\): loose$/m,
      'explain TARGET',
    );
    const dj = JSON.parse(run(['diff', '--name', name, '--devices', '--json']).stdout) as {
      key: string;
      effective?: { effective: string };
    }[];
    t.equal(dj.find((r) => r.key === 'net.ipv4.conf.v0.rp_filter')?.effective?.effective, '2', 'diff --json rows');
  },
);
