// The README's example (test/unit/docs.test.ts keeps the two the same). As root:
//   npm run build:examples && node dist/examples/quickstart.js
// It changes nothing on the host: every write goes to the namespace it creates.
import { NetNamespace, explain, spawnInNetns, sysctl } from 'netns';

// A new network namespace, as a container gets one (a running container's:
// NetNamespace.fromPid(pid), or NetNamespace.fromContainer('web')). The thread never moves.
using ns = NetNamespace.create();

// What it took from the host and what it did not; values are typed (number, string, tuple).
for (const key of ['net.ipv4.tcp_congestion_control', 'net.ipv4.tcp_keepalive_time'] as const)
  console.log(`${key}: host ${sysctl.get(key)}, new namespace ${ns.sysctl.get(key)}`);

// Why, from the kernel's rules, and how to set it for a container.
const why = explain('net.ipv4.tcp_keepalive_time');
console.log(`${why.class}: ${why.sentence}`);

// Set values inside: one (written, then read back), or several, all or nothing.
ns.sysctl.set('net.ipv4.tcp_keepalive_time', 600);
ns.sysctl.setMany({ 'net.ipv4.tcp_keepalive_intvl': 10, 'net.ipv4.tcp_keepalive_probes': 6 });

// A command started inside sees them from its first instruction (docker run --sysctl).
const { exited } = spawnInNetns('cat', ['/proc/sys/net/ipv4/tcp_keepalive_time'], { netns: ns, stdio: 'inherit' });
await exited; // it printed 600
