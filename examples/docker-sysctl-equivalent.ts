// The lesson's second remedy, `docker run --sysctl KEY=VALUE … IMAGE COMMAND`, without docker:
// start a command in a new network namespace whose sysctls are set before it starts.
//
//   node dist/examples/docker-sysctl-equivalent.js [--sysctl KEY=VALUE]… [-- COMMAND ARGS…]
//
// Defaults: the lesson's four values, and a command that prints them from inside. The
// command's stdio is this terminal's; its exit code becomes ours.
import { spawnInNetns, sysctl } from 'netns';

function parse(argv: string[]): { presets: Record<string, string>; command: string[] } {
  const presets: Record<string, string> = {};
  let command: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      command = argv.slice(i + 1);
      break;
    }
    const kv = a === '--sysctl' ? argv[++i] : a.startsWith('--sysctl=') ? a.slice(9) : undefined;
    const eq = kv?.indexOf('=') ?? -1;
    if (kv === undefined || eq <= 0)
      throw new TypeError(`Expected --sysctl KEY=VALUE or -- COMMAND but received ${JSON.stringify(a)}`);
    presets[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return { presets, command };
}

async function main(): Promise<number> {
  if (process.geteuid?.() !== 0) {
    console.error('docker-sysctl-equivalent: creating a network namespace needs root (CAP_SYS_ADMIN)');
    return 2;
  }
  const { presets, command } = parse(process.argv.slice(2));
  if (Object.keys(presets).length === 0) {
    // The lesson's values; congestion control: one that differs from the host's, to show it is ours.
    const host = sysctl.getRaw('net.ipv4.tcp_congestion_control');
    const avail = sysctl.getRaw('net.ipv4.tcp_available_congestion_control').split(/\s+/);
    presets['net.ipv4.tcp_congestion_control'] =
      ['bbr', 'cubic', 'reno'].find((a) => a !== host && avail.includes(a)) ?? host;
    presets['net.ipv4.tcp_keepalive_time'] = '600';
    presets['net.ipv4.tcp_keepalive_intvl'] = '10';
    presets['net.ipv4.tcp_keepalive_probes'] = '6';
  }
  const argv = command.length
    ? command
    : [
        'sh',
        '-c',
        Object.keys(presets)
          .map((k) => `echo "${k} = $(cat /proc/sys/${k.replaceAll('.', '/')})"`)
          .join('; '),
      ];
  const {
    child,
    netns,
    sysctl: applied,
    exited,
  } = spawnInNetns(argv[0]!, argv.slice(1), { sysctl: presets, stdio: 'inherit' });
  console.error(
    `[netns ${netns.id}] preset ${JSON.stringify(applied.values)}; started ${JSON.stringify(argv)} as pid ${child.pid}`,
  );
  child.on('error', (e) => console.error(`docker-sysctl-equivalent: ${e.message}`));
  const { code, signal } = await exited;
  if (signal) console.error(`[netns] command killed by ${signal}`);
  return code ?? 1;
}

main().then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    console.error(`docker-sysctl-equivalent: ${(e as Error).message}`);
    process.exitCode = 1;
  },
);
