// `netns sysctl --name NS ...` against procps-ng sysctl(8) run by `ip netns exec NS unshare -u
// sysctl ...`: for every option and every sysctl.d(5) construct, the same stdout, exit status,
// emptiness of stderr, and the same values in the namespace afterwards. The cases of procps'
// own test suite (testsuite/sysctl.test/*.exp, sysctl_*.conf) are among them, adapted to net keys.
//
// Needs: root, iproute2, util-linux (unshare, mount), procps sysctl. Each case runs both tools
// in two fresh namespaces named ntcli-*, under a private mount namespace whose sysctl.d
// directories and /etc/sysctl.conf are the case's own (empty unless the case gives files), and a
// private UTS namespace: procps can never apply the host's sysctl.d files or change the host.
// The harness refuses any case that would give procps a key outside net other than the UTS
// keys kernel.hostname and kernel.domainname.
import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NetNamespace } from '../lib/index.js';
import { childEnv, plainNode, sh, uniqueName } from './helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const CLI = path.join(root, 'dist/bin/netns.js');

/** Files for --system: directory -> file name -> contents ('@TARGET' makes a symlink). */
interface SystemFiles {
  etc?: Record<string, string>;
  run?: Record<string, string>;
  usrlocal?: Record<string, string>;
  usrlib?: Record<string, string>;
  /** /etc/sysctl.conf (absent when undefined). */
  conf?: string;
}

interface Case {
  /** What it checks. */
  name: string;
  args: string[];
  /** Files in the working directory. */
  files?: Record<string, string>;
  sys?: SystemFiles;
  stdin?: string;
  /** Values set in both namespaces first (raw, as sysctl -w would). */
  setup?: [string, string][];
  /** A dummy interface with this name is added to both namespaces first. */
  dummy?: string;
  /** A documented difference: these aspects differ from procps (and only these). */
  differs?: { aspects: ('stdout' | 'status' | 'stderr' | 'values')[]; why: string };
}

const ASPECTS = ['stdout', 'status', 'stderr', 'values'] as const;

// A sysctl.d file with most constructs at once.
const MIXED =
  [
    '# comment',
    '; comment',
    '',
    '   ',
    'net.ipv4.tcp_keepalive_time = 621',
    '   net.ipv4.tcp_keepalive_intvl=12   ',
    'net.ipv4.ip_local_port_range =   1500    2500',
    'net.core.somaxconn=1234',
    'net/ipv4/tcp_keepalive_probes = 7',
    'net.ipv4.tcp_rmem = 4096 87380 1000001',
  ].join('\n') + '\n';

/** Writing a read-only key: procps 4.0.2 says so and exits 0. */
const READ_ONLY: Case['differs'] = { aspects: ['status'], why: 'procps 4.0.2 exits 0 (fixed upstream in cd3a440b: 1)' };

const GLOB =
  ['net.ipv4.conf.*.accept_local = 1', '-net.ipv4.conf.lo.accept_local', 'net.ipv4.conf.default.accept_local = 0'].join(
    '\n',
  ) + '\n';

const CASES: Case[] = [
  // --- reading keys
  { name: 'read a key', args: ['net.core.somaxconn'] },
  { name: 'read with slashes (testsuite: slash delimiter)', args: ['net/core/somaxconn'] },
  { name: '-n: values only (testsuite: suppress key)', args: ['-n', 'net.core.somaxconn'] },
  { name: '-N: names only (testsuite: suppress value)', args: ['-N', 'net.core.somaxconn'] },
  { name: '-b: no newline', args: ['-b', 'net.core.somaxconn'] },
  { name: '-b: two values run together', args: ['-b', 'net.core.somaxconn', 'net.ipv4.tcp_keepalive_time'] },
  { name: 'several keys', args: ['net.core.somaxconn', 'net.ipv4.tcp_rmem', 'net.ipv4.ip_local_port_range'] },
  { name: '-n of a tab-separated value', args: ['-n', 'net.ipv4.ip_local_port_range'] },
  { name: '--values, --names, --binary long forms', args: ['--values', 'net.core.somaxconn', '--names'] },
  { name: '--binary', args: ['--binary', 'net.ipv4.tcp_rmem'] },
  { name: 'long option prefix --val', args: ['--val', 'net.core.somaxconn'] },
  { name: '-nN: names win', args: ['-nN', 'net.core.somaxconn'] },
  { name: '-Nn: names win', args: ['-Nn', 'net.core.somaxconn'] },
  { name: 'options after the key (permutation)', args: ['net.core.somaxconn', '-n'] },
  { name: '-- ends the options', args: ['-n', '--', 'net.core.somaxconn'] },
  { name: '-q does not silence reads', args: ['-q', 'net.core.somaxconn'] },
  { name: '-o and -x do nothing', args: ['-o', '-x', 'net.core.somaxconn'] },
  { name: 'a directory lists its keys', args: ['net.ipv4.conf.lo'] },
  { name: 'net.core as a directory', args: ['net.core'] },
  { name: 'the whole tree: net', args: ['net'] },
  { name: 'a directory with stable_secret fails silently', args: ['net.ipv6.conf.lo'] },
  { name: '-N of that directory succeeds', args: ['-N', 'net.ipv6.conf.lo'] },
  { name: 'stable_secret alone: status 1, nothing said', args: ['net.ipv6.conf.lo.stable_secret'] },
  { name: 'a write-only key reads as nothing', args: ['net.ipv4.route.flush'] },
  { name: 'an unknown key', args: ['net.ipv4.nope'] },
  { name: 'three unknown keys: status 3', args: ['net.ipv4.nope', 'net.core.nope', 'net.x.y'] },
  { name: 'unknown keys among known ones', args: ['net.ipv4.nope', 'net.core.somaxconn', 'net.core.nope'] },
  { name: '-e ignores an unknown key', args: ['-e', 'net.ipv4.nope'] },
  { name: '-e with known and unknown keys', args: ['-e', 'net.ipv4.nope', 'net.core.somaxconn'] },
  { name: '--ignore long form', args: ['--ignore', 'net.ipv4.nope'] },
  { name: 'a path through a file (ENOTDIR)', args: ['net.core.somaxconn.extra'] },
  { name: 'an empty key: status 255', args: [''] },
  { name: 'path traversal read (testsuite: /../../etc/passwd)', args: ['/../../etc/passwd'] },
  { name: '-r filters keys read', args: ['-r', 'somax', 'net.core.somaxconn', 'net.core.rmem_max'] },
  { name: '-r on a directory', args: ['-r', '^net\\.core\\.r', 'net.core'] },
  { name: '-N -r on a directory', args: ['-N', '-r', 'mem', 'net.core'] },
  { name: '-r that matches nothing', args: ['-r', 'zzz', 'net.core.somaxconn'] },
  { name: 'deprecated keys hidden in a directory', args: ['net.ipv6.neigh.lo'] },
  { name: '--deprecated shows them', args: ['--deprecated', 'net.ipv6.neigh.lo'] },
  { name: 'a deprecated key named explicitly', args: ['net.ipv6.neigh.lo.base_reachable_time'] },
  { name: 'an interface name with a dot (VLAN form)', args: ['net.ipv4.conf.d/10.forwarding'], dummy: 'd.10' },
  { name: 'the same in slash form', args: ['net/ipv4/conf/d.10/forwarding'], dummy: 'd.10' },
  { name: 'its directory', args: ['net.ipv4.conf.d/10'], dummy: 'd.10' },
  {
    name: 'a value changed before',
    args: ['net.ipv4.tcp_keepalive_time', 'net.ipv4.ip_local_port_range'],
    setup: [
      ['net.ipv4.tcp_keepalive_time', '611'],
      ['net.ipv4.ip_local_port_range', '2000 3111'],
    ],
  },
  {
    name: 'congestion control names',
    args: ['net.ipv4.tcp_available_congestion_control', 'net.ipv4.tcp_congestion_control'],
  },
  { name: 'an empty-looking value (reserved ports)', args: ['net.ipv4.ip_local_reserved_ports'] },

  // --- -a
  { name: '-a -r ^net\\.', args: ['-a', '-r', '^net\\.'] },
  { name: '-a -r keepalive', args: ['-a', '-r', 'keepalive'] },
  { name: '-A is -a', args: ['-A', '-r', 'keepalive'] },
  { name: '-X is -a', args: ['-X', '-r', 'keepalive'] },
  { name: '--all --pattern forward$ (man page)', args: ['--all', '--pattern', 'forward$'] },
  {
    name: "-a --pattern 'net.ipv4.conf.(lo|all).arp' (man page)",
    args: ['-a', '--pattern', 'net.ipv4.conf.(lo|all).arp'],
  },
  { name: '-a -N', args: ['-a', '-N', '-r', '^net\\.ipv4\\.tcp_'] },
  { name: '-a -n', args: ['-a', '-n', '-r', 'somaxconn'] },
  { name: '-a -b', args: ['-a', '-b', '-r', 'somaxconn'] },
  { name: '-a --deprecated', args: ['-a', '--deprecated', '-r', '^net\\.ipv6\\.neigh\\.lo\\.'] },
  { name: '-a with an invalid regex matches nothing', args: ['-a', '-r', '('] },
  { name: '-a ignores operands', args: ['-a', '-r', 'somaxconn', 'net.ipv4.nope'] },
  { name: '-ar cluster with its argument', args: ['-ar', 'somaxconn'] },
  { name: '-rPATTERN attached', args: ['-a', '-rsomaxconn'] },
  { name: '--pattern=X', args: ['--pattern=somaxconn', '-a'] },
  { name: '-a -e', args: ['-a', '-e', '-r', 'tcp_rmem'] },
  { name: '-a wins over -w', args: ['-a', '-w', '-r', 'somaxconn', 'net.core.somaxconn=5'] },
  { name: '-a wins over -p', args: ['-a', '-p', '-r', 'somaxconn'] },
  { name: '-a -r [[:digit:]] class', args: ['-a', '-r', 'ipv[[:digit:]]\\.tcp_ecn$'] },
  { name: 'sysctl -a', args: ['-a'], differs: { aspects: ['stdout'], why: 'netns lists net.* only' } },

  // --- writing keys
  { name: '-w KEY=VALUE', args: ['-w', 'net.core.somaxconn=1000'] },
  { name: 'KEY=VALUE without -w', args: ['net.core.somaxconn=1001'] },
  { name: 'write with slashes (testsuite)', args: ['-w', 'net/core/somaxconn=1002'] },
  { name: 'spaces around = in one argument', args: ['-w', 'net.core.somaxconn = 1003'] },
  { name: 'trailing blank trimmed', args: ['-w', 'net.ipv4.tcp_keepalive_time=600 '] },
  { name: 'two numbers with a space', args: ['-w', 'net.ipv4.ip_local_port_range=2000 3000'] },
  { name: 'two numbers with a tab', args: ['-w', 'net.ipv4.ip_local_port_range=2000\t3000'] },
  { name: 'one number for a two-number key', args: ['-w', 'net.ipv4.ip_local_port_range=2000'] },
  { name: 'one number for a three-number key', args: ['-w', 'net.ipv4.tcp_rmem=8192'] },
  { name: 'three numbers', args: ['-w', 'net.ipv4.tcp_rmem=4096 131072 6291456'] },
  { name: 'text after the number', args: ['-w', 'net.core.somaxconn=5 junk'] },
  { name: 'more numbers than the key holds', args: ['-w', 'net.ipv4.ip_local_port_range=2000 3000 4000'] },
  { name: 'text after the numbers of a vector', args: ['-w', 'net.ipv4.tcp_rmem=4096 87380 1000001 extra'] },
  { name: 'text glued to the number', args: ['-w', 'net.core.somaxconn=5junk'] },
  { name: "text after the number on a '-' key", args: ['-w', '--', '-net.core.somaxconn=6 junk'] },
  { name: 'a hex number', args: ['-w', 'net.core.somaxconn=0x20'] },
  { name: 'a negative number', args: ['-w', 'net.ipv4.tcp_keepalive_time=-5'] },
  { name: 'an out-of-range number', args: ['-w', 'net.ipv4.tcp_keepalive_time=99999999999999'] },
  { name: 'an empty value', args: ['-w', 'net.core.somaxconn='] },
  { name: 'a value the kernel rejects', args: ['-w', 'net.ipv4.tcp_ecn=99'] },
  {
    name: 'best effort: a failure in the middle',
    args: ['-w', 'net.ipv4.tcp_ecn=1', 'net.ipv4.nope=1', 'net.ipv4.tcp_ecn=2'],
  },
  { name: 'best effort: a rejected value first', args: ['-w', 'net.ipv4.tcp_ecn=99', 'net.core.somaxconn=1021'] },
  { name: 'a key given twice', args: ['-w', 'net.core.somaxconn=1004', 'net.core.somaxconn=1005'] },
  {
    name: 'keepalive trio',
    args: [
      '-w',
      'net.ipv4.tcp_keepalive_time=600',
      'net.ipv4.tcp_keepalive_intvl=60',
      'net.ipv4.tcp_keepalive_probes=5',
    ],
  },
  { name: '-q', args: ['-q', '-w', 'net.core.somaxconn=1006'] },
  { name: '-n -w echoes the value', args: ['-n', '-w', 'net.core.somaxconn=1007'] },
  { name: '-b -w echoes without newline', args: ['-b', '-w', 'net.core.somaxconn=1008'] },
  {
    name: '-N -w',
    args: ['-N', '-w', 'net.core.somaxconn=1009'],
    differs: { aspects: ['stdout'], why: 'procps 4.0.2 prints the value (fixed upstream in 47bf9265: the name)' },
  },
  { name: '-N -q cannot coexist', args: ['-N', '-q', 'net.core.somaxconn'] },
  { name: '-w KEY without =: invalid syntax', args: ['-w', 'net.core.somaxconn'] },
  { name: '-e -w an unknown key', args: ['-e', '-w', 'net.ipv4.nope=1'] },
  { name: '-e -w unknown then known', args: ['-e', '-w', 'net.ipv4.nope=1', 'net.core.somaxconn=1020'] },
  { name: '-w an unknown key', args: ['-w', 'net.ipv4.nope=1'] },
  { name: "'-' before a known key", args: ['-w', '--', '-net.core.somaxconn=1010'] },
  {
    name: "'-' before an unknown key",
    args: ['-w', '--', '-net.ipv4.nope=1'],
    differs: {
      aspects: ['status'],
      why: "sysctl.conf(5): a '-' key's failures are ignored; procps still fails on a missing key",
    },
  },
  {
    name: "'-' before a rejected value",
    args: ['-w', '--', '-net.ipv4.tcp_ecn=99'],
    differs: {
      aspects: ['status'],
      why: 'procps 4.0.2 ignores the - only for open failures (fixed upstream in 2296db7b)',
    },
  },
  { name: 'a read-only key', args: ['-w', 'net.ipv4.conf.all.mc_forwarding=1'], differs: READ_ONLY },
  { name: 'a write-only key', args: ['-w', 'net.ipv4.route.flush=1'] },
  { name: 'a directory', args: ['-w', 'net.ipv4.conf=1'], differs: READ_ONLY },
  { name: 'a congestion control by name', args: ['-w', 'net.ipv4.tcp_congestion_control=reno'] },
  { name: 'an unknown congestion control', args: ['-w', 'net.ipv4.tcp_congestion_control=nope'] },
  { name: '-e does not hide a rejected name', args: ['-e', '-w', 'net.ipv4.tcp_congestion_control=nope'] },
  { name: 'a glob on the command line is not expanded', args: ['-w', 'net.ipv4.conf.*.accept_local=1'] },
  { name: 'conf.all.forwarding propagates', args: ['-w', 'net.ipv4.conf.all.forwarding=1'] },
  { name: 'ip_forward', args: ['-w', 'net.ipv4.ip_forward=1'] },
  { name: 'disable_ipv6', args: ['-w', 'net.ipv6.conf.all.disable_ipv6=1'] },
  { name: 'ping_group_range', args: ['-w', 'net.ipv4.ping_group_range=0 2147483647'] },
  { name: 'reserved ports list', args: ['-w', 'net.ipv4.ip_local_reserved_ports=8080,9000-9100'] },
  { name: 'rp_filter on lo', args: ['-w', 'net.ipv4.conf.lo.rp_filter=2'] },
  { name: 'a VLAN-style interface key', args: ['-w', 'net.ipv4.conf.d/10.forwarding=1'], dummy: 'd.10' },
  { name: 'the same in slash form', args: ['-w', 'net/ipv4/conf/d.10/forwarding=1'], dummy: 'd.10' },
  { name: 'options after the operand', args: ['net.core.somaxconn=1017', '-q'] },
  { name: '--write --quiet', args: ['--write', '--quiet', 'net.core.somaxconn=1018'] },
  { name: '-wq cluster', args: ['-wq', 'net.core.somaxconn=1019'] },
  { name: 'read and write in one call', args: ['net.core.somaxconn', 'net.core.somaxconn=1013', 'net.core.somaxconn'] },
  { name: 'failed read, then a write', args: ['net.ipv4.nope', 'net.core.somaxconn=1014'] },
  { name: 'failed read, failed write', args: ['net.ipv4.nope1', 'net.ipv4.nope2=1'] },
  { name: '-w makes every operand a write', args: ['-w', 'net.core.somaxconn=1022', 'net.core.somaxconn'] },
  { name: '-r lets a matching write through', args: ['-r', 'somax', '-w', 'net.core.somaxconn=1015'] },
  { name: '-r filters a write out: status 1', args: ['-r', 'xx', 'net.core.somaxconn=1016'] },
  { name: '--dry-run (testsuite: write from command line)', args: ['--dry-run', 'net.core.somaxconn=1011'] },
  { name: '--dry-run with slashes (testsuite)', args: ['--dry-run', 'net/core/somaxconn=1011'] },
  { name: '--dry-run -q still prints', args: ['--dry-run', '-q', '-w', 'net.core.somaxconn=1012'] },
  { name: '--dry-run of an unknown key', args: ['--dry-run', '-w', 'net.ipv4.nope=1'] },
  {
    name: '--dry-run of a read-only key',
    args: ['--dry-run', '-w', 'net.ipv4.conf.all.mc_forwarding=1'],
    differs: READ_ONLY,
  },
  { name: 'write above /proc (testsuite)', args: ['/../../../etc=1'] },
  { name: 'same values as now', args: ['-w', 'net.core.somaxconn=4096'], setup: [['net.core.somaxconn', '4096']] },
  {
    name: 'kernel.hostname (a UTS key)',
    args: ['-w', 'kernel.hostname=ntcli-x'],
    differs: { aspects: ['stdout', 'status', 'stderr'], why: 'netns never writes outside /proc/sys/net' },
  },
  {
    name: '-e -w kernel.hostname',
    args: ['-e', '-w', 'kernel.hostname=ntcli-x'],
    differs: { aspects: ['stdout', 'stderr'], why: 'netns never writes outside /proc/sys/net (-e: silently)' },
  },
  {
    name: 'read kernel.hostname',
    args: ['kernel.hostname'],
    differs: { aspects: ['stdout', 'status', 'stderr'], why: 'netns never reads outside /proc/sys/net' },
  },
  {
    name: 'traversal to kernel.hostname',
    args: ['net/ipv4/../../kernel/hostname'],
    differs: { aspects: ['stdout', 'status'], why: 'procps follows .. out of /proc/sys/net' },
  },
  {
    name: 'traversal write to kernel.hostname',
    args: ['-w', 'net/ipv4/../../kernel/hostname=ntcli-y'],
    differs: { aspects: ['stdout', 'status'], why: 'procps follows .. out of /proc/sys/net' },
  },

  // --- everyday invocations
  { name: 'ip_forward on', args: ['net.ipv4.ip_forward=1'] },
  { name: 'read ip_forward -n', args: ['-n', 'net.ipv4.ip_forward'] },
  { name: 'rmem and wmem values', args: ['-n', 'net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem'] },
  {
    name: 'disable IPv6 all and default',
    args: ['-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'],
  },
  { name: 'rp_filter all=2', args: ['-w', 'net.ipv4.conf.all.rp_filter=2'] },
  {
    name: 'core buffer sizes (read-only in a namespace)',
    args: ['-w', 'net.core.rmem_max=16777216', 'net.core.wmem_max=16777216'],
    differs: READ_ONLY,
  },
  {
    name: 'syn backlog, tw_reuse, syncookies',
    args: ['-w', 'net.ipv4.tcp_max_syn_backlog=4096', 'net.ipv4.tcp_tw_reuse=1', 'net.ipv4.tcp_syncookies=1'],
  },
  { name: 'unprivileged ports from 0', args: ['-w', 'net.ipv4.ip_unprivileged_port_start=0'] },
  { name: 'ping_group_range 0 0', args: ['-w', 'net.ipv4.ping_group_range=0 0'] },
  { name: 'icmp_echo_ignore_all', args: ['-w', 'net.ipv4.icmp_echo_ignore_all=1'] },
  { name: 'unix max_dgram_qlen', args: ['-w', 'net.unix.max_dgram_qlen=100'] },
  { name: 'tcp_fastopen=3', args: ['-w', 'net.ipv4.tcp_fastopen=3'] },
  { name: 'neighbour gc_thresh3', args: ['-w', 'net.ipv4.neigh.default.gc_thresh3=4096'] },
  { name: 'a time kept in ticks', args: ['-w', 'net.ipv4.neigh.lo.base_reachable_time_ms=30001'] },
  { name: 'writing a deprecated key', args: ['-w', 'net.ipv6.neigh.lo.base_reachable_time=31'] },
  { name: 'a stable_secret', args: ['-w', 'net.ipv6.conf.lo.stable_secret=fe80::1'] },
  { name: 'an octal-looking number', args: ['-w', 'net.core.somaxconn=010'] },
  { name: 'a + sign', args: ['-w', 'net.ipv4.tcp_keepalive_time=+5'] },
  { name: 'blanks before the value', args: ['-w', 'net.ipv4.tcp_keepalive_time=   5'] },
  { name: 'two of three numbers', args: ['-w', 'net.ipv4.tcp_rmem=4096 87380'] },
  { name: '= inside the value', args: ['-w', 'net.ipv4.tcp_congestion_control=a=b'] },
  { name: 'two -w', args: ['-w', 'net.ipv4.conf.lo.forwarding=1', '-w', 'net.ipv6.conf.lo.forwarding=1'] },
  { name: 'read forwarding of both families', args: ['net.ipv4.conf.all.forwarding', 'net.ipv6.conf.all.forwarding'] },
  { name: '-n -e unknown and known', args: ['-n', '-e', 'net.ipv4.nope', 'net.core.somaxconn'] },
  { name: 'a glob read is not expanded', args: ['net.ipv4.conf.*.rp_filter'] },
  { name: 'upper case is another key', args: ['NET.core.somaxconn'] },
  { name: '-q write of an unknown key', args: ['-q', 'net.ipv4.nope=1'] },
  { name: '-N of an unknown key', args: ['-N', 'net.ipv4.nope'] },
  { name: '-aN cluster', args: ['-aN', '-r', 'keepalive'] },
  { name: '-a -q', args: ['-a', '-q', '-r', 'keepalive'] },
  { name: '--names --values', args: ['--names', '--values', 'net.core.somaxconn'] },
  { name: '-b -n', args: ['-b', '-n', 'net.core.somaxconn'] },
  { name: 'a directory write-listing: net.ipv4 read', args: ['-N', 'net.ipv4.route'] },
  { name: 'a key under a key', args: ['-w', 'net.core.somaxconn.x=1'] },
  {
    name: 'the -p file twice with -p',
    args: ['-p', 'a.conf', '-p', 'b.conf'],
    files: { 'a.conf': 'net.core.somaxconn = 1130\n', 'b.conf': 'net.ipv4.tcp_fin_timeout = 36\n' },
  },
  {
    name: '-pA -pB: the last one only',
    args: ['-pa.conf', '-pb.conf'],
    files: { 'a.conf': 'net.core.somaxconn = 1131\n', 'b.conf': 'net.ipv4.tcp_fin_timeout = 37\n' },
  },
  {
    name: '-e -q -p',
    args: ['-e', '-q', '-p', 'u.conf'],
    files: { 'u.conf': 'net.ipv4.nope = 1\nnet.core.somaxconn = 1132\n' },
  },
  { name: '-p --dry-run FILE', args: ['-p', '--dry-run', 'mixed.conf'], files: { 'mixed.conf': MIXED } },
  { name: '--load=FILE --dry-run', args: ['--load=mixed.conf', '--dry-run'], files: { 'mixed.conf': MIXED } },
  {
    name: 'a line that is only =',
    args: ['-p', 'q.conf'],
    files: { 'q.conf': '=\n = 5\nnet.core.somaxconn = 1133\n' },
  },
  { name: 'a [section] line', args: ['-p', 's.conf'], files: { 's.conf': '[net]\nnet.core.somaxconn = 1134\n' } },
  {
    name: 'tabs around =',
    args: ['-p', 't.conf'],
    files: { 't.conf': 'net.core.somaxconn\t=\t1135\n\tnet.ipv4.tcp_fin_timeout=38\n' },
  },
  {
    name: 'a typical tuning file',
    args: ['-p', '99-tuning.conf'],
    files: {
      '99-tuning.conf':
        '# network tuning\nnet.core.somaxconn = 4096\nnet.ipv4.tcp_max_syn_backlog = 8192\nnet.ipv4.ip_local_port_range = 10240 65535\nnet.ipv4.tcp_fin_timeout = 15\nnet.ipv4.tcp_keepalive_time = 300\nnet.ipv4.tcp_keepalive_intvl = 30\nnet.ipv4.tcp_keepalive_probes = 5\nnet.ipv4.tcp_tw_reuse = 1\nnet.ipv4.conf.all.rp_filter = 1\nnet.ipv4.conf.default.rp_filter = 1\nnet.ipv6.conf.all.disable_ipv6 = 0\n',
    },
  },
  {
    name: 'a router file',
    args: ['-p', 'router.conf'],
    files: {
      'router.conf':
        'net.ipv4.ip_forward = 1\nnet.ipv6.conf.all.forwarding = 1\nnet.ipv4.conf.all.send_redirects = 0\nnet.ipv4.conf.default.send_redirects = 0\nnet.ipv4.conf.all.accept_redirects = 0\nnet.ipv6.conf.all.accept_redirects = 0\n',
    },
  },
  {
    name: '--system: a Debian-like layout',
    args: ['--system'],
    sys: {
      etc: {
        '99-sysctl.conf': '@../sysctl.conf',
        '10-network-security.conf': 'net.ipv4.conf.default.rp_filter=2\nnet.ipv4.conf.all.rp_filter=2\n',
      },
      usrlib: {
        '50-default.conf':
          '-net.ipv4.conf.default.promote_secondaries = 1\n-net.ipv4.conf.*.promote_secondaries = 1\nnet.ipv4.ping_group_range = 0 2147483647\nnet.core.default_qdisc = fq_codel\n',
      },
      conf: '#net.ipv4.ip_forward=1\nnet.ipv4.tcp_syncookies=1\n',
    },
  },
  {
    name: '--quiet --system',
    args: ['--quiet', '--system'],
    sys: { etc: { 'a.conf': 'net.core.somaxconn = 1213\n' } },
  },
  { name: '-e --system', args: ['-e', '--system'], sys: { etc: { 'a.conf': 'net.core.somaxconn = 1214\n' } } },

  // --- usage
  { name: 'no arguments (testsuite)', args: [] },
  { name: '-n alone: no variables specified', args: ['-n'] },
  { name: '-q alone', args: ['-q'] },
  { name: '-e alone', args: ['-e'] },
  { name: '--deprecated alone', args: ['--deprecated'] },
  { name: '-w alone', args: ['-w'] },
  {
    name: 'an unknown long option',
    args: ['--bogus', 'net.core.somaxconn'],
    differs: { aspects: ['stdout'], why: 'the usage printed is netns sysctl --help' },
  },
  {
    name: 'an unknown short option',
    args: ['-z'],
    differs: { aspects: ['stdout'], why: 'the usage printed is netns sysctl --help' },
  },
  {
    name: '-r without its argument',
    args: ['net.core.somaxconn', '-r'],
    differs: { aspects: ['stdout'], why: 'the usage printed is netns sysctl --help' },
  },
  {
    name: 'an ambiguous prefix --d',
    args: ['--d', 'net.core.somaxconn'],
    differs: { aspects: ['stdout'], why: 'the usage printed is netns sysctl --help' },
  },
  {
    name: 'an argument to a flag: --values=1',
    args: ['--values=1', 'net.core.somaxconn'],
    differs: { aspects: ['stdout'], why: 'the usage printed is netns sysctl --help' },
  },
  {
    name: 'an unknown option stops the rest',
    args: ['-w', 'net.core.somaxconn=1023', '--bogus'],
    differs: { aspects: ['stdout'], why: 'the usage printed is netns sysctl --help' },
  },
  { name: '-h', args: ['-h'], differs: { aspects: ['stdout'], why: 'the help is netns sysctl --help' } },
  { name: '-V', args: ['-V'], differs: { aspects: ['stdout'], why: "-V prints netns' version" } },

  // --- -p: sysctl.d(5) files
  { name: '-p FILE (the constructs of sysctl.d)', args: ['-p', 'mixed.conf'], files: { 'mixed.conf': MIXED } },
  { name: '-pFILE', args: ['-pmixed.conf'], files: { 'mixed.conf': MIXED } },
  { name: '--load=FILE', args: ['--load=mixed.conf'], files: { 'mixed.conf': MIXED } },
  { name: '--load FILE', args: ['--load', 'mixed.conf'], files: { 'mixed.conf': MIXED } },
  { name: '-f FILE (testsuite)', args: ['-f', 'mixed.conf'], files: { 'mixed.conf': MIXED } },
  { name: 'an absolute path', args: ['-p', '{dir}/mixed.conf'], files: { 'mixed.conf': MIXED } },
  {
    name: 'two files, a key in both',
    args: ['-p', 'a.conf', 'b.conf'],
    files: {
      'a.conf': 'net.core.somaxconn = 1100\nnet.ipv4.tcp_fin_timeout = 30\n',
      'b.conf': 'net.core.somaxconn = 1101\n',
    },
  },
  {
    name: '-pFILE and FILE',
    args: ['-pa.conf', 'b.conf'],
    files: { 'a.conf': 'net.core.somaxconn = 1102\n', 'b.conf': 'net.ipv4.tcp_fin_timeout = 31\n' },
  },
  {
    name: 'a missing file, then a good one',
    args: ['-p', 'missing.conf', 'b.conf'],
    files: { 'b.conf': 'net.core.somaxconn = 1103\n' },
  },
  {
    name: 'a file glob',
    args: ['-p', '*.conf'],
    files: {
      '10-a.conf': 'net.core.somaxconn = 1104\n',
      '20-b.conf': 'net.core.somaxconn = 1105\n',
      'x.txt': 'net.core.somaxconn = 1\n',
    },
  },
  { name: 'a file glob that matches nothing', args: ['-p', '*.nomatch'] },
  {
    name: 'a brace file pattern',
    args: ['-p', '{a,b}.conf'],
    files: { 'a.conf': 'net.core.somaxconn = 1106\n', 'b.conf': 'net.ipv4.tcp_fin_timeout = 32\n' },
  },
  { name: '-p - reads stdin', args: ['-p', '-'], stdin: 'net.core.somaxconn = 1107\n' },
  { name: '-p without FILE reads /etc/sysctl.conf', args: ['-p'], sys: { conf: 'net.core.somaxconn = 1108\n' } },
  { name: 'an empty file', args: ['-p', 'empty.conf'], files: { 'empty.conf': '' } },
  { name: 'comments only', args: ['-p', 'c.conf'], files: { 'c.conf': '# one\n; two\n   # three\n' } },
  {
    name: 'invalid lines are reported, the rest applied',
    args: ['-p', 'bad.conf'],
    files: { 'bad.conf': 'no equals here\nx\nnet.core.somaxconn = 1109\n' },
  },
  { name: 'a one-character last line', args: ['-p', 'x.conf'], files: { 'x.conf': 'net.core.somaxconn = 1110\nx' } },
  { name: 'no newline at the end', args: ['-p', 'n.conf'], files: { 'n.conf': 'net.core.somaxconn = 1111' } },
  {
    name: 'CRLF line ends',
    args: ['-p', 'crlf.conf'],
    files: { 'crlf.conf': 'net.core.somaxconn = 1112\r\nnet.ipv4.tcp_fin_timeout = 33\r\n' },
  },
  {
    name: 'a value with inner blanks kept',
    args: ['-p', 'v.conf'],
    files: { 'v.conf': 'net.ipv4.ip_local_port_range =   1500    2500   \n' },
  },
  {
    name: 'a trailing comment is part of the value',
    args: ['-p', 'v.conf'],
    files: { 'v.conf': 'net.core.somaxconn = 1113 # comment\n' },
  },
  {
    name: 'an empty value',
    args: ['-p', 'v.conf'],
    files: { 'v.conf': 'net.core.somaxconn =\nnet.ipv4.tcp_fin_timeout = 34\n' },
  },
  {
    name: 'a key twice in one file',
    args: ['-p', 'd.conf'],
    files: { 'd.conf': 'net.core.somaxconn = 1114\nnet.core.somaxconn = 1115\n' },
  },
  {
    name: 'an unknown key',
    args: ['-p', 'u.conf'],
    files: { 'u.conf': 'net.ipv4.nope = 1\nnet.core.somaxconn = 1116\n' },
  },
  {
    name: '-e -p with an unknown key',
    args: ['-e', '-p', 'u.conf'],
    files: { 'u.conf': 'net.ipv4.nope = 1\nnet.core.somaxconn = 1117\n' },
  },
  {
    name: 'a rejected value',
    args: ['-p', 'r.conf'],
    files: { 'r.conf': 'net.ipv4.tcp_ecn = 99\nnet.core.somaxconn = 1118\n' },
  },
  { name: "a '-' key that exists", args: ['-p', 'o.conf'], files: { 'o.conf': '-net.core.somaxconn = 1119\n' } },
  {
    name: "a '-' key that is missing",
    args: ['-p', 'o.conf'],
    files: { 'o.conf': '-net.ipv4.nope = 1\nnet.core.somaxconn = 1120\n' },
    differs: {
      aspects: ['status'],
      why: "sysctl.conf(5): a '-' key's failures are ignored; procps still fails on a missing key",
    },
  },
  {
    name: "-e and a '-' key that is missing",
    args: ['-e', '-p', 'o.conf'],
    files: { 'o.conf': '-net.ipv4.nope = 1\n' },
  },
  {
    name: 'globs, exclusion, override (testsuite: sysctl_glob_test.conf)',
    args: ['-p', 'g.conf'],
    files: { 'g.conf': GLOB },
  },
  { name: 'the same with --dry-run (testsuite)', args: ['--dry-run', '-p', 'g.conf'], files: { 'g.conf': GLOB } },
  {
    name: 'an override before the glob',
    args: ['-p', 'g.conf'],
    files: { 'g.conf': 'net.ipv4.conf.lo.accept_local = 0\nnet.ipv4.conf.*.accept_local = 1\n' },
  },
  { name: 'a glob over several keys', args: ['-p', 'g.conf'], files: { 'g.conf': 'net.ipv4.tcp_keepalive_* = 100\n' } },
  { name: 'a glob with ?', args: ['-p', 'g.conf'], files: { 'g.conf': 'net.ipv4.tcp_?mem = 4096 87380 1000000\n' } },
  { name: 'a glob with [..]', args: ['-p', 'g.conf'], files: { 'g.conf': 'net.ipv4.conf.[ad]*.forwarding = 1\n' } },
  {
    name: 'a glob that matches nothing',
    args: ['-p', 'g.conf'],
    files: { 'g.conf': 'net.ipv4.nope_* = 1\nnet.core.somaxconn = 1121\n' },
  },
  {
    name: 'a glob exclusion by glob',
    args: ['-p', 'g.conf'],
    files: { 'g.conf': 'net.ipv4.conf.*.accept_local = 1\n-net.ipv4.conf.*.accept_local\n' },
    differs: {
      aspects: ['stdout', 'values'],
      why: 'procps 4.0.2 ignores glob exclusions (fixed upstream in 39748b78)',
    },
  },
  {
    name: 'an exclusion does not stop an exact key',
    args: ['-p', 'e.conf'],
    files: { 'e.conf': 'net.core.somaxconn = 1122\n-net.core.somaxconn\n' },
  },
  {
    name: 'slash keys in a file (testsuite: sysctl_slash_test.conf)',
    args: ['-p', 's.conf'],
    files: { 's.conf': 'net/core/somaxconn = 1123\n' },
  },
  {
    name: 'a VLAN-style key in a file',
    args: ['-p', 'v.conf'],
    files: { 'v.conf': 'net.ipv4.conf.d/10.forwarding = 1\nnet/ipv4/conf/d.10/rp_filter = 2\n' },
    dummy: 'd.10',
  },
  { name: '-q -p', args: ['-q', '-p', 'mixed.conf'], files: { 'mixed.conf': MIXED } },
  { name: '-n -p', args: ['-n', '-p', 'mixed.conf'], files: { 'mixed.conf': MIXED } },
  { name: '-b -p', args: ['-b', '-p', 'mixed.conf'], files: { 'mixed.conf': MIXED } },
  {
    name: '-N -p',
    args: ['-N', '-p', 'mixed.conf'],
    files: { 'mixed.conf': MIXED },
    differs: { aspects: ['stdout'], why: 'procps 4.0.2 prints the values (fixed upstream in 47bf9265: the names)' },
  },
  { name: '--dry-run -p', args: ['--dry-run', '-p', 'mixed.conf'], files: { 'mixed.conf': MIXED } },
  { name: '-p -r filters lines', args: ['-p', 'mixed.conf', '-r', 'keepalive'], files: { 'mixed.conf': MIXED } },
  { name: '-p -r anchored', args: ['-r', '^net\\.core', '-p', 'mixed.conf'], files: { 'mixed.conf': MIXED } },
  { name: '-p wins over -w', args: ['-w', '-p', 'mixed.conf'], files: { 'mixed.conf': MIXED } },
  { name: '-p takes operands as files', args: ['-p', 'net.core.somaxconn=5'] },
  { name: '-p of a directory reads nothing', args: ['-p', 'sub'], files: { 'sub/x.conf': 'net.core.somaxconn = 1\n' } },
  {
    name: 'a file with kernel.hostname',
    args: ['-p', 'h.conf'],
    files: { 'h.conf': 'kernel.hostname = ntcli-z\nnet.core.somaxconn = 1124\n' },
    differs: { aspects: ['stdout', 'stderr'], why: 'netns skips keys outside net (with a message)' },
  },
  {
    name: "'-' with blanks: procps keeps them in the key",
    args: ['-p', 'o.conf'],
    files: { 'o.conf': '- net.core.somaxconn = 1125\nnet.ipv4.tcp_fin_timeout = 35\n' },
  },

  // --- --system
  { name: '--system with nothing to apply', args: ['--system'] },
  {
    name: '--system: order and override by file name',
    args: ['--system'],
    sys: {
      etc: { '50-a.conf': 'net.core.somaxconn = 1200\n', '90-z.conf': 'net.ipv4.tcp_fin_timeout = 40\n' },
      usrlib: {
        '50-a.conf': 'net.core.somaxconn = 9\n',
        '10-b.conf': 'net.core.somaxconn = 1201\nnet.ipv4.tcp_keepalive_time = 700\n',
      },
    },
  },
  {
    name: '--system: /run and /usr/local/lib',
    args: ['--system'],
    sys: {
      run: { '20-r.conf': 'net.core.somaxconn = 1202\n' },
      usrlocal: { '30-l.conf': 'net.ipv4.tcp_fin_timeout = 41\n', '20-r.conf': 'net.core.somaxconn = 9\n' },
    },
  },
  {
    name: '--system: /etc/sysctl.conf last, also through 99-sysctl.conf',
    args: ['--system'],
    sys: {
      etc: { '99-sysctl.conf': '@../sysctl.conf', '10-a.conf': 'net.core.somaxconn = 1203\n' },
      conf: 'net.core.somaxconn = 1204\n',
    },
  },
  {
    name: '--system ignores files not named *.conf',
    args: ['--system'],
    sys: {
      etc: {
        README: 'net.core.somaxconn = 1\n',
        'x.conf.bak': 'net.core.somaxconn = 2\n',
        'a.conf': 'net.core.somaxconn = 1205\n',
      },
    },
  },
  { name: '-q --system', args: ['-q', '--system'], sys: { etc: { 'a.conf': 'net.core.somaxconn = 1206\n' } } },
  {
    name: '--system -q',
    args: ['--system', '-q'],
    sys: { etc: { 'a.conf': 'net.core.somaxconn = 1207\n' } },
    differs: { aspects: ['stdout'], why: 'procps 4.0.2 ignores options after --system (fixed upstream in 8e4aa656)' },
  },
  {
    name: '--system: unknown keys are ignored',
    args: ['--system'],
    sys: { etc: { 'a.conf': 'net.ipv4.nope = 1\nnet.core.somaxconn = 1208\n' } },
  },
  {
    name: '--system: a rejected value fails',
    args: ['--system'],
    sys: { etc: { 'a.conf': 'net.ipv4.tcp_ecn = 99\nnet.core.somaxconn = 1209\n' } },
  },
  { name: '--system: globs and exclusions', args: ['--system'], sys: { etc: { 'g.conf': GLOB } } },
  {
    name: '-r before --system filters lines (man page)',
    args: ['-r', '^net\\.core', '--system'],
    sys: { etc: { 'a.conf': MIXED } },
  },
  {
    name: '--dry-run --system',
    args: ['--dry-run', '--system'],
    sys: { etc: { 'a.conf': 'net.core.somaxconn = 1210\n' } },
  },
  { name: '-n --system', args: ['-n', '--system'], sys: { etc: { 'a.conf': 'net.core.somaxconn = 1211\n' } } },
  {
    name: '--system with kernel.hostname',
    args: ['--system'],
    sys: { etc: { 'a.conf': 'kernel.hostname = ntcli-s\nnet.core.somaxconn = 1212\n' } },
    differs: {
      aspects: ['stdout', 'stderr'],
      why: 'netns applies net.* keys only; the others are reported as skipped',
    },
  },
];

// ---------------------------------------------------------------------------------------------

/** Keys outside net that procps may be given here: UTS keys, private under unshare -u. */
const UTS_ONLY = /^kernel[./](hostname|domainname)$/;

function keysOf(c: Case): string[] {
  const keys: string[] = [];
  const fromLine = (line: string): void => {
    if (/^\s*[#;]/.test(line)) return;
    const m = /^\s*-?\s*([^=\s]+)\s*=/.exec(line);
    if (m) keys.push(m[1]!);
  };
  c.args.filter((a) => !a.startsWith('-') || a.startsWith('-net')).forEach(fromLine);
  for (const text of [
    ...Object.values(c.files ?? {}),
    ...Object.values(c.sys ?? {}).flatMap((v): string[] =>
      typeof v === 'string' ? [v] : Object.values(v as Record<string, string>),
    ),
    c.stdin ?? '',
  ])
    text.split('\n').forEach(fromLine);
  return keys;
}

/** Refuse to run procps on anything that could touch the host. */
function guard(c: Case): void {
  for (const k of keysOf(c)) {
    const resolved = path.posix.normalize(k.replace(/^-/, '').replace(/\./g, '/'));
    if (resolved.startsWith('net/') || resolved === 'net') continue;
    if (UTS_ONLY.test(resolved.replace(/\//g, '.'))) continue;
    if (/^\/\.\.\/|^\/$/.test(k) || k.startsWith('/../')) continue; // refused by procps ("Path is not under /proc/sys/")
    throw new Error(`oracle case ${JSON.stringify(c.name)} would give sysctl(8) the key ${k}`);
  }
}

// Mount a private sysctl.d world, then run the command. HOLD keeps /run/netns reachable for
// `netns --name` after a tmpfs covers /run.
const OVERLAY = `set -e
mount --make-rprivate /
if [ -n "$HOLD" ]; then mount --rbind /run/netns "$HOLD"; fi
mount -t tmpfs ntcli /run
mkdir -p /run/netns /run/sysctl.d
if [ -n "$HOLD" ]; then mount --rbind "$HOLD" /run/netns; fi
mount -t tmpfs ntcli /etc/sysctl.d
mount -t tmpfs ntcli /usr/lib/sysctl.d
mount -t tmpfs ntcli /usr/local/lib
mkdir -p /usr/local/lib/sysctl.d
for d in etc:/etc/sysctl.d run:/run/sysctl.d usrlocal:/usr/local/lib/sysctl.d usrlib:/usr/lib/sysctl.d; do
  src="$SYSD/\${d%%:*}"; [ -d "$src" ] && cp -a "$src/." "\${d#*:}/"
done
if [ -e "$SYSD/sysctl.conf" ]; then mount --bind "$SYSD/sysctl.conf" /etc/sysctl.conf; else mount --bind /dev/null /etc/sysctl.conf; fi
cd "$WORK"
exec "$@"`;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function writeTree(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    const p = path.join(dir, name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    if (text.startsWith('@')) fs.symlinkSync(text.slice(1), p);
    else fs.writeFileSync(p, text);
  }
}

function prepare(c: Case, base: string): { work: string; sysd: string; hold: string } {
  const work = path.join(base, 'work');
  const sysd = path.join(base, 'sys');
  const hold = path.join(base, 'hold');
  for (const d of [work, sysd, hold]) fs.mkdirSync(d, { recursive: true });
  writeTree(work, c.files ?? {});
  const s = c.sys ?? {};
  for (const d of ['etc', 'run', 'usrlocal', 'usrlib'] as const) if (s[d]) writeTree(path.join(sysd, d), s[d]);
  if (s.conf !== undefined) fs.writeFileSync(path.join(sysd, 'sysctl.conf'), s.conf);
  return { work, sysd, hold };
}

function runProcps(ns: string, c: Case, args: string[], dirs: { work: string; sysd: string }): Run {
  guard(c);
  const r = spawnSync(
    'ip',
    ['netns', 'exec', ns, 'unshare', '-u', '-m', 'sh', '-c', OVERLAY, 'sh', 'sysctl', ...args],
    {
      encoding: 'utf8',
      input: c.stdin ?? '',
      env: { ...childEnv(), LC_ALL: 'C', SYSD: dirs.sysd, WORK: dirs.work, HOLD: '' },
      timeout: 60_000,
    },
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function runNetns(ns: string, c: Case, args: string[], dirs: { work: string; sysd: string; hold: string }): Run {
  const [env, envArgs] = plainNode([CLI, 'sysctl', '--name', ns, ...args]);
  const r = spawnSync('unshare', ['-u', '-m', 'sh', '-c', OVERLAY, 'sh', env, ...envArgs], {
    encoding: 'utf8',
    input: c.stdin ?? '',
    env: { ...childEnv(), LC_ALL: 'C', SYSD: dirs.sysd, WORK: dirs.work, HOLD: dirs.hold },
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function snapshot(name: string): Record<string, string> {
  using ns = NetNamespace.fromName(name);
  const snap = ns.sysctl.getAll('net');
  const out: Record<string, string> = { ...snap.raw };
  for (const [k, e] of Object.entries(snap.unreadable)) out[k] = `<${e.code}>`;
  return out;
}

function freshNs(t: Test, c: Case): string {
  const name = uniqueName('ntcli-or');
  sh('ip', ['netns', 'add', name]);
  t.teardown(() => {
    try {
      sh('ip', ['netns', 'del', name]);
    } catch {
      /* gone */
    }
  });
  if (c.dummy) sh('ip', ['-n', name, 'link', 'add', 'name', c.dummy, 'type', 'bridge']);
  if (c.setup) {
    using ns = NetNamespace.fromName(name);
    ns.sysctl.setMany(c.setup, { raw: true });
  }
  return name;
}

/** Keys whose values differ between two untouched fresh namespaces (random keys). */
function noisyKeys(t: Test): Set<string> {
  const a = snapshot(freshNs(t, { name: 'noise', args: [] }));
  const b = snapshot(freshNs(t, { name: 'noise', args: [] }));
  return new Set([...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => a[k] !== b[k]));
}

function differingKeys(a: Record<string, string>, b: Record<string, string>, noisy: Set<string>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => !noisy.has(k) && a[k] !== b[k]);
}

function parseShard(v: string | undefined): { i: number; n: number } | undefined {
  if (v === undefined || v === '') return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(v);
  const [i, n] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
  if (!(n >= 1 && i < n)) throw new Error(`NETNS_ORACLE_SHARD=${v}: expected I/N with 0 <= I < N`);
  return { i, n };
}

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'ntcli-oracle-'));
t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));

const hostBefore = {
  hostname: fs.readFileSync('/proc/sys/kernel/hostname', 'utf8'),
  domainname: fs.readFileSync('/proc/sys/kernel/domainname', 'utf8'),
  somaxconn: fs.readFileSync('/proc/sys/net/core/somaxconn', 'utf8'),
};

const results = { total: 0, match: 0, documented: 0 };

t.test('oracle: netns sysctl = procps sysctl(8) in the same kind of namespace', async (t) => {
  const noisy = noisyKeys(t);
  let n = 0;
  // NETNS_ORACLE_ONLY=REGEX runs the cases whose name matches (while working on one).
  const only = process.env.NETNS_ORACLE_ONLY ? new RegExp(process.env.NETNS_ORACLE_ONLY) : undefined;
  // NETNS_ORACLE_SHARD=I/N runs every Nth case from the Ith (I from 0): CI's later Node lines
  // share the cases out, each line a different third, so every case runs on one of them; the
  // first line (coverage) runs a quarter of them (.ci/run).
  const shard = parseShard(process.env.NETNS_ORACLE_SHARD);
  const selected = CASES.filter((x, i) => (!only || only.test(x.name)) && (!shard || i % shard.n === shard.i));
  t.comment(
    `oracle: ${selected.length} of ${CASES.length} cases${shard ? ` (NETNS_ORACLE_SHARD=${shard.i}/${shard.n})` : ''}${only ? ` (NETNS_ORACLE_ONLY=${only.source})` : ''}`,
  );
  for (const c of selected) {
    const caseDir = path.join(base, `case-${++n}`);
    await t.test(c.name, async (t) => {
      const dirs = prepare(c, caseDir);
      const args = c.args.map((a) => a.replaceAll('{dir}', dirs.work));
      const oNs = freshNs(t, c);
      const nNs = freshNs(t, c);
      const theirs = runProcps(oNs, c, args, dirs);
      const mine = runNetns(nNs, c, args, dirs);
      const changed = differingKeys(snapshot(oNs), snapshot(nNs), noisy);
      const same = {
        stdout: mine.stdout === theirs.stdout,
        status: mine.status === theirs.status,
        stderr: (mine.stderr === '') === (theirs.stderr === ''),
        values: changed.length === 0,
      };
      const expectDiffer = new Set(c.differs?.aspects ?? []);
      for (const aspect of ASPECTS) {
        if (expectDiffer.has(aspect)) continue;
        const detail =
          aspect === 'stdout'
            ? { mine: mine.stdout.slice(0, 600), theirs: theirs.stdout.slice(0, 600) }
            : aspect === 'status'
              ? {
                  mine: mine.status,
                  theirs: theirs.status,
                  stderr: mine.stderr.slice(0, 400),
                  theirStderr: theirs.stderr.slice(0, 400),
                }
              : aspect === 'stderr'
                ? { mine: mine.stderr.slice(0, 400), theirs: theirs.stderr.slice(0, 400) }
                : { keys: changed.slice(0, 10) };
        t.ok(same[aspect], `${aspect} as sysctl(8)`, detail);
      }
      if (c.differs) {
        t.ok(
          c.differs.aspects.some((a) => !same[a]),
          `differs as documented: ${c.differs.why}`,
          { mine, theirs },
        );
        results.documented++;
      }
      results.total++;
      if (ASPECTS.every((a) => same[a])) results.match++;
      t.equal(mine.stderr.includes('\n    at '), false, 'no stack trace');
    });
  }
  t.comment(
    `oracle: ${results.total} cases, ${results.match} identical to sysctl(8), ${results.documented} documented differences`,
  );
  t.equal(fs.readFileSync('/proc/sys/kernel/hostname', 'utf8'), hostBefore.hostname, 'host hostname untouched');
  t.equal(fs.readFileSync('/proc/sys/kernel/domainname', 'utf8'), hostBefore.domainname, 'host domainname untouched');
  t.equal(fs.readFileSync('/proc/sys/net/core/somaxconn', 'utf8'), hostBefore.somaxconn, 'host somaxconn untouched');
});
