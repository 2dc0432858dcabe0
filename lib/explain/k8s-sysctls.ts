// Data: the sysctls the kubelet treats as safe (allowed in a pod's securityContext.sysctls
// without --allowed-unsafe-sysctls), with the Kubernetes release that added each and the kernel
// version the kubelet requires for it. The remedy text built from it is in remedies.ts.
//
// Reference: kubernetes/kubernetes pkg/kubelet/sysctl/safe_sysctls.go (the list and its kernel
// minimums, pkg/util/kernel constants) and staging/src/k8s.io/pod-security-admission/policy/
// check_sysctls.go (the per-release sets). Releases from the PRs that added them: #118846
// (tcp_keepalive_time, 1.29), #121240 (tcp_fin_timeout, tcp_keepalive_intvl/probes, 1.29),
// #127489 (tcp_rmem, tcp_wmem, 1.32), issue #111144 (ip_local_reserved_ports, 1.27); the first
// three since the sysctl feature (1.4), ping_group_range 1.18, ip_unprivileged_port_start 1.22.

/** One entry of the kubelet's safe set. */
export interface SafeSysctl {
  /** Dotted key. */
  name: string;
  /** First Kubernetes minor release whose kubelet (and Pod Security baseline) allows it. */
  since: string;
  /** Minimum kernel version the kubelet checks before allowing it (it drops the key below). */
  kernel?: string;
  /** Whether `since` was read in the Kubernetes sources/PRs (false: the merge is known, the release not). */
  sinceVerified: boolean;
}

/** The kubelet's safe sysctls under net.* (kernel.shm_rmid_forced is the one outside net). */
export const K8S_SAFE_SYSCTLS: readonly SafeSysctl[] = [
  { name: 'net.ipv4.ip_local_port_range', since: '1.4', sinceVerified: true },
  { name: 'net.ipv4.tcp_syncookies', since: '1.4', sinceVerified: true },
  { name: 'net.ipv4.ping_group_range', since: '1.18', sinceVerified: true },
  { name: 'net.ipv4.ip_unprivileged_port_start', since: '1.22', sinceVerified: true },
  { name: 'net.ipv4.ip_local_reserved_ports', since: '1.27', kernel: '3.16', sinceVerified: true },
  { name: 'net.ipv4.tcp_keepalive_time', since: '1.29', kernel: '4.5', sinceVerified: true },
  { name: 'net.ipv4.tcp_fin_timeout', since: '1.29', kernel: '4.6', sinceVerified: true },
  { name: 'net.ipv4.tcp_keepalive_intvl', since: '1.29', kernel: '4.5', sinceVerified: true },
  { name: 'net.ipv4.tcp_keepalive_probes', since: '1.29', kernel: '4.5', sinceVerified: true },
  { name: 'net.ipv4.tcp_rmem', since: '1.32', kernel: '4.15', sinceVerified: true },
  { name: 'net.ipv4.tcp_wmem', since: '1.32', kernel: '4.15', sinceVerified: true },
  // kubernetes/kubernetes #138389, merged April 2026: the release that ships it is not verified.
  { name: 'net.ipv4.tcp_slow_start_after_idle', since: '1.37', sinceVerified: false },
  { name: 'net.ipv4.tcp_notsent_lowat', since: '1.37', sinceVerified: false },
];

/** Where the safe set comes from, for the JSON. */
export const K8S_SAFE_SYSCTLS_SOURCE =
  'kubernetes/kubernetes pkg/kubelet/sysctl/safe_sysctls.go and pod-security-admission policy/check_sysctls.go';
