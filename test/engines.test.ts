// Real Docker and Podman, each started by this file with its networking off and its state in a
// temporary directory (test/engines-env.ts): `docker run --sysctl` and `podman run --sysctl`
// (the lesson's remedy, for real) read back by netns in the container's namespace; Docker's
// containers found through the daemon's --exec-root / --data-root, by name, full id and id
// prefix; Podman's (runc's default root, names in containers-storage beside the bundle) by
// name and id; fromContainer, `netns sysctl|exec|diff --container`, `netns list` and
// `netns diff --all` on both; each container's OCI bundle reachable from what the finder
// returns. At the end both are stopped, and the host's network and /proc/sys/net are as before.
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NetNamespace } from '../lib/index.js';
import { listContainers } from '../lib/container/find.js';
import type { ContainerInfo } from '../lib/container/types.js';
import { childEnv, holdHostLock, plainNode, procSysNetSnapshot, snapshotDiff } from './helpers.js';
import { enginesMissing, hostNetwork, startDocker, startPodman, type Docker, type Podman } from './engines-env.js';

// Needs: root, Debian's docker.io and podman (dockerd, containerd, runc, podman, conmon) and
// busybox-static. .ci/run installs them without starting any service; in CI their absence is
// a failure, not a skip.
const why = enginesMissing();
if (why) {
  if (process.env.CI === 'true') t.fail(`CI must run the Docker and Podman tests: ${why}`);
  else t.plan(0, why);
  process.exit(process.env.CI === 'true' ? 1 : 0);
}

const CLI = fileURLToPath(new URL('../dist/bin/netns.js', import.meta.url));
function netns(args: string[], env: Record<string, string> = {}) {
  const [cmd, a] = plainNode([CLI, ...args]);
  const r = spawnSync(cmd, a, { encoding: 'utf8', input: '', env: childEnv(env), timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const KEY = 'net.ipv4.tcp_keepalive_time';
const REL = '/proc/sys/net/ipv4/tcp_keepalive_time';
const KEY_RE = KEY.replaceAll('.', '\\.');
const nsOf = (pid: number) => fs.readlinkSync(`/proc/${pid}/ns/net`);
const bundleSysctl = (c: ContainerInfo | undefined): Record<string, string> | undefined =>
  c?.bundle === undefined
    ? undefined
    : (JSON.parse(fs.readFileSync(path.join(c.bundle, 'config.json'), 'utf8')).linux?.sysctl as Record<string, string>);

// The host before anything starts: its network, and every file of /proc/sys/net (read under
// the lock that tests changing a host sysctl hold, so that none is half-way through a change).
const netBefore = hostNetwork();
const BLOB_CACHE = '/var/lib/containers/cache/blob-info-cache-v1.boltdb'; // Podman's import writes it
const readCache = (): string | undefined =>
  fs.existsSync(BLOB_CACHE) ? fs.readFileSync(BLOB_CACHE, 'latin1') : undefined;
const cacheBefore = readCache();
const sysBefore = await underHostLock(procSysNetSnapshot);
async function underHostLock<T>(f: () => T): Promise<T> {
  const release = await holdHostLock();
  try {
    return f();
  } finally {
    await release();
  }
}

const started = Date.now();
const docker: Docker = await startDocker(t);
const podman: Podman = await startPodman(t);
t.comment(`dockerd and podman ready, images imported: ${Date.now() - started} ms`);
const tag = String(process.pid);
// How a user points netns at this dockerd: options, flags, or the environment.
const dockerOpts = { docker: { execRoot: docker.execRoot, dataRoot: docker.dataRoot } };
const dockerFlags = ['--docker-exec-root', docker.execRoot, '--docker-data-root', docker.dataRoot];
const dockerEnv = { NETNS_DOCKER_EXEC_ROOT: docker.execRoot, NETNS_DOCKER_DATA_ROOT: docker.dataRoot };

const dname = `netns-web-${tag}`;
const did = docker.run(dname, ['--sysctl', `${KEY}=600`]);
const dpid = Number(docker.cli(['inspect', '--format', '{{.State.Pid}}', did]).stdout.trim());
const pname = `netns-db-${tag}`;
const pid = podman.run(pname, ['--sysctl', `${KEY}=601`]);
const ppid = Number(podman.cli(['inspect', '--format', '{{.State.Pid}}', pid]).stdout.trim());

t.test('Docker: its state as a real dockerd lays it out, found through --exec-root and --data-root', async (t) => {
  t.match(did, /^[0-9a-f]{64}$/);
  t.ok(dpid > 0, `docker inspect gives the init pid (${dpid})`);
  t.not(nsOf(dpid), fs.readlinkSync('/proc/self/ns/net'), '--network none: a namespace of its own');
  const stateFile = path.join(docker.execRoot, 'runtime-runc/moby', did, 'state.json');
  t.ok(fs.existsSync(stateFile), "runc's state in EXEC_ROOT/runtime-runc/moby/ID");
  t.ok(
    fs.existsSync(path.join(docker.dataRoot, 'containers', did, 'config.v2.json')),
    'its name in DATA_ROOT/containers/ID/config.v2.json',
  );

  const c = listContainers({ runtime: 'docker', ...dockerOpts }).find((x) => x.id === did);
  t.same(c && [c.runtime, c.oci, c.name, c.pid, c.running, c.stateFile], [
    'docker',
    'runc',
    dname,
    dpid,
    true,
    stateFile,
  ]);
  t.equal(
    c?.bundle,
    path.join(docker.execRoot, 'containerd/daemon/io.containerd.runtime.v2.task/moby', did),
    "the bundle: in its containerd's state below the exec-root",
  );
  t.equal(
    bundleSysctl(c)?.[KEY],
    '600',
    "the bundle's config.json has what docker run --sysctl asked for (linux.sysctl)",
  );
  // And what Docker (20.10 on) adds by itself to every container not on the host's network:
  // the spec is where a value's provenance (the user's --sysctl or the engine's default) shows.
  t.match(
    bundleSysctl(c),
    { 'net.ipv4.ip_unprivileged_port_start': '0', 'net.ipv4.ping_group_range': '0 2147483647' },
    "Docker's own defaults are in the spec too",
  );

  t.notOk(
    listContainers({ runtime: 'docker' }).some((x) => x.id === did),
    'not under the default roots (/run/docker, /var/lib/docker): a dockerd elsewhere must be named',
  );
  const named = listContainers({ runtime: 'docker', docker: { execRoot: docker.execRoot } }).find((x) => x.id === did);
  t.equal(named?.name, undefined, 'without its data-root, no name');
});

t.test(
  "docker run --sysctl, for real: netns reads the value in the container's namespace; by name, full id and id prefix",
  async (t) => {
    for (const q of [dname, did, did.slice(0, 12)]) {
      using ns = NetNamespace.fromContainer(q, dockerOpts);
      t.equal(`net:[${ns.ino}]`, nsOf(dpid), `fromContainer(${JSON.stringify(q)}) opens the container's namespace`);
      t.equal(ns.sysctl.get(KEY), 600, 'docker run --sysctl set 600 there');
    }
    t.equal(
      docker.cli(['exec', dname, '/bin/busybox', 'cat', REL]).stdout.trim(),
      '600',
      'docker exec sees the same from inside',
    );
    t.throws(
      () => NetNamespace.fromContainer(dname),
      { code: 'ENOENT', message: /no container matches .*docker \/run\/docker\/runtime-runc\/moby/ },
      'the default roots do not hold it',
    );

    // The CLI, each way of pointing it at the daemon.
    const get = netns(['sysctl', '--container', dname, ...dockerFlags, '-n', KEY]);
    t.equal(get.status, 0, get.stderr);
    t.equal(get.stdout, '600\n', 'netns sysctl --container NAME --docker-exec-root --docker-data-root');
    // Where the value comes from: docker run --sysctl, recorded in the container's spec.
    const why = (...args: string[]) => {
      const r = netns(['explain', '--container', dname, ...dockerFlags, KEY, '--json', ...args]);
      t.equal(r.status, 0, r.stderr);
      return (JSON.parse(r.stdout) as { keys: { provenance: { kind: string; spec?: { value: string } } }[] }).keys[0]!;
    };
    t.same([why().provenance.kind, why().provenance.spec?.value], ['spec', '600'], 'explain: set at start by the spec');
    const set = netns(['sysctl', '--container', did, '-w', `${KEY}=610`], dockerEnv);
    t.equal(set.status, 0, set.stderr);
    t.equal(set.stdout, `${KEY} = 610\n`);
    t.equal(
      docker.cli(['exec', dname, '/bin/busybox', 'cat', REL]).stdout.trim(),
      '610',
      'netns sysctl --container ID -w (NETNS_DOCKER_*) reached the container',
    );
    t.same(
      [why().provenance.kind, why().provenance.spec?.value],
      ['changed', '600'],
      'explain: changed since the start',
    );
    const ex = netns(['exec', '--container', did.slice(0, 12), ...dockerFlags, '--', 'cat', REL]);
    t.equal(ex.status, 0, ex.stderr);
    t.equal(ex.stdout, '610\n', "netns exec --container PREFIX -- cat: a host program in the container's namespace");
    const runtimeOnly = netns([
      'sysctl',
      '--container',
      dname,
      '--runtime',
      'docker',
      '--container-root',
      path.join(docker.execRoot, 'runtime-runc/moby'),
      '--docker-data-root',
      docker.dataRoot,
      '-n',
      KEY,
    ]);
    t.equal(
      runtimeOnly.stdout,
      '610\n',
      '--container-root EXEC_ROOT/runtime-runc/moby --runtime docker with --docker-data-root',
    );
    const w = docker.cli(['exec', dname, '/bin/busybox', 'sh', '-c', `echo 5 > ${REL}`]);
    t.not(w.status, 0, 'the container cannot write its own /proc/sys (Docker mounts it read-only)');
    const miss = netns(['sysctl', '--container', dname, '-n', KEY]);
    t.equal(miss.status, 1, 'without the roots: not found');
    t.match(miss.stderr, /ENOENT: no container matches/);
    const d = netns(['diff', '--container', dname, ...dockerFlags]);
    t.equal(d.status, 0, d.stderr);
    t.match(d.stdout, new RegExp(`${KEY_RE} +\\d+ +610 `), 'netns diff --container NAME: its value beside the host');
  },
);

t.test(
  "Podman (rootful, runc): run --sysctl read back; by name and id; state in runc's root, names beside the bundle",
  async (t) => {
    t.match(pid, /^[0-9a-f]{64}$/);
    t.ok(ppid > 0, `podman inspect gives the init pid (${ppid})`);
    t.not(nsOf(ppid), fs.readlinkSync('/proc/self/ns/net'), '--network none: a namespace of its own');
    t.ok(fs.existsSync(`/run/runc/${pid}/state.json`), "runc's state in its default root, /run/runc/ID");
    const c = listContainers({ runtime: 'podman' }).find((x) => x.id === pid);
    t.same(
      c && [c.runtime, c.oci, c.name, c.pid, c.running],
      ['podman', 'runc', pname, ppid, true],
      'found by default, as podman, with its name',
    );
    t.equal(c?.annotations['io.container.manager'], 'libpod');
    t.equal(
      c?.bundle,
      path.join(podman.root, 'vfs-containers', pid, 'userdata'),
      'the bundle: GRAPHROOT/DRIVER-containers/ID/userdata',
    );
    t.equal(bundleSysctl(c)?.[KEY], '601', "the bundle's config.json has what podman run --sysctl asked for");
    t.match(
      bundleSysctl(c),
      { 'net.ipv4.ping_group_range': '0 0' },
      "and containers.conf's default_sysctls (Podman's own default)",
    );

    for (const q of [pname, pid]) {
      using ns = NetNamespace.fromContainer(q);
      t.equal(`net:[${ns.ino}]`, nsOf(ppid), `fromContainer(${JSON.stringify(q)})`);
      t.equal(ns.sysctl.get(KEY), 601, 'podman run --sysctl set 601 there');
    }
    {
      using ns = NetNamespace.fromContainer(pname, { runtime: 'podman' });
      t.equal(`net:[${ns.ino}]`, nsOf(ppid), '--runtime podman');
    }
    const set = netns(['sysctl', '--container', pname, '-w', `${KEY}=602`]);
    t.equal(set.status, 0, set.stderr);
    t.equal(
      podman.cli(['exec', pname, '/bin/busybox', 'cat', REL]).stdout.trim(),
      '602',
      'netns sysctl --container NAME -w reached the container (podman exec sees it)',
    );
    const get = netns(['sysctl', '--container', pid, '--runtime', 'podman', '-n', KEY]);
    t.equal(get.stdout, '602\n', 'netns sysctl --container ID --runtime podman');
    const why = netns(['explain', '--container', pname, KEY, 'net.ipv4.ping_group_range', '--json']);
    t.equal(why.status, 0, why.stderr);
    const from = (JSON.parse(why.stdout) as { keys: { key: string; provenance: { kind: string } }[] }).keys.map((k) => [
      k.key,
      k.provenance.kind,
    ]);
    t.same(
      from,
      [
        ['net.ipv4.ping_group_range', 'spec'],
        [KEY, 'changed'],
      ],
      "explain: Podman's default_sysctls are the spec's; --sysctl 601 changed to 602 since the start",
    );
    const ex = netns(['exec', '--container', pname, '--', 'cat', REL]);
    t.equal(ex.status, 0, ex.stderr);
    t.equal(ex.stdout, '602\n', 'netns exec --container NAME');
    t.not(
      podman.cli(['exec', pname, '/bin/busybox', 'sh', '-c', `echo 5 > ${REL}`]).status,
      0,
      'read-only to the container itself',
    );
  },
);

t.test("netns list and netns diff --all name both engines' containers", async (t) => {
  const table = netns(['list'], dockerEnv);
  t.equal(table.status, 0, table.stderr);
  const row = (p: number) => table.stdout.split('\n').find((l) => new RegExp(`\\s${p}\\s`).test(l));
  t.match(
    row(dpid),
    new RegExp(`\\sdocker\\s+${did.slice(0, 12)}\\s+${dname}\\s+/bin/busybox sleep 3600$`),
    'netns list: docker, 12 digits of the id, its name',
  );
  t.match(
    row(ppid),
    new RegExp(`\\spodman\\s+${pid.slice(0, 12)}\\s+${pname}\\s+/bin/busybox sleep 3600$`),
    'and podman',
  );
  const js = JSON.parse(netns(['list', '--json', '--runtime', 'docker', ...dockerFlags]).stdout) as {
    pids: number[];
    containers: unknown[];
  }[];
  t.same(js.find((e) => e.pids.includes(dpid))?.containers, [
    { runtime: 'docker', oci: 'runc', id: did, name: dname, pid: dpid },
  ]);
  t.notOk(
    js.some((e) => e.pids.includes(ppid) && e.containers.length > 0),
    "--runtime docker leaves Podman's out",
  );

  // The audit, as an operator runs it: every container's namespace against a policy file.
  const dir = fs.mkdtempSync('/tmp/netns-engines-expect-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const expect = path.join(dir, '90-net.conf');
  fs.writeFileSync(expect, `${KEY} = 600\n`);
  const all = netns(['diff', '--all', '--json', '--expect', expect], dockerEnv);
  t.equal(all.status, 1, 'exit 1: a container deviates');
  const report = JSON.parse(all.stdout) as {
    targets: {
      pids: number[];
      containers: { id: string; runtime: string }[];
      deviations: { key: string; value: string }[];
    }[];
  };
  const dt = report.targets.find((x) => x.pids.includes(dpid));
  const pt = report.targets.find((x) => x.pids.includes(ppid));
  t.same(
    dt?.containers.map((c) => [c.runtime, c.id]),
    [['docker', did]],
  );
  t.same(
    pt?.containers.map((c) => [c.runtime, c.id]),
    [['podman', pid]],
  );
  t.same(
    dt?.deviations.map((d) => [d.key, d.value]),
    [[KEY, '610']],
    "Docker's container deviates with 610",
  );
  t.same(
    pt?.deviations.map((d) => [d.key, d.value]),
    [[KEY, '602']],
    "Podman's with 602",
  );
  const text = netns(['diff', '--all', '--runtime', 'podman', '--expect', expect]);
  t.equal(text.status, 1);
  t.match(
    text.stdout,
    new RegExp(`podman ${pid}.* ${pname}|podman ${pid.slice(0, 12)}.* ${pname}`),
    'the plain report names the Podman container',
  );
  t.match(text.stdout, new RegExp(`netns sysctl --container ${pid} -w ${KEY_RE}=600`), 'and its remedy');

  // Put both to the policy: the audit passes for each engine.
  t.equal(netns(['sysctl', '--container', dname, '-w', `${KEY}=600`], dockerEnv).status, 0);
  t.equal(netns(['sysctl', '--container', pname, '-w', `${KEY}=600`]).status, 0);
  for (const runtime of ['docker', 'podman']) {
    const ok = netns(['diff', '--all', '--runtime', runtime, '--expect', expect], dockerEnv);
    t.equal(ok.status, 0, `diff --all --runtime ${runtime}: ${ok.stdout}${ok.stderr}`);
    t.match(ok.stdout, /0 of [1-9]\d* namespaces deviate/);
  }
});

t.test(
  "stopped: containers, daemons, mounts, cgroups, directories gone; the host's network and /proc/sys/net unchanged",
  async (t) => {
    const t0 = Date.now();
    docker.stop();
    podman.stop();
    t.comment(`both stopped and removed in ${Date.now() - t0} ms`);
    for (const e of [docker, podman]) {
      t.notOk(fs.existsSync(e.dir), `${e.dir} removed`);
      const mounts = fs
        .readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .filter((l) => l.split(' ')[4]?.startsWith(e.dir));
      t.same(mounts, [], 'no mount left below it');
      const procs = fs
        .readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .filter((p) => {
          try {
            return (
              fs.readFileSync(`/proc/${p}/cmdline`, 'latin1').includes(e.dir) ||
              fs.readFileSync(`/proc/${p}/cgroup`, 'latin1').includes(`/${e.cgroup}`)
            );
          } catch {
            return false;
          }
        });
      t.same(procs, [], 'no process of its left');
      const cg = spawnSync('find', ['/sys/fs/cgroup', '-maxdepth', '8', '-type', 'd', '-name', e.cgroup], {
        encoding: 'utf8',
      }).stdout;
      t.equal(cg, '', `no cgroup ${e.cgroup} left`);
    }
    t.notOk(fs.existsSync(`/run/runc/${pid}`), "Podman's runc state removed");
    t.equal(
      readCache(),
      cacheBefore,
      "containers/image's blob-info cache in /var/lib/containers is as before (or absent again)",
    );
    t.notOk(
      fs.existsSync(`/proc/${dpid}`) && fs.readFileSync(`/proc/${dpid}/cmdline`, 'latin1').includes('sleep'),
      "the Docker container's init is gone",
    );
    t.same(hostNetwork(), netBefore, "the host's interfaces, addresses, routes, rules and iptables are as before");
    const sysAfter = await underHostLock(procSysNetSnapshot);
    t.same(snapshotDiff(sysBefore, sysAfter), [], "the host's /proc/sys/net is byte-identical before and after");
  },
);
