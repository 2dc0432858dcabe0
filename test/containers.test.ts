// Containers as targets, against real runtimes the test starts itself: runc with its default
// root and with Docker's, containerd (its own daemon, config and temp dirs) under k8s.io with
// the CRI plugin's annotations, and crun where it runs. Each container has a network namespace
// of its own; the host's network is not touched. fromContainer, --container, list and
// diff --all must find them, read and write inside, and the container must see the writes
// while its own /proc/sys stays read-only to it.
import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NetNamespace, auditHost } from '../lib/index.js';
import { listContainers } from '../lib/subpaths/containers.js';
import { childEnv, holdHostLock, plainNode, procSysNetSnapshot, snapshotDiff } from './helpers.js';
import {
  DOCKER_RUNC_ROOT,
  containerId,
  criAnnotations,
  detached,
  ctrExec,
  ctrRun,
  missing,
  runcBundle,
  runcExec,
  runcRun,
  startContainerd,
  tempDir,
  tryRun,
} from './containers-env.js';

// Needs: root, runc, containerd + ctr, a static /bin/busybox (.ci/run installs them).
const why = missing(['runc', 'containerd', 'ctr']);
if (why) {
  t.plan(0, why);
  process.exit(0);
}

const CLI = fileURLToPath(new URL('../dist/bin/netns.js', import.meta.url));
function netns(args: string[], env: Record<string, string> = {}) {
  const [cmd, a] = plainNode([CLI, ...args]);
  const r = spawnSync(cmd, a, { encoding: 'utf8', input: '', env: childEnv(env), timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const hostKeepalive = () => fs.readFileSync('/proc/sys/net/ipv4/tcp_keepalive_time', 'utf8').trim();
// Other suites change the host's value for a moment (under /tmp/netns-host.lock): what must
// hold is that the values written here (6xx) never land on the host.
const notOnHost = (t: Test, written: string) => t.not(hostKeepalive(), written, `the host does not get ${written}`);
const nsOf = (pid: number) => fs.readlinkSync(`/proc/${pid}/ns/net`);
const KEY = 'net.ipv4.tcp_keepalive_time';
const REL = '/proc/sys/net/ipv4/tcp_keepalive_time';

t.test(
  'runc, default root: fromContainer by id and prefix, write inside, the container sees it, its /proc/sys read-only',
  async (t) => {
    const dir = tempDir(t, 'netns-runc');
    const c = runcRun(t, containerId('netns-runc'), runcBundle(dir));
    t.not(nsOf(c.pid), fs.readlinkSync('/proc/self/ns/net'), 'the container has a network namespace of its own');

    const found = listContainers().find((x) => x.id === c.id);
    t.ok(found, 'listContainers finds it in /run/runc');
    t.equal(found?.runtime, 'runc');
    t.equal(found?.pid, c.pid);
    t.equal(found?.bundle, dir, "bundle from state.json's bundle= label");
    t.equal(found?.running, true);

    {
      using ns = NetNamespace.fromContainer(c.id);
      t.equal(`net:[${ns.ino}]`, nsOf(c.pid), "the container's namespace");
      t.equal(ns.name, c.id);
      ns.sysctl.set(KEY, 611);
    }
    t.equal(
      runcExec(c, ['/bin/busybox', 'cat', REL]).stdout.trim(),
      '611',
      'runc exec cat sees the value written from outside',
    );
    notOnHost(t, '611');
    t.throws(
      () => NetNamespace.fromContainer(c.id.slice(0, c.id.length - 1), { runtime: 'runc' }),
      { code: 'ENOENT', message: /it begins runc netns-runc-.*matched whole/ },
      'an id a person chose is not matched by its prefix',
    );
    const w = runcExec(c, ['/bin/busybox', 'sh', '-c', `echo 5 > ${REL}`]);
    t.not(w.status, 0, 'the container cannot write its own /proc/sys');
    t.match(w.stderr + w.stdout, /Read-only file system/);
    t.equal(runcExec(c, ['/bin/busybox', 'cat', REL]).stdout.trim(), '611', "unchanged by the container's attempt");

    // The CLI, as an operator types it.
    const r = netns(['sysctl', '--container', c.id, '-w', `${KEY}=600`]);
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stdout, `${KEY} = 600\n`);
    t.equal(
      runcExec(c, ['/bin/busybox', 'cat', REL]).stdout.trim(),
      '600',
      'netns sysctl --container -w reached the container',
    );
    t.equal(netns(['sysctl', '--container', c.id, '-n', KEY]).stdout, '600\n');
    notOnHost(t, '600');

    // Stopped: runc keeps the state directory until delete; the pid is not the recorded process.
    tryRun('runc', ['kill', c.id, 'KILL']);
    for (
      let i = 0;
      i < 100 &&
      fs.existsSync(`/proc/${c.pid}`) &&
      fs.readFileSync(`/proc/${c.pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
      i++
    )
      await new Promise((res) => setTimeout(res, 20));
    for (let i = 0; i < 100 && listContainers().find((x) => x.id === c.id)?.running; i++)
      await new Promise((res) => setTimeout(res, 20));
    t.throws(() => NetNamespace.fromContainer(c.id), {
      code: 'ESRCH',
      message: /container runc netns-runc-\S+ is not running: its init process \d+ has exited.*stopped/,
    });
    const g = netns(['sysctl', '--container', c.id, KEY]);
    t.equal(g.status, 1);
    t.match(g.stderr, /ESRCH: container .* is not running/);
  },
);

t.test("runc with Docker's root: found as docker; list and --runtime name it", async (t) => {
  const dir = tempDir(t, 'netns-moby');
  const id = `${'d0c4e2'}${String(process.pid).padStart(10, '0')}${'a'.repeat(48)}`;
  const c = runcRun(t, id, runcBundle(dir), DOCKER_RUNC_ROOT);
  t.ok(fs.existsSync(path.join(DOCKER_RUNC_ROOT, id, 'state.json')), 'state in /run/docker/runtime-runc/moby');
  {
    using ns = NetNamespace.fromContainer(id.slice(0, 12), { runtime: 'docker' });
    t.equal(`net:[${ns.ino}]`, nsOf(c.pid));
    ns.sysctl.set(KEY, 612);
  }
  t.equal(runcExec(c, ['/bin/busybox', 'cat', REL]).stdout.trim(), '612');
  t.throws(
    () => NetNamespace.fromContainer(id.slice(0, 12), { runtime: 'runc' }),
    { code: 'ENOENT' },
    "not among runc's own",
  );
  const entry = NetNamespace.list().find((e) => e.pids.includes(c.pid));
  t.same(
    entry?.containers.map((x) => [x.runtime, x.id]),
    [['docker', id]],
    'list() names the container in its namespace',
  );
  const table = netns(['list']);
  t.equal(table.status, 0, table.stderr);
  const row = table.stdout.split('\n').find((l) => l.includes(` ${c.pid} `));
  t.match(
    row,
    new RegExp(`\\sdocker\\s+${id.slice(0, 12)}\\s+-\\s+/bin/busybox sleep 600$`),
    'netns list: RUNTIME, CONTAINER (12 digits), CNAME',
  );
  const js = JSON.parse(netns(['list', '--json', '--runtime', 'docker']).stdout) as {
    pids: number[];
    containers: { runtime: string; id: string; pid: number }[];
  }[];
  t.same(js.find((e) => e.pids.includes(c.pid))?.containers, [{ runtime: 'docker', oci: 'runc', id, pid: c.pid }]);
  const r = netns(['diff', '--container', id.slice(0, 12), '--runtime', 'docker']);
  t.equal(r.status, 0, r.stderr);
  t.match(
    r.stdout,
    new RegExp(`${KEY.replaceAll('.', '\\.')} +\\d+ +612 `),
    "diff --container shows the container's value",
  );
});

t.test(
  'containerd (own daemon), k8s.io with CRI annotations: names, --container, ctr task exec sees it, diff --all --expect',
  async (t) => {
    const cd = await startContainerd(t);
    const sandbox = containerId('sb');
    const a = ctrRun(cd, 'k8s.io', containerId('ctd-a'), criAnnotations('prod', 'web-0', 'nginx', sandbox));
    const b = ctrRun(cd, 'k8s.io', containerId('ctd-b'), criAnnotations('prod', 'db-0', 'postgres', containerId('sb')));
    t.not(nsOf(a.pid), nsOf(b.pid), 'each container in a namespace of its own');
    // A second container of pod web-0, in the same namespace as nginx (as a pod's containers are).
    const side = ctrRun(
      cd,
      'k8s.io',
      containerId('ctd-side'),
      criAnnotations('prod', 'web-0', 'sidecar', sandbox),
      a.pid,
    );
    t.equal(nsOf(side.pid), nsOf(a.pid), "the sidecar shares nginx's namespace");
    const shared = NetNamespace.list().find((e) => e.pids.includes(a.pid));
    t.same(
      shared?.containers.map((c) => c.kubernetes?.containerName).sort(),
      ['nginx', 'sidecar'],
      'list(): both containers of the pod in one namespace',
    );
    t.ok(
      fs.existsSync(`/run/containerd/runc/k8s.io/${a.id}/state.json`),
      'the runc shim keeps state in /run/containerd/runc/k8s.io',
    );

    const info = listContainers({ runtime: 'containerd' }).find((x) => x.id === a.id);
    t.equal(info?.namespace, 'k8s.io');
    t.same(info?.kubernetes, {
      podNamespace: 'prod',
      podName: 'web-0',
      podUid: `uid-${sandbox}`,
      sandboxId: sandbox,
      type: 'container',
      containerName: 'nginx',
    });
    t.equal(info?.name, 'nginx');
    t.match(info?.bundle, /io\.containerd\.runtime\.v2\.task\/k8s\.io\//, "bundle under the test daemon's state");

    {
      using ns = NetNamespace.fromContainer('web-0/nginx');
      t.equal(`net:[${ns.ino}]`, nsOf(a.pid), 'POD/CONTAINER names it');
    }
    const r = netns(['sysctl', '--container', 'prod/web-0/nginx', '-w', `${KEY}=600`]);
    t.equal(r.status, 0, r.stderr);
    t.equal(
      ctrExec(cd, 'k8s.io', a.id, ['/bin/busybox', 'cat', REL]).stdout.trim(),
      '600',
      'ctr task exec cat sees it',
    );
    t.equal(
      ctrExec(cd, 'k8s.io', b.id, ['/bin/busybox', 'cat', REL]).stdout.trim(),
      '7200',
      'the other container keeps its own',
    );
    const w = ctrExec(cd, 'k8s.io', a.id, ['/bin/busybox', 'sh', '-c', `echo 5 > ${REL}`]);
    t.not(w.status, 0, 'read-only to the container itself');
    notOnHost(t, '600');

    const list = netns(['list']);
    const lines = list.stdout.split('\n');
    const at = lines.findIndex((l) => l.includes(` ${a.pid} `) || l.includes(` ${side.pid} `));
    const pod = lines.slice(at, at + 2).join('\n');
    t.match(
      pod,
      new RegExp(`\\scontainerd\\s+k8s\\.io/${a.id}\\s+prod/web-0/nginx\\s`),
      'netns list names the pod and container',
    );
    t.match(
      pod,
      new RegExp(`^\\s+containerd\\s+k8s\\.io/${side.id}\\s+prod/web-0/sidecar$`, 'm'),
      "and the pod's other container on a line of its own",
    );

    // The audit: the host read once, each container's namespace compared; the expected file.
    const dir = tempDir(t, 'netns-expect');
    const expect = path.join(dir, '90-net.conf');
    fs.writeFileSync(expect, `# what every container should have\n${KEY} = 7200\nkernel.pid_max = 1\n`);
    const report = auditHost({ expect, containers: { runtime: 'containerd' } });
    const ta = report.targets.find((x) => x.pids.includes(a.pid));
    const tb = report.targets.find((x) => x.pids.includes(b.pid));
    t.same(
      ta?.deviations.map((d) => [d.key, d.value, d.expected, d.where]),
      [[KEY, '600', '7200', `${expect}:2`]],
      'the deviating container',
    );
    t.match(ta?.deviations[0]?.remedy, new RegExp(`^netns sysctl --container ${a.id} -w ${KEY}=7200$`));
    t.same(tb?.deviations, [], 'the other one is as expected');
    t.same(
      ta?.containers.map((c) => c.id).sort(),
      [a.id, side.id].sort(),
      "one target for the pod's namespace, both containers named",
    );
    const diff = ta?.differences.find((d) => d.key === KEY);
    t.same(diff && [diff.value, diff.class], ['600', 'default'], 'difference from the host, with its class');
    t.match(diff?.host, /^\d+$/);
    t.ok(report.deviating >= 1);

    const all = netns(['diff', '--all', '--runtime', 'containerd', '--expect', expect]);
    t.equal(all.status, 1, 'exit status 1: a container deviates');
    t.match(all.stdout, new RegExp(`containerd k8s\\.io/${a.id} prod/web-0/nginx`));
    t.match(
      all.stdout,
      new RegExp(
        `${KEY.replaceAll('.', '\\.')} +\\d+ +600 +- +7200 +default +\\S+ +netns sysctl --container ${a.id} -w ${KEY.replaceAll('.', '\\.')}=7200`,
      ),
    );
    t.match(all.stdout, /\d+ of \d+ namespaces deviate from the expected values/);
    const js = JSON.parse(netns(['diff', '--all', '--json', '--runtime', 'containerd', '--expect', expect]).stdout) as {
      targets: { pids: number[]; deviations: unknown[] }[];
    };
    t.equal(js.targets.find((x) => x.pids.includes(b.pid))?.deviations.length, 0);

    // Put it back as expected: our namespaces pass. (The shim's root is shared: another
    // containerd on a busy host may run containers that deviate; they keep the status at 1.)
    t.equal(netns(['sysctl', '--container', a.id, '-w', `${KEY}=7200`]).status, 0);
    const ok = netns(['diff', '--all', '--json', '--runtime', 'containerd', '--expect', expect]);
    const after = JSON.parse(ok.stdout) as {
      deviating: number;
      targets: { pids: number[]; deviations: unknown[]; drift: unknown[] }[];
    };
    for (const pid of [a.pid, b.pid])
      t.same(
        after.targets.filter((x) => x.pids.includes(pid)).map((x) => [x.deviations.length, x.drift.length]),
        [[0, 0]],
        `pid ${pid}: as expected`,
      );
    t.equal(ok.status, after.deviating > 0 ? 1 : 0, 'with --expect, exit 1 only if some namespace deviates from it');
  },
);

t.test(
  'provenance (issue 26): a runc container with linux.sysctl, on a host changed before its start, changed after: explain --container and diff --all',
  async (t) => {
    // Changes the host's tcp_congestion_control and tcp_keepalive_time for a few seconds, under
    // the host lock; restored in a finally, and the whole of /proc/sys/net compared.
    t.teardown(await holdHostLock());
    const F = (k: string) => `/proc/sys/net/ipv4/${k}`;
    const read = (k: string) => fs.readFileSync(F(k), 'utf8').trim();
    const write = (k: string, v: string) => fs.writeFileSync(F(k), v);
    const before = procSysNetSnapshot();
    const orig = {
      cc: read('tcp_congestion_control'),
      allowed: read('tcp_allowed_congestion_control'),
      time: read('tcp_keepalive_time'),
    };
    // An algorithm other than the host's, not yet allowed if there is one: setting it on the host
    // allows it for every namespace (restored below with the allowed list).
    const avail = read('tcp_available_congestion_control').split(/\s+/);
    const others = avail.filter((a) => a !== orig.cc);
    const alt = others.find((a) => !orig.allowed.split(/\s+/).includes(a)) ?? others[0];
    if (alt === undefined) {
      t.plan(0, `one congestion control algorithm only (${avail.join(' ')}): no host change to make`);
      return;
    }
    const hostTime = orig.time === '601' ? '602' : '601';
    const dir = tempDir(t, 'netns-prov');
    const root = path.join(dir, 'state');
    const env = { NETNS_CONTAINER_ROOTS: `runc=${root}` };
    const SPEC = { 'net.ipv4.tcp_keepalive_probes': '5', 'net/ipv4/tcp_keepalive_intvl': '30' };
    type Row = {
      key: string;
      value: string | null;
      host: string | null;
      fresh: string | null;
      provenance: { kind: string; alternatives?: string[]; spec?: { value: string } };
    };
    const explainJson = (id: string) => {
      const r = netns(['explain', '--container', id, '--json'], env);
      t.equal(r.status, 0, r.stderr);
      const j = JSON.parse(r.stdout) as { containers: { id: string; sysctl: Record<string, string> }[]; keys: Row[] };
      return { j, k: (key: string) => j.keys.find((x) => x.key === `net.ipv4.${key}`)! };
    };
    try {
      write('tcp_congestion_control', alt);
      write('tcp_keepalive_time', hostTime);
      const c = runcRun(t, containerId('netns-prov'), runcBundle(path.join(dir, 'b'), {}, SPEC), root);

      // While the host keeps its changed values.
      const one = explainJson(c.id);
      t.same(
        one.j.containers.map((x) => [x.id, x.sysctl]),
        [[c.id, { 'net.ipv4.tcp_keepalive_probes': '5', 'net.ipv4.tcp_keepalive_intvl': '30' }]],
        "the container and its spec's sysctls, keys in one form",
      );
      t.same(
        [one.k('tcp_keepalive_probes').value, one.k('tcp_keepalive_probes').provenance.kind],
        ['5', 'spec'],
        'set at start by the spec',
      );
      t.equal(one.k('tcp_keepalive_intvl').provenance.kind, 'spec');
      t.same(
        [
          one.k('tcp_keepalive_time').value,
          one.k('tcp_keepalive_time').host,
          one.k('tcp_keepalive_time').provenance.kind,
        ],
        ['7200', hostTime, 'default'],
        "the kernel's default: the host's change before the start did not reach it",
      );
      t.same(
        [one.k('tcp_congestion_control').value, one.k('tcp_congestion_control').provenance.kind],
        [alt, 'inherited'],
        "copied from the host at creation: the host's changed value",
      );

      // After the start: changed inside (as an operator or an application would), and the host restored.
      t.equal(
        netns(
          ['sysctl', '--container', c.id, '-w', 'net.ipv4.tcp_keepalive_intvl=45', 'net.ipv4.tcp_fin_timeout=33'],
          env,
        ).status,
        0,
      );
      write('tcp_congestion_control', orig.cc);
      write('tcp_keepalive_time', orig.time);
      const two = explainJson(c.id);
      const cc = two.k('tcp_congestion_control');
      t.same(
        [cc.value, cc.host, cc.provenance.kind, cc.provenance.alternatives],
        [alt, orig.cc, 'host-changed', ['changed']],
        'the host changed since the start (or it was changed inside: no record tells which)',
      );
      const intvl = two.k('tcp_keepalive_intvl');
      t.same(
        [intvl.value, intvl.provenance.kind, intvl.provenance.spec?.value],
        ['45', 'changed', '30'],
        'changed since the start, away from the spec',
      );
      t.same([two.k('tcp_fin_timeout').value, two.k('tcp_fin_timeout').provenance.kind], ['33', 'changed']);
      t.equal(two.k('tcp_keepalive_probes').provenance.kind, 'spec');
      t.equal(two.k('tcp_keepalive_time').provenance.kind, 'default');

      // The text form, one key.
      const text = netns(['explain', '--container', c.id, 'net.ipv4.tcp_congestion_control'], env);
      t.match(text.stdout, /from: +host-changed \(or changed\): copied from the host/);
      t.match(text.stdout, /spec sets net\.ipv4\.tcp_keepalive_probes=5, net\.ipv4\.tcp_keepalive_intvl=30/);

      // The audit: drift against the spec, no policy file; --json and text; exit 1.
      const all = netns(['diff', '--all', '--json'], env);
      t.equal(all.status, 1, 'a namespace drifts from its spec: exit 1');
      const report = JSON.parse(all.stdout) as {
        drifting: number;
        targets: {
          containers: { id: string }[];
          drift: { key: string; spec: string; value: string; provenance: { kind: string } }[];
          differences: { key: string; provenance: { kind: string } }[];
        }[];
      };
      const mine = report.targets.find((x) => x.containers.some((y) => y.id === c.id))!;
      t.same(
        mine.drift.map((d) => [d.key, d.spec, d.value, d.provenance.kind]),
        [['net.ipv4.tcp_keepalive_intvl', '30', '45', 'changed']],
        'drift since the start, against what the spec asked',
      );
      t.equal(report.drifting, 1);
      t.same(
        Object.fromEntries(
          mine.differences
            .filter((d) => /tcp_(congestion_control|keepalive_probes|fin_timeout)$/.test(d.key))
            .map((d) => [d.key, d.provenance.kind]),
        ),
        {
          'net.ipv4.tcp_congestion_control': 'host-changed',
          'net.ipv4.tcp_fin_timeout': 'changed',
          'net.ipv4.tcp_keepalive_probes': 'spec',
        },
        'each difference from the host with its provenance',
      );
      const plain = netns(['diff', '--all'], env);
      t.equal(plain.status, 1);
      t.match(
        plain.stdout,
        /net\.ipv4\.tcp_keepalive_intvl +\d+ +45 +30 +- +default +changed +netns sysctl --container \S+ -w net\.ipv4\.tcp_keepalive_intvl=30/,
        'KEY HOST VALUE SPEC EXPECTED CLASS FROM REMEDY: the remedy restores the spec value',
      );
      t.match(plain.stdout, /drifts from its spec since the start: net\.ipv4\.tcp_keepalive_intvl 45 \(spec 30/);
      t.match(plain.stdout, /1 of 1 namespaces drift from their containers' specs/);
      // Put back as the spec asked: no drift, exit 0.
      t.equal(netns(['sysctl', '--container', c.id, '-w', 'net.ipv4.tcp_keepalive_intvl=30'], env).status, 0);
      const ok = netns(['diff', '--all'], env);
      t.equal(ok.status, 0, ok.stdout + ok.stderr);
    } finally {
      write('tcp_congestion_control', orig.cc);
      write('tcp_allowed_congestion_control', orig.allowed);
      write('tcp_keepalive_time', orig.time);
      t.same(snapshotDiff(before, procSysNetSnapshot()), [], 'the host /proc/sys/net is as it was');
    }
  },
);

t.test('crun: live only where it runs here', async (t) => {
  if (spawnSync('sh', ['-c', 'command -v crun'], { stdio: 'ignore' }).status !== 0) {
    t.plan(0, 'crun is not installed (its state layout is tested from fabricated roots in test/unit/container-state)');
    return;
  }
  const dir = tempDir(t, 'netns-crun');
  runcBundle(dir);
  const root = path.join(dir, 'state');
  const id = containerId('netns-crun');
  const r = detached('crun', ['--root', root, 'run', '-d', '--bundle', dir, id], dir);
  t.teardown(() => {
    tryRun('crun', ['--root', root, 'kill', id, 'KILL']);
    tryRun('crun', ['--root', root, 'delete', '-f', id]);
  });
  if (r.status !== 0) {
    t.plan(
      0,
      `crun refuses to run here: ${r.stderr.trim().split('\n').pop()} (its layout is tested from fabricated roots)`,
    );
    return;
  }
  const status = JSON.parse(fs.readFileSync(path.join(root, id, 'status'), 'utf8')) as { pid: number };
  using ns = NetNamespace.fromContainer(id, { root, runtime: 'crun' });
  t.equal(`net:[${ns.ino}]`, nsOf(status.pid));
});
