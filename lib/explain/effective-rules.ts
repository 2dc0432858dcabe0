// How the kernel combines net.ipv4/ipv6.conf.all.X with net.ipv4/ipv6.conf.DEV.X when it uses X
// for DEV, per kernel line, as data (the computation is in effective.ts).
//
// Read in Debian's linux-source-5.10 (5.10.262), linux-source-6.1 (6.1.192) and
// linux-source-6.12 trees: include/linux/inetdevice.h (IN_DEV_MAXCONF / IN_DEV_ORCONF /
// IN_DEV_ANDCONF and the IN_DEV_* macros built on them) and every user of those macros under
// net/ (net/ipv4/arp.c, devinet.c, fib_frontend.c, igmp.c, ip_input.c, route.c,
// net/bridge/br_netfilter_hooks.c, net/core/filter.c); for IPv6 every reader of
// `devconf_all->X` under net/ (net/ipv6/addrconf.c, exthdrs.c, ip6_input.c, ip6_output.c,
// mcast.c, ndisc.c, route.c, output_core.c, anycast.c). An IPv6 key with no reader of
// devconf_all uses the device's own entry alone. The IN_DEV_* macro set is the same in 6.1 and
// 6.12; 5.10 differs in arp_accept (or, not max), proxy_arp_pvlan and
// ignore_routes_with_linkdown (the device alone, not or) and has no arp_evict_nocarrier.
// Rules whose effect a test observed on the running kernel carry `observed` (test/effective.test.ts),
// and what the kernel matrix saw of the same experiments on 5.10, 6.1 and 6.12.

/** The kernel lines the effective-value rules were read for. */
export const EFFECTIVE_LINES = ['5.10', '6.1', '6.12'] as const;
/** One of {@link EFFECTIVE_LINES}. */
export type EffectiveLine = (typeof EFFECTIVE_LINES)[number];

/**
 * How conf.all.X and conf.DEV.X make the value the kernel uses for DEV:
 * - `max`: max(all, DEV) (IN_DEV_MAXCONF); `or`: all || DEV (IN_DEV_ORCONF); `and`: all && DEV
 *   (IN_DEV_ANDCONF); `min`: min(all, DEV) (IPv6 extension headers);
 * - `device`: DEV's own entry alone; `all`: conf.all alone (DEV's entry is not read for it);
 * - `all-else-device`: all when it is not 0, else DEV; `device-else-default`: DEV when set,
 *   else conf.default (stable_secret);
 * - `redirects` (IPv4 accept_redirects): and when DEV forwards, or when it does not;
 * - `igmp-version`: IGMPv1 when either is 1, else IGMPv2 when either is 2, else IGMPv3;
 * - `accept-ra` (IPv6): DEV's accept_ra, but only 2 counts when DEV forwards;
 * - `unless-forwarding` (IPv6 accept_redirects): DEV's own, ignored when DEV forwards;
 * - `proxy-ndp` (IPv6): all || DEV, only on a forwarding DEV;
 * - `unused`: nothing in the kernel reads the entry.
 */
export type Combine =
  | 'max'
  | 'or'
  | 'and'
  | 'min'
  | 'device'
  | 'all'
  | 'all-else-device'
  | 'device-else-default'
  | 'redirects'
  | 'igmp-version'
  | 'accept-ra'
  | 'unless-forwarding'
  | 'proxy-ndp'
  | 'unused';

/** A kernel function that reads the entry, and its file. */
export interface KernelUse {
  file: string;
  fn: string;
}

/** The rule for one key of net.ipv4.conf or net.ipv6.conf. */
export interface EffectiveRule {
  /** `ipv4.rp_filter`. */
  id: string;
  family: 'ipv4' | 'ipv6';
  /** The entry's name under conf/DEV/. */
  name: string;
  /** How all and DEV combine on each line that has the key (a line left out has no such key). */
  lines: Partial<Record<EffectiveLine, Combine>>;
  /** The expression the kernel evaluates, e.g. `IN_DEV_RPFILTER(in_dev) = IN_DEV_MAXCONF(in_dev, RP_FILTER)`. */
  reads: string;
  /** Where: the header of the macro, or the file of the readers. */
  file: string;
  /** The kernel functions that use it. */
  uses: readonly KernelUse[];
  /** What a write to conf.all or conf.default does besides setting that entry. */
  onWrite?: string;
  /** What a value means, e.g. rp_filter 2 -> "loose". */
  meaning?: (value: number) => string | undefined;
  /** More to know. */
  note?: string;
  /** The effect was observed on the running kernel by a test (which one, and how). */
  observed?: string;
}

const same = (c: Combine, from: EffectiveLine = '5.10'): Partial<Record<EffectiveLine, Combine>> =>
  from === '5.10' ? { '5.10': c, '6.1': c, '6.12': c } : from === '6.1' ? { '6.1': c, '6.12': c } : { '6.12': c };

const onOff = (v: number): string => (v !== 0 ? 'on' : 'off');

const RP_FILTER = ['no source validation', 'strict', 'loose'];
const ARP_IGNORE: Record<number, string> = {
  0: 'reply for any local address',
  1: 'reply only for addresses of the incoming interface',
  2: "reply only for addresses of the incoming interface in the sender's subnet",
  3: 'no reply for host-scope addresses',
  8: 'no reply',
};
const ARP_ANNOUNCE = [
  'any local address',
  "avoid addresses outside the target's subnet",
  'best local address for the target',
];
const ARP_ACCEPT = [
  'no new entries from gratuitous ARP',
  'new entries from gratuitous ARP',
  "new entries from gratuitous ARP in the interface's subnets",
];

/** What the kernel matrix's VMs saw running the same packet experiments (test/kernels/tier/effective.ts). */
const MATRIX =
  '; the same experiment agrees on 5.10, 6.1 and 6.12 in the kernel matrix (test/kernels/tier/effective.ts)';
const MATRIX_ARP_ACCEPT =
  '; in the kernel matrix (test/kernels/tier/effective.ts) the same experiment agrees with max on 6.1 and 6.12 and with or on 5.10 (an entry with all 2 and the device 1)';

const INET = 'include/linux/inetdevice.h';
const ADDRCONF = 'net/ipv6/addrconf.c';
/** What writing conf.all.X does for the IPv6 entries addrconf propagates. */
const allToDevices = (handler: string): string =>
  `writing conf.all sets conf.default and every device's entry (${handler}); a conf.default write reaches only devices created later`;
const V6_DEFAULT_ONLY =
  'a conf.all or conf.default write changes only that entry; conf.default reaches only devices created later';

/** devinet_conf_proc: what a conf.default write of an ordinary ipv4 entry does. */
const V4_DEFAULT_COPY =
  "a conf.default write is copied to every device whose entry was never set (devinet_conf_proc -> devinet_copy_dflt_conf); writing a device's entry marks it set, and adding an IPv4 address marks every entry of the device set (inet_set_ifa, rtm_to_ifaddr)";
/** ipv4_doint_and_flush: entries a conf.default write does not copy. */
const V4_FLUSH_NO_COPY =
  'a conf.default write reaches no existing device (ipv4_doint_and_flush only flushes the route cache): only devices created later copy it';

/** One rule; `onWrite` defaults to what a write of conf.all / conf.default does in the family. */
function rule(
  family: 'ipv4' | 'ipv6',
  name: string,
  lines: Partial<Record<EffectiveLine, Combine>>,
  reads: string,
  file: string,
  uses: KernelUse[],
  extra: Partial<EffectiveRule>,
): EffectiveRule {
  const onWrite = family === 'ipv4' ? V4_DEFAULT_COPY : V6_DEFAULT_ONLY;
  return { id: `${family}.${name}`, family, name, lines, reads, file, uses, onWrite, ...extra };
}

const v4 = (
  name: string,
  lines: Partial<Record<EffectiveLine, Combine>>,
  reads: string,
  uses: KernelUse[],
  extra: Partial<EffectiveRule> = {},
): EffectiveRule => rule('ipv4', name, lines, reads, INET, uses, extra);

const u = (file: string, ...fns: string[]): KernelUse[] => fns.map((fn) => ({ file, fn }));

/** net.ipv4.conf: the 33 entries of devinet_sysctl (net/ipv4/devinet.c), 32 on 5.10. */
const IPV4: EffectiveRule[] = [
  v4(
    'forwarding',
    same('device'),
    'IN_DEV_FORWARD(in_dev) = IN_DEV_CONF_GET(in_dev, FORWARDING): the input device only',
    [
      ...u('net/ipv4/route.c', 'ip_route_input_slow', 'ip_error'),
      ...u('net/ipv4/arp.c', 'arp_process'),
      ...u('net/core/filter.c', 'bpf_ipv4_fib_lookup'),
    ],
    {
      onWrite:
        "writing conf.all.forwarding (or net.ipv4.ip_forward) sets conf.default.forwarding and every device's forwarding, marks those entries set, and sets conf.all.accept_redirects to its opposite (devinet_sysctl_forward -> inet_forward_change); a conf.default or device write changes only that entry. On 6.1 and 6.12 a write needs CAP_NET_ADMIN in the namespace's owning user namespace (devinet_sysctl_forward: ns_capable), on 5.10 it does not",
      meaning: (v) => (v !== 0 ? 'packets received on it are forwarded' : 'packets received on it are not forwarded'),
      observed:
        '6.18: a router namespace with conf.all.forwarding 1 and the input device 0 does not forward; all 0 and both devices 1 forwards (test/effective.test.ts)' +
        MATRIX,
    },
  ),
  v4(
    'mc_forwarding',
    same('and'),
    'IN_DEV_MFORWARD(in_dev) = IN_DEV_ANDCONF(in_dev, MC_FORWARDING)',
    u('net/ipv4/route.c', 'ip_route_input_mc', 'ip_route_input_noref (ip_route_input_rcu on 5.10)'),
    {
      onWrite: 'read-only (0444): a multicast routing daemon changes it by opening the mroute socket (ipmr.c)',
      meaning: onOff,
    },
  ),
  v4(
    'bc_forwarding',
    same('and'),
    'IN_DEV_BFORWARD(in_dev) = IN_DEV_ANDCONF(in_dev, BC_FORWARDING)',
    u('net/ipv4/route.c', 'ip_route_input_slow'),
    { meaning: onOff },
  ),
  v4(
    'accept_redirects',
    same('redirects'),
    'IN_DEV_RX_REDIRECTS(in_dev) = IN_DEV_FORWARD(in_dev) ? IN_DEV_ANDCONF(ACCEPT_REDIRECTS) : IN_DEV_ORCONF(ACCEPT_REDIRECTS)',
    u('net/ipv4/route.c', '__ip_do_redirect'),
    {
      meaning: (v) => (v !== 0 ? 'redirects accepted' : 'redirects ignored'),
      note: "and when the device forwards, or when it does not (the device's own forwarding entry decides); writing conf.all.forwarding sets conf.all.accept_redirects to its opposite",
    },
  ),
  v4(
    'secure_redirects',
    same('or'),
    'IN_DEV_SEC_REDIRECTS(in_dev) = IN_DEV_ORCONF(in_dev, SECURE_REDIRECTS)',
    u('net/ipv4/route.c', '__ip_do_redirect'),
    { meaning: onOff },
  ),
  v4(
    'shared_media',
    same('or'),
    'IN_DEV_SHARED_MEDIA(in_dev) = IN_DEV_ORCONF(in_dev, SHARED_MEDIA)',
    u('net/ipv4/route.c', '__ip_do_redirect', '__mkroute_input'),
    { meaning: onOff },
  ),
  v4(
    'rp_filter',
    same('max'),
    'IN_DEV_RPFILTER(in_dev) = IN_DEV_MAXCONF(in_dev, RP_FILTER)',
    u('net/ipv4/fib_frontend.c', 'fib_validate_source'),
    {
      meaning: (v) => RP_FILTER[v],
      observed:
        '6.18: a spoofed source is dropped (IPReversePathFilter) exactly when max(all, DEV) is 1, accepted at 0 and 2 (test/effective.test.ts)' +
        MATRIX,
    },
  ),
  v4(
    'send_redirects',
    same('or'),
    'IN_DEV_TX_REDIRECTS(in_dev) = IN_DEV_ORCONF(in_dev, SEND_REDIRECTS)',
    [
      ...u('net/ipv4/route.c', 'ip_rt_send_redirect', '__mkroute_input'),
      ...u('net/ipv4/fib_frontend.c', 'fib_validate_source'),
    ],
    { meaning: onOff },
  ),
  v4(
    'accept_source_route',
    same('and'),
    'IN_DEV_SOURCE_ROUTE(in_dev) = IN_DEV_ANDCONF(in_dev, ACCEPT_SOURCE_ROUTE)',
    u('net/ipv4/ip_input.c', 'ip_rcv_options'),
    { meaning: (v) => (v !== 0 ? 'source-routed packets accepted' : 'source-routed packets dropped') },
  ),
  v4(
    'accept_local',
    same('or'),
    'IN_DEV_ACCEPT_LOCAL(in_dev) = IN_DEV_ORCONF(in_dev, ACCEPT_LOCAL)',
    u('net/ipv4/fib_frontend.c', 'fib_validate_source', '__fib_validate_source'),
    { meaning: onOff },
  ),
  v4(
    'src_valid_mark',
    same('or'),
    'IN_DEV_SRC_VMARK(in_dev) = IN_DEV_ORCONF(in_dev, SRC_VMARK)',
    u('net/ipv4/fib_frontend.c', '__fib_validate_source', 'fib_compute_spec_dst'),
    { meaning: onOff },
  ),
  v4(
    'proxy_arp',
    same('or'),
    'IN_DEV_PROXY_ARP(in_dev) = IN_DEV_ORCONF(in_dev, PROXY_ARP)',
    u('net/ipv4/arp.c', 'arp_fwd_proxy'),
    { meaning: onOff },
  ),
  v4(
    'medium_id',
    same('device'),
    'IN_DEV_MEDIUM_ID(in_dev) = IN_DEV_CONF_GET(in_dev, MEDIUM_ID)',
    u('net/ipv4/arp.c', 'arp_fwd_proxy'),
  ),
  v4('bootp_relay', same('unused'), 'IN_DEV_BOOTP_RELAY = IN_DEV_ANDCONF(in_dev, BOOTP_RELAY), used nowhere', [], {
    note: 'the macro exists but no code calls it: the entry has no effect',
  }),
  v4(
    'log_martians',
    same('or'),
    'IN_DEV_LOG_MARTIANS(in_dev) = IN_DEV_ORCONF(in_dev, LOG_MARTIANS)',
    [
      ...u(
        'net/ipv4/route.c',
        'ip_handle_martian_source',
        'ip_route_input_slow',
        'ip_rt_send_redirect',
        '__ip_do_redirect',
      ),
      ...u('net/ipv4/ip_input.c', 'ip_rcv_options'),
    ],
    {
      meaning: onOff,
      observed:
        '6.18: a "martian source" line for a spoofed source is logged when all || DEV, not when both are 0 (test/effective.test.ts)' +
        MATRIX,
    },
  ),
  v4('tag', same('unused'), 'IN_DEV_IDTAG = IN_DEV_CONF_GET(in_dev, TAG), used nowhere', [], {
    note: 'the macro exists but no code calls it: the entry has no effect',
  }),
  v4(
    'arp_filter',
    same('or'),
    'IN_DEV_ARPFILTER(in_dev) = IN_DEV_ORCONF(in_dev, ARPFILTER)',
    u('net/ipv4/arp.c', 'arp_process'),
    { meaning: onOff },
  ),
  v4(
    'arp_announce',
    same('max'),
    'IN_DEV_ARP_ANNOUNCE(in_dev) = IN_DEV_MAXCONF(in_dev, ARP_ANNOUNCE)',
    u('net/ipv4/arp.c', 'arp_solicit'),
    { meaning: (v) => ARP_ANNOUNCE[v] },
  ),
  v4(
    'arp_ignore',
    same('max'),
    'IN_DEV_ARP_IGNORE(in_dev) = IN_DEV_MAXCONF(in_dev, ARP_IGNORE)',
    u('net/ipv4/arp.c', 'arp_ignore'),
    {
      meaning: (v) => ARP_IGNORE[v] ?? (v >= 4 && v <= 7 ? 'reserved: reply' : undefined),
      observed:
        '6.18: an ARP request for an address of another interface is answered exactly when max(all, DEV) is 0 (test/effective.test.ts)' +
        MATRIX,
    },
  ),
  v4(
    'arp_accept',
    { '5.10': 'or', '6.1': 'max', '6.12': 'max' },
    'IN_DEV_ARP_ACCEPT(in_dev) = IN_DEV_MAXCONF(in_dev, ARP_ACCEPT) (IN_DEV_ORCONF on 5.10)',
    u('net/ipv4/arp.c', 'arp_accept (arp_process on 5.10)'),
    {
      meaning: (v) => ARP_ACCEPT[v],
      note: 'value 2 (only from the same subnet) exists since 6.1; 5.10 ors two booleans',
      observed:
        '6.18: a gratuitous ARP from outside the subnet makes no entry with all 2 and the device 1 (max 2; or would make one), and one with both 1 (test/effective.test.ts)' +
        MATRIX_ARP_ACCEPT,
    },
  ),
  v4(
    'arp_notify',
    same('max'),
    'IN_DEV_ARP_NOTIFY(in_dev) = IN_DEV_MAXCONF(in_dev, ARP_NOTIFY)',
    u('net/ipv4/devinet.c', 'inetdev_event'),
    { meaning: onOff },
  ),
  v4(
    'arp_evict_nocarrier',
    same('and', '6.1'),
    'IN_DEV_ARP_EVICT_NOCARRIER(in_dev) = IN_DEV_ANDCONF(in_dev, ARP_EVICT_NOCARRIER)',
    u('net/ipv4/arp.c', 'arp_netdev_event'),
    { meaning: onOff, note: 'absent on 5.10' },
  ),
  v4(
    'proxy_arp_pvlan',
    { '5.10': 'device', '6.1': 'or', '6.12': 'or' },
    'IN_DEV_PROXY_ARP_PVLAN(in_dev) = IN_DEV_ORCONF(in_dev, PROXY_ARP_PVLAN) (IN_DEV_CONF_GET on 5.10)',
    [...u('net/ipv4/arp.c', 'arp_fwd_pvlan'), ...u('net/ipv4/route.c', '__mkroute_input')],
    { meaning: onOff },
  ),
  v4(
    'force_igmp_version',
    same('igmp-version'),
    'IGMP_V1_SEEN / IGMP_V2_SEEN: conf.all == N || DEV == N (or an older querier heard)',
    u('net/ipv4/igmp.c', 'IGMP_V1_SEEN', 'IGMP_V2_SEEN', 'unsolicited_report_interval'),
    {
      meaning: (v) => (v === 1 ? 'IGMPv1' : v === 2 ? 'IGMPv2' : 'IGMPv3 unless an IGMPv1/v2 querier is heard'),
    },
  ),
  v4(
    'igmpv2_unsolicited_report_interval',
    same('device'),
    'IN_DEV_CONF_GET(in_dev, IGMPV2_UNSOLICITED_REPORT_INTERVAL)',
    u('net/ipv4/igmp.c', 'unsolicited_report_interval'),
  ),
  v4(
    'igmpv3_unsolicited_report_interval',
    same('device'),
    'IN_DEV_CONF_GET(in_dev, IGMPV3_UNSOLICITED_REPORT_INTERVAL)',
    u('net/ipv4/igmp.c', 'unsolicited_report_interval'),
  ),
  v4(
    'ignore_routes_with_linkdown',
    { '5.10': 'device', '6.1': 'or', '6.12': 'or' },
    'IN_DEV_IGNORE_ROUTES_WITH_LINKDOWN(in_dev) = IN_DEV_ORCONF(in_dev, IGNORE_ROUTES_WITH_LINKDOWN) (IN_DEV_CONF_GET on 5.10)',
    u(INET, 'ip_ignore_linkdown'),
    { meaning: onOff },
  ),
  v4(
    'drop_gratuitous_arp',
    same('or'),
    'IN_DEV_ORCONF(in_dev, DROP_GRATUITOUS_ARP)',
    u('net/ipv4/arp.c', 'arp_process'),
    { meaning: onOff },
  ),
  v4(
    'disable_xfrm',
    same('or'),
    'IN_DEV_ORCONF(out_dev, NOXFRM)',
    u('net/ipv4/route.c', '__mkroute_input', 'ip_route_input_noref (ip_route_input_rcu on 5.10)'),
    { meaning: onOff, onWrite: V4_FLUSH_NO_COPY },
  ),
  v4(
    'disable_policy',
    same('or'),
    'IN_DEV_ORCONF(in_dev, NOPOLICY)',
    [
      ...u('net/ipv4/route.c', '__mkroute_input', 'ip_route_input_mc', 'ip_route_input_slow'),
      ...u('net/ipv4/ip_input.c', 'ip_rcv_finish_core'),
    ],
    { meaning: onOff, onWrite: V4_FLUSH_NO_COPY },
  ),
  v4(
    'promote_secondaries',
    same('or'),
    'IN_DEV_PROMOTE_SECONDARIES(in_dev) = IN_DEV_ORCONF(in_dev, PROMOTE_SECONDARIES)',
    u('net/ipv4/devinet.c', '__inet_del_ifa'),
    { meaning: onOff, onWrite: V4_FLUSH_NO_COPY },
  ),
  v4(
    'route_localnet',
    same('or'),
    'IN_DEV_ROUTE_LOCALNET(in_dev) = IN_DEV_ORCONF(in_dev, ROUTE_LOCALNET)',
    [
      ...u(
        'net/ipv4/route.c',
        'ip_route_input_slow',
        'ip_route_use_hint',
        'ip_mc_validate_source',
        'ip_route_input_noref',
      ),
      ...u('net/ipv4/arp.c', 'arp_process'),
      ...u('net/ipv4/devinet.c', 'inet_select_addr', 'confirm_addr_indev'),
    ],
    { meaning: onOff, onWrite: V4_FLUSH_NO_COPY },
  ),
  v4(
    'drop_unicast_in_l2_multicast',
    same('or'),
    'IN_DEV_ORCONF(in_dev, DROP_UNICAST_IN_L2_MULTICAST)',
    u('net/ipv4/ip_input.c', 'ip_rcv_finish_core'),
    { meaning: onOff, onWrite: V4_FLUSH_NO_COPY },
  ),
];

const v6 = (
  name: string,
  lines: Partial<Record<EffectiveLine, Combine>>,
  reads: string,
  file: string,
  uses: KernelUse[],
  extra: Partial<EffectiveRule> = {},
): EffectiveRule => rule('ipv6', name, lines, reads, file, uses, extra);

/** The net.ipv6.conf entries whose users read more than the device's own entry, or propagate on write. */
const IPV6_SPECIAL: EffectiveRule[] = [
  v6(
    'forwarding',
    same('all'),
    'ip6_forward: devconf_all->forwarding == 0 -> drop; the device entry decides its router role (accept_ra, NA router flag, anycast)',
    ADDRCONF,
    [
      ...u('net/ipv6/ip6_output.c', 'ip6_forward'),
      ...u('net/ipv6/route.c', 'ip6_pol_route'),
      ...u('include/net/ipv6.h', 'ipv6_accept_ra'),
      ...u('net/ipv6/ndisc.c', 'ndisc_recv_ns', 'ndisc_recv_na'),
    ],
    {
      onWrite: allToDevices('addrconf_fixup_forwarding -> addrconf_forward_change'),
      meaning: (v) => (v !== 0 ? 'packets are forwarded' : 'packets are not forwarded'),
      note: "whether a packet is forwarded depends on conf.all alone; the device's own entry makes the device act as a router (no RAs accepted unless accept_ra = 2, router flag in neighbour advertisements). Linux 6.17 adds conf.DEV.force_forwarding, which forwards for one device while conf.all is 0",
      observed:
        '6.18: a router namespace with conf.all.forwarding 1 and both devices 0 forwards IPv6, with all 0 and both devices 1 it does not, and with all 0 and force_forwarding 1 on both devices it does (test/effective.test.ts)' +
        MATRIX,
    },
  ),
  v6(
    'accept_ra',
    same('accept-ra'),
    'ipv6_accept_ra(idev) = idev->cnf.forwarding ? accept_ra == 2 : accept_ra',
    'include/net/ipv6.h',
    [...u('include/net/ipv6.h', 'ipv6_accept_ra'), ...u('net/ipv6/ndisc.c', 'ndisc_router_discovery')],
    { meaning: (v) => (v !== 0 ? 'router advertisements accepted' : 'router advertisements ignored') },
  ),
  v6(
    'accept_redirects',
    same('unless-forwarding'),
    'rt6_do_redirect: return if idev->cnf.forwarding || !idev->cnf.accept_redirects',
    'net/ipv6/route.c',
    u('net/ipv6/route.c', 'rt6_do_redirect'),
    { meaning: (v) => (v !== 0 ? 'redirects accepted' : 'redirects ignored') },
  ),
  v6(
    'proxy_ndp',
    same('proxy-ndp'),
    'ndisc_recv_ns: idev->cnf.forwarding && (devconf_all->proxy_ndp || idev->cnf.proxy_ndp); ip6_forward and ndisc_recv_na read conf.all alone',
    'net/ipv6/ndisc.c',
    [...u('net/ipv6/ndisc.c', 'ndisc_recv_ns', 'ndisc_recv_na'), ...u('net/ipv6/ip6_output.c', 'ip6_forward')],
    { meaning: onOff },
  ),
  v6(
    'accept_source_route',
    same('min'),
    'ipv6_rthdr_rcv: min(devconf_all->accept_source_route, idev->cnf.accept_source_route)',
    'net/ipv6/exthdrs.c',
    u('net/ipv6/exthdrs.c', 'ipv6_rthdr_rcv'),
    {
      meaning: (v) =>
        v < 0 ? 'routing headers refused' : v === 0 ? 'type 2 routing headers only' : 'routing headers accepted',
    },
  ),
  v6(
    'seg6_enabled',
    same('min'),
    'ipv6_srh_rcv: min(devconf_all->seg6_enabled, idev->cnf.seg6_enabled)',
    'net/ipv6/exthdrs.c',
    u('net/ipv6/exthdrs.c', 'ipv6_srh_rcv'),
    { meaning: onOff },
  ),
  v6(
    'rpl_seg_enabled',
    same('min'),
    'ipv6_rpl_srh_rcv: min(devconf_all->rpl_seg_enabled, idev->cnf.rpl_seg_enabled)',
    'net/ipv6/exthdrs.c',
    u('net/ipv6/exthdrs.c', 'ipv6_rpl_srh_rcv'),
    { meaning: onOff },
  ),
  v6(
    'accept_dad',
    same('max'),
    'addrconf_dad_begin: no DAD when all < 1 && DEV < 1; addrconf_dad_work: all > 1 || DEV > 1 disables IPv6 on a duplicate',
    ADDRCONF,
    u(ADDRCONF, 'addrconf_dad_begin', 'addrconf_dad_work'),
    {
      meaning: (v) =>
        v < 1
          ? 'no duplicate address detection'
          : v === 1
            ? 'duplicate address detection'
            : 'DAD; IPv6 off on a duplicate',
    },
  ),
  v6(
    'enhanced_dad',
    same('or'),
    'addrconf_dad_kick: idev->cnf.enhanced_dad || devconf_all->enhanced_dad',
    ADDRCONF,
    u(ADDRCONF, 'addrconf_dad_kick'),
    {
      meaning: onOff,
    },
  ),
  v6(
    'optimistic_dad',
    same('or'),
    'devconf_all->optimistic_dad || idev->cnf.optimistic_dad',
    ADDRCONF,
    u(
      ADDRCONF,
      'ipv6_use_optimistic_addr',
      'ipv6_allow_optimistic_dad',
      'addrconf_prefix_rcv_add_addr',
      'addrconf_add_linklocal',
    ),
    { meaning: onOff },
  ),
  v6(
    'use_optimistic',
    same('or'),
    'ipv6_use_optimistic_addr: devconf_all->use_optimistic || idev->cnf.use_optimistic',
    ADDRCONF,
    u(ADDRCONF, 'ipv6_use_optimistic_addr'),
    { meaning: onOff },
  ),
  v6(
    'ndisc_notify',
    same('or'),
    'idev->cnf.ndisc_notify || devconf_all->ndisc_notify',
    'net/ipv6/ndisc.c',
    [...u('net/ipv6/ndisc.c', 'ndisc_netdev_event'), ...u(ADDRCONF, 'addrconf_dad_completed')],
    { meaning: onOff },
  ),
  v6(
    'ndisc_evict_nocarrier',
    same('and', '6.1'),
    'ndisc_netdev_event: idev->cnf.ndisc_evict_nocarrier && devconf_all->ndisc_evict_nocarrier',
    'net/ipv6/ndisc.c',
    u('net/ipv6/ndisc.c', 'ndisc_netdev_event'),
    { meaning: onOff, note: 'absent on 5.10' },
  ),
  v6(
    'disable_policy',
    same('or'),
    'ip6_forward, addrconf_f6i_alloc: devconf_all->disable_policy || idev->cnf.disable_policy',
    'net/ipv6/ip6_output.c',
    [...u('net/ipv6/ip6_output.c', 'ip6_forward'), ...u('net/ipv6/route.c', 'addrconf_f6i_alloc')],
    {
      meaning: onOff,
      onWrite:
        "writing conf.all re-marks the routes of every device with the new value (addrconf_disable_policy -> addrconf_disable_policy_idev) without changing the devices' entries",
    },
  ),
  v6(
    'force_mld_version',
    same('all-else-device'),
    'mld_force_mld_version: devconf_all->force_mld_version ?: idev->cnf.force_mld_version',
    'net/ipv6/mcast.c',
    u('net/ipv6/mcast.c', 'mld_force_mld_version'),
    { meaning: (v) => (v === 1 ? 'MLDv1' : v === 2 ? 'MLDv2' : 'MLDv2 unless an MLDv1 querier is heard') },
  ),
  v6(
    'keep_addr_on_down',
    same('all-else-device'),
    'addrconf_ifdown: _keep_addr = devconf_all->keep_addr_on_down ?: idev->cnf.keep_addr_on_down; keep when > 0',
    ADDRCONF,
    u(ADDRCONF, 'addrconf_ifdown'),
    {
      meaning: (v) => (v > 0 ? 'addresses kept when the link goes down' : 'addresses removed when the link goes down'),
    },
  ),
  v6(
    'hop_limit',
    same('device'),
    'ip6_dst_hoplimit: idev->cnf.hop_limit (conf.all only for a device without IPv6)',
    'net/ipv6/output_core.c',
    u('net/ipv6/output_core.c', 'ip6_dst_hoplimit'),
  ),
  v6(
    'mc_forwarding',
    same('all'),
    'ip6_mc_input: atomic_read(&devconf_all->mc_forwarding)',
    'net/ipv6/ip6_input.c',
    [...u('net/ipv6/ip6_input.c', 'ip6_mc_input'), ...u('net/ipv6/ip6mr.c', 'ip6mr_sk_init')],
    {
      onWrite: 'read-only (0444): a multicast routing daemon changes it by opening the mroute6 socket (ip6mr.c)',
      meaning: onOff,
    },
  ),
  v6(
    'disable_ipv6',
    same('device'),
    "idev->cnf.disable_ipv6 (the device's own)",
    ADDRCONF,
    [...u('net/ipv6/ip6_input.c', 'ip6_rcv_core'), ...u(ADDRCONF, 'ipv6_add_addr', 'addrconf_notify')],
    {
      onWrite: allToDevices('addrconf_disable_ipv6 -> addrconf_disable_change'),
      meaning: (v) => (v !== 0 ? 'IPv6 off' : 'IPv6 on'),
    },
  ),
  v6(
    'ignore_routes_with_linkdown',
    same('device'),
    'ip6_ignore_linkdown: idev->cnf.ignore_routes_with_linkdown',
    'include/net/addrconf.h',
    u('include/net/addrconf.h', 'ip6_ignore_linkdown'),
    { onWrite: allToDevices('addrconf_fixup_linkdown -> addrconf_linkdown_change'), meaning: onOff },
  ),
  v6(
    'addr_gen_mode',
    same('device'),
    "idev->cnf.addr_gen_mode (the device's own)",
    ADDRCONF,
    u(ADDRCONF, 'addrconf_addr_gen'),
    {
      onWrite: allToDevices('addrconf_sysctl_addr_gen_mode'),
    },
  ),
  v6(
    'stable_secret',
    same('device-else-default'),
    "ipv6_generate_stable_address: the device's secret when set, else conf.default's",
    ADDRCONF,
    u(ADDRCONF, 'ipv6_generate_stable_address'),
    {
      onWrite:
        "conf.all's cannot be read or written (EIO); a conf.default write also sets every device's addr_gen_mode to stable privacy (addrconf_sysctl_stable_secret)",
    },
  ),
];

/** The entries of addrconf_sysctl (net/ipv6/addrconf.c) on each line; options of the build may leave some out. */
const IPV6_KEYS: Record<EffectiveLine, readonly string[]> = (() => {
  const base =
    'forwarding hop_limit mtu accept_ra accept_redirects autoconf dad_transmits router_solicitations router_solicitation_interval router_solicitation_max_interval router_solicitation_delay force_mld_version mldv1_unsolicited_report_interval mldv2_unsolicited_report_interval use_tempaddr temp_valid_lft temp_prefered_lft regen_max_retry max_desync_factor max_addresses accept_ra_defrtr accept_ra_min_hop_limit accept_ra_min_lft accept_ra_pinfo accept_ra_rtr_pref router_probe_interval accept_ra_rt_info_min_plen accept_ra_rt_info_max_plen proxy_ndp accept_source_route optimistic_dad use_optimistic mc_forwarding disable_ipv6 accept_dad force_tllao ndisc_notify suppress_frag_ndisc accept_ra_from_local accept_ra_mtu stable_secret use_oif_addrs_only ignore_routes_with_linkdown drop_unicast_in_l2_multicast drop_unsolicited_na keep_addr_on_down seg6_enabled seg6_require_hmac enhanced_dad addr_gen_mode disable_policy ndisc_tclass rpl_seg_enabled'.split(
      ' ',
    );
  const v61 = [
    ...base,
    'ra_defrtr_metric',
    'ioam6_enabled',
    'ioam6_id',
    'ioam6_id_wide',
    'ndisc_evict_nocarrier',
    'accept_untracked_na',
  ];
  return {
    '5.10': base,
    '6.1': v61,
    '6.12': [...v61, 'regen_min_advance', 'ra_honor_pio_life', 'ra_honor_pio_pflag'],
  };
})();

/** The IPv6 rule of an entry no user reads through conf.all: the device's own value. */
function v6DeviceOnly(name: string): EffectiveRule {
  const lines: Partial<Record<EffectiveLine, Combine>> = {};
  for (const l of ['5.10', '6.1', '6.12'] as const) if (IPV6_KEYS[l].includes(name)) lines[l] = 'device';
  return v6(
    name,
    lines,
    `idev->cnf.${name}: no reader of devconf_all->${name} under net/ on these lines`,
    ADDRCONF,
    [],
    { note: 'writing conf.all changes nothing any device uses' },
  );
}

/** Every rule: the 33 IPv4 entries and every IPv6 entry of the checked lines. */
export const EFFECTIVE_RULES: readonly EffectiveRule[] = [
  ...IPV4,
  ...IPV6_SPECIAL,
  ...[...new Set(Object.values(IPV6_KEYS).flat())]
    .filter((n) => !IPV6_SPECIAL.some((r) => r.name === n))
    .map(v6DeviceOnly),
];

const byId = new Map(EFFECTIVE_RULES.map((r) => [r.id, r]));

/** The rule of `family`'s conf entry `name`, on any line; undefined when none of the checked lines has it. */
export function effectiveRuleOf(family: 'ipv4' | 'ipv6', name: string): EffectiveRule | undefined {
  return byId.get(`${family}.${name}`);
}
