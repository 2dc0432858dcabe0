// The lesson's first remedy, `nsenter -t PID -n sysctl -w KEY=VALUE`, without nsenter: change
// a sysctl inside a running process's network namespace by its pid, from the host.
//
//   node dist/examples/nsenter-equivalent.js                 # demo on a "container" it starts
//   node dist/examples/nsenter-equivalent.js PID KEY=VALUE…  # on a process of yours (root)
//
// With no arguments it starts a stand-in container (a shell in a fresh network namespace),
// sets net.ipv4.tcp_keepalive_time=600 in it by pid, and lets the shell print the value from
// inside, before and after.
import { NetNamespace, spawnInNetns, sysctl } from 'netns';

function parseAssignments(args: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new TypeError(`Expected KEY=VALUE but received ${JSON.stringify(a)}`);
    out[a.slice(0, eq)] = a.slice(eq + 1);
  }
  return out;
}

/** Set `values` in the namespace of `pid`, as nsenter -t PID -n sysctl -w would. */
function setByPid(pid: number, values: Record<string, string>): void {
  const ns = NetNamespace.fromPid(pid); // race-free: a pidfd, never a recycled pid's namespace
  try {
    const report = ns.sysctl.setMany(values);
    for (const [k, v] of Object.entries(report.values))
      console.log(
        `  ${k} = ${v}   ${report.changed.includes(k) ? '(changed)' : '(already set)'}   in net ${ns.id} of pid ${pid}`,
      );
  } finally {
    ns.close();
  }
}

async function main(): Promise<number> {
  if (process.geteuid?.() !== 0) {
    console.error("nsenter-equivalent: entering another process's network namespace needs root (CAP_SYS_ADMIN)");
    return 2;
  }
  const [pidArg, ...rest] = process.argv.slice(2);
  if (pidArg !== undefined) {
    const pid = Number(pidArg);
    if (!Number.isInteger(pid) || pid <= 0)
      throw new TypeError(`Expected a pid but received ${JSON.stringify(pidArg)}`);
    setByPid(pid, parseAssignments(rest.length ? rest : ['net.ipv4.tcp_keepalive_time=600']));
    return 0;
  }

  // A stand-in container: prints the value from inside, waits for a line, prints it again.
  const file = '/proc/sys/net/ipv4/tcp_keepalive_time';
  const { child, exited } = spawnInNetns(
    'sh',
    ['-c', `echo "inside, before: $(cat ${file})"; read _; echo "inside, after:  $(cat ${file})"`],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const pid = child.pid!;
  console.log(`container pid ${pid} (a shell in a new network namespace)`);
  child.stdout!.setEncoding('utf8');
  const printed = new Promise((r) => child.stdout!.once('data', r));
  child.stdout!.on('data', (d: string) =>
    process.stdout.write(d.replace(/^/gm, '  container: ').replace(/ {2}container: $/, '')),
  );
  await printed; // it has printed "before"
  console.log(`from the host: NetNamespace.fromPid(${pid}).sysctl.setMany({ 'net.ipv4.tcp_keepalive_time': 600 })`);
  setByPid(pid, { 'net.ipv4.tcp_keepalive_time': '600' });
  child.stdin!.end('\n');
  const { code } = await exited;
  console.log(`host still has: ${sysctl.getRaw('net.ipv4.tcp_keepalive_time')} (untouched)`);
  return code ?? 1;
}

main().then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    console.error(`nsenter-equivalent: ${(e as Error).message}`);
    process.exitCode = 1;
  },
);
