// Stress: 100,000 mixed operations over 50 namespaces, some destroyed under the operations,
// on the main thread and in worker_threads Workers. See test/fixtures/stress-core.mjs.
import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { Worker } from 'node:worker_threads';
import { NetNamespace, NetnsError, sysctl } from '../lib/index.js';
import { checkThreadsAtEnd, fdCount, HOST_NS, strayThreads } from './helpers.js';
// @ts-expect-error plain JS fixture shared with the worker
import { runStress, threadNames, K1 } from './fixtures/stress-core.mjs';

// Needs: root (namespaces, /run/netns mounts), util-linux unshare, dist/ built (npm test does).
checkThreadsAtEnd(t);

const OPS = Number(process.env.NETNS_STRESS_OPS ?? 100_000);
const SEED = Number(process.env.NETNS_STRESS_SEED ?? Date.now() % 1e9);
/**
 * RSS may grow by at most this much across the second half of the run (any sample against
 * every earlier one), each measured after a forced full GC at 17 points. Observed: +-2 MiB
 * (allocator and V8 page reuse; under tap's coverage the first sample can be ~9 MiB higher
 * than the rest, which is a fall, not a growth). 8 MiB
 * over the 50,000 operations of the second half bounds a leak at ~170 bytes per operation:
 * one leaked read buffer (4 KiB), Job, fd or std::string per operation would exceed it many
 * times over.
 */
const RSS_TOLERANCE = 8 * 1024 * 1024;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function track(t: Test): { pids: number[]; names: string[] } {
  const tr = { pids: [] as number[], names: [] as string[] };
  t.teardown(() => {
    for (const pid of tr.pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  });
  // Names are only known as they are made: sweep them at teardown.
  t.teardown(() => {
    for (const n of tr.names) if (fs.existsSync(`/run/netns/${n}`)) cleanupNow(n);
  });
  return tr;
}

function cleanupNow(name: string): void {
  try {
    NetNamespace.remove(name);
  } catch {
    /* gone */
  }
}

async function settle(cond: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

// Warm up: the confined root fd and the executor (one dup of the home namespace, two idle
// threads) are created once per process/environment and kept; the baselines are taken after.
sysctl.get(K1);
await Promise.all([sysctl.getAsync(K1), sysctl.getAsync(K1), sysctl.getAsync(K1)]);
const FD_BASE = fdCount();

t.test(`${OPS} mixed operations over 50 namespaces (seed ${SEED})`, async (t) => {
  const tr = track(t);
  const started = Date.now();
  const r = await runStress(
    { NetNamespace, NetnsError, sysctl },
    { ops: OPS, namespaces: 50, seed: SEED, prefix: 'nrel', gc, track: tr },
  );
  t.comment(
    `setup ${r.setupMs} ms, ${OPS} ops in ${r.runMs} ms (${Math.round((OPS / r.runMs) * 1000)}/s), total ${Date.now() - started} ms`,
  );
  t.same(r.failures, [], "every operation returned its namespace's value or a clean ENOENT/ESRCH");
  const c = r.counts as Record<string, number>;
  for (const op of [
    'get',
    'getAsync',
    'set',
    'setAsync',
    'getAll',
    'getAllAsync',
    'setMany',
    'setManyAsync',
    'open.read',
    'openAcross',
    'runSync.fs',
    'lookup.proc',
    'lookup.named',
    'lookup.anon',
    'create.set',
    'createAsync',
    'close.reopen',
    'host',
  ])
    t.ok(c[op]! > 0, `exercised ${op} (${c[op]})`);
  t.ok(
    c['destroy.proc']! > 0 && c['destroy.named']! > 0 && c['destroy.anon']! > 0,
    'namespaces were destroyed mid-run',
  );
  t.ok(c['lookup.proc:gone']! > 0, `fromPid of a killed process: ESRCH (${c['lookup.proc:gone']})`);
  t.ok(c['lookup.named:gone']! > 0, `fromName of a removed namespace: ENOENT (${c['lookup.named:gone']})`);
  t.ok(r.threadChecks >= OPS / 1000, `thread checks during the run: ${r.threadChecks}`);
  t.same(strayThreads(), [], "at the end every thread, the addon's included, is home");
  t.equal(fdCount(), FD_BASE, 'fd count back to baseline');
  const rss = r.rss as number[];
  // Growth, not spread: RSS may fall (V8 returning pages) but must not climb.
  let growth = 0;
  for (let i = 1; i < rss.length; i++) growth = Math.max(growth, rss[i]! - Math.min(...rss.slice(0, i)));
  t.comment(`RSS second half (MiB): ${rss.map((x) => (x / 1048576).toFixed(1)).join(' ')}`);
  t.ok(
    growth <= RSS_TOLERANCE,
    `RSS flat across the second half: grew at most ${(growth / 1048576).toFixed(1)} MiB <= ${RSS_TOLERANCE / 1048576} MiB`,
  );
});

function runWorker(data: Record<string, unknown>): { worker: Worker; exit: Promise<number>; first: Promise<unknown> } {
  const worker = new Worker(new URL('./fixtures/stress-worker.mjs', import.meta.url), { workerData: data, env: {} });
  const exit = new Promise<number>((resolve) => worker.once('exit', resolve));
  const first = new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return { worker, exit, first };
}

const execThreads = () => threadNames().filter((n: string) => n === 'netns-exec').length;

t.test('in a worker_threads Worker: loads, works, cleans up its fds and threads on exit', async (t) => {
  track(t);
  const tasks0 = fs.readdirSync('/proc/self/task').length;
  const exec0 = execThreads();
  const fd0 = fdCount();
  const { exit, first } = runWorker({ mode: 'stress', ops: 20_000, namespaces: 10, seed: SEED, prefix: 'nrelw' });
  const r = (await first) as { failures: string[]; counts: Record<string, number>; runMs: number };
  t.equal(await exit, 0, 'worker exited normally');
  t.comment(`worker: 20000 ops in ${r.runMs} ms`);
  t.same(r.failures, [], 'every operation in the worker was right');
  t.ok(r.counts.getAsync! > 0 && r.counts['runSync.fs']! > 0, 'sync and Promise forms ran in the worker');
  t.ok(await settle(() => fdCount() === fd0), `fd count back to ${fd0} after the worker exited (now ${fdCount()})`);
  t.ok(await settle(() => execThreads() === exec0), `no executor thread left behind (${execThreads()} vs ${exec0})`);
  t.ok(await settle(() => fs.readdirSync('/proc/self/task').length <= tasks0), 'thread count back to baseline');
  t.same(strayThreads(), [], 'every thread is home');
});

t.test('a Worker terminated with Promise work in flight: no crash, fds and threads released', async (t) => {
  for (let round = 0; round < 3; round++) {
    const tasks0 = fs.readdirSync('/proc/self/task').length;
    const exec0 = execThreads();
    const fd0 = fdCount();
    const { worker, exit, first } = runWorker({ mode: 'flood' });
    const msg = (await first) as { ready: boolean; handles: number };
    t.ok(msg.ready, `round ${round}: worker holds ${msg.handles} sysctl handles and 8 namespaces, jobs queued`);
    t.ok(fdCount() > fd0 + 8, 'its fds are open');
    await new Promise((r) => setTimeout(r, 20 * round));
    await worker.terminate();
    await exit;
    t.ok(await settle(() => fdCount() === fd0), `fd count back to ${fd0} (now ${fdCount()})`);
    t.ok(await settle(() => execThreads() === exec0), `its executor threads are gone (${execThreads()} vs ${exec0})`);
    t.ok(await settle(() => fs.readdirSync('/proc/self/task').length <= tasks0), 'thread count back to baseline');
  }
  t.equal(
    sysctl.get(K1),
    Number(fs.readFileSync('/proc/sys/net/ipv4/tcp_keepalive_time', 'utf8')),
    'the main thread still works',
  );
  t.equal(fs.readlinkSync('/proc/thread-self/ns/net'), HOST_NS);
});

t.test('the executor spins only while jobs keep coming: idle after a burst, it sleeps', async (t) => {
  const ns = NetNamespace.create();
  t.teardown(() => ns.close());
  // A burst of one-at-a-time Promise calls: the pattern the bounded spin serves.
  for (let i = 0; i < 5000; i++) await ns.sysctl.getAsync(K1);
  const tid = fs.readdirSync('/proc/self/task').find((id) => {
    try {
      return fs.readFileSync(`/proc/self/task/${id}/comm`, 'utf8').trim() === 'netns-exec';
    } catch {
      return false;
    }
  });
  t.ok(tid, 'the executor thread is there');
  const ticks = (): number => {
    // utime + stime (fields 14 and 15; the comm field before them has no spaces here)
    const f = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(' ');
    return Number(f[13]) + Number(f[14]);
  };
  await new Promise((r) => setTimeout(r, 100));
  const before = ticks();
  await new Promise((r) => setTimeout(r, 1000));
  const used = ticks() - before;
  // A thread that kept spinning would use about 100 ticks (1 tick = 10 ms) in that second.
  t.ok(used <= 2, `the idle executor used ${used} ticks of CPU in 1 s`);
});
