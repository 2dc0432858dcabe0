// Faults and exits: fd hygiene across exec, pid reuse under fromPid, setMany failing at every
// position.
import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { NetNamespace, sysctl } from '../lib/index.js';
import { checkThreadsAtEnd, childEnv, plainNode, unshareSleep, uniqueName, cleanupName } from './helpers.js';

// Needs: root, util-linux unshare (-p -f --mount-proc), dist/ built (npm test does).
checkThreadsAtEnd(t);

/** The fds of a running process, as "N -> target". */
function fdsOf(pid: number): string[] {
  return fs.readdirSync(`/proc/${pid}/fd`).map((n) => {
    try {
      return `${n} -> ${fs.readlinkSync(`/proc/${pid}/fd/${n}`)}`;
    } catch {
      return `${n} -> ?`;
    }
  });
}

async function execedSleep(t: Test, extraFd?: number): Promise<number> {
  const stdio: (number | 'ignore')[] = ['ignore', 'ignore', 'ignore'];
  if (extraFd !== undefined) stdio.push(extraFd);
  const child = spawn('sleep', ['60'], { stdio });
  t.teardown(() => child.kill('SIGKILL'));
  const pid = child.pid!;
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
    try {
      if (fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep') return pid;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('sleep did not start');
}

const libraryLike = (l: string) => /net:\[|\/proc\/sys\/net|anon_inode:\[pidfd\]|pidfd|nsfs/.test(l);

t.test('every fd the library opens is O_CLOEXEC: a child spawned afterwards holds none', async (t) => {
  const proc = await unshareSleep(t);
  const name = uniqueName('nrelfd');
  cleanupName(t, name);
  const spaces = [
    ...Array.from({ length: 10 }, () => NetNamespace.create()),
    NetNamespace.create({ name }),
    NetNamespace.fromPid(proc.pid),
    NetNamespace.fromName(name),
    NetNamespace.current(),
  ];
  spaces.push(NetNamespace.fromFd(spaces[0]!.fd));
  const handles = spaces.flatMap((s) => [
    s.sysctl.open('net.ipv4.tcp_keepalive_time'),
    s.sysctl.open('net.core.somaxconn'),
  ]);
  handles.push(sysctl.open('net.ipv4.tcp_keepalive_time'));
  t.teardown(() => {
    for (const h of handles) h.close();
    for (const s of spaces) s.close();
    NetNamespace.remove(name);
  });
  // Promise jobs in flight (each holds its own dup) while the children are spawned.
  const inflight = spaces.map((s) => s.sysctl.getAllAsync('net.ipv4'));
  const mine = fdsOf(process.pid).filter(libraryLike);
  t.ok(mine.length >= spaces.length + handles.length, `this process holds ${mine.length} namespace/sysctl fds`);
  const plain = await execedSleep(t);
  const inside = await (async () => {
    // a child started inside runSync, too
    let pid = 0;
    spaces[0]!.runSync(() => {
      const c = spawn('sleep', ['60'], { stdio: 'ignore' });
      t.teardown(() => c.kill('SIGKILL'));
      pid = c.pid!;
    });
    for (let i = 0; i < 500 && fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'sleep'; i++)
      await new Promise((r) => setTimeout(r, 5));
    return pid;
  })();
  await Promise.all(inflight);
  // Whatever else the child inherits comes from the harness (tap keeps a pipe without
  // FD_CLOEXEC on purpose); nothing may be one of ours.
  const ours = new Set(mine.map((l) => l.split(' -> ')[1]));
  for (const pid of [plain, inside]) {
    const fds = fdsOf(pid);
    t.same(
      fds.filter((l) => libraryLike(l) || ours.has(l.split(' -> ')[1])),
      [],
      `child ${pid} holds none of ours: ${fds.join(', ')}`,
    );
  }
  // Control: an fd passed on purpose is seen, so the check can fail.
  const passed = await execedSleep(t, spaces[1]!.fd);
  t.ok(
    fdsOf(passed).some((l) => /^3 -> net:\[/.test(l)),
    'an fd handed over explicitly does show up',
  );
});

t.test('pid reuse: fromPid never returns the namespace of a process that took the pid meanwhile', async (t) => {
  // A fresh PID namespace makes pid numbers controllable (ns_last_pid) without touching the host's.
  const [cmd, args] = plainNode([new URL('./fixtures/pid-reuse-child.mjs', import.meta.url).pathname]);
  const r = spawnSync('unshare', ['-p', '-f', '--mount-proc', '--kill-child', cmd, ...args], {
    encoding: 'utf8',
    env: childEnv(),
    timeout: 60_000,
  });
  t.equal(r.status, 0, r.stderr);
  const rows = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  t.equal(rows.length, 4, 'four scenarios ran');
  for (const row of rows) {
    t.ok(
      row.reused,
      `${row.name}: pid ${row.pid} really was reused under fromPid (net:[${row.inoA}] -> net:[${row.inoB}])`,
    );
    t.not(row.inoA, row.inoB, `${row.name}: the new process is in another namespace`);
    t.equal(row.fresh, row.inoB, `${row.name}: asked afresh, the pid names the new process's namespace`);
    if (row.name.startsWith('control')) {
      t.same(
        row.result,
        { ok: true, ino: row.inoB },
        'control: without the liveness check the wrong namespace comes back',
      );
    } else {
      t.match(
        row.result,
        { ok: false, code: 'ESRCH', name: 'NetnsError' },
        `${row.name}: ESRCH, not the new process's namespace`,
      );
    }
  }
});

// Keys of every shape, some whose write the kernel propagates to interfaces, with a value
// each that differs from a fresh namespace's, and a value the kernel refuses with EINVAL.
const ENTRIES: [string, unknown, unknown][] = [
  ['net.ipv4.tcp_keepalive_time', 1111, 99999999999999],
  ['net.ipv4.ip_local_port_range', [20000, 30000], [6000, 5000]],
  ['net.ipv4.tcp_rmem', [4096, 65536, 1000000], [8192, 16384, 99999999999999]],
  ['net.ipv4.conf.default.rp_filter', 2, 99999999999999],
  ['net.ipv4.conf.all.rp_filter', 1, 99999999999999],
  ['net.ipv4.conf.all.accept_redirects', 0, 99999999999999],
  ['net.ipv4.conf.default.accept_source_route', 0, 99999999999999],
  ['net.ipv4.neigh.lo.ucast_solicit', 4, 99999999999999],
  ['net.ipv6.conf.all.hop_limit', 33, 99999999999999],
  ['net.core.somaxconn', 1234, -1],
  ['net.ipv4.tcp_reordering', 5, '7 8'],
  ['net.unix.max_dgram_qlen', 77, 99999999999999],
];

t.test('setMany with a kernel EINVAL injected at every position leaves the namespace byte-identical', async (t) => {
  using ns = NetNamespace.create();
  // Make propagation visible: interface entries that differ from all/default.
  ns.sysctl.set('net.ipv4.conf.lo.forwarding', 1);
  ns.sysctl.set('net.ipv4.conf.lo.accept_redirects', 1);
  const snapshot = ns.sysctl.getAll().raw;
  const lead: [string, unknown] = ['net.ipv4.ip_forward', 1]; // propagates to every interface
  for (const form of ['sync', 'async'] as const) {
    for (let i = 0; i < ENTRIES.length; i++) {
      const entries: [string, unknown][] = [
        lead,
        ...ENTRIES.map(([k, good, bad], j): [string, unknown] => [k, j === i ? bad : good]),
      ];
      let err: (Error & { code?: string; key?: string; rolledBack?: string[]; notRestored?: string[] }) | undefined;
      try {
        if (form === 'sync') ns.sysctl.setMany(entries);
        else await ns.sysctl.setManyAsync(entries);
      } catch (e) {
        err = e as typeof err;
      }
      t.equal(err?.code, 'EINVAL', `${form} #${i}: failed at ${ENTRIES[i]![0]} with EINVAL`);
      t.equal(err?.key, ENTRIES[i]![0]);
      t.equal(err?.rolledBack?.length, i + 1, `${form} #${i}: the ${i + 1} keys before it were rolled back`);
      t.equal(err?.notRestored, undefined);
      const after = ns.sysctl.getAll().raw;
      const diff = Object.keys({ ...snapshot, ...after }).filter((k) => snapshot[k] !== after[k]);
      t.same(
        diff.map((k) => `${k}: ${snapshot[k]} -> ${after[k]}`),
        [],
        `${form} #${i}: every value byte-identical to the snapshot`,
      );
    }
  }
  // And all of them at once succeeds (the values were not the problem).
  const ok = ns.sysctl.setMany([lead, ...ENTRIES.map(([k, good]): [string, unknown] => [k, good])]);
  t.equal(ok.changed.length, ENTRIES.length + 1);
});
