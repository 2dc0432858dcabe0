// Effective values of per-interface keys, confirmed by packets: for each rule, namespaces of the
// test's own wired with veth pairs, conf.all and the device's entry set to each combination, and
// what the kernel does with a packet compared with what effectiveValue() says it uses.
// Needs: root, iproute2 (ip, veth), busybox (ping, ping6, arping) for the packets; /dev/kmsg for
// log_martians. Nothing touches the host's interfaces or sysctls: every link is created inside
// the test's namespaces, which are deleted at teardown.
import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { NetNamespace } from '../lib/index.js';
import { effectiveValue, effectiveFrom } from '../lib/explain/effective.js';
import { checkThreadsAtEnd, ipNetnsAdd, sh } from './helpers.js';

checkThreadsAtEnd(t);

const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => fs.existsSync(p));
const why =
  process.getuid?.() !== 0
    ? 'needs root: makes namespaces and veth pairs'
    : busybox === undefined
      ? 'needs busybox (apt-get install busybox-static) for ping, ping6 and arping'
      : undefined;

/** `ip netns exec NS busybox APPLET ARGS`: its exit status. */
function bb(ns: string, args: string[]): number | null {
  return spawnSync('ip', ['netns', 'exec', ns, busybox!, ...args], { stdio: 'ignore', timeout: 20_000 }).status;
}

/** A counter of /proc/net/snmp or /proc/net/netstat as the namespace sees it. */
function counter(ns: string, file: 'snmp' | 'netstat', group: string, name: string): number {
  const lines = sh('ip', ['netns', 'exec', ns, 'cat', `/proc/net/${file}`])
    .split('\n')
    .filter((l) => l.startsWith(`${group}:`));
  const head = lines[0]!.split(/\s+/);
  const vals = lines[1]!.split(/\s+/);
  return Number(vals[head.indexOf(name)]);
}

/** A namespace of the test's own, its handle closed and the namespace deleted at teardown. */
function namespace(t: Test, prefix: string): { name: string; ns: NetNamespace } {
  const name = ipNetnsAdd(t, prefix);
  sh('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  const ns = NetNamespace.fromName(name);
  t.teardown(() => ns.close());
  return { name, ns };
}

/** Set net.ipv4/ipv6.conf entries in a namespace through the library. */
function conf(ns: NetNamespace, family: 'ipv4' | 'ipv6', entries: Record<string, number>): void {
  for (const [k, v] of Object.entries(entries)) ns.sysctl.set(`net.${family}.conf.${k}`, String(v));
}

/** Pairs of conf.all and device values: '0,1 2,1' is [[0, 1], [2, 1]]. */
const pairs = (s: string): [number, number][] => s.split(' ').map((p) => p.split(',').map(Number) as [number, number]);

/** A unique interface name (the kernel log names devices, so they must not collide with others'). */
const ifname = (tag: string): string => `pb${tag}${process.pid % 100000}`;

/**
 * S (sender) -- veth -- R (receiver), and in R a second veth pair that holds 10.9.0.1/24: a
 * packet from S with source 10.9.0.5 arrives on R's `rdev` while R routes 10.9.0.0/24 through
 * the other interface (strict reverse-path check fails, loose passes).
 */
function twoNamespaces(t: Test): { s: string; r: string; R: NetNamespace; rdev: string; sdev: string } {
  const { name: s } = namespace(t, 'pbs');
  const { name: r, ns: R } = namespace(t, 'pbr');
  const rdev = ifname('m');
  const sdev = 's0';
  sh('ip', ['-n', r, 'link', 'add', rdev, 'type', 'veth', 'peer', 'name', sdev, 'netns', s]);
  sh('ip', ['-n', r, 'link', 'add', 'r1', 'type', 'veth', 'peer', 'name', 'r1p']);
  sh('ip', ['-n', s, 'addr', 'add', '10.1.0.1/24', 'dev', sdev]);
  sh('ip', ['-n', s, 'addr', 'add', '10.9.0.5/32', 'dev', sdev]);
  sh('ip', ['-n', r, 'addr', 'add', '10.1.0.2/24', 'dev', rdev]);
  sh('ip', ['-n', r, 'addr', 'add', '10.9.0.1/24', 'dev', 'r1']);
  sh('ip', ['-n', s, 'link', 'set', sdev, 'up']);
  for (const l of [rdev, 'r1', 'r1p']) sh('ip', ['-n', r, 'link', 'set', l, 'up']);
  // A static neighbour: S's ARP request would carry the spoofed source and meet the same check.
  const mac = (JSON.parse(sh('ip', ['-n', r, '-j', 'link', 'show', rdev])) as { address: string }[])[0]!.address;
  sh('ip', ['-n', s, 'neigh', 'add', '10.1.0.2', 'lladdr', mac, 'dev', sdev, 'nud', 'permanent']);
  return { s, r, R, rdev, sdev };
}

t.test('rp_filter: a spoofed source is dropped exactly when max(all, DEV) is 1 (strict)', { skip: why }, async (t) => {
  const { s, r, R, rdev } = twoNamespaces(t);
  for (const [all, dev] of pairs('0,1 2,1 1,0 0,2 0,0 1,2')) {
    conf(R, 'ipv4', { 'all.rp_filter': all, [`${rdev}.rp_filter`]: dev });
    const e = effectiveValue(R, `net.ipv4.conf.${rdev}.rp_filter`);
    t.equal(e.effective, String(Math.max(all, dev)), `all ${all}, dev ${dev}: ${e.text}`);
    const drops = counter(r, 'netstat', 'TcpExt', 'IPReversePathFilter');
    const echos = counter(r, 'snmp', 'Icmp', 'InEchos');
    bb(s, ['ping', '-c', '1', '-W', '1', '-I', '10.9.0.5', '10.1.0.2']);
    const dropped = counter(r, 'netstat', 'TcpExt', 'IPReversePathFilter') - drops;
    const accepted = counter(r, 'snmp', 'Icmp', 'InEchos') - echos;
    const strict = e.meaning === 'strict';
    t.same(
      { dropped, accepted },
      strict ? { dropped: 1, accepted: 0 } : { dropped: 0, accepted: 1 },
      `all ${all}, dev ${dev}: ${strict ? 'dropped by the strict check' : 'accepted'}`,
    );
  }
  t.match(
    effectiveValue(R, `net.ipv4.conf.${rdev}.rp_filter`).text,
    /^effective 2 = max\(all 1, pbm\d+ 2\): loose$/,
    'the one-line account',
  );
});

t.test(
  'arp_ignore: a request for another interface is answered exactly when max(all, DEV) is 0',
  { skip: why },
  async (t) => {
    const { s, R, rdev, sdev } = twoNamespaces(t);
    conf(R, 'ipv4', { 'all.rp_filter': 0, [`${rdev}.rp_filter`]: 0 });
    for (const [all, dev] of pairs('0,0 1,0 0,1 2,0 0,8')) {
      conf(R, 'ipv4', { 'all.arp_ignore': all, [`${rdev}.arp_ignore`]: dev });
      const e = effectiveValue(R, `net.ipv4.conf.${rdev}.arp_ignore`);
      t.equal(e.effective, String(Math.max(all, dev)), `all ${all}, dev ${dev}: ${e.text}`);
      // 10.9.0.1 lives on R's other interface: answered only when any local address is.
      const replied = bb(s, ['arping', '-c', '1', '-w', '1', '-I', sdev, '10.9.0.1']) === 0;
      t.equal(replied, e.effective === '0', `all ${all}, dev ${dev}: ${replied ? 'answered' : 'not answered'}`);
    }
  },
);

t.test(
  'arp_accept: a gratuitous ARP makes an entry by max(all, DEV) (6.1+; 5.10 ors them)',
  { skip: why },
  async (t) => {
    const { s, r, R, rdev, sdev } = twoNamespaces(t);
    // (all, dev, sender address): 10.1.0.1 is in the receiving interface's subnet, 10.9.0.5 is not.
    for (const [all, dev, sip] of [
      [0, 0, '10.1.0.1'],
      [1, 0, '10.1.0.1'],
      [0, 2, '10.1.0.1'],
      [0, 2, '10.9.0.5'],
      [2, 1, '10.9.0.5'],
      [1, 1, '10.9.0.5'],
    ] as [number, number, string][]) {
      sh('ip', ['-n', r, 'neigh', 'flush', 'dev', rdev]);
      conf(R, 'ipv4', { 'all.arp_accept': all, [`${rdev}.arp_accept`]: dev });
      const e = effectiveValue(R, `net.ipv4.conf.${rdev}.arp_accept`);
      bb(s, ['arping', '-U', '-c', '1', '-I', sdev, sip]);
      let made = false;
      for (let i = 0; i < 20 && !made; i++) {
        made = sh('ip', ['-n', r, 'neigh', 'show', 'dev', rdev]).includes(sip);
        if (!made) await new Promise((res) => setTimeout(res, 25));
      }
      // 1: any sender; 2: a sender in the subnet of an address of the interface (arp_accept()).
      const expected = e.effective === '1' || (e.effective === '2' && sip.startsWith('10.1.0.'));
      t.equal(made, expected, `all ${all}, dev ${dev}, from ${sip}: ${e.text}: ${made ? 'entry made' : 'no entry'}`);
    }
  },
);

/** Read new kernel log records (from /dev/kmsg, opened before the trigger). */
function kmsgReader(): { read(): string[]; close(): void } | undefined {
  let fd: number;
  try {
    fd = fs.openSync('/dev/kmsg', fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  const buf = Buffer.alloc(8192);
  const drain = (): string[] => {
    const out: string[] = [];
    for (;;) {
      try {
        const n = fs.readSync(fd, buf, 0, buf.length, null);
        if (n <= 0) break;
        out.push(buf.toString('utf8', 0, n));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EPIPE') continue; // records overwritten meanwhile
        break; // EAGAIN: nothing more
      }
    }
    return out;
  };
  drain(); // what was there before
  return { read: drain, close: () => fs.closeSync(fd) };
}

const noKmsg = ((): string | undefined => {
  const r = why === undefined ? kmsgReader() : undefined;
  r?.close();
  return r ? undefined : 'cannot read the kernel log (/dev/kmsg)';
})();

t.test(
  'log_martians: a dropped spoofed source is logged exactly when all || DEV',
  { skip: why ?? noKmsg },
  async (t) => {
    const kmsg = kmsgReader()!;
    t.teardown(() => kmsg.close());
    const { s, R, rdev } = twoNamespaces(t);
    conf(R, 'ipv4', { 'all.rp_filter': 0, [`${rdev}.rp_filter`]: 1 }); // strict: every spoofed packet is a martian
    const seen = (): boolean =>
      kmsg.read().some((l) => l.includes('martian source 10.1.0.2 from 10.9.0.5') && l.includes(`on dev ${rdev}`));
    for (const [all, dev] of pairs('0,0 1,0 0,1')) {
      conf(R, 'ipv4', { 'all.log_martians': all, [`${rdev}.log_martians`]: dev });
      const e = effectiveValue(R, `net.ipv4.conf.${rdev}.log_martians`);
      t.equal(e.effective, all || dev ? '1' : '0', `all ${all}, dev ${dev}: ${e.text}`);
      // The kernel rate-limits these lines (net_ratelimit): try a few packets a second apart.
      let logged = false;
      for (let i = 0; i < 3 && !logged; i++) {
        bb(s, ['ping', '-c', '1', '-W', '1', '-I', '10.9.0.5', '10.1.0.2']);
        logged = seen();
        if (e.effective === '0') break; // one packet shows the absence
      }
      t.equal(logged, e.effective === '1', `all ${all}, dev ${dev}: ${logged ? 'logged' : 'not logged'}`);
    }
  },
);

/** A -- R -- B: A and B route through R (IPv4 10.2.1.0/24, 10.2.2.0/24; IPv6 fd00:1::/64, fd00:2::/64). */
function router(t: Test): { a: string; b: string; R: NetNamespace; ra: string; rb: string } {
  const { name: a } = namespace(t, 'pba');
  const { name: r, ns: R } = namespace(t, 'pbr');
  const { name: b } = namespace(t, 'pbb');
  const [ra, rb] = ['ra', 'rb'];
  sh('ip', ['-n', r, 'link', 'add', ra, 'type', 'veth', 'peer', 'name', 'a0', 'netns', a]);
  sh('ip', ['-n', r, 'link', 'add', rb, 'type', 'veth', 'peer', 'name', 'b0', 'netns', b]);
  for (const [ns, dev, v4, v6] of [
    [a, 'a0', '10.2.1.1/24', 'fd00:1::1/64'],
    [r, ra, '10.2.1.2/24', 'fd00:1::2/64'],
    [r, rb, '10.2.2.2/24', 'fd00:2::2/64'],
    [b, 'b0', '10.2.2.1/24', 'fd00:2::1/64'],
  ] as const) {
    sh('ip', ['-n', ns, 'addr', 'add', v4, 'dev', dev]);
    sh('ip', ['-n', ns, '-6', 'addr', 'add', v6, 'dev', dev, 'nodad']);
    sh('ip', ['-n', ns, 'link', 'set', dev, 'up']);
  }
  sh('ip', ['-n', a, 'route', 'add', 'default', 'via', '10.2.1.2']);
  sh('ip', ['-n', b, 'route', 'add', 'default', 'via', '10.2.2.2']);
  sh('ip', ['-n', a, '-6', 'route', 'add', 'default', 'via', 'fd00:1::2']);
  sh('ip', ['-n', b, '-6', 'route', 'add', 'default', 'via', 'fd00:2::2']);
  return { a, b, R, ra, rb };
}

/** Whether `ping` succeeds within about 10 s (fresh links take a moment: IPv6 link-local DAD). */
async function settled(ping: () => boolean): Promise<boolean> {
  for (let i = 0; i < 10; i++) {
    if (ping()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

t.test('IPv4 forwarding: the input device alone decides; conf.all propagates on write', { skip: why }, async (t) => {
  const { a, R, ra, rb } = router(t);
  const ping = (): boolean => bb(a, ['ping', '-c', '1', '-W', '1', '10.2.2.1']) === 0;
  const eff = (dev: string): string | null => effectiveValue(R, `net.ipv4.conf.${dev}.forwarding`).effective;
  const get = (k: string): string => R.sysctl.getRaw(`net.ipv4.conf.${k}`);

  conf(R, 'ipv4', { 'all.forwarding': 1 });
  t.same(
    [get(`${ra}.forwarding`), get(`${rb}.forwarding`), get('default.forwarding'), get('all.accept_redirects')],
    ['1', '1', '1', '0'],
    'writing conf.all.forwarding sets every device, conf.default, and conf.all.accept_redirects to its opposite',
  );
  t.same([eff(ra), eff(rb)], ['1', '1'], 'effective 1 on both devices');
  t.ok(await settled(ping), 'all 1, both devices 1: forwarded (once the links are up)');

  conf(R, 'ipv4', { [`${ra}.forwarding`]: 0 });
  const e = effectiveValue(R, `net.ipv4.conf.${ra}.forwarding`);
  t.equal(e.effective, '0', `all 1, ${ra} 0: ${e.text}`);
  t.equal(ping(), false, 'all 1 but the input device 0: not forwarded');

  conf(R, 'ipv4', { 'all.forwarding': 0 });
  t.same([get(`${ra}.forwarding`), get(`${rb}.forwarding`)], ['0', '0'], 'writing 0 to conf.all reaches every device');
  conf(R, 'ipv4', { [`${ra}.forwarding`]: 1, [`${rb}.forwarding`]: 1 });
  t.equal(eff(ra), '1', `all 0, ${ra} 1: effective 1`);
  t.equal(ping(), true, 'all 0 but both devices 1: forwarded (conf.all is not read)');
});

t.test(
  'IPv6 forwarding: conf.all alone decides (and force_forwarding where the kernel has it)',
  { skip: why },
  async (t) => {
    const { a, R, ra, rb } = router(t);
    const ping = (): boolean => bb(a, ['ping6', '-c', '1', '-W', '1', 'fd00:2::1']) === 0;
    const eff = (dev: string): string | null => effectiveValue(R, `net.ipv6.conf.${dev}.forwarding`).effective;

    conf(R, 'ipv6', { 'all.forwarding': 1 });
    t.equal(R.sysctl.getRaw(`net.ipv6.conf.${ra}.forwarding`), '1', 'writing conf.all.forwarding sets every device');
    t.ok(await settled(ping), 'all 1, both devices 1: forwarded (once the links are up)');
    conf(R, 'ipv6', { [`${ra}.forwarding`]: 0, [`${rb}.forwarding`]: 0 });
    const e = effectiveValue(R, `net.ipv6.conf.${ra}.forwarding`);
    t.equal(e.effective, '1', `all 1, devices 0: ${e.text}`);
    t.equal(ping(), true, 'all 1, both devices 0: forwarded');

    conf(R, 'ipv6', { 'all.forwarding': 0 });
    conf(R, 'ipv6', { [`${ra}.forwarding`]: 1, [`${rb}.forwarding`]: 1 });
    t.equal(eff(ra), '0', 'all 0, devices 1: effective 0');
    t.equal(ping(), false, 'all 0, both devices 1: not forwarded');

    // Linux 6.17 added a per-device override; the rule reads it where the namespace has it.
    if (R.sysctl.list(`net.ipv6.conf.${ra}`).includes(`net.ipv6.conf.${ra}.force_forwarding`)) {
      conf(R, 'ipv6', { [`${ra}.forwarding`]: 0, [`${rb}.forwarding`]: 0 });
      conf(R, 'ipv6', { [`${ra}.force_forwarding`]: 1, [`${rb}.force_forwarding`]: 1 });
      t.equal(eff(ra), '1', `all 0, force_forwarding 1: ${effectiveValue(R, `net.ipv6.conf.${ra}.forwarding`).text}`);
      t.equal(ping(), true, 'all 0, force_forwarding 1 on both devices: forwarded');
    }
  },
);

t.test('ipv4 conf.default reaches only devices whose entry was never set', { skip: why }, async (t) => {
  const { name, ns } = namespace(t, 'pbd');
  sh('ip', ['-n', name, 'link', 'add', 'fresh', 'type', 'veth', 'peer', 'name', 'touched']);
  sh('ip', ['-n', name, 'link', 'add', 'withaddr', 'type', 'veth', 'peer', 'name', 'addrp']);
  sh('ip', ['-n', name, 'addr', 'add', '10.7.0.1/24', 'dev', 'withaddr']); // marks every entry of the device set
  const get = (k: string): string => ns.sysctl.getRaw(`net.ipv4.conf.${k}`);
  conf(ns, 'ipv4', { 'touched.log_martians': 0 }); // marks this one entry set
  conf(ns, 'ipv4', { 'default.log_martians': 1 });
  t.same(
    { fresh: get('fresh.log_martians'), touched: get('touched.log_martians'), withaddr: get('withaddr.log_martians') },
    { fresh: '1', touched: '0', withaddr: '0' },
    'a conf.default write reaches the untouched device only (devinet_copy_dflt_conf)',
  );
  conf(ns, 'ipv4', { 'default.route_localnet': 1 });
  t.equal(get('fresh.route_localnet'), '0', 'route_localnet (ipv4_doint_and_flush) is not copied to existing devices');
  const e = effectiveValue(ns, 'net.ipv4.conf.default.log_martians');
  t.equal(e.scope, 'default');
  t.equal(e.effective, null);
  t.match(e.rule?.onWrite, /never set/);
});

t.test('effectiveValue reads all and DEV in the same namespace, not the caller', { skip: why }, async (t) => {
  const { name, ns } = namespace(t, 'pbe');
  sh('ip', ['-n', name, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1']);
  conf(ns, 'ipv4', { 'all.rp_filter': 2, 'v0.rp_filter': 1 });
  const e = effectiveValue(ns, 'net.ipv4.conf.v0.rp_filter');
  t.same(e.inputs, { 'net.ipv4.conf.v0.rp_filter': '1', 'net.ipv4.conf.all.rp_filter': '2' });
  t.equal(e.text, 'effective 2 = max(all 2, v0 1): loose');
  t.equal(e.differs, true);
  // The same from values already read, e.g. a snapshot of that namespace.
  const snap = ns.sysctl.getAll('net.ipv4.conf');
  t.same(effectiveFrom('net.ipv4.conf.v0.rp_filter', (k) => snap.raw[k]).text, e.text, 'from a snapshot');
});
