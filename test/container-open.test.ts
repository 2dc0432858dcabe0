// Opening a container's namespace from state on disk, race-free, with fabricated state in
// crun's real format (crun 1.8 refuses this machine's hybrid cgroups, so its live test may
// skip) pointing at a real process in a namespace of its own: the recorded start time decides,
// never the pid alone. Needs root (unshare -n).
import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NetNamespace, auditHost, auditNamespace } from '../lib/index.js';
import { listContainers } from '../lib/subpaths/containers.js';
import { openPidNamespace } from '../lib/namespace/pid.js';
import { procStartTime } from '../lib/container/read.js';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { childEnv, fdCount, plainNode, unshareSleep } from './helpers.js';

const CLI = fileURLToPath(new URL('../dist/bin/netns.js', import.meta.url));

if (process.getuid?.() !== 0) {
  t.plan(0, 'needs root: unshare -n for a process in a namespace of its own');
  process.exit(0);
}

function crunRoot(t: Test, id: string, pid: number, start: number, annotations: Record<string, string> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netns-crunroot-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const bundle = path.join(dir, 'bundle');
  fs.mkdirSync(bundle);
  fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify({ ociVersion: '1.0.2', annotations }));
  fs.mkdirSync(path.join(dir, 'root', id), { recursive: true });
  // libcrun's status file, as crun 1.8 writes it (libcrun/status.c, write_container_status).
  fs.writeFileSync(
    path.join(dir, 'root', id, 'status'),
    JSON.stringify({
      pid,
      'process-start-time': start,
      'cgroup-path': `/${id}`,
      scope: '',
      rootfs: path.join(bundle, 'rootfs'),
      'systemd-cgroup': false,
      bundle,
      created: new Date().toISOString(),
      owner: 'root',
      detached: true,
      external_descriptors: '["/dev/null","/dev/null","/dev/null"]',
    }),
  );
  return path.join(dir, 'root');
}

t.test("crun layout: fromContainer opens the recorded process's namespace; list and the audit name it", async (t) => {
  const child = await unshareSleep(t);
  const start = procStartTime(child.pid)!;
  const root = crunRoot(t, 'c0ffee01', child.pid, start, { 'io.container.manager': 'libpod' });
  const before = fdCount();
  {
    using ns = NetNamespace.fromContainer('c0ffee01', { root, runtime: 'crun' });
    using byPid = NetNamespace.fromPid(child.pid);
    t.ok(ns.equals(byPid), 'the namespace of the recorded init process');
    t.equal(ns.name, 'c0ffee01');
  }
  t.equal(fdCount(), before, 'no fd left open');
  const [c] = listContainers({ root });
  t.equal(c?.oci, 'crun');
  t.equal(c?.runtime, 'podman', "crun root, Podman's bundle annotation");
  const entry = NetNamespace.list({ containers: { root } }).find((e) => e.pids.includes(child.pid));
  t.same(entry?.containers, [{ runtime: 'podman', oci: 'crun', id: 'c0ffee01', pid: child.pid }]);
  t.same(
    NetNamespace.list({ containers: false }).find((e) => e.pids.includes(child.pid))?.containers,
    [],
    'containers: false names none',
  );

  const report = auditHost({
    containers: { root },
    classify: false,
    expect: { text: 'net.ipv4.tcp_keepalive_time = 1\n-net.core.somaxconn\n' },
  });
  t.same(
    report.targets.map((x) => x.containers.map((y) => y.id)),
    [['c0ffee01']],
    'only the container namespace',
  );
  t.same(
    report.targets[0]?.deviations.map((d) => [d.key, d.expected, d.where, d.class]),
    [['net.ipv4.tcp_keepalive_time', '1', 'expect:1', 'unknown']],
  );
  t.equal(report.deviating, 1);
  t.same(
    report.hostDeviations.map((d) => d.key),
    ['net.ipv4.tcp_keepalive_time'],
  );
  const every = auditHost({ containers: { root }, targets: 'all', classify: false });
  t.ok(
    every.targets.length >= 1 && every.targets.some((x) => x.pids.includes(child.pid)),
    "targets: 'all' covers every namespace",
  );
  t.notOk(
    every.targets.some((x) => x.namespace === every.host),
    'but not the host itself',
  );
  t.throws(() => auditHost({ targets: 'x' as never }), RangeError);
});

t.test(
  'auditHost({ host, values }): compared with another namespace; values reported; the CLI audit of every namespace',
  async (t) => {
    const child = await unshareSleep(t);
    const other = await unshareSleep(t);
    const root = crunRoot(t, 'feed01', child.pid, procStartTime(child.pid)!);
    using hostNs = NetNamespace.fromPid(other.pid);
    hostNs.sysctl.set('net.ipv4.tcp_keepalive_time', 999);
    const r = auditHost({
      containers: { root },
      classify: false,
      host: hostNs,
      values: ['net.ipv4.tcp_keepalive_time', 'net.no.such'],
    });
    t.equal(r.host, hostNs.id);
    t.equal(r.targets.length, 1);
    t.same(r.targets[0]?.values, { 'net.ipv4.tcp_keepalive_time': '7200', 'net.no.such': null });
    const { provenance, ...d } = r.targets[0]!.differences.find((x) => x.key === 'net.ipv4.tcp_keepalive_time')!;
    t.same(d, {
      key: 'net.ipv4.tcp_keepalive_time',
      host: '999',
      value: '7200',
      class: 'unknown',
      remedy: 'netns sysctl --container feed01 -w net.ipv4.tcp_keepalive_time=999',
    });
    t.equal(provenance.kind, 'unknown', 'not classified: what a new namespace gets is not known');
    t.same(r.targets[0]?.drift, [], 'no spec: nothing to drift from');
    t.equal(r.drifting, 0);
    t.throws(() => auditHost({ host: {} as never }), TypeError);
    t.throws(() => auditHost({ values: [1] as never }), TypeError);

    // One namespace, by the same audit: what `netns diff TARGET` prints.
    using target = NetNamespace.fromPid(child.pid);
    const one = auditNamespace(target, {
      host: hostNs,
      classify: false,
      oneSided: true,
      selector: ['--pid', String(child.pid)],
      values: ['net.ipv4.tcp_keepalive_time'],
    });
    t.same([one.host, one.targets.length, one.targets[0]?.namespace], [hostNs.id, 1, target.id]);
    const { provenance: _p, ...oneDiff } = one.targets[0]!.differences.find(
      (x) => x.key === 'net.ipv4.tcp_keepalive_time',
    )!;
    t.same(oneDiff, {
      key: 'net.ipv4.tcp_keepalive_time',
      host: '999',
      value: '7200',
      class: 'unknown',
      remedy: `netns sysctl --pid ${child.pid} -w net.ipv4.tcp_keepalive_time=999`,
    });
    t.same(one.targets[0]?.oneSided, [], 'two fresh namespaces: no key on one side only');
    t.same(one.targets[0]?.values, { 'net.ipv4.tcp_keepalive_time': '7200' });
    const vsHost = auditNamespace(target, { classify: false, oneSided: true });
    t.ok(
      vsHost.targets[0]?.oneSided?.some(
        (x) =>
          x.key === 'net.core.netdev_max_backlog' &&
          x.value === null &&
          x.remedy === 'cannot be set per namespace (host-only): set it on the host',
      ),
      'a host-only key, unclassified: the rule base says it is global',
    );
    const vsDiffs = vsHost.targets[0]!.differences;
    t.same(
      vsDiffs.find((x) => x.key === 'net.ipv4.tcp_ehash_entries')?.remedy,
      'cannot be set: read-only in a namespace (netns explain net.ipv4.tcp_ehash_entries tells where it comes from)',
      'unclassified, yet no write the kernel refuses: read-only on the host, so in every namespace',
    );
    t.ok(
      vsDiffs
        .filter((x) => !x.remedy.startsWith('cannot'))
        .every((x) => x.remedy.startsWith('netns sysctl --pid PID -w ')),
      'default selector: a placeholder',
    );
    t.throws(() => auditNamespace({} as never), TypeError);
    t.throws(() => auditNamespace(target, { selector: [1] as never }), TypeError);

    const cli = (args: string[]) =>
      spawnSync(...plainNode([CLI, ...args]), {
        encoding: 'utf8',
        env: childEnv({ NETNS_CONTAINER_ROOTS: `crun=${root}` }),
        timeout: 120_000,
      });
    const all = cli(['diff', '--all', '--namespaces', '--json']);
    t.equal(all.status, 0, all.stderr);
    const report = JSON.parse(all.stdout) as { targets: { pids: number[]; containers: { id: string }[] }[] };
    t.ok(
      report.targets.some((x) => x.pids.includes(other.pid) && x.containers.length === 0),
      '--namespaces: a namespace without a container too',
    );
    t.same(
      report.targets.find((x) => x.pids.includes(child.pid))?.containers.map((c) => c.id),
      ['feed01'],
      'NETNS_CONTAINER_ROOTS is where containers are looked up',
    );
    const text = cli(['diff', '--all']);
    t.equal(text.status, 0, text.stderr);
    t.match(text.stdout, /^crun feed01 \(namespace \d+\)$/m);
    t.match(
      cli(['diff', '--expect', 'x', '--pid', '1']).stderr,
      /--expect and --namespaces go with --all and no target/,
    );
    t.equal(cli(['list', '--runtime', 'lxc']).status, 2);
    t.match(cli(['diff', '--container', 'nothere']).stderr, /ENOENT: no container matches "nothere"/);
  },
);

t.test("a recorded start time that is not the live process's: ESRCH, never that process's namespace", async (t) => {
  const child = await unshareSleep(t);
  const start = procStartTime(child.pid)!;
  const reused = crunRoot(t, 'reused01', child.pid, start - 1);
  t.throws(() => NetNamespace.fromContainer('reused01', { root: reused }), {
    code: 'ESRCH',
    message:
      /container crun reused01 is not running: pid \d+ now belongs to another process \(started at tick \d+, the container's init at \d+\).*Start it again/,
  });
  const gone = crunRoot(t, 'gone01', 0x3ffffff0, start);
  t.throws(() => NetNamespace.fromContainer('gone01', { root: gone }), {
    code: 'ESRCH',
    message: /its init process \d+ has exited/,
  });
  t.throws(() => NetNamespace.fromContainer('nothere', { root: gone }), {
    code: 'ENOENT',
    message: /Known containers: crun gone01/,
  });
});

t.test(
  'openPidNamespace(pid, check): the check runs once the process is pinned; refusing closes everything',
  async (t) => {
    const child = await unshareSleep(t);
    const before = fdCount();
    const seen: string[] = [];
    const fd = openPidNamespace(child.pid, (statFile) => {
      seen.push(statFile);
      t.equal(procStartTime(child.pid, statFile), procStartTime(child.pid), "the stat file is the pinned process's");
    });
    t.equal(seen.length, 1);
    fs.closeSync(fd);
    t.throws(
      () =>
        openPidNamespace(child.pid, () => {
          throw new Error('refused');
        }),
      /refused/,
    );
    t.equal(fdCount(), before, 'the pidfd is closed when the check refuses');
  },
);
