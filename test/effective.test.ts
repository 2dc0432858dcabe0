// Effective values of per-interface keys, confirmed by packets on the running kernel: the
// experiments of test/kernels/tier/packets.ts (the kernel tier runs the same ones in each line's
// VM), each a set of namespaces of the test's own wired with veth pairs, every combination of
// conf.all and the device's entry compared with what effectiveValue() says the kernel uses. Also
// the conf.default copy rule, on files.
// Needs: root, iproute2 (ip, veth), busybox (ping, ping6, arping), /dev/kmsg for log_martians.
// Nothing touches the host's interfaces or sysctls: every link is created inside the test's
// namespaces, which are deleted when each experiment ends.
import t, { type Test } from 'tap';
import { NetNamespace } from '../lib/index.js';
import { effectiveValue, effectiveFrom } from '../lib/explain/effective.js';
import { checkThreadsAtEnd, ipNetnsAdd, sh } from './helpers.js';
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
