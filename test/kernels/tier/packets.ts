// Packet experiments behind the effective-value rules (lib/explain/effective-rules.ts): in
// namespaces of their own, wired with veth pairs, conf.all and a device's entry are set to each
// combination and what the kernel does with a packet is compared with what the library says it
// uses. Shared by the regular suite (test/effective.test.ts, on the running kernel) and the
// kernel tier (test/kernels/tier/effective.ts, in each line's VM): the caller passes the
// library's functions (`Lab`), so each runs against its own build. Nothing here touches the
// caller's interfaces or sysctls; every namespace is deleted before the experiment returns.
// Needs: root, iproute2 (ip, veth), busybox (ping, ping6, arping), /dev/kmsg for log_martians.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

/** What the experiments need of the library: the effective value, and a write, in a named namespace. */
export interface Lab {
  effective(ns: string, key: string): Effective;
  set(ns: string, key: string, value: number): void;
}

type Effective = { effective: string | null; text: string; meaning?: string };

/** A Lab from a build of the library: how it opens a named namespace, writes a key there, and says what the kernel uses. */
export function labOf<N extends { close(): unknown }>(
  open: (name: string) => N,
  set: (ns: N, key: string, value: string) => unknown,
  effective: (ns: N, key: string) => Effective,
): Lab {
  const inside = <T>(name: string, fn: (ns: N) => T): T => {
    const ns = open(name);
    try {
      return fn(ns);
    } finally {
      ns.close();
    }
  };
  return {
    effective: (name, key) => inside(name, (ns) => effective(ns, key)),
    set: (name, key, value) => void inside(name, (ns) => set(ns, key, String(value))),
  };
}

/** One observation: what the library predicted and what the kernel did. */
export interface Row {
  /** The combination, e.g. "all 2, dev 1". */
  name: string;
  /** The kernel did what the effective value says. */
  ok: boolean;
  /** The effective value's text and what was observed. */
  detail: string;
}

export const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find((p) => fs.existsSync(p));

const sh = (cmd: string, args: string[]): string =>
  execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** `ip netns exec NS busybox ARGS`: the exit status. */
function bb(ns: string, args: string[]): number | null {
  return spawnSync('ip', ['netns', 'exec', ns, BUSYBOX!, ...args], { stdio: 'ignore', timeout: 20_000 }).status;
}

/** A counter of /proc/net/snmp or /proc/net/netstat as the namespace sees it. */
function counter(ns: string, file: 'snmp' | 'netstat', group: string, name: string): number {
  const lines = sh('ip', ['netns', 'exec', ns, 'cat', `/proc/net/${file}`])
    .split('\n')
    .filter((l) => l.startsWith(`${group}:`));
  return Number(lines[1]!.split(/\s+/)[lines[0]!.split(/\s+/).indexOf(name)]);
}

let seq = 0;
/** Run `body` with fresh named namespaces (`n` of them, loopback up), deleted afterwards. */
async function withNamespaces<T>(n: number, body: (names: string[]) => Promise<T> | T): Promise<T> {
  const names: string[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const name = `pb-${process.pid}-${++seq}`;
      sh('ip', ['netns', 'add', name]);
      names.push(name);
      sh('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    }
    return await body(names);
  } finally {
    for (const name of names)
      try {
        sh('ip', ['netns', 'del', name]);
      } catch {
        /* gone */
      }
  }
}

/** Pairs of conf.all and device values: '0,1 2,1' is [[0, 1], [2, 1]]. */
const pairs = (s: string): [number, number][] => s.split(' ').map((p) => p.split(',').map(Number) as [number, number]);

/** The receiving interface's name: unique, since the kernel log names devices. */
export const RDEV = `pbm${process.pid % 100000}`;
const SDEV = 's0';

/**
 * S (sender) -- veth -- R (receiver); in R a second veth pair holds 10.9.0.1/24. A packet from
 * S with source 10.9.0.5 arrives on R's RDEV while R routes 10.9.0.0/24 through the other
 * interface (the strict reverse-path check fails, the loose one passes).
 */
function wireTwo(s: string, r: string): void {
  sh('ip', ['-n', r, 'link', 'add', RDEV, 'type', 'veth', 'peer', 'name', SDEV, 'netns', s]);
  sh('ip', ['-n', r, 'link', 'add', 'r1', 'type', 'veth', 'peer', 'name', 'r1p']);
  sh('ip', ['-n', s, 'addr', 'add', '10.1.0.1/24', 'dev', SDEV]);
  sh('ip', ['-n', s, 'addr', 'add', '10.9.0.5/32', 'dev', SDEV]);
  sh('ip', ['-n', r, 'addr', 'add', '10.1.0.2/24', 'dev', RDEV]);
  sh('ip', ['-n', r, 'addr', 'add', '10.9.0.1/24', 'dev', 'r1']);
  sh('ip', ['-n', s, 'link', 'set', SDEV, 'up']);
  for (const l of [RDEV, 'r1', 'r1p']) sh('ip', ['-n', r, 'link', 'set', l, 'up']);
  // A static neighbour: S's ARP request would carry the spoofed source and meet the same check.
  const mac = (JSON.parse(sh('ip', ['-n', r, '-j', 'link', 'show', RDEV])) as { address: string }[])[0]!.address;
  sh('ip', ['-n', s, 'neigh', 'add', '10.1.0.2', 'lladdr', mac, 'dev', SDEV, 'nud', 'permanent']);
}

const conf4 = (lab: Lab, ns: string, entries: Record<string, number>): void => {
  for (const [k, v] of Object.entries(entries)) lab.set(ns, `net.ipv4.conf.${k}`, v);
};

/** rp_filter: a spoofed source is dropped (IPReversePathFilter) exactly when the effective value is 1. */
export function rpFilter(lab: Lab): Promise<Row[]> {
  return withNamespaces(2, ([s, r]) => {
    wireTwo(s!, r!);
    return pairs('0,1 2,1 1,0 0,2 0,0 1,2').map(([all, dev]) => {
      conf4(lab, r!, { 'all.rp_filter': all, [`${RDEV}.rp_filter`]: dev });
      const e = lab.effective(r!, `net.ipv4.conf.${RDEV}.rp_filter`);
      const drops = counter(r!, 'netstat', 'TcpExt', 'IPReversePathFilter');
      const echos = counter(r!, 'snmp', 'Icmp', 'InEchos');
      bb(s!, ['ping', '-c', '1', '-W', '1', '-I', '10.9.0.5', '10.1.0.2']);
      const dropped = counter(r!, 'netstat', 'TcpExt', 'IPReversePathFilter') - drops;
      const accepted = counter(r!, 'snmp', 'Icmp', 'InEchos') - echos;
      const strict = e.effective === '1';
      return {
        name: `all ${all}, dev ${dev}`,
        ok: e.effective === String(Math.max(all, dev)) && dropped === (strict ? 1 : 0) && accepted === (strict ? 0 : 1),
        detail: `${e.text}; dropped ${dropped}, accepted ${accepted}`,
      };
    });
  });
}

/** arp_ignore: a request for an address of R's other interface is answered exactly when the effective value is 0. */
export function arpIgnore(lab: Lab): Promise<Row[]> {
  return withNamespaces(2, ([s, r]) => {
    wireTwo(s!, r!);
    conf4(lab, r!, { 'all.rp_filter': 0, [`${RDEV}.rp_filter`]: 0 });
    return pairs('0,0 1,0 0,1 2,0 0,8').map(([all, dev]) => {
      conf4(lab, r!, { 'all.arp_ignore': all, [`${RDEV}.arp_ignore`]: dev });
      const e = lab.effective(r!, `net.ipv4.conf.${RDEV}.arp_ignore`);
      const replied = bb(s!, ['arping', '-c', '1', '-w', '1', '-I', SDEV, '10.9.0.1']) === 0;
      return {
        name: `all ${all}, dev ${dev}`,
        ok: e.effective === String(Math.max(all, dev)) && replied === (e.effective === '0'),
        detail: `${e.text}; ${replied ? 'answered' : 'not answered'}`,
      };
    });
  });
}

/**
 * arp_accept: a gratuitous ARP makes a neighbour entry when the effective value is 1, or 2 and
 * the sender is in the subnet of an address of the interface (arp_accept(); 5.10 ors the two
 * entries, so 2 counts as 1 there).
 */
export function arpAccept(lab: Lab): Promise<Row[]> {
  return withNamespaces(2, async ([s, r]) => {
    wireTwo(s!, r!);
    const rows: Row[] = [];
    for (const [all, dev, sip] of [
      [0, 0, '10.1.0.1'],
      [1, 0, '10.1.0.1'],
      [0, 2, '10.1.0.1'],
      [0, 2, '10.9.0.5'],
      [2, 1, '10.9.0.5'],
      [1, 1, '10.9.0.5'],
    ] as [number, number, string][]) {
      sh('ip', ['-n', r!, 'neigh', 'flush', 'dev', RDEV]);
      conf4(lab, r!, { 'all.arp_accept': all, [`${RDEV}.arp_accept`]: dev });
      const e = lab.effective(r!, `net.ipv4.conf.${RDEV}.arp_accept`);
      bb(s!, ['arping', '-U', '-c', '1', '-I', SDEV, sip]);
      let made = false;
      for (let i = 0; i < 20 && !made; i++) {
        made = sh('ip', ['-n', r!, 'neigh', 'show', 'dev', RDEV]).includes(sip);
        if (!made) await new Promise((res) => setTimeout(res, 25));
      }
      const expected = e.effective === '1' || (e.effective === '2' && sip.startsWith('10.1.0.'));
      rows.push({
        name: `all ${all}, dev ${dev}, from ${sip}`,
        ok: made === expected,
        detail: `${e.text}; ${made ? 'entry made' : 'no entry'}`,
      });
    }
    return rows;
  });
}

/** New kernel log records, from /dev/kmsg opened before the trigger; undefined when it cannot be read. */
export function kmsgReader(): { read(): string[]; close(): void } | undefined {
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

/** log_martians: a spoofed source dropped by the strict check is logged exactly when the effective value is 1. */
export function logMartians(lab: Lab): Promise<Row[]> {
  const kmsg = kmsgReader();
  if (!kmsg) throw new Error('cannot read the kernel log (/dev/kmsg)');
  return withNamespaces(2, ([s, r]) => {
    wireTwo(s!, r!);
    conf4(lab, r!, { 'all.rp_filter': 0, [`${RDEV}.rp_filter`]: 1 }); // strict: every spoofed packet is a martian
    const seen = (): boolean =>
      kmsg.read().some((l) => l.includes('martian source 10.1.0.2 from 10.9.0.5') && l.includes(`on dev ${RDEV}`));
    return pairs('0,0 1,0 0,1').map(([all, dev]) => {
      conf4(lab, r!, { 'all.log_martians': all, [`${RDEV}.log_martians`]: dev });
      const e = lab.effective(r!, `net.ipv4.conf.${RDEV}.log_martians`);
      // The kernel rate-limits these lines (net_ratelimit): a few packets a second apart.
      let logged = false;
      for (let i = 0; i < 3 && !logged; i++) {
        bb(s!, ['ping', '-c', '1', '-W', '1', '-I', '10.9.0.5', '10.1.0.2']);
        logged = seen();
        if (e.effective === '0') break; // one packet shows the absence
      }
      return {
        name: `all ${all}, dev ${dev}`,
        ok: e.effective === (all || dev ? '1' : '0') && logged === (e.effective === '1'),
        detail: `${e.text}; ${logged ? 'logged' : 'not logged'}`,
      };
    });
  }).finally(() => kmsg.close());
}

/** A -- R -- B: A and B route through R (IPv4 10.2.1.0/24, 10.2.2.0/24; IPv6 fd00:1::/64, fd00:2::/64). */
function wireRouter(a: string, r: string, b: string): void {
  sh('ip', ['-n', r, 'link', 'add', 'ra', 'type', 'veth', 'peer', 'name', 'a0', 'netns', a]);
  sh('ip', ['-n', r, 'link', 'add', 'rb', 'type', 'veth', 'peer', 'name', 'b0', 'netns', b]);
  for (const [ns, dev, v4, v6] of [
    [a, 'a0', '10.2.1.1/24', 'fd00:1::1/64'],
    [r, 'ra', '10.2.1.2/24', 'fd00:1::2/64'],
    [r, 'rb', '10.2.2.2/24', 'fd00:2::2/64'],
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
}

/** Whether `ping` succeeds within about 10 s (fresh links take a moment: IPv6 link-local DAD). */
async function settled(ping: () => boolean): Promise<boolean> {
  for (let i = 0; i < 10; i++) {
    if (ping()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

/**
 * Forwarding through R for each setting of conf.all and R's two devices (IPv4: the input
 * device's own entry decides; IPv6: conf.all, or a device's force_forwarding where the kernel
 * has it). Also what writing conf.all does to the devices.
 */
export function forwarding(lab: Lab, family: 'ipv4' | 'ipv6'): Promise<Row[]> {
  return withNamespaces(3, async ([a, r, b]) => {
    wireRouter(a!, r!, b!);
    const ping = (): boolean =>
      bb(
        a!,
        family === 'ipv4' ? ['ping', '-c', '1', '-W', '1', '10.2.2.1'] : ['ping6', '-c', '1', '-W', '1', 'fd00:2::1'],
      ) === 0;
    const set = (entries: Record<string, number>): void => {
      for (const [k, v] of Object.entries(entries)) lab.set(r!, `net.${family}.conf.${k}`, v);
    };
    const read = (k: string): string =>
      sh('ip', ['netns', 'exec', r!, 'cat', `/proc/sys/net/${family}/conf/${k}`]).trim();
    const eff = (dev: string) => lab.effective(r!, `net.${family}.conf.${dev}.forwarding`);
    const rows: Row[] = [];
    const check = (name: string, forwarded: boolean): void => {
      const [ea, eb] = [eff('ra'), eff('rb')];
      const predicted = ea.effective === '1' && eb.effective === '1'; // the request enters on ra, the reply on rb
      rows.push({
        name,
        ok: forwarded === predicted,
        detail: `ra: ${ea.text}; rb: ${eb.text}; ${forwarded ? 'forwarded' : 'not forwarded'}`,
      });
    };
    set({ 'all.forwarding': 1 });
    // IPv4 also sets conf.all.accept_redirects to the opposite (inet_forward_change).
    const redirects = family === 'ipv4' ? read('all/accept_redirects') : '0';
    rows.push({
      name: 'writing conf.all.forwarding 1',
      ok:
        read('ra/forwarding') === '1' &&
        read('rb/forwarding') === '1' &&
        read('default/forwarding') === '1' &&
        redirects === '0',
      detail: `sets every device and conf.default (ra ${read('ra/forwarding')}, rb ${read('rb/forwarding')}, default ${read('default/forwarding')}${family === 'ipv4' ? `, conf.all.accept_redirects ${redirects}` : ''})`,
    });
    check('all 1, both devices 1', await settled(ping));
    set({ 'ra.forwarding': 0, 'rb.forwarding': 0 });
    check('all 1, both devices 0', ping());
    set({ 'all.forwarding': 0 });
    rows.push({
      name: 'writing conf.all.forwarding 0',
      ok: read('ra/forwarding') === '0' && read('rb/forwarding') === '0',
      detail: 'reaches every device',
    });
    set({ 'ra.forwarding': 1, 'rb.forwarding': 1 });
    check('all 0, both devices 1', ping());
    set({ 'all.forwarding': 1, 'ra.forwarding': 0 });
    check('all 1, ra 0, rb 1', ping());
    // Linux 6.17 added a per-device override of conf.all for IPv6.
    if (family === 'ipv6' && fs.readdirSync('/proc/sys/net/ipv6/conf/all').includes('force_forwarding')) {
      set({ 'all.forwarding': 0 });
      set({ 'ra.force_forwarding': 1, 'rb.force_forwarding': 1 });
      check('all 0, both devices 0, force_forwarding 1 on both', ping());
    }
    return rows;
  });
}
