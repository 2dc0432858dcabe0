// netns apply --watch against real runtimes started after it: a runc root and a containerd
// namespace of this test's own, neither of which exists when the watcher starts (it watches
// their nearest ancestors until they appear). The rescan interval is a minute: what lands
// within 2 s came by inotify. Each namespace is applied to once per start (a restarted
// container is a new start), and the watcher uses next to no CPU while nothing happens.
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NetNamespace } from '../lib/index.js';
import { exited } from './helpers.js';
import { startWatch } from './apply-env.js';
import * as env from './containers-env.js';

env.requireRuntimes(t, ['runc', 'containerd', 'ctr']);
const { containerId, ctrRun, runcBundle, runcRun, startContainerd, tempDir, tryRun } = env;

const KEY = 'net.ipv4.tcp_keepalive_time';
const TICKS_PER_S = 100; // USER_HZ: /proc/PID/stat counts CPU time in 1/100 s on Linux

/** The value of KEY in the namespace of `pid`, or undefined when it cannot be read yet. */
function valueIn(pid: number, key = KEY): string | undefined {
  try {
    using ns = NetNamespace.fromPid(pid);
    return ns.sysctl.getRaw(key);
  } catch {
    return undefined;
  }
}

/** Poll until KEY holds `want` in the namespace of `pid`; the ms it took since `since`. */
async function until(pid: number, want: string, since: number, limit = 10_000): Promise<number> {
  while (performance.now() - since < limit) {
    if (valueIn(pid) === want) return performance.now() - since;
    await new Promise((r) => setTimeout(r, 10));
  }
  let last: unknown;
  try {
    using ns = NetNamespace.fromPid(pid);
    last = ns.sysctl.getRaw(KEY);
  } catch (e) {
    last = e;
  }
  t.comment(`after ${limit} ms ${KEY} in the namespace of ${pid} is ${String(last)}`);
  return Infinity;
}

/** utime + stime of a process, in clock ticks. */
function cpuTicks(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

interface Line {
  time: string;
  namespace: string;
  status: string;
  containers: { id: string }[];
  changes: { key: string; to: string }[];
}

t.test('apply --watch: new containers get the policy within 2 s, once per start; idle CPU near zero', async (t) => {
  const dir = tempDir(t, 'netns-watch');
  const root = path.join(dir, 'runc-root'); // does not exist yet
  const ctrNs = `netns-watch-${process.pid}`;
  const policy = path.join(dir, 'p.conf');
  fs.writeFileSync(policy, `${KEY} = 651\nnet.ipv4.conf.*.rp_filter = 2\n`);
  const env = { NETNS_CONTAINER_ROOTS: `runc=${root}:containerd=/run/containerd/runc/${ctrNs}` };

  const watch = await startWatch<Line>(t, ['--interval', '60', policy], env);
  const { lines, proc: w } = watch;
  t.match(
    watch.stderr(),
    new RegExp(`watching .*${path.basename(dir)}`),
    'it watches the nearest existing ancestor of the runc root',
  );
  t.same(lines, [], 'nothing of ours runs yet');

  // runc: the root appears with the first container.
  const t0 = performance.now();
  const a = runcRun(t, containerId('watch-a'), runcBundle(path.join(dir, 'a')), root);
  const la = await until(a.pid, '651', t0);
  t.ok(la < 2000, `runc: the policy's value within 2 s of runc run (${Math.round(la)} ms, runc run included)`);
  t.equal(valueIn(a.pid, 'net.ipv4.conf.lo.rp_filter'), '2', 'the glob too');

  // containerd: its own daemon; the namespace's shim root appears with the container.
  const cd = await startContainerd(t);
  const t1 = performance.now();
  const b = ctrRun(cd, ctrNs, containerId('watch-b'), {});
  const lb = await until(b.pid, '651', t1);
  t.ok(lb < 2000, `containerd: within 2 s of ctr run (${Math.round(lb)} ms, ctr run included)`);

  // Once per start: more changes in the state directories make scans, not second applications.
  fs.writeFileSync(path.join(root, 'not-a-container'), '');
  fs.rmSync(path.join(root, 'not-a-container'));
  tryRun('runc', ['--root', root, 'exec', a.id, '/bin/busybox', 'true']);
  await new Promise((r) => setTimeout(r, 500));
  const nsA = `${fs.statSync(`/proc/${a.pid}/ns/net`).dev}:${fs.statSync(`/proc/${a.pid}/ns/net`).ino}`;
  const forA = () => lines.filter((l) => l.namespace === nsA);
  t.equal(forA().length, 1, 'runc container applied to once');
  t.equal(lines.filter((l) => l.containers.some((c) => c.id === b.id)).length, 1, 'containerd container once');
  t.equal(forA()[0]?.status, 'applied');
  // The watcher's own latency: from the container's creation (runc records it) to its line.
  const created = Date.parse(
    (JSON.parse(fs.readFileSync(path.join(root, a.id, 'state.json'), 'utf8')) as { created: string }).created,
  );
  t.comment(`watcher latency, runc's created time to the line: ${Date.parse(forA()[0]!.time) - created} ms`);

  // A restart is a new start: a new namespace, applied to again.
  tryRun('runc', ['--root', root, 'kill', a.id, 'KILL']);
  for (let i = 0; i < 50 && tryRun('runc', ['--root', root, 'delete', '-f', a.id]).status !== 0; i++)
    await new Promise((r) => setTimeout(r, 100));
  const t2 = performance.now();
  const a2 = runcRun(t, a.id, path.join(dir, 'a'), root);
  t.ok((await until(a2.pid, '651', t2)) < 2000, 'the restarted container gets it too');
  const ofA = () => lines.filter((l) => l.containers.some((c) => c.id === a.id)).length;
  for (let i = 0; i < 100 && ofA() < 2; i++) await new Promise((r) => setTimeout(r, 20)); // the line is on its way
  t.equal(ofA(), 2, 'two starts, two applications');

  // Idle: nothing changes for 10 s (the rescan is a minute away).
  await new Promise((r) => setTimeout(r, 300));
  const c0 = cpuTicks(w.pid!);
  const s0 = performance.now();
  await new Promise((r) => setTimeout(r, 10_000));
  const used = cpuTicks(w.pid!) - c0;
  const secs = (performance.now() - s0) / 1000;
  t.comment(
    `watcher CPU while idle: ${used} ticks (${((used / TICKS_PER_S / secs) * 100).toFixed(2)}% of a CPU) over ${secs.toFixed(1)} s`,
  );
  t.ok(used <= 5, `near zero: at most 5 ticks (50 ms) in 10 s, got ${used}`);

  w.kill('SIGTERM');
  await exited(w);
  t.equal(w.exitCode, 0, 'SIGTERM stops it cleanly');
});
