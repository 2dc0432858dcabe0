// The kernel's rules, as data: where a new network namespace's value of each /proc/sys/net key
// comes from. See types.ts for the format, rules.ts for the matching; docs/api.md ("Kernel rules") for
// what each field means.
//
// A new namespace's value comes from one of five places, and the list is closed: in net/ of 6.1
// and 6.12 every pernet init that reads another namespace's value either names `init_net.`
// (tcp_sk_init: tcp_rmem, tcp_wmem, tcp_congestion_control; devinet_init_net and
// addrconf_init_net: conf.all / conf.default) or `current->nsproxy->net_ns` (the creator:
// devconf_inherit_init_net=3, tcp_set_hashinfo, udp_set_table). `git grep -n
// 'init_net\.\(ipv4\|ipv6\|core\|ct\|unx\|xfrm\|mptcp\|nf\)' net/` minus the `.data = &init_net.`
// table templates lists exactly those. Everything else is
//   1. set by the subsystem's pernet init to a constant, a module parameter or a value computed
//      at boot, or left at 0 (net_alloc allocates struct net with kmem_cache_zalloc)  -> default;
//   2. copied from init_net                                                     -> inherited;
//   3. copied from the creating namespace                                       -> parent;
//   4. kernel-global data: registered in init_net only (host-only), shown with the write bits
//      cleared (ensure_safe_net_sysctl, or an explicit mode 0444: readonly), or a global object
//      every namespace reads and writes (shared);
//   5. a read-only mirror of a global value (readonly).
//
// `checked` records the kernel lines each rule was checked on. "observed": the kernel matrix
// (npm run test:kernels, docs/kernels.md) booted that line's Debian kernel, found every key's
// class by experiment and the tier passed with this rule deciding keys there (holds: false: it
// decides no key there: the keys are absent, or another rule holds on that line); what each line
// showed is kept in test/kernels/observed/LINE.json, and test/unit/kernel-lines.test.ts replays
// it. 6.18 is the development machines' running kernel: presence, modes and values only, no
// writes. "source": read in that line's tree (Debian linux-source-6.1 / linux-source-6.12).
// Where a behaviour changed between two observed lines and the release of the change was not
// verified, the rules leave the gap open (no rule: observation alone decides there).
import type { KernelCheck, KernelRule, RuleClass, RuleContext, VerifiedLine } from './types.js';

/** The kernel lines the rule base was checked against, oldest first. */
export const VERIFIED_LINES: readonly VerifiedLine[] = [
  {
    line: '5.10',
    how: 'observed',
    from: "Debian 11 linux-image-5.10.0-46-amd64 (5.10.262) booted by npm run test:kernels: every key's class found by experiment",
  },
  {
    line: '6.1',
    how: 'observed',
    from: 'Debian 12 linux-image-6.1.0-57-amd64 (6.1.192) booted by npm run test:kernels; every rule also read in Debian linux-source-6.1',
  },
  {
    line: '6.12',
    how: 'observed',
    from: 'Debian linux-image-6.12.118+deb12-amd64 booted by npm run test:kernels; every rule also read in Debian linux-source-6.12',
  },
  {
    line: '6.18',
    how: 'observed',
    from: 'the running kernel of the development machines (6.18.44, a micro-VM build): presence, modes and values of a fresh namespace against the host, no writes',
  },
];

const src = (line: string, holds = true, note?: string): KernelCheck =>
  note ? { line, how: 'source', holds, note } : { line, how: 'source', holds };
const LINES = VERIFIED_LINES.map((l) => l.line);
/** Observed by the kernel matrix: the rule decides keys on `lines`, and none on the other verified lines. */
const seenOn = (...lines: string[]): KernelCheck[] =>
  LINES.map((line) =>
    lines.includes(line)
      ? { line, how: 'observed', holds: true }
      : { line, how: 'observed', holds: false, note: 'decides no key there' },
  );
const READ: KernelCheck[] = [src('6.1'), src('6.12')];
/** Observed on every verified line, read in 6.1 and 6.12. */
const ALL3: KernelCheck[] = [...seenOn(...LINES), ...READ];
/** Added after 6.1: observed on 6.12 and 6.18, read in 6.12. */
const SINCE_612: KernelCheck[] = [...seenOn('6.12', '6.18'), src('6.1', false, 'key absent in 6.1'), src('6.12')];
/** Only seen on 6.18 (not in the 6.12 tree). */
const ONLY_618: KernelCheck[] = [
  ...seenOn('6.18'),
  src('6.1', false, 'key absent'),
  src('6.12', false, 'key absent or different'),
];

/** The kernel is older than `v` (for what a line does differently from a later one). */
const before = (ctx: RuleContext, v: [number, number]): boolean =>
  ctx.kernel[0] < v[0] || (ctx.kernel[0] === v[0] && ctx.kernel[1] < v[1]);

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
  // Global static keys while they existed (gone by 6.1): observed host-only on 5.10.
  'tcp_rx_skb_cache',
  'tcp_tx_skb_cache',
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

const words = (list: readonly string[]): string => list.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');

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

const PERNET_DEFAULT =
  "Per-namespace value set by the subsystem's pernet init to a compiled-in constant (or left at 0) in every new namespace: tuning it on the host does not reach containers.";

/**
 * The rules. Order matters: the first applicable rule wins, so specific rules come before
 * family rules, and the family fallbacks (one per sysctl directory) come last.
 */
export const KERNEL_RULES: readonly KernelRule[] = [
  // ---- TCP (net/ipv4/tcp_ipv4.c) ----
  {
    id: 'tcp_sk_init.congestion_control',
    match: /^ipv4\/tcp_congestion_control$/,
    class: 'inherited',
    fn: 'tcp_sk_init',
    file: 'net/ipv4/tcp_ipv4.c',
    versions: '>= 4.15; read in 6.1 and 6.12, observed on 6.18',
    since: [4, 15],
    verified: true,
    checked: ALL3,
    explanation:
      "A new namespace takes the host's (init_net's) default congestion control if its module reference can be taken (bpf_try_module_get), otherwise reno. The creating namespace's value plays no part.",
  },
  {
    id: 'tcp_sk_init.rmem_wmem',
    match: /^ipv4\/tcp_[rw]mem$/,
    class: 'inherited',
    fn: 'tcp_sk_init (memcpy from init_net.ipv4.sysctl_tcp_[rw]mem)',
    file: 'net/ipv4/tcp_ipv4.c',
    versions: '>= 4.15; read in 6.1 and 6.12, observed on 6.18',
    since: [4, 15],
    verified: true,
    checked: ALL3,
    explanation: "tcp_rmem and tcp_wmem are copied from the host's (init_net's) values when a namespace is created.",
  },
  {
    id: 'tcp_sk_init.keepalive',
    match: /^ipv4\/tcp_keepalive_(time|intvl|probes)$/,
    class: 'default',
    fn: 'tcp_sk_init',
    file: 'net/ipv4/tcp_ipv4.c',
    versions: '>= 4.5 (per-namespace keepalive); read in 6.1 and 6.12, observed on 6.18',
    since: [4, 5],
    verified: true,
    checked: ALL3,
    expect: (rel) => ({ time: '7200', intvl: '75', probes: '9' })[rel.slice('ipv4/tcp_keepalive_'.length)],
    explanation:
      'Set to the compiled-in constants TCP_KEEPALIVE_TIME/INTVL/PROBES (7200 s, 75 s, 9) in every new namespace.',
  },
  {
    id: 'tcp_set_hashinfo.ehash',
    readOnlyInNamespace: true,
    match: /^ipv4\/tcp_ehash_entries$/,
    class: 'parent',
    fn: 'tcp_set_hashinfo (reads current->nsproxy->net_ns->ipv4.sysctl_tcp_child_ehash_entries); shown by proc_tcp_ehash_entries',
    file: 'net/ipv4/tcp_ipv4.c, net/ipv4/sysctl_net_ipv4.c',
    versions: '>= 6.1; read in 6.1 and 6.12, observed on 6.18',
    since: [6, 1],
    verified: true,
    checked: [...seenOn('6.1', '6.12', '6.18'), ...READ],
    explanation:
      "Read-only size of the namespace's TCP established hash, fixed at creation by the creating namespace's tcp_child_ehash_entries: 0 there means the new namespace shares the global table, shown as a negative number.",
    source: () => 'ipv4/tcp_child_ehash_entries',
  },
  {
    id: 'tcp_sk_init.hash_derived',
    match: /^ipv4\/tcp_(max_tw_buckets|max_syn_backlog)$/,
    class: 'default',
    fn: 'tcp_sk_init (from the one global TCP hash: tcp_hashinfo.ehash_mask + 1)',
    file: 'net/ipv4/tcp_ipv4.c',
    versions: 'before 6.1 (one global TCP hash); observed on 5.10',
    until: [6, 1],
    verified: true,
    checked: [
      ...seenOn('5.10'),
      src('6.1', false, 'per-namespace hash: tcp_set_hashinfo'),
      src('6.12', false, 'per-namespace hash: tcp_set_hashinfo'),
    ],
    explanation:
      "Computed when the namespace is created from the size of the kernel's one TCP hash (ehash/2 and max(128, ehash/256)), as the host's was at boot: a host that tuned it does not pass its value on.",
  },
  {
    id: 'tcp_set_hashinfo.derived',
    match: /^ipv4\/tcp_(max_tw_buckets|max_syn_backlog)$/,
    class: 'parent',
    fn: 'tcp_set_hashinfo (ehash size from current->nsproxy->net_ns->ipv4.sysctl_tcp_child_ehash_entries)',
    file: 'net/ipv4/tcp_ipv4.c',
    versions: '>= 6.1; read in 6.1 and 6.12, observed on 6.1, 6.12 and 6.18',
    since: [6, 1],
    verified: true,
    checked: [...seenOn('6.1', '6.12', '6.18'), ...READ],
    explanation:
      "Computed when the namespace is created from the size of its TCP hash (ehash/2 and max(128, ehash/128)), which the creating namespace's tcp_child_ehash_entries decides (0: the global hash): not copied from the host's value.",
    source: () => 'ipv4/tcp_child_ehash_entries',
    derived: true,
  },
  {
    id: 'tcp_sk_init.child_hash_knobs',
    match: /^ipv4\/(tcp_child_ehash_entries|udp_child_hash_entries)$/,
    class: 'default',
    fn: 'tcp_sk_init / udp_sysctl_init (not set: struct net starts zeroed)',
    file: 'net/ipv4/tcp_ipv4.c, net/ipv4/udp.c',
    versions: 'tcp_child_ehash_entries >= 6.1, udp_child_hash_entries >= 6.2; read in 6.1 and 6.12, observed on 6.18',
    since: [6, 1],
    verified: true,
    checked: [...seenOn('6.1', '6.12', '6.18'), src('6.1', true, 'tcp_child_ehash_entries only'), src('6.12')],
    expect: () => '0',
    explanation:
      'Starts at 0 in every namespace. It is read when this namespace creates another one: that child gets its own TCP/UDP hash of this size (rounded to a power of two), or shares the global table when it is 0.',
  },
  {
    id: 'tcp_sk_init.constants',
    match: new RegExp(`^ipv4\\/(${words(TCP_SK_INIT_CONSTANTS)})$`),
    class: 'default',
    fn: 'tcp_sk_init',
    file: 'net/ipv4/tcp_ipv4.c',
    versions: 'each key since it became per-namespace; read in 6.1 and 6.12, observed on 6.18',
    verified: true,
    checked: ALL3,
    explanation: 'Set to a compiled-in constant in every new namespace by tcp_sk_init.',
  },
  {
    id: 'udp_set_table.hash_entries',
    readOnlyInNamespace: true,
    match: /^ipv4\/udp_hash_entries$/,
    class: 'parent',
    fn: 'udp_set_table (reads current->nsproxy->net_ns->ipv4.sysctl_udp_child_hash_entries); shown by proc_udp_hash_entries',
    file: 'net/ipv4/udp.c, net/ipv4/sysctl_net_ipv4.c',
    versions: '>= 6.2; read in 6.12, observed on 6.18 (absent in 6.1)',
    since: [6, 2],
    verified: true,
    checked: SINCE_612,
    explanation:
      "Read-only size of the namespace's UDP hash, fixed at creation by the creating namespace's udp_child_hash_entries: 0 there means the new namespace shares the global table, shown as a negative number.",
    source: () => 'ipv4/udp_child_hash_entries',
  },

  // ---- IPv4 sysctl tables (net/ipv4/sysctl_net_ipv4.c) ----
  {
    id: 'ipv4_sysctl_init_net.dataless_readonly',
    match: /^ipv4\/tcp_allowed_congestion_control$/,
    class: 'readonly',
    fn: 'ipv4_sysctl_init_net (entries without data: mode &= ~0222)',
    file: 'net/ipv4/sysctl_net_ipv4.c',
    versions: 'read in 6.1 and 6.12, observed on 6.18',
    verified: true,
    checked: ALL3,
    explanation:
      'Entries of ipv4_net_table without a per-namespace data pointer are global; a non-initial namespace gets them with the write bits cleared.',
  },
  {
    id: 'tcp_cong.available_shared',
    match: /^ipv4\/tcp_available_congestion_control$/,
    class: 'shared',
    fn: 'proc_tcp_available_congestion_control (tcp_get_available_congestion_control)',
    file: 'net/ipv4/sysctl_net_ipv4.c',
    versions: 'read in 6.1 and 6.12, observed on 6.18',
    verified: true,
    checked: ALL3,
    explanation:
      'Lists the congestion-control modules loaded in the kernel: one global list, the same in every namespace (load a module on the host to change it).',
  },
  {
    id: 'sysctl_ipv4_init.init_only',
    match: new RegExp(`^ipv4\\/(${words(IPV4_TABLE_INIT_ONLY)})$`),
    class: 'host-only',
    fn: 'sysctl_ipv4_init (register_net_sysctl(&init_net, "net/ipv4", ipv4_table))',
    file: 'net/ipv4/sysctl_net_ipv4.c',
    versions:
      'read in 6.1 and 6.12 (the same 13 entries), observed on 5.10 (with tcp_rx/tx_skb_cache), 6.1, 6.12 and 6.18',
    verified: true,
    checked: ALL3,
    explanation: 'Global setting registered only in the initial namespace; a container cannot see or change it.',
  },
  {
    id: 'inet_init_net.constants',
    match: new RegExp(`^ipv4\\/(${words(INET_INIT_NET_CONSTANTS)})$`),
    class: 'default',
    fn: 'inet_init_net',
    file: 'net/ipv4/af_inet.c',
    versions: 'read in 6.1 and 6.12, observed on 6.18',
    verified: true,
    checked: ALL3,
    explanation:
      'Set to a compiled-in default in every new namespace by inet_init_net (e.g. ip_local_port_range 32768 60999, ping_group_range "1 0").',
  },
  {
    id: 'sysctl_ipv4_init.icmp_msgs_init_only',
    match: /^ipv4\/icmp_msgs_(per_sec|burst)$/,
    class: 'host-only',
    fn: 'sysctl_ipv4_init (ipv4_table: the global sysctl_icmp_msgs_per_sec / _burst)',
    file: 'net/ipv4/sysctl_net_ipv4.c',
    versions:
      'global, registered in the initial namespace only: observed on 5.10; per-namespace on 6.1 (observed; the release of the change between them is not verified)',
    until: [5, 11],
    verified: true,
    checked: [...seenOn('5.10'), src('6.1', false, 'per-namespace'), src('6.12', false, 'per-namespace')],
    explanation:
      'The ICMP rate limits are one global setting on this kernel line, registered in the initial namespace only: a container cannot see or change them.',
  },
  {
    id: 'icmp_sk_init.msgs',
    match: /^ipv4\/icmp_msgs_(per_sec|burst)$/,
    class: 'default',
    fn: 'icmp_sk_init',
    file: 'net/ipv4/icmp.c',
    versions: 'per-namespace: read in 6.1 and 6.12, observed on 6.1, 6.12 and 6.18; global on 5.10 (observed)',
    since: [6, 1],
    verified: true,
    checked: [...seenOn('6.1', '6.12', '6.18'), ...READ],
    expect: (rel) => (rel.endsWith('per_sec') ? '1000' : '50'),
    explanation: 'Set by icmp_sk_init to compiled-in values in every new namespace (msgs_per_sec 1000, msgs_burst 50).',
  },
  {
    id: 'icmp_sk_init.constants',
    family: true,
    match: /^ipv4\/icmp_/,
    class: 'default',
    fn: 'icmp_sk_init',
    file: 'net/ipv4/icmp.c',
    versions: 'read in 6.1 and 6.12, observed on 5.10, 6.1, 6.12 and 6.18',
    verified: true,
    checked: ALL3,
    expect: (rel) =>
      ({
        echo_ignore_all: '0',
        echo_ignore_broadcasts: '1',
        ignore_bogus_error_responses: '1',
        msgs_per_sec: '1000',
        msgs_burst: '50',
        ratelimit: '1000',
        ratemask: '6168',
      })[rel.slice('ipv4/icmp_'.length)],
    explanation:
      'Set by icmp_sk_init to compiled-in values in every new namespace (echo_ignore_all 0, echo_ignore_broadcasts 1, ratelimit 1 s, ratemask, msgs_per_sec 1000, msgs_burst 50).',
  },
  {
    id: 'devinet_init_net.ip_forward',
    match: /^ipv4\/ip_forward$/,
    class: ipv4ConfClass,
    fn: 'devinet_init_net (ctl_forward_entry "ip_forward" is conf.all.forwarding)',
    file: 'net/ipv4/devinet.c',
    versions: 'read in 6.1 and 6.12, observed on 6.18',
    verified: true,
    checked: ALL3,
    explanation:
      'net.ipv4.ip_forward is another name for net.ipv4.conf.all.forwarding: it follows conf.all (copied from the host when devconf_inherit_init_net is 0 or 1).',
    source: () => 'ipv4/conf/all/forwarding',
  },
  {
    id: 'init_only_tables.ipv4_ipv6',
    match:
      /^(ipv4\/route\/(gc_thresh|max_size|gc_min_interval|gc_min_interval_ms|gc_timeout|gc_interval|redirect_load|redirect_number|redirect_silence|error_cost|error_burst|gc_elasticity)|ipv4\/ipfrag_secret_interval|ipv6\/ip6frag_secret_interval|ipv6\/(mld_max_msf|mld_qrv|calipso_cache_enable|calipso_cache_bucket_size))$/,
    class: 'host-only',
    fn: 'ip_rt_init (ipv4_route_table), ip4_frags_ctl_register, ip6_frags_sysctl_register, ipv6_sysctl_register (ipv6_rotable): all register_net_sysctl(&init_net, ...)',
    file: 'net/ipv4/route.c, net/ipv4/ip_fragment.c, net/ipv6/reassembly.c, net/ipv6/sysctl_net_ipv6.c',
    versions: 'read in 6.1 and 6.12 (the same lists), observed on 6.18',
    verified: true,
    checked: ALL3,
    explanation:
      'Global settings registered only in the initial namespace (the route cache GC and ICMP redirect/error rate limits, MLD limits, CALIPSO, the unused *frag_secret_interval): a container cannot see or change them.',
  },
  {
    id: 'ip4_frags_ns_ctl_register.constants',
    family: true,
    match: /^ipv4\/ipfrag_/,
    class: 'default',
    fn: 'ipv4_frags_init_net / ip4_frags_ns_ctl_register',
    file: 'net/ipv4/ip_fragment.c',
    versions: 'read in 6.1 and 6.12, observed on 6.18',
    verified: true,
    checked: ALL3,
    expect: (rel) =>
      ({ time: '30', max_dist: '64', high_thresh: '4194304', low_thresh: '3145728' })[rel.slice('ipv4/ipfrag_'.length)],
    explanation:
      'Fragment reassembly limits of the namespace, set to compiled-in values (4 MiB / 3 MiB, 30 s, max_dist 64) in every new namespace.',
  },
  {
    id: 'ip_rt_init.pmtu_init_only',
    match: /^ipv4\/route\/(min_pmtu|mtu_expires|min_adv_mss)$/,
    class: 'host-only',
    fn: 'ip_rt_init (ipv4_route_table, registered for init_net only: the global ip_rt_min_pmtu, ip_rt_mtu_expires, ip_rt_min_advmss)',
    file: 'net/ipv4/route.c',
    versions:
      'global on 5.10 (observed); per-namespace on 6.1 (observed; the release of the change between them is not verified)',
    until: [5, 11],
    verified: true,
    checked: [...seenOn('5.10'), src('6.1', false, 'per-namespace'), src('6.12', false, 'per-namespace')],
    explanation:
      'On this kernel line the path-MTU settings are global, registered in the initial namespace only: a container cannot see or change them.',
  },
  {
    id: 'sysctl_route_net_init.pmtu',
    match: /^ipv4\/route\/(min_pmtu|mtu_expires|min_adv_mss)$/,
    class: 'default',
    fn: 'netns_ip_rt_init + sysctl_route_net_init (ipv4_route_netns_table)',
    file: 'net/ipv4/route.c',
    versions: 'per-namespace: read in 6.1 and 6.12, observed on 6.1, 6.12 and 6.18; global on 5.10 (observed)',
    since: [6, 1],
    verified: true,
    checked: [...seenOn('6.1', '6.12', '6.18'), ...READ],
    explanation:
      'Per-namespace path-MTU settings, set to compiled-in values in every new namespace (min_pmtu 552, mtu_expires 600 s, min_adv_mss 256).',
  },
  {
    id: 'sysctl_route_net_init.constants',
    family: true,
    match: /^ipv4\/route\/[^/]+$/,
    class: 'default',
    fn: 'sysctl_route_net_init + netns_ip_rt_init',
    file: 'net/ipv4/route.c',
    versions: 'read in 6.1 and 6.12, observed on 6.18',
    verified: true,
    checked: ALL3,
    explanation:
      'The per-namespace route entries (flush; min_pmtu, mtu_expires, min_adv_mss since they became per-namespace) start at compiled-in values; the other net.ipv4.route.* entries are global and exist on the host only.',
  },
  {
    id: 'xfrm4_net_sysctl_init.gc_thresh',
    match: /^ipv4\/xfrm4_gc_thresh$/,
    class: 'default',
    fn: 'xfrm4_net_init (copies xfrm4_dst_ops_template) / xfrm4_net_sysctl_init',
    file: 'net/ipv4/xfrm4_policy.c',
    versions: 'read in 6.1 and 6.12, observed on 6.18',
    verified: true,
    checked: ALL3,
    explanation: 'Each namespace gets its own copy of the compiled-in xfrm4 dst_ops template (gc_thresh 32768).',
  },
  {
    id: 'ipv4_sysctl_init_net.pernet',
    family: true,
    match: /^ipv4\/[^/]+$/,
    class: 'default',
    fn: 'ipv4_sysctl_init_net (rebases ipv4_net_table onto the new struct net) + the owning pernet init (fib_net_init, udp_sysctl_init, raw_sysctl_init, ...)',
    file: 'net/ipv4/sysctl_net_ipv4.c',
    versions: 'read in 6.1 and 6.12, observed on 6.18',
    verified: true,
    checked: ALL3,
    explanation: `${PERNET_DEFAULT} No pernet init under net/ipv4 copies a value from init_net other than tcp_rmem, tcp_wmem and tcp_congestion_control.`,
  },

  // ---- net.core (net/core/sysctl_net_core.c) ----
  {
    id: 'sysctl_core_net_init.mem_readonly',
    match: /^core\/[rw]mem_(default|max)$/,
    class: 'readonly',
    fn: 'sysctl_core_net_init (netns_core_table; global data, made read-only by ensure_safe_net_sysctl)',
    file: 'net/core/sysctl_net_core.c',
    versions:
      'in netns_core_table since 6.11 ("net: make net.core.{r,w}mem_{default,max} namespaced"); read in 6.12, observed read-only on 6.18; host-only in 6.1',
    since: [6, 11],
    verified: true,
    checked: [...seenOn('6.12', '6.18'), src('6.1', false, 'in net_core_table: host-only'), src('6.12')],
    explanation:
      'Global socket buffer limits: shown read-only in a container, mirroring the host. Change them on the host (they apply to every namespace).',
  },
  {
    id: 'sysctl_core_init.mem_init_only',
    match: /^core\/([rw]mem_(default|max)|optmem_max)$/,
    class: 'host-only',
    fn: 'sysctl_core_init (net_core_table)',
    file: 'net/core/sysctl_net_core.c',
    versions:
      'host-only: read in 6.1; namespaced by 6.12 (read); the versions of the moves (optmem_max ~6.9, [rw]mem ~6.11) are recalled from commit history, not read',
    until: [6, 9],
    verified: true,
    checked: [...seenOn('5.10', '6.1'), src('6.1'), src('6.12', false, 'namespaced')],
    explanation: 'On this kernel line the global socket buffer limits are registered in the initial namespace only.',
  },
  {
    id: 'net_defaults_init_net.constants',
    match: /^core\/(somaxconn|optmem_max|txrehash)$/,
    class: 'default',
    fn: 'net_defaults_init_net',
    file: 'net/core/net_namespace.c',
    versions:
      'somaxconn and txrehash read in 6.1 and 6.12; optmem_max per-namespace in 6.12 (not in 6.1); observed on 5.10 (somaxconn), 6.1, 6.12 and 6.18',
    verified: true,
    checked: [...seenOn(...LINES), src('6.1', true, 'somaxconn, txrehash'), src('6.12')],
    userns: (_rel, ctx) => (before(ctx, [6, 12]) ? 'hidden' : undefined),
    explanation:
      'Per-namespace value set to a compiled-in constant (somaxconn = SOMAXCONN 4096, optmem_max 128 KiB, txrehash 1) in every new namespace. Before 6.12 (observed on 5.10 and 6.1) the whole per-namespace net.core table is not registered in a namespace owned by a user namespace; 6.12 registers it there.',
  },
  {
    id: 'sysctl_core_net_init.rps_default_mask',
    match: /^core\/rps_default_mask$/,
    class: 'default',
    fn: 'rps_default_mask_sysctl (net->core.rps_default_mask, allocated on first write)',
    file: 'net/core/sysctl_net_core.c',
    versions: 'per-namespace in 6.12 (netns_core_table), observed on 6.18; in 6.1 it does not exist',
    verified: true,
    checked: SINCE_612,
    explanation: "Each namespace's own default RPS mask for new devices; empty (0) in a new namespace.",
  },
  {
    id: 'sysctl_core_init.tstamp_allow_data_init_only',
    match: /^core\/tstamp_allow_data$/,
    class: 'host-only',
    fn: 'sysctl_core_init (net_core_table, global sysctl_tstamp_allow_data)',
    file: 'net/core/sysctl_net_core.c',
    versions:
      'host-only in 6.1 and 6.12 (read); per-namespace on 6.18 (observed; the version of the move is not verified)',
    until: [6, 13],
    verified: true,
    checked: [...seenOn('5.10', '6.1', '6.12'), src('6.1'), src('6.12')],
    explanation: 'A global setting registered in the initial namespace only.',
  },
  {
    id: 'netns_core_table.tstamp_allow_data',
    match: /^core\/tstamp_allow_data$/,
    class: 'default',
    fn: 'sysctl_core_net_init (netns_core_table) / net_defaults_init_net',
    file: 'net/core/sysctl_net_core.c, net/core/net_namespace.c',
    versions: 'observed per-namespace and writable on 6.18 (no 6.18 tree read; between 6.13 and 6.17 not checked)',
    since: [6, 18],
    verified: true,
    checked: ONLY_618,
    explanation: 'Per-namespace on this kernel line, starting at the compiled-in 1 in every new namespace.',
  },
  {
    id: 'sysctl_core_init.init_only',
    match: new RegExp(`^core\\/(${words(NET_CORE_TABLE_INIT_ONLY)})$`),
    class: 'host-only',
    fn: 'sysctl_core_init (register_net_sysctl(&init_net, "net/core", net_core_table))',
    file: 'net/core/sysctl_net_core.c',
    versions: 'read in 6.1 and 6.12, observed on 6.18',
    verified: true,
    checked: ALL3,
    explanation:
      'Global networking-core setting registered only in the initial namespace; a container cannot see or change it.',
  },
  {
    id: 'xfrm_sysctl_init.constants',
    match: /^core\/xfrm_(aevent_etime|aevent_rseqth|larval_drop|acq_expires)$/,
    class: 'default',
    fn: 'xfrm_sysctl_init',
    file: 'net/xfrm/xfrm_sysctl.c',
    versions: 'read in 6.1 and 6.12, observed on 6.18',
    verified: true,
    checked: ALL3,
    expect: (rel) =>
      ({ aevent_etime: '10', aevent_rseqth: '2', larval_drop: '1', acq_expires: '30' })[rel.slice('core/xfrm_'.length)],
    userns: 'hidden',
    explanation:
      'IPsec (xfrm) timers of the namespace, set to compiled-in values (XFRM_AE_ETIME 10, XFRM_AE_SEQT_SIZE 2, larval_drop 1, acq_expires 30). Not registered at all in a namespace owned by a user namespace.',
  },

  // ---- devconf: net.ipv4.conf / net.ipv6.conf ----
  {
    id: 'inetdev_init.loopback_nopolicy',
    match: /^ipv4\/conf\/lo\/disable_(policy|xfrm)$/,
    class: 'default',
    fn: 'inetdev_event (NETDEV_REGISTER: IFF_LOOPBACK sets NOXFRM and NOPOLICY)',
    file: 'net/ipv4/devinet.c',
    versions: 'read in 6.1 and 6.12, observed on 6.18',
    verified: true,
    checked: ALL3,
    expect: () => '1',
    explanation:
      "Every namespace's loopback device gets disable_policy = disable_xfrm = 1 when it is registered, whatever conf.default says.",
  },
  {
    id: 'devinet_init_net.devconf',
    match: /^ipv4\/conf\/[^/]+\/[^/]+$/,
    class: ipv4ConfClass,
    fn: 'devinet_init_net (+ inetdev_init for devices)',
    file: 'net/ipv4/devinet.c',
    versions:
      'devconf_inherit_init_net 0-2 since 5.1, mode 3 since 5.8 (before 5.1 always copied from init_net); read in 6.1 and 6.12, observed on 6.18',
    since: [5, 1],
    verified: true,
    checked: ALL3,
    explanation:
      "conf.all and conf.default are copied from the host (devconf_inherit_init_net 0 or 1), reset to compiled-in values (2), or copied from the creating namespace (3); a device created later copies its namespace's conf.default at that moment.",
    source: confSource,
  },
  {
    id: 'ipv6_add_dev.mtu',
    match: /^ipv6\/conf\/(?!all\/|default\/)[^/]+\/mtu$/,
    class: 'default',
    fn: 'ipv6_add_dev (cnf.mtu6 = dev->mtu)',
    file: 'net/ipv6/addrconf.c',
    versions: 'read in 6.1 and 6.12, observed on 6.18',
    verified: true,
    checked: ALL3,
    expect: (rel) => (rel === 'ipv6/conf/lo/mtu' ? '65536' : undefined),
    explanation:
      "A device's IPv6 MTU starts at the device's own (link) MTU when IPv6 attaches to it, not at conf.default.mtu, and follows later link MTU changes: lo has 65536 in every namespace (gen_lo_setup, drivers/net/loopback.c).",
  },
  {
    id: 'ipv6_add_dev.loopback',
    match: /^ipv6\/conf\/lo\/(accept_dad|use_tempaddr)$/,
    class: 'default',
    fn: 'ipv6_add_dev (IFF_LOOPBACK: accept_dad = -1, use_tempaddr = -1)',
    file: 'net/ipv6/addrconf.c',
    versions: 'read in 6.1 and 6.12, observed on 6.18',
    verified: true,
    checked: ALL3,
    expect: () => '-1',
    explanation:
      "IPv6 on a namespace's loopback device sets accept_dad and use_tempaddr to -1 (no duplicate address detection, no temporary addresses), whatever conf.default says.",
  },
  {
    id: 'addrconf_init_net.devconf',
    match: /^ipv6\/conf\/[^/]+\/[^/]+$/,
    class: ipv6ConfClass,
    fn: 'addrconf_init_net (+ ipv6_add_dev for devices)',
    file: 'net/ipv6/addrconf.c',
    versions:
      'devconf_inherit_init_net 0-2 since 5.1, mode 3 since 5.8 (before 5.1 always compiled-in values); read in 6.1 and 6.12, observed on 6.18',
    since: [5, 1],
    verified: true,
    checked: ALL3,
    explanation:
      "conf.all and conf.default start from compiled-in values (devconf_inherit_init_net 0 or 2), are copied from the host (1), or from the creating namespace (3); a device created later copies its namespace's conf.default at that moment.",
    source: confSource,
  },

  // ---- neighbour tables ----
  {
    id: 'neigh_parms_alloc.device',
    match: /^ipv[46]\/neigh\/(?!default\/)[^/]+\/[^/]+$/,
    class: 'inherited',
    fn: 'neigh_parms_alloc (kmemdup(&tbl->parms))',
    file: 'net/core/neighbour.c',
    versions:
      'neighbour tables global: read in 6.1 and 6.12, observed on 6.18; a later "neighbour: Namespacify neigh_tables" series (not verified) changes it',
    until: [6, 19],
    verified: true,
    checked: ALL3,
    userns: (_rel, ctx) => (before(ctx, [6, 1]) ? 'hidden' : undefined),
    explanation:
      "A device's neighbour (ARP/NDP) parameters are copied from the global table defaults, i.e. the host's net.ipv4/ipv6.neigh.default.* values, when the device appears. On 5.10 (observed) a namespace owned by a user namespace does not register them; 6.1 does.",
    source: (rel) => rel.replace(/^(ipv[46])\/neigh\/[^/]+\//, '$1/neigh/default/'),
  },
  {
    id: 'neigh_table_init.default_init_only',
    match: /^ipv[46]\/neigh\/default\/[^/]+$/,
    class: 'host-only',
    fn: 'neigh_table_init / neigh_sysctl_register(NULL, &tbl->parms)',
    file: 'net/core/neighbour.c',
    versions: 'read in 6.1 and 6.12, observed on 6.18',
    until: [6, 19],
    verified: true,
    checked: ALL3,
    explanation:
      'The neighbour table defaults (including gc_thresh*) are global and exposed only on the host; every device in every namespace starts from them.',
  },

  // ---- IPv6 (net/ipv6) ----
  {
    id: 'ip6_route_net_init.constants',
    family: true,
    match: /^ipv6\/route\/[^/]+$/,
    class: 'default',
    fn: 'ip6_route_net_init / ipv6_route_sysctl_init',
    file: 'net/ipv6/route.c',
    versions: 'read in 6.1 and 6.12, observed on 6.18',
    verified: true,
    checked: ALL3,
    userns: (rel, ctx) => (rel === 'ipv6/route/max_size' && !before(ctx, [6, 1]) ? undefined : 'hidden'),
    explanation:
      'IPv6 routing garbage-collection and MTU settings of the namespace, set to compiled-in values. In a namespace owned by a user namespace only the first entry of the table, max_size, is registered from 6.1 on (ipv6_route_sysctl_table_size returns 1); on 5.10 (observed) none is.',
  },
  {
    id: 'ipv6_frags_init_net.constants',
    family: true,
    match: /^ipv6\/ip6frag_/,
    class: 'default',
    fn: 'ipv6_frags_init_net / ip6_frags_ns_sysctl_register',
    file: 'net/ipv6/reassembly.c',
    versions: 'read in 6.1 and 6.12, observed on 6.18',
    verified: true,
    checked: ALL3,
    explanation: 'IPv6 fragment reassembly limits of the namespace, set to compiled-in values.',
  },
  {
    id: 'xfrm6_net_sysctl_init.gc_thresh',
    match: /^ipv6\/xfrm6_gc_thresh$/,
    class: 'default',
    fn: 'xfrm6_net_init (copies xfrm6_dst_ops_template) / xfrm6_net_sysctl_init',
    file: 'net/ipv6/xfrm6_policy.c',
    versions: 'read in 6.1 and 6.12, observed on 6.18',
    verified: true,
    checked: ALL3,
    explanation: 'Each namespace gets its own copy of the compiled-in xfrm6 dst_ops template (gc_thresh 32768).',
  },
  {
    id: 'inet6_net_init.constants',
    family: true,
    match: /^ipv6\/(icmp\/)?[^/]+$/,
    class: 'default',
    fn: 'inet6_net_init + ipv6_sysctl_net_init (ipv6_table_template, ipv6_icmp_sysctl_init)',
    file: 'net/ipv6/af_inet6.c, net/ipv6/sysctl_net_ipv6.c, net/ipv6/icmp.c',
    versions: 'read in 6.1 and 6.12, observed on 6.18',
    verified: true,
    checked: ALL3,
    explanation: `${PERNET_DEFAULT} (bindv6only 0, flowlabel_consistency 1, icmp ratelimit 1 s, ...). No pernet init under net/ipv6 copies init_net except conf.all/default at devconf_inherit_init_net=1.`,
  },

  // ---- netfilter ----
  {
    id: 'nf_conntrack_standalone_init_sysctl.readonly',
    match: /^netfilter\/nf_conntrack_(max|expect_max|buckets)$/,
    class: 'readonly',
    fn: 'nf_conntrack_standalone_init_sysctl ("Don\'t allow non-init_net ns to alter global sysctls": mode 0444)',
    file: 'net/netfilter/nf_conntrack_standalone.c',
    versions: 'read in 6.1 and 6.12, observed on 6.18',
    verified: true,
    checked: ALL3,
    explanation: 'Global conntrack limits: read-only in a container, mirroring the host. Change them on the host.',
  },
  {
    id: 'nf_conntrack.count',
    readOnlyInNamespace: true,
    match: /^netfilter\/nf_conntrack_count$/,
    class: 'default',
    fn: 'nf_conntrack_standalone_init_sysctl (data = &cnet->count)',
    file: 'net/netfilter/nf_conntrack_standalone.c',
    versions: 'read in 6.1 and 6.12, observed on 6.18',
    verified: true,
    checked: ALL3,
    explanation: "Read-only count of this namespace's own connection-tracking entries; starts at 0.",
  },
  {
    id: 'nf_conntrack.top_level_max',
    match: /^nf_conntrack_max$/,
    class: 'host-only',
    fn: 'nf_conntrack_standalone_init_sysctl (nf_ct_netfilter_table, registered for init_net only)',
    file: 'net/netfilter/nf_conntrack_standalone.c',
    versions: 'read in 6.1 and 6.12, observed on 6.18',
    verified: true,
    checked: ALL3,
    explanation:
      'The legacy net.nf_conntrack_max alias exists only on the host; containers see net.netfilter.nf_conntrack_max read-only.',
  },
  {
    id: 'nf_conntrack.module_params',
    match: /^netfilter\/nf_conntrack_(acct|timestamp|events)$/,
    class: 'default',
    fn: 'nf_conntrack_acct_pernet_init / nf_conntrack_tstamp_pernet_init / nf_conntrack_ecache_pernet_init',
    file: 'net/netfilter/nf_conntrack_acct.c, nf_conntrack_timestamp.c, nf_conntrack_ecache.c',
    versions: 'read in 6.1 and 6.12, observed on 6.18',
    verified: true,
    checked: ALL3,
    explanation:
      "Set from the nf_conntrack module parameters (acct, tstamp; events = 2) in every new namespace, not from the host's sysctl: tuning the sysctl on the host does not reach containers.",
  },
  {
    id: 'nf_flow_table.offload_timeouts',
    match: /^netfilter\/nf_flowtable_(tcp|udp)_timeout$/,
    class: 'default',
    fn: 'nf_conntrack_tcp_init_net / nf_conntrack_udp_init_net (offload_timeout = 30 s)',
    file: 'net/netfilter/nf_conntrack_proto_tcp.c, net/netfilter/nf_conntrack_proto_udp.c',
    versions: 'observed on 6.1 and 6.12 (absent on 5.10, and on the 6.18 build without flow tables)',
    verified: true,
    checked: seenOn('6.1', '6.12'),
    explanation:
      "The flow-offload timeouts of the namespace's connection tracking, set to the compiled-in 30 s when nf_conntrack is loaded: the host's value does not reach containers.",
  },
  {
    id: 'nf_conntrack_pernet_init.constants',
    family: true,
    match: /^netfilter\/nf_conntrack_/,
    class: 'default',
    fn: 'nf_conntrack_pernet_init (nf_conntrack_proto_pernet_init: the per-protocol timeouts from const tables) / nf_ct_net_init for frag6',
    file: 'net/netfilter/nf_conntrack_standalone.c, nf_conntrack_proto*.c, net/ipv6/netfilter/nf_conntrack_reasm.c',
    versions: 'read in 6.1 and 6.12, observed on 6.18',
    verified: true,
    checked: ALL3,
    explanation:
      'Connection-tracking settings of the namespace (timeouts, checksum, liberal, ...), set to compiled-in values when nf_conntrack is loaded; present only while the module is loaded.',
  },
  {
    id: 'netfilter_log_sysctl_init.all_netns',
    match: /^netfilter\/nf_log_all_netns$/,
    class: 'host-only',
    fn: 'netfilter_log_sysctl_init (nf_log_sysctl_ftable registered for init_net only; global sysctl_nf_log_all_netns)',
    file: 'net/netfilter/nf_log.c',
    versions: 'read in 6.1 and 6.12, observed on 6.18',
    verified: true,
    checked: ALL3,
    explanation:
      "A global switch, visible on the host only: when 1, packets of every namespace may be logged to the host's kernel log.",
  },
  {
    id: 'nf_log_net_init.loggers',
    match: /^netfilter\/nf_log\/\d+$/,
    class: 'default',
    fn: "nf_log_net_init + each logger's pernet init (nf_log_syslog_net_init: nf_log_set(net, ...))",
    file: 'net/netfilter/nf_log.c, net/netfilter/nf_log_syslog.c',
    versions: 'read in 6.1 and 6.12, observed on 6.18',
    verified: true,
    checked: ALL3,
    explanation:
      "Each namespace starts with no logger, then every loaded logger module (nf_log_syslog) registers itself for its families: the fresh value depends on which modules are loaded, not on the host's setting.",
  },
  {
    id: 'nf_hooks_lwtunnel.static_key',
    match: /^netfilter\/nf_hooks_lwtunnel$/,
    class: 'shared',
    fn: 'nf_hooks_lwtunnel_sysctl_handler (static key nf_hooks_lwtunnel_enabled)',
    file: 'net/netfilter/nf_hooks_lwtunnel.c',
    versions: 'read in 6.1 and 6.12, observed on 6.18',
    verified: true,
    checked: [...seenOn('6.1', '6.12', '6.18'), ...READ],
    explanation:
      'Reads and sets one kernel-wide static key: writable in every namespace, and enabling it anywhere enables it everywhere (it cannot be turned off again: EBUSY).',
  },

  // ---- bridge, unix, MPTCP ----
  {
    id: 'br_netfilter_sysctl_init_net.constants',
    family: true,
    match: /^bridge\/[^/]+$/,
    class: 'default',
    fn: 'br_netfilter_sysctl_init_net (br_netfilter_sysctl_default)',
    file: 'net/bridge/br_netfilter_hooks.c',
    versions: 'per-namespace since 5.3; read in 6.1 and 6.12, observed on 6.18',
    verified: true,
    checked: ALL3,
    expect: (rel) => (/bridge-nf-call-/.test(rel) ? '1' : '0'),
    explanation:
      'Exists only once br_netfilter is loaded (or built in); per-namespace: bridge-nf-call-{arp,ip,ip6}tables = 1 and the filter/pass flags = 0 in every new namespace, whatever the host has.',
  },
  {
    id: 'unix_net_init.max_dgram_qlen',
    family: true,
    match: /^unix\/[^/]+$/,
    class: 'default',
    fn: 'unix_net_init',
    file: 'net/unix/af_unix.c',
    versions: 'read in 6.1 and 6.12, observed on 6.18',
    verified: true,
    checked: ALL3,
    expect: (rel) => (rel === 'unix/max_dgram_qlen' ? '10' : undefined),
    userns: (_rel, ctx) => (before(ctx, [6, 1]) ? 'hidden' : undefined),
    explanation:
      'Set to 10 in every new namespace by unix_net_init. On 5.10 (observed) a namespace owned by a user namespace does not register it; 6.1 does.',
  },
  {
    id: 'mptcp.available_lists',
    match: /^mptcp\/available_(path_managers|schedulers)$/,
    class: 'shared',
    fn: 'proc_available_schedulers (mptcp_get_available_schedulers) / proc_available_path_managers',
    file: 'net/mptcp/ctrl.c',
    versions: 'available_schedulers read in 6.12 (absent in 6.1); available_path_managers observed on 6.18 only',
    verified: true,
    checked: SINCE_612,
    explanation:
      'Lists the MPTCP schedulers / path managers registered in the kernel: global, the same in every namespace.',
  },
  {
    id: 'mptcp_pernet_set_defaults.constants',
    family: true,
    match: /^mptcp\/[^/]+$/,
    class: 'default',
    fn: 'mptcp_net_init (mptcp_pernet_set_defaults)',
    file: 'net/mptcp/ctrl.c',
    versions: 'read in 6.1 and 6.12, observed on 6.18 (newer keys such as path_manager observed only)',
    verified: true,
    checked: [...seenOn('6.1', '6.12', '6.18'), ...READ],
    explanation:
      'MPTCP settings of the namespace, set to compiled-in values by mptcp_pernet_set_defaults in every new namespace.',
  },

  // ---- the generic mechanism ----
  {
    id: 'ensure_safe_net_sysctl',
    match: /^$/, // never matched by key; cited by the classifier for host-writable, child-read-only entries
    class: 'readonly',
    fn: 'ensure_safe_net_sysctl',
    file: 'net/sysctl_net.c',
    versions: '>= 5.8; read in 6.1 and 6.12, observed on 6.18',
    since: [5, 8],
    verified: true,
    checked: ALL3,
    explanation:
      'A sysctl registered in a non-initial namespace whose data points at kernel-global data gets its write bits cleared: it is visible read-only, mirroring the global value.',
  },
];
