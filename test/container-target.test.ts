// The target is always the one named (issue 25 item 5): containers in two runtimes' roots, each
// a real process in a network namespace of its own with fabricated runc state pointing at it.
// An exact id or name anywhere beats any prefix, names and chosen ids are never prefixes, an
// ambiguous query lists its candidates, the container acted on is named (stderr, --json), a
// repeated target option is a usage error, and a container that stops or is replaced between
// listing and opening is an error for that target, never another container's namespace.
// Needs root (unshare -n, nsenter).
import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NetNamespace, auditHost } from '../lib/index.js';
import { listContainers } from '../lib/subpaths/containers.js';
import { procStartTime } from '../lib/container/read.js';
import { childEnv, exited, nsenterCat, plainNode, unshareSleep } from './helpers.js';

const CLI = fileURLToPath(new URL('../dist/bin/netns.js', import.meta.url));
const KEY = 'net.ipv4.tcp_keepalive_time';
const FILE = '/proc/sys/net/ipv4/tcp_keepalive_time';

if (process.getuid?.() !== 0) {
  t.plan(0, 'needs root: unshare -n for processes in namespaces of their own');
  process.exit(0);
}

function tmp(t: Test): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'netns-target-'));
  t.teardown(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

/** runc's state.json for container `id` (init `pid`) in `root`, as libcontainer writes it. */
function runcState(root: string, id: string, pid: number, start = procStartTime(pid)!): string {
  const dir = path.join(root, id);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'state.json'),
    JSON.stringify({
      id,
      init_process_pid: pid,
      init_process_start: start,
      created: new Date().toISOString(),
      config: { labels: [], namespaces: [{ type: 'NEWNET', path: '' }] },
    }),
  );
  return dir;
}

function netns(args: string[], env: Record<string, string>) {
  return spawnSync(...plainNode([CLI, ...args]), { encoding: 'utf8', env: childEnv(env), timeout: 120_000 });
}

const value = (pid: number): string => nsenterCat(`/proc/${pid}/ns/net`, FILE);

t.test('nu-ctr in a root not searched, nu-ctr2 in the default one: never nu-ctr2 for nu-ctr', async (t) => {
  const d = tmp(t);
  const p1 = await unshareSleep(t);
  const p2 = await unshareSleep(t);
  const other = path.join(d, 'other');
  const runRunc = path.join(d, 'run-runc');
  runcState(other, 'nu-ctr', p1.pid);
  runcState(runRunc, 'nu-ctr2', p2.pid);
  const before = [value(p1.pid), value(p2.pid)];

  // As the issue found it: only the default root (here a temporary one) is searched.
  const only = { NETNS_CONTAINER_ROOTS: `runc=${runRunc}` };
  for (const query of ['nu-ctr', 'n', 'nu-']) {
    const r = netns(['sysctl', '--container', query, '-w', `${KEY}=1111`], only);
    t.equal(r.status, 1, `--container ${query}: an error`);
    t.match(r.stderr, new RegExp(`ENOENT: no container matches "${query}"`));
    t.equal(r.stdout, '', 'nothing written, nothing printed');
  }
  t.match(
    netns(['sysctl', '--container', 'nu-ctr', KEY], only).stderr,
    /it begins runc nu-ctr2, but names and ids a person chose are matched whole/,
    'the error says why nu-ctr2 was not taken',
  );
  t.same([value(p1.pid), value(p2.pid)], before, 'neither namespace was touched');
  t.throws(() => NetNamespace.fromContainer('nu-ctr', { roots: [{ runtime: 'runc', dir: runRunc }] }), {
    code: 'ENOENT',
  });

  // Both roots searched: the exact id wins, and the output says which container it was.
  const both = { NETNS_CONTAINER_ROOTS: `runc=${other}:runc=${runRunc}` };
  const w = netns(['sysctl', '--container', 'nu-ctr', '-w', `${KEY}=1111`], both);
  t.equal(w.status, 0, w.stderr);
  t.equal(w.stdout, `${KEY} = 1111\n`, 'stdout stays what procps prints');
  t.match(
    w.stderr,
    new RegExp(`^netns: container runc nu-ctr, init pid ${p1.pid}, state ${other}/nu-ctr/state\\.json\\n$`),
  );
  t.same([value(p1.pid), value(p2.pid)], ['1111', before[1]], "nu-ctr's namespace, not nu-ctr2's");
  const j = netns(['sysctl', '--container', 'nu-ctr2', '--json', KEY], both);
  t.equal(j.status, 0, j.stderr);
  const out = JSON.parse(j.stdout) as { values: Record<string, number>; container: Record<string, unknown> };
  t.same(out.container, {
    runtime: 'runc',
    oci: 'runc',
    id: 'nu-ctr2',
    pid: p2.pid,
    stateFile: path.join(runRunc, 'nu-ctr2/state.json'),
  });
  t.equal(out.values[KEY], Number(before[1]));
  {
    using ns = NetNamespace.fromContainer('nu-ctr', {
      roots: [
        { runtime: 'runc', dir: runRunc },
        { runtime: 'runc', dir: other },
      ],
    });
    t.equal(ns.container?.id, 'nu-ctr', "the handle says which container's namespace it is");
    t.equal(ns.container?.stateFile, path.join(other, 'nu-ctr/state.json'));
    t.equal(ns.sysctl.get(KEY), 1111);
  }
  const diff = netns(['diff', '--container', 'nu-ctr', '--json'], both);
  t.equal(diff.status, 0, diff.stderr);
  t.match(diff.stderr, /^netns: container runc nu-ctr, init pid \d+/, 'every command names it');
  t.ok(
    (JSON.parse(diff.stdout) as { key: string; target: string }[]).some((x) => x.key === KEY && x.target === '1111'),
  );
  const ex = netns(['exec', '--container', 'nu-ctr', '--', 'cat', FILE], both);
  t.equal(ex.status, 0, ex.stderr);
  t.equal(ex.stdout, '1111\n');
  t.match(ex.stderr, /^netns: container runc nu-ctr, /);
});

t.test("two runtimes' roots: generated ids by prefix, exact ids and names first, ambiguity listed", async (t) => {
  const d = tmp(t);
  const a = await unshareSleep(t);
  const b = await unshareSleep(t);
  const c = await unshareSleep(t);
  const moby = path.join(d, 'moby');
  const runc = path.join(d, 'runc');
  const ha = 'abc1'.padEnd(64, '0');
  const hb = 'abc2'.padEnd(64, '0');
  runcState(moby, ha, a.pid);
  runcState(moby, hb, b.pid);
  runcState(runc, 'abc', c.pid); // an id a person chose, which is also a prefix of both
  const env = { NETNS_CONTAINER_ROOTS: `docker=${moby}:runc=${runc}` };
  const pidOf = (q: string): number | string => {
    const r = netns(['sysctl', '--container', q, '--json', KEY], env);
    if (r.status !== 0) return r.stderr;
    return (JSON.parse(r.stdout) as { container: { pid: number } }).container.pid;
  };
  t.equal(pidOf('abc'), c.pid, 'the exact id beats the prefix of two generated ids');
  t.equal(pidOf('abc1'), a.pid, 'a unique prefix of a generated id');
  t.equal(pidOf(hb), b.pid, 'a full generated id');
  const amb = netns(['sysctl', '--container', 'ab', KEY], env);
  t.equal(amb.status, 1);
  t.match(
    amb.stderr,
    new RegExp(
      `EINVAL: "ab" matches 2 containers: docker ${ha} in ${moby}; docker ${hb} in ${moby}\\. Give the full id`,
    ),
  );
  t.equal(amb.stdout, '');
  const lib = listContainers({ roots: [{ runtime: 'docker', dir: moby }] });
  t.same(lib.map((x) => x.id).sort(), [ha, hb]);
});

t.test('a repeated target option is a usage error, for every command that takes one', async (t) => {
  const cases = [
    ['sysctl', '--name', 'a', '--name', 'b', '-w', `${KEY}=1`],
    ['sysctl', '--pid', '1', '--pid', '1', KEY],
    ['sysctl', '--container', 'x', '--container', 'y', KEY],
    ['sysctl', '--container', 'x', '--runtime', 'runc', '--runtime', 'docker', KEY],
    ['sysctl', '--pid', '1', '--container', 'x', KEY],
    ['diff', '--name', 'a', '--name', 'b'],
    ['diff', '--path', '/a', '--path', '/b'],
    ['diff', '--all', '--expect', '/a', '--expect', '/b'],
    ['exec', '--name', 'a', '--name', 'b', '--', 'true'],
    ['exec', '--pid', '1', '--container', 'x', '--', 'true'],
    ['list', '--runtime', 'runc', '--runtime', 'docker'],
    ['list', '--container-root', '/a', '--container-root', '/b'],
    ['sysctl', '--runtime', 'runc', KEY],
  ];
  for (const args of cases) {
    const r = netns(args, {});
    t.equal(r.status, 2, args.join(' '));
    t.match(r.stderr, /given more than once|at most one of|give --container/, args.join(' '));
    t.equal(r.stdout, '', 'nothing done');
  }
});

t.test(
  'stopped or replaced between listing and opening: an error for that target, never another namespace',
  async (t) => {
    const d = tmp(t);
    const root = path.join(d, 'runc');
    const a = await unshareSleep(t);
    const b = await unshareSleep(t);
    runcState(root, 'ctr-a', a.pid);
    runcState(root, 'ctr-b', b.pid);
    const o = { root };
    const listed = listContainers(o);
    t.equal(listed.length, 2);
    const infoA = listed.find((x) => x.id === 'ctr-a')!;
    const infoB = listed.find((x) => x.id === 'ctr-b')!;

    // ctr-a's state is replaced by a new container (same id, b's process) after the listing.
    runcState(root, 'ctr-a', b.pid);
    t.throws(() => NetNamespace.fromContainer(infoA), { code: 'EAGAIN', message: /was restarted/ });
    {
      using now = NetNamespace.fromContainer('ctr-a', o);
      t.equal(now.container?.pid, b.pid, 'looked up again, the id names what its state says now');
    }
    // ctr-b stops after the listing: its pid is gone.
    b.kill('SIGKILL');
    await exited(b);
    for (let i = 0; i < 100 && procStartTime(b.pid) !== undefined; i++) await new Promise((r) => setTimeout(r, 10));
    t.throws(() => NetNamespace.fromContainer(infoB), { code: 'ESRCH', message: /ctr-b is not running/ });
    // ctr-a's state removed after the listing.
    fs.rmSync(path.join(root, 'ctr-a'), { recursive: true });
    t.throws(() => NetNamespace.fromContainer(infoA), { code: 'EAGAIN' });

    // The audit: each target gets its own error; nothing is attributed to another namespace.
    runcState(root, 'ctr-a', a.pid);
    const report = auditHost({ containers: o, classify: false });
    t.same(
      report.targets.map((x) => x.containers.map((c) => c.id)),
      [['ctr-a']],
      'only the running container is audited (ctr-b is stopped)',
    );
    t.notOk(report.targets[0]?.error);
  },
);
