// The addon's own threads (native/threads.h): joined at environment cleanup, never detached.
// When a Worker that loaded the addon exits, Node unloads the addon; a thread still running
// addon code then would crash the process the moment it woke up (before issue 24: the waiter
// of a rootless command's exit, when the command ended after the Worker). And the one
// switch-in/switch-back primitive (Inside, native/netns.h) when switching back fails.
// Needs: root (namespaces, rootless helpers as root), dist/ built (npm test does).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { checkThreadsAtEnd, killWithMarker, plainNode, withMarker } from './helpers.js';

checkThreadsAtEnd(t);
const root = fileURLToPath(new URL('..', import.meta.url));

// Each Worker starts every kind of addon thread with a wait outstanding: the waiter of a
// command's exit in a rootless namespace (pidfdWait), a clone child held for a minute
// (cloneNetns), an exchange with a stopped rootless helper (a Promise form on a thread of its
// own) and a flood of Promise forms (the executor). Then it is terminated, or ends itself with
// process.exit(). The main thread of the process never loads the addon, so the Worker's exit
// unloads it. Afterwards the process counts its threads, ends the commands (an old waiter would
// wake up now), and must still be alive.
const workerCode = (marker: string): string => `
  import { parentPort, workerData } from 'node:worker_threads';
  import fs from 'node:fs';
  const { NetNamespace, spawnInNetns, sysctl } = await import(${JSON.stringify(`${root}dist/index.js`)});
  const { testing } = await import(${JSON.stringify(`${root}dist/native/testing.js`)});
  const ns = NetNamespace.create({ rootless: true });
  const cmd = spawnInNetns(process.execPath, ['-e', 'setTimeout(() => {}, 60000)', ${JSON.stringify(marker)}], { netns: ns, stdio: 'ignore' });
  testing.cloneNetns(['core/somaxconn'], [null], null, 60000).catch(() => {});
  const stopped = NetNamespace.create({ rootless: true });
  stopped.sysctl.get('net.core.somaxconn');
  process.kill(stopped.rootless.pid, 'SIGSTOP');
  stopped.sysctl.getAsync('net.ipv4.tcp_keepalive_time').catch(() => {});
  for (let i = 0; i < 200; i++) sysctl.getAsync('net.core.somaxconn').catch(() => {});
  await new Promise((r) => setTimeout(r, 100)); // the clone child has started: its thread waits
  const names = fs.readdirSync('/proc/self/task').map((id) => {
    try { return fs.readFileSync('/proc/self/task/' + id + '/comm', 'utf8').trim(); } catch { return ''; }
  });
  parentPort.postMessage({ command: cmd.child.pid, threads: names.filter((n) => n.startsWith('netns-')).sort() });
  if (workerData.how === 'exit') process.exit(0);
  setInterval(() => {}, 1000);
`;

const script = (marker: string): string => `
  import { Worker } from 'node:worker_threads';
  import { once } from 'node:events';
  import fs from 'node:fs';
  const tasks = () => fs.readdirSync('/proc/self/task');
  const comm = (id) => { try { return fs.readFileSync('/proc/self/task/' + id + '/comm', 'utf8').trim(); } catch { return ''; } };
  const settle = async (ok) => { for (let i = 0; i < 100 && !ok(); i++) await new Promise((r) => setTimeout(r, 50)); return ok(); };
  // Threads Node keeps once started (libuv's pool, which a Worker's module loading starts) are
  // started first, by a Worker that does not load the addon.
  const warm = new Worker("await import('node:fs/promises').then((f) => f.readFile('/proc/self/stat'))", { eval: true });
  await once(warm, 'exit');
  await fs.promises.readFile('/proc/self/stat');
  const before = tasks().length;
  const names = () => tasks().map(comm).sort();
  const out = { before, baseline: names(), runs: [] };
  for (const how of ['terminate', 'exit']) {
    const w = new Worker(${JSON.stringify(workerCode(marker))}, { eval: true, workerData: { how } });
    const exit = once(w, 'exit');
    const [msg] = await once(w, 'message');
    if (how === 'terminate') await w.terminate();
    await exit;
    await settle(() => tasks().length <= before);
    out.runs.push({ how, during: msg.threads, after: tasks().length, names: names(), addonThreads: names().filter((n) => n.startsWith('netns-')) });
    process.kill(msg.command, 'SIGKILL');
  }
  await new Promise((r) => setTimeout(r, 500)); // a waiter left behind would wake up by now
  out.mapped = fs.readFileSync('/proc/self/maps', 'utf8').includes('netns.node');
  out.end = tasks().length;
  console.log(JSON.stringify(out));
`;

t.test('a Worker that exits with addon threads waiting: no crash, every thread joined', async (t) => {
  const marker = `netns-threads-test-${process.pid}-${Math.random().toString(36).slice(2)}`;
  killWithMarker(t, marker);
  const [cmd, args] = plainNode(['--input-type=module', '-e', script(marker), marker]);
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000 });
  t.equal(
    r.signal,
    null,
    `the process was not killed by a signal (SIGSEGV: a thread woke up in unloaded code): ${r.stderr}`,
  );
  t.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
  for (const run of out.runs as {
    how: string;
    during: string[];
    after: number;
    names: string[];
    addonThreads: string[];
  }[]) {
    for (const name of ['netns-wait', 'netns-clone', 'netns-helper-io', 'netns-exec'])
      t.ok(
        run.during.includes(name),
        `${run.how}: a ${name} thread was running when the Worker ended (${run.during.join(', ')})`,
      );
    t.same(run.addonThreads, [], `${run.how}: no addon thread is left`);
    t.ok(
      run.after <= out.before,
      `${run.how}: thread count back to where it was (${out.before} before, ${run.after} after: ${run.names.join(', ')})`,
    );
  }
  t.ok(out.end <= out.before, `still none after the commands ended (${out.end})`);
  t.comment(`the addon was ${out.mapped ? 'still mapped' : 'unloaded'} once the Workers had exited`);
  t.same(
    withMarker(marker).filter((p) => p !== r.pid),
    [],
    'no clone child or command left behind',
  );
});

// Inside() (native/netns.h), the one switch-in/switch-back primitive, when the switch back
// fails (testing.failSwitchBack: the next switch back reports failure, the real one is done):
// the JS thread aborts the process, also when the work threw; an executor thread retires and
// a fresh one takes the jobs that follow.
const lib = JSON.stringify(`${root}dist/index.js`);
const testingLib = JSON.stringify(`${root}dist/native/testing.js`);
for (const [name, work] of [
  ['runSync', 'ns.runSync(() => 0);'],
  ['runSync whose callback throws', "ns.runSync(() => { throw new Error('from the callback'); });"],
  ['a sync sysctl read', "ns.sysctl.get('net.core.somaxconn');"],
] as const) {
  t.test(`the JS thread cannot switch back after ${name}: the process aborts loudly`, async (t) => {
    const script = `
      import { NetNamespace } from ${lib};
      import { testing } from ${testingLib};
      const ns = NetNamespace.create();
      testing.failSwitchBack(1);
      try { ${work} } catch (e) { console.log('caught: ' + e.message); }
      console.log('survived');
    `;
    const r = spawnSync(...plainNode(['--input-type=module', '-e', script]), { encoding: 'utf8' });
    t.equal(r.signal, 'SIGABRT', r.stderr);
    t.equal(r.stdout, '', 'no JavaScript ran after the failed switch back (not even a catch)');
    t.match(
      r.stderr,
      /netns: FATAL: cannot switch thread \d+ back to its own network namespace after (runSync|a \/proc\/sys\/net operation)/,
    );
  });
}

t.test('an executor thread that cannot switch back retires; a fresh thread serves the jobs that follow', async (t) => {
  const script = `
    import fs from 'node:fs';
    import { NetNamespace } from ${lib};
    import { testing } from ${testingLib};
    const ns = NetNamespace.create();
    const home = fs.readlinkSync('/proc/self/ns/net');
    const execThreads = () => fs.readdirSync('/proc/self/task').filter((id) => {
      try { return fs.readFileSync('/proc/self/task/' + id + '/comm', 'utf8').trim() === 'netns-exec'; } catch { return false; }
    });
    await ns.sysctl.getAsync('net.core.somaxconn');
    const first = execThreads();
    testing.failSwitchBack(1);
    const a = await ns.sysctl.getAsync('net.ipv4.tcp_keepalive_time');
    const b = await Promise.all([ns.sysctl.getAsync('net.core.somaxconn'), ns.sysctl.setAsync('net.ipv4.tcp_keepalive_time', 600)]);
    for (let i = 0; i < 50 && execThreads().includes(first[0]); i++) await new Promise((r) => setTimeout(r, 20));
    const stray = fs.readdirSync('/proc/self/task').filter((id) => fs.readlinkSync('/proc/self/task/' + id + '/ns/net') !== home);
    console.log(JSON.stringify({ first, a, b, after: execThreads(), stray }));
  `;
  const r = spawnSync(...plainNode(['--input-type=module', '-e', script]), { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stderr, /netns: executor thread could not switch back to its namespace; retiring it/);
  const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
  t.equal(out.first.length, 1, 'one executor thread');
  t.equal(out.a, 7200, 'the job whose switch back failed had run: its result arrives');
  t.same(out.b, [4096, 600], 'the jobs after it are served (the write read back)');
  t.equal(out.after.length, 1, 'one executor thread again');
  t.not(out.after[0], out.first[0], 'a fresh one: the retired thread has ended');
  t.same(out.stray, [], 'no thread in a foreign namespace');
});
