// What a new network namespace gets, per /proc/sys/net key: the kernel's rules, as data.
//
// Each rule names the kernel function that decides, the source file, the kernel versions it is
// known to hold for, and whether the rule (and separately its version range) was checked
// against kernel source. Rules marked `verified: false` are carried as information only: the
// classifier never settles a key on equal values with an unverified rule.
//
// Keys are matched in their path form relative to /proc/sys/net ("ipv4/tcp_rmem",
// "ipv4/conf/eth0/rp_filter"), so interface names with dots need no escaping.
import { keyFromRel } from '../sysctl/keys.js';
import * as os from 'node:os';

/** A class a rule can predict (the classifier adds `unknown`). */
export type RuleClass = 'inherited' | 'default' | 'parent' | 'shared' | 'readonly' | 'host-only' | 'child-only';

/** What a rule is evaluated against: facts about the running kernel and the host. */
export interface RuleContext {
  /** Kernel version [major, minor] (from os.release() unless given). */
  kernel: [number, number];
  /** The host's net.core.devconf_inherit_init_net (0 when the key is absent: kernels < 5.1). */
  devconfInherit: number;
}

/** One rule of the kernel about a key or a family of keys. */
export interface KernelRule {
  /** Stable identifier, e.g. "tcp_sk_init.congestion_control". */
  id: string;
  /** Matches the key's path relative to /proc/sys/net. */
  match: RegExp;
  /** The predicted class (may depend on the context, e.g. devconf_inherit_init_net). */
  class: RuleClass | ((ctx: RuleContext, rel: string) => RuleClass);
  /** Kernel function that decides. */
  fn: string;
  /** Kernel source file of that function. */
  file: string;
  /** Human-readable version range, e.g. ">= 4.15" or "6.18 (observed)". */
  versions: string;
  /** First kernel version the rule holds for (inclusive), when known. */
  since?: [number, number];
  /** First kernel version the rule no longer holds for, when known. */
  until?: [number, number];
  /** The rule's behaviour was read in kernel source (a tree at or near the version noted). */
  verified: boolean;
  /** The version range itself was checked (not only recalled from commit history). */
  versionVerified: boolean;
  /** One-line explanation for users. */
  explanation: string;
  /**
   * For copies: the host key whose value the new namespace receives, as a path relative to
   * /proc/sys/net (e.g. a device's neigh entry copies the host's neigh/default entry).
   */
  source?: (rel: string, ctx: RuleContext) => string | undefined;
}

/** A rule as it appears in evidence (functions resolved, regex dropped). */
export interface RuleEvidence {
  id: string;
  class: RuleClass;
  fn: string;
  file: string;
  versions: string;
  verified: boolean;
  versionVerified: boolean;
  explanation: string;
  /** Dotted key the value is copied from, when the rule is a copy. */
  sourceKey?: string;
}

const TCP_SK_INIT_CONSTANTS = [
  'tcp_ecn',
  'tcp_ecn_option',
  'tcp_ecn_option_beacon',
  'tcp_ecn_fallback',
  'tcp_base_mss',
  'tcp_min_snd_mss',
  'tcp_probe_threshold',
  'tcp_probe_interval',
  'tcp_mtu_probe_floor',
  'tcp_syn_retries',
  'tcp_synack_retries',
  'tcp_syncookies',
  'tcp_reordering',
  'tcp_retries1',
  'tcp_retries2',
  'tcp_orphan_retries',
  'tcp_fin_timeout',
  'tcp_notsent_lowat',
  'tcp_tw_reuse',
  'tcp_tw_reuse_delay',
  'tcp_no_ssthresh_metrics_save',
  'tcp_sack',
  'tcp_window_scaling',
  'tcp_timestamps',
  'tcp_early_retrans',
  'tcp_recovery',
  'tcp_slow_start_after_idle',
  'tcp_retrans_collapse',
  'tcp_max_reordering',
  'tcp_dsack',
  'tcp_app_win',
  'tcp_adv_win_scale',
  'tcp_frto',
  'tcp_moderate_rcvbuf',
  'tcp_rcvbuf_low_rtt',
  'tcp_tso_win_divisor',
  'tcp_limit_output_bytes',
  'tcp_challenge_ack_limit',
  'tcp_min_tso_segs',
  'tcp_tso_rtt_log',
  'tcp_min_rtt_wlen',
  'tcp_autocorking',
  'tcp_invalid_ratelimit',
  'tcp_pacing_ss_ratio',
  'tcp_pacing_ca_ratio',
  'tcp_comp_sack_delay_ns',
  'tcp_comp_sack_slack_ns',
  'tcp_comp_sack_nr',
  'tcp_comp_sack_rtt_percent',
  'tcp_backlog_ack_defer',
  'tcp_fastopen',
  'tcp_fastopen_blackhole_timeout_sec',
  'tcp_plb_enabled',
  'tcp_plb_idle_rehash_rounds',
  'tcp_plb_rehash_rounds',
  'tcp_plb_suspend_rto_sec',
  'tcp_plb_cong_thresh',
  'tcp_syn_linear_timeouts',
  'tcp_shrink_window',
  'tcp_pingpong_thresh',
  'tcp_rto_min_us',
  'tcp_rto_max_ms',
];

const INET_INIT_NET_CONSTANTS = [
  'ip_local_port_range',
  'ping_group_range',
  'ip_default_ttl',
  'ip_forward_update_priority',
  'ip_dynaddr',
  'ip_early_demux',
  'udp_early_demux',
  'tcp_early_demux',
  'nexthop_compat_mode',
  'ip_unprivileged_port_start',
  'igmp_max_memberships',
  'igmp_max_msf',
  'igmp_link_local_mcast_reports',
  'igmp_qrv',
  'fib_notify_on_flag_change',
];

/** Keys that live only in the init namespace's net.ipv4 table (ipv4_table). */
const IPV4_TABLE_INIT_ONLY = [
  'tcp_max_orphans',
  'inet_peer_threshold',
  'inet_peer_minttl',
  'inet_peer_maxttl',
  'tcp_mem',
  'tcp_low_latency',
  'cipso_cache_enable',
  'cipso_cache_bucket_size',
  'cipso_rbm_optfmt',
  'cipso_rbm_strictvalid',
  'tcp_available_ulp',
  'udp_mem',
  'fib_sync_mem',
];

/** Keys that live only in the init namespace's net.core table (net_core_table). */
const NET_CORE_TABLE_INIT_ONLY = [
  'mem_pcpu_rsv',
  'dev_weight',
  'dev_weight_rx_bias',
  'dev_weight_tx_bias',
  'netdev_max_backlog',
  'netdev_rss_key',
  'bpf_jit_enable',
  'bpf_jit_harden',
  'bpf_jit_kallsyms',
  'bpf_jit_limit',
  'netdev_tstamp_prequeue',
  'message_cost',
  'message_burst',
  'rps_sock_flow_entries',
  'flow_limit_cpu_bitmap',
  'flow_limit_table_len',
  'busy_poll',
  'busy_read',
  'default_qdisc',
  'netdev_budget',
  'warnings',
  'max_skb_frags',
  'netdev_budget_usecs',
  'fb_tunnels_only_for_init_net',
  'devconf_inherit_init_net',
  'high_order_alloc_disable',
  'gro_normal_batch',
  'netdev_unregister_timeout_secs',
  'skb_defer_max',
];

const words = (list: string[]): string => list.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');

/** devinet_init_net: which source net.ipv4.conf.{all,default} take in a new namespace. */
function ipv4ConfClass(ctx: RuleContext): RuleClass {
  switch (ctx.devconfInherit) {
    case 2:
      return 'default';
    case 3:
      return 'parent';
    default:
      return 'inherited'; // 0 and 1: copy from init_net
  }
}

/** addrconf_init_net: the same for net.ipv6.conf.{all,default}. */
function ipv6ConfClass(ctx: RuleContext): RuleClass {
  switch (ctx.devconfInherit) {
    case 1:
      return 'inherited';
    case 3:
      return 'parent';
    default:
      return 'default'; // 0 and 2: compiled-in values
  }
}

/** Where a conf entry's value comes from: all -> all, default and every device -> default. */
function confSource(rel: string): string | undefined {
  const m = /^(ipv[46])\/conf\/([^/]+)\/(.+)$/.exec(rel);
  if (!m) return undefined;
  return `${m[1]}/conf/${m[2] === 'all' ? 'all' : 'default'}/${m[3]}`;
}

/**
 * The rules. Order matters: the first applicable rule wins, so specific rules come before
 * family rules.
 */
export const KERNEL_RULES: readonly KernelRule[] = [
  // ---- TCP (net/ipv4/tcp_ipv4.c) ----
  {
    id: 'tcp_sk_init.congestion_control',
    match: /^ipv4\/tcp_congestion_control$/,
    class: 'inherited',
    fn: 'tcp_sk_init',
    file: 'net/ipv4/tcp_ipv4.c',
    versions: '>= 4.15 (per-namespace default congestion control); read in a 6.18 tree',
    since: [4, 15],
    verified: true,
    versionVerified: false,
    explanation:
      "A new namespace takes the host's (init_net's) default congestion control, if its module reference can be taken; otherwise reno.",
  },
  {
    id: 'tcp_sk_init.rmem_wmem',
    match: /^ipv4\/tcp_[rw]mem$/,
    class: 'inherited',
    fn: 'tcp_sk_init',
    file: 'net/ipv4/tcp_ipv4.c',
    versions: '>= 4.15 (memcpy from init_net); read in a 6.18 tree',
    since: [4, 15],
    verified: true,
    versionVerified: false,
    explanation: "tcp_rmem and tcp_wmem are copied from the host's (init_net's) values when a namespace is created.",
  },
  {
    id: 'tcp_sk_init.keepalive',
    match: /^ipv4\/tcp_keepalive_(time|intvl|probes)$/,
    class: 'default',
    fn: 'tcp_sk_init',
    file: 'net/ipv4/tcp_ipv4.c',
    versions: '>= 4.5 (per-namespace keepalive); read in a 6.18 tree',
    since: [4, 5],
    verified: true,
    versionVerified: false,
    explanation:
      'Set to the compiled-in constants TCP_KEEPALIVE_TIME/INTVL/PROBES (7200 s, 75 s, 9) in every new namespace.',
  },
  {
    id: 'tcp_set_hashinfo.ehash',
    match: /^ipv4\/tcp_ehash_entries$/,
    class: 'parent',
    fn: 'tcp_set_hashinfo',
    file: 'net/ipv4/tcp_ipv4.c',
    versions: '>= 6.1 (tcp_child_ehash_entries); read in a 6.18 tree',
    since: [6, 1],
    verified: true,
    versionVerified: false,
    explanation:
      "Read-only size of the namespace's TCP established hash: the creating namespace's tcp_child_ehash_entries decides it (0 = share the global table, shown negative).",
    source: () => 'ipv4/tcp_child_ehash_entries',
  },
  {
    id: 'tcp_set_hashinfo.derived',
    match: /^ipv4\/tcp_(max_tw_buckets|max_syn_backlog)$/,
    class: 'default',
    fn: 'tcp_set_hashinfo',
    file: 'net/ipv4/tcp_ipv4.c',
    versions: '>= 6.1; read in a 6.18 tree',
    since: [6, 1],
    verified: true,
    versionVerified: false,
    explanation:
      'Computed from the size of the namespace\'s TCP hash (ehash/2 and max(128, ehash/128)), not copied from the host.',
  },
  {
    id: 'tcp_sk_init.constants',
    match: new RegExp(`^ipv4\\/(${words(TCP_SK_INIT_CONSTANTS)})$`),
    class: 'default',
    fn: 'tcp_sk_init',
    file: 'net/ipv4/tcp_ipv4.c',
    versions: 'read in a 6.18 tree (each key since it became per-namespace)',
    verified: true,
    versionVerified: false,
    explanation: 'Set to a compiled-in constant in every new namespace by tcp_sk_init.',
  },
  {
    id: 'udp.hash_entries',
    match: /^ipv4\/udp_hash_entries$/,
    class: 'parent',
    fn: 'udp_set_table (display: proc_udp_hash_entries)',
    file: 'net/ipv4/udp.c, net/ipv4/sysctl_net_ipv4.c',
    versions: '>= 6.2 (udp_child_hash_entries)',
    since: [6, 2],
    verified: false,
    versionVerified: false,
    explanation:
      "Read-only size of the namespace's UDP hash; by analogy with TCP the creating namespace's udp_child_hash_entries decides it (allocation code not re-read).",
    source: () => 'ipv4/udp_child_hash_entries',
  },

  // ---- IPv4 sysctl tables (net/ipv4/sysctl_net_ipv4.c) ----
  {
    id: 'ipv4_sysctl_init_net.dataless_readonly',
    match: /^ipv4\/tcp_allowed_congestion_control$/,
    class: 'readonly',
    fn: 'ipv4_sysctl_init_net',
    file: 'net/ipv4/sysctl_net_ipv4.c',
    versions: 'read in a >= 6.6 tree; observed on 6.18',
    verified: true,
    versionVerified: false,
    explanation:
      'Entries of ipv4_net_table without a per-namespace data pointer are global; a non-initial namespace gets them with the write bits cleared.',
  },
  {
    id: 'tcp_cong.available_shared',
    match: /^ipv4\/tcp_available_congestion_control$/,
    class: 'shared',
    fn: 'proc_tcp_available_congestion_control (tcp_get_available_congestion_control)',
    file: 'net/ipv4/sysctl_net_ipv4.c',
    versions: 'read in a >= 6.6 tree; observed on 6.18',
    verified: true,
    versionVerified: false,
    explanation:
      'Lists the congestion-control modules loaded in the kernel: one global list, the same in every namespace (load a module on the host to change it).',
  },
  {
    id: 'sysctl_ipv4_init.init_only',
    match: new RegExp(`^ipv4\\/(${words(IPV4_TABLE_INIT_ONLY)})$`),
    class: 'host-only',
    fn: 'sysctl_ipv4_init (register_net_sysctl(&init_net, "net/ipv4", ipv4_table))',
    file: 'net/ipv4/sysctl_net_ipv4.c',
    versions: 'read in a >= 6.6 tree',
    verified: true,
    versionVerified: false,
    explanation: 'Global setting registered only in the initial namespace; a container cannot see or change it.',
  },
  {
    id: 'sysctl_ipv4_init.icmp_msgs',
    match: /^ipv4\/icmp_msgs_(per_sec|burst)$/,
    class: 'host-only',
    fn: 'sysctl_ipv4_init (ipv4_table)',
    file: 'net/ipv4/sysctl_net_ipv4.c',
    versions: 'global in a ~6.9 tree; per-namespace on 6.18 (observed); the version of the move is not verified',
    until: [6, 18],
    verified: true,
    versionVerified: false,
    explanation: 'Was a global ICMP rate limit visible only on the host; later kernels made it per-namespace.',
  },
  {
    id: 'inet_init_net.constants',
    match: new RegExp(`^ipv4\\/(${words(INET_INIT_NET_CONSTANTS)})$`),
    class: 'default',
    fn: 'inet_init_net',
    file: 'net/ipv4/af_inet.c',
    versions: 'read in trees from 5.x to ~6.11 (ip_local_port_range 32768-60999 since 4.x)',
    verified: true,
    versionVerified: false,
    explanation: 'Set to a compiled-in default in every new namespace by inet_init_net (e.g. ip_local_port_range 32768 60999, ping_group_range "1 0").',
  },

  // ---- net.core (net/core/sysctl_net_core.c) ----
  {
    id: 'sysctl_core_net_init.mem_readonly',
    match: /^core\/[rw]mem_(default|max)$/,
    class: 'readonly',
    fn: 'sysctl_core_net_init',
    file: 'net/core/sysctl_net_core.c',
    versions: '"net: make net.core.{r,w}mem_{default,max} namespaced" (May 2024, believed 6.11); host-only before; observed read-only on 6.18',
    since: [6, 11],
    verified: true,
    versionVerified: false,
    explanation:
      'Global socket buffer limits: shown read-only in a container, mirroring the host. Change them on the host (they apply to every namespace).',
  },
  {
    id: 'net_defaults_init_net.somaxconn',
    match: /^core\/(somaxconn|optmem_max|txrehash)$/,
    class: 'default',
    fn: 'net_defaults_init_net / sysctl_core_net_init',
    file: 'net/core/net_namespace.c, net/core/sysctl_net_core.c',
    versions: 'somaxconn per-namespace for a long time (SOMAXCONN); optmem_max per-namespace since ~6.9; txrehash since 5.19',
    verified: true,
    versionVerified: false,
    explanation: 'Per-namespace value set to a compiled-in constant (somaxconn = SOMAXCONN, 4096 since 5.4) in every new namespace.',
  },
  {
    id: 'sysctl_core_init.init_only',
    match: new RegExp(`^core\\/(${words(NET_CORE_TABLE_INIT_ONLY)})$`),
    class: 'host-only',
    fn: 'sysctl_core_init (register_net_sysctl(&init_net, "net/core", net_core_table))',
    file: 'net/core/sysctl_net_core.c',
    versions: 'read in a >= 6.6 tree; observed on 6.18',
    verified: true,
    versionVerified: false,
    explanation: 'Global networking-core setting registered only in the initial namespace; a container cannot see or change it.',
  },

  // ---- devconf: net.ipv4.conf / net.ipv6.conf ----
  {
    id: 'devinet_init_net.devconf',
    match: /^ipv4\/conf\/[^/]+\/[^/]+$/,
    class: ipv4ConfClass,
    fn: 'devinet_init_net (+ inetdev_init for devices)',
    file: 'net/ipv4/devinet.c',
    versions: 'devconf_inherit_init_net 0-2 since 5.1, mode 3 since 5.8; before 5.1 always copied from init_net',
    since: [5, 1],
    verified: true,
    versionVerified: false,
    explanation:
      'conf.all and conf.default are copied from the host (devconf_inherit_init_net 0 or 1), reset to compiled-in values (2), or copied from the creating namespace (3); a device created later copies its namespace\'s conf.default.',
    source: confSource,
  },
  {
    id: 'addrconf_init_net.devconf',
    match: /^ipv6\/conf\/[^/]+\/[^/]+$/,
    class: ipv6ConfClass,
    fn: 'addrconf_init_net (+ ipv6_add_dev for devices)',
    file: 'net/ipv6/addrconf.c',
    versions: 'devconf_inherit_init_net 0-2 since 5.1, mode 3 since 5.8; before 5.1 always compiled-in values',
    since: [5, 1],
    verified: true,
    versionVerified: false,
    explanation:
      'conf.all and conf.default start from compiled-in values (devconf_inherit_init_net 0 or 2), are copied from the host (1), or from the creating namespace (3); a device created later copies its namespace\'s conf.default.',
    source: confSource,
  },

  // ---- neighbour tables ----
  {
    id: 'neigh_parms_alloc.device',
    match: /^ipv[46]\/neigh\/(?!default\/)[^/]+\/[^/]+$/,
    class: 'inherited',
    fn: 'neigh_parms_alloc (kmemdup(&tbl->parms))',
    file: 'net/core/neighbour.c',
    versions: 'neighbour tables global up to at least 6.18 (observed); a later "neighbour: Namespacify neigh_tables" series adds net.core.neigh_inherit_init_net (version not verified)',
    until: [6, 19],
    verified: true,
    versionVerified: false,
    explanation:
      "A device's neighbour (ARP/NDP) parameters are copied from the global table defaults, i.e. the host's net.ipv4/ipv6.neigh.default.* values, when the device appears.",
    source: (rel) => rel.replace(/^(ipv[46])\/neigh\/[^/]+\//, '$1/neigh/default/'),
  },
  {
    id: 'neigh_table_init.default_init_only',
    match: /^ipv[46]\/neigh\/default\/[^/]+$/,
    class: 'host-only',
    fn: 'neigh_table_init / neigh_sysctl_register(NULL, &tbl->parms)',
    file: 'net/core/neighbour.c',
    versions: 'up to at least 6.18 (observed); namespaced by a later series (version not verified)',
    until: [6, 19],
    verified: false,
    versionVerified: false,
    explanation:
      'The neighbour table defaults (including gc_thresh*) are global and exposed only on the host; every device in every namespace starts from them.',
  },

  // ---- netfilter ----
  {
    id: 'nf_conntrack_standalone_init_sysctl.readonly',
    match: /^netfilter\/nf_conntrack_(max|expect_max|buckets)$/,
    class: 'readonly',
    fn: 'nf_conntrack_standalone_init_sysctl',
    file: 'net/netfilter/nf_conntrack_standalone.c',
    versions: 'since commit 2671fa4dc010 ("make global sysctls readonly in non-init netns", 5.12 era, backported to 5.4+)',
    verified: true,
    versionVerified: false,
    explanation: 'Global conntrack limits: read-only in a container, mirroring the host. Change them on the host.',
  },
  {
    id: 'nf_conntrack.count',
    match: /^netfilter\/nf_conntrack_count$/,
    class: 'default',
    fn: 'nf_conntrack_standalone_init_sysctl (data = &cnet->count)',
    file: 'net/netfilter/nf_conntrack_standalone.c',
    versions: 'read in a 5.x/6.x tree',
    verified: true,
    versionVerified: false,
    explanation: "Read-only count of this namespace's own connection-tracking entries; starts at 0.",
  },
  {
    id: 'nf_conntrack.top_level_max',
    match: /^nf_conntrack_max$/,
    class: 'host-only',
    fn: 'nf_conntrack_standalone_init_sysctl (nf_ct_netfilter_table, init_net only)',
    file: 'net/netfilter/nf_conntrack_standalone.c',
    versions: 'observed on 6.18 (source not re-read)',
    verified: false,
    versionVerified: false,
    explanation: 'The legacy net.nf_conntrack_max alias exists only on the host; containers see net.netfilter.nf_conntrack_max read-only.',
  },

  // ---- MPTCP ----
  {
    id: 'mptcp.available_lists',
    match: /^mptcp\/available_(path_managers|schedulers)$/,
    class: 'shared',
    fn: 'proc_available_path_managers / proc_available_schedulers',
    file: 'net/mptcp/ctrl.c',
    versions: 'observed on 6.18 (source not re-read)',
    verified: false,
    versionVerified: false,
    explanation: 'Lists the MPTCP path managers / schedulers registered in the kernel: global, the same in every namespace.',
  },

  // ---- the generic mechanism ----
  {
    id: 'ensure_safe_net_sysctl',
    match: /^$/, // never matched by key; cited by the classifier for host-writable, child-read-only entries
    class: 'readonly',
    fn: 'ensure_safe_net_sysctl',
    file: 'net/sysctl_net.c',
    versions: '>= 5.8 (commit 31c4d2f160eb, recalled); read in a >= 6.6 tree',
    since: [5, 8],
    verified: true,
    versionVerified: false,
    explanation:
      'A sysctl registered in a non-initial namespace whose data points at kernel-global data gets its write bits cleared: it is visible read-only, mirroring the global value.',
  },
];

/** The generic read-only mechanism, cited when no specific rule explains a read-only entry. */
export const ENSURE_SAFE_RULE: KernelRule = KERNEL_RULES.find((r) => r.id === 'ensure_safe_net_sysctl')!;

/** Rules that describe user-namespace effects (information only: classify runs as root in the initial user namespace). */
export const USERNS_NOTES: readonly string[] = [
  'In a network namespace owned by a non-initial user namespace, some entries are not registered at all (table[i].procname = NULL in e.g. sysctl_route_net_init and xfrm_sysctl_init: "Don\'t export sysctls to unprivileged users").',
  'net_ctl_permissions (net/sysctl_net.c) gives root of the owning user namespace (CAP_NET_ADMIN there) the owner\'s permission bits; ownership follows that user namespace\'s root.',
];

/** Parse "6.18.44-foo" into [6, 18]. */
export function parseKernelVersion(release: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

function cmp(a: [number, number], b: [number, number]): number {
  return a[0] - b[0] || a[1] - b[1];
}

/** The context for the running kernel; `devconfInherit` must be read from the host by the caller. */
export function defaultContext(devconfInherit = 0, release = os.release()): RuleContext {
  return { kernel: parseKernelVersion(release), devconfInherit };
}

/** Dotted sysctl(8) key of a path relative to /proc/sys/net (the shared keyFromRel). */
export const relToKey: (rel: string) => string = keyFromRel;

/** The first rule that matches `rel` and applies to the running kernel version. */
export function findRule(rel: string, ctx: RuleContext): KernelRule | undefined {
  for (const r of KERNEL_RULES) {
    if (!r.match.test(rel)) continue;
    if (r.since && cmp(ctx.kernel, r.since) < 0) continue;
    if (r.until && cmp(ctx.kernel, r.until) >= 0) continue;
    return r;
  }
  return undefined;
}

/** Resolve a rule for evidence: its class in this context and its source key. */
export function ruleEvidence(rule: KernelRule, rel: string, ctx: RuleContext): RuleEvidence {
  const cls = typeof rule.class === 'function' ? rule.class(ctx, rel) : rule.class;
  const src = rule.source?.(rel, ctx);
  const ev: RuleEvidence = {
    id: rule.id,
    class: cls,
    fn: rule.fn,
    file: rule.file,
    versions: rule.versions,
    verified: rule.verified,
    versionVerified: rule.versionVerified,
    explanation: rule.explanation,
  };
  if (src !== undefined && src !== rel) ev.sourceKey = relToKey(src);
  return ev;
}
