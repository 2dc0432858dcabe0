// netns apply against real runtimes the test starts itself: runc containers under a root of the
// test's own (one whose spec sets a sysctl) and containerd pods (its own daemon, a containerd
// namespace of this test only, the CRI plugin's annotations, an app container joining its
// sandbox's namespace). The CLI sees only them (NETNS_CONTAINER_ROOTS). What must hold:
// apply makes `diff --all --expect` pass, changes nothing on the host, dry-run changes nothing,
// a failing namespace is left as it was while the others are applied (or, all-or-nothing,
// every namespace is restored), spec keys are kept unless --override-spec, keys that cannot
// be set per namespace are refused, and selection narrows the run.
import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NetNamespace } from '../lib/index.js';
import { holdHostLock } from './helpers.js';
import { netnsCli, vethInside } from './apply-env.js';
import * as env from './containers-env.js';

// Needs: root, runc, containerd + ctr, ip, a static /bin/busybox (.ci/run installs them).
env.requireRuntimes(t, ['runc', 'containerd', 'ctr', 'ip', 'nsenter']);
const { containerId, criAnnotations, ctrRun, runcBundle, runcRun, startContainerd, tempDir } = env;

interface Fleet {
  /** NETNS_CONTAINER_ROOTS: this test's runc root and containerd namespace only. */
  env: Record<string, string>;
  /** The init pid of each namespace's first container, by a short name. */
  pids: Record<'plain' | 'spec' | 'web' | 'db', number>;
  /** The sandbox's app container (in web's namespace). */
  webApp: number;
  cd: env.Containerd;
  dir: string;
}

/** Two runc containers (one whose spec sets tcp_keepalive_intvl) and two containerd pods. */
async function fleet(t: Test): Promise<Fleet> {
  const dir = tempDir(t, 'netns-apply');
  const root = path.join(dir, 'runc');
  const plain = runcRun(t, containerId('ap-plain'), runcBundle(path.join(dir, 'b-plain')), root);
  const specDir = runcBundle(path.join(dir, 'b-spec'));
  const cfg = JSON.parse(fs.readFileSync(path.join(specDir, 'config.json'), 'utf8'));
  cfg.linux.sysctl = { 'net.ipv4.tcp_keepalive_intvl': '33' };
  fs.writeFileSync(path.join(specDir, 'config.json'), JSON.stringify(cfg));
  const spec = runcRun(t, containerId('ap-spec'), specDir, root);
  const cd = await startContainerd(t);
  const ns = `netns-apply-${process.pid}`;
  const sb = containerId('websb');
  const web = ctrRun(cd, ns, sb, {
    ...criAnnotations('prod', 'web-1', 'x', sb),
    'io.kubernetes.cri.container-type': 'sandbox',
  });
  const app = ctrRun(cd, ns, containerId('webapp'), criAnnotations('prod', 'web-1', 'nginx', sb), web.pid);
  const dsb = containerId('dbsb');
  const db = ctrRun(cd, ns, dsb, {
    ...criAnnotations('staging', 'db-1', 'x', dsb),
    'io.kubernetes.cri.container-type': 'sandbox',
  });
  return {
    env: { NETNS_CONTAINER_ROOTS: `runc=${root}:containerd=/run/containerd/runc/${ns}` },
    pids: { plain: plain.pid, spec: spec.pid, web: web.pid, db: db.pid },
    webApp: app.pid,
    cd,
    dir,
  };
}

const netns = netnsCli;

/** A key's value in the namespace of `pid`. */
function valueIn(pid: number, key: string): string {
  using ns = NetNamespace.fromPid(pid);
  return ns.sysctl.getRaw(key);
}

function policy(dir: string, name: string, lines: string[]): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, `# ${name}\n${lines.join('\n')}\n`);
  return f;
}

const KEYS = [
  'net.ipv4.tcp_keepalive_time',
  'net.core.somaxconn',
  'net.ipv4.conf.lo.rp_filter',
  'net.ipv4.tcp_keepalive_intvl',
];
const hostValues = () =>
  Object.fromEntries(KEYS.map((k) => [k, fs.readFileSync(`/proc/sys/${k.replaceAll('.', '/')}`, 'utf8')]));

interface Report {
  targets: {
    status: string;
    containers: { id: string }[];
    changes: { key: string; from: string | null; to: string }[];
    keptBySpec: { key: string; spec: string }[];
    refused: { key: string; class: string; reason: string }[];
    deviations: { key: string }[];
    error?: { code: string; rolledBack?: string[] };
  }[];
  applied: number;
  failed: number;
  deviating: number;
  restored: boolean;
}

t.test('apply --all: dry run, apply, diff --all --expect passes, the host untouched, spec keys kept', async (t) => {
  const f = await fleet(t);
  const P = policy(f.dir, 'p.conf', [
    'net.ipv4.tcp_keepalive_time = 641',
    'net.core.somaxconn = 1111',
    'net.ipv4.conf.*.rp_filter = 2',
    'kernel.pid_max = 1',
  ]);
  const release = await holdHostLock();
  t.teardown(release);
  const host = hostValues();

  const dry = netns(['apply', '--all', '--dry-run', '--json', P], f.env);
  t.equal(dry.status, 1, 'dry run: the namespaces deviate now');
  const dr = JSON.parse(dry.stdout) as Report;
  t.equal(dr.targets.length, 4, 'four namespaces: two runc containers, two pods (the app shares its sandbox)');
  t.equal(dr.applied, 4, 'each would change');
  t.ok(
    dr.targets.every((x) => x.status === 'dry-run' && x.changes.some((c) => c.key === KEYS[0] && c.from === '7200')),
  );
  for (const pid of Object.values(f.pids)) t.equal(valueIn(pid, KEYS[0]), '7200', 'dry run wrote nothing');
  t.same(
    (JSON.parse(dry.stdout) as { notNet: { key: string }[] }).notNet.map((n) => n.key),
    ['kernel.pid_max'],
  );

  const run = netns(['apply', '--all', P], f.env);
  t.equal(run.status, 0, 'apply: every namespace holds the policy afterwards');
  t.match(run.stderr, /skipped kernel\.pid_max .*not under net/);
  t.match(run.stdout, /4 namespaces: 4 changed, 0 failed; 0 deviate/);
  for (const [name, pid] of Object.entries(f.pids)) {
    t.equal(valueIn(pid, KEYS[0]), '641', `${name}: keepalive`);
    t.equal(valueIn(pid, KEYS[1]), '1111', `${name}: somaxconn`);
    t.equal(valueIn(pid, 'net.ipv4.conf.all.rp_filter'), '2', `${name}: the glob reached conf.all`);
    t.equal(valueIn(pid, 'net.ipv4.conf.lo.rp_filter'), '2', `${name}: and lo`);
  }
  t.equal(valueIn(f.webApp, KEYS[0]), '641', "the app container shares its sandbox's namespace");
  t.equal(valueIn(f.pids.spec, KEYS[3]), '33', "the spec's own key untouched");
  t.same(hostValues(), host, 'the host keeps its values');

  const diff = netns(['diff', '--all', '--expect', P], f.env);
  t.equal(diff.status, 0, 'diff --all --expect agrees');
  t.match(diff.stdout, /0 of 4 namespaces deviate/);
  const again = netns(['apply', '--all', '--json', P], f.env);
  t.equal(again.status, 0);
  t.ok(
    (JSON.parse(again.stdout) as Report).targets.every((x) => x.status === 'unchanged'),
    'a second run changes nothing',
  );

  // A key the container's spec set: kept (and deviating), unless --override-spec.
  const P2 = policy(f.dir, 'p2.conf', ['net.ipv4.tcp_keepalive_intvl = 21']);
  const kept = netns(['apply', '--all', '--json', P2], f.env);
  t.equal(kept.status, 1, 'the spec key deviates');
  const kr = JSON.parse(kept.stdout) as Report;
  const specT = kr.targets.find((x) => x.keptBySpec.length > 0);
  t.same(
    specT?.keptBySpec.map((k) => [k.key, k.spec]),
    [[KEYS[3], '33']],
  );
  t.equal(valueIn(f.pids.spec, KEYS[3]), '33');
  t.equal(valueIn(f.pids.plain, KEYS[3]), '21', 'the others got it');
  t.match(
    netns(['apply', '--all', P2], f.env).stdout,
    /kept net\.ipv4\.tcp_keepalive_intvl = 33: set by the container's spec/,
  );
  const over = netns(['apply', '--all', '--override-spec', P2], f.env);
  t.equal(over.status, 0);
  t.equal(valueIn(f.pids.spec, KEYS[3]), '21', '--override-spec sets it');
  t.same(hostValues(), host, 'the host still keeps its values');
});

/** Host-only, read-only and shared keys beside a per-namespace one. */
const REFUSED = [
  'net.ipv4.tcp_keepalive_time = 643',
  'net.core.netdev_max_backlog = 1001',
  'net.ipv4.tcp_allowed_congestion_control = reno',
  // Shared: enabling it anywhere enables it for the host, for good. Only in a dry run here.
  'net.netfilter.nf_hooks_lwtunnel = 1',
];

t.test('keys that cannot be set per namespace are refused with the reason, never written', async (t) => {
  const f = await fleet(t);
  const P = policy(f.dir, 'r.conf', REFUSED);
  const r = JSON.parse(netns(['apply', '--all', '--dry-run', '--json', P], f.env).stdout) as Report;
  const refused = Object.fromEntries(r.targets[0]!.refused.map((x) => [x.key, x]));
  t.equal(refused['net.core.netdev_max_backlog']?.class, 'host-only');
  t.equal(refused['net.ipv4.tcp_allowed_congestion_control']?.class, 'readonly');
  if (fs.existsSync('/proc/sys/net/netfilter/nf_hooks_lwtunnel')) {
    t.equal(refused['net.netfilter.nf_hooks_lwtunnel']?.class, 'shared');
    t.match(refused['net.netfilter.nf_hooks_lwtunnel']?.reason, /kernel-wide/);
  }
  t.same(
    r.targets[0]!.changes.map((c) => c.key),
    ['net.ipv4.tcp_keepalive_time'],
    'only the per-namespace key would be written',
  );
  // Without the shared key, for real: the rest is applied, the host keeps its values.
  const P2 = policy(
    f.dir,
    'r2.conf',
    fs
      .readFileSync(P, 'utf8')
      .split('\n')
      .filter((l) => !l.includes('lwtunnel')),
  );
  const backlog = fs.readFileSync('/proc/sys/net/core/netdev_max_backlog', 'utf8');
  const run = netns(['apply', '--all', P2], f.env);
  t.equal(run.status, 1, 'refused keys deviate (as diff --all --expect says)');
  t.match(run.stderr, /refused net\.core\.netdev_max_backlog \(.*r2\.conf:\d+\): host-only: .*set it on the host/);
  for (const pid of Object.values(f.pids)) t.equal(valueIn(pid, 'net.ipv4.tcp_keepalive_time'), '643');
  t.equal(fs.readFileSync('/proc/sys/net/core/netdev_max_backlog', 'utf8'), backlog, 'the host-only key untouched');
});

t.test(
  'a namespace that fails is left as it was; the others are applied; --all-or-nothing restores all',
  { skip: fs.existsSync('/proc/sys/net/ipv6') ? false : 'needs IPv6 (an ipv6 MTU write fails in one namespace)' },
  async (t) => {
    const f = await fleet(t);
    // The ipv6 MTU of nsx0 may not exceed the device's: 1400 fits in web's (1500), not in db's (1300).
    vethInside(f.pids.web, 1500);
    vethInside(f.pids.db, 1300);
    const base = policy(f.dir, 'base.conf', ['net.ipv4.tcp_keepalive_time = 644']);
    t.equal(netns(['apply', '--all', base], f.env).status, 0);
    const P = policy(f.dir, 'f.conf', ['net.ipv4.tcp_keepalive_time = 645', 'net.ipv6.conf.nsx*.mtu = 1400']);

    const r = netns(['apply', '--all', '--json', P], f.env);
    t.equal(r.status, 1, 'a namespace failed');
    const rep = JSON.parse(r.stdout) as Report;
    t.equal(rep.failed, 1);
    const failed = rep.targets.find((x) => x.status === 'failed')!;
    t.equal(failed.error?.code, 'EINVAL');
    t.same(failed.error?.rolledBack, ['net.ipv4.tcp_keepalive_time'], 'what it had written was rolled back');
    t.equal(valueIn(f.pids.db, 'net.ipv4.tcp_keepalive_time'), '644', 'the failing namespace is as it was');
    t.equal(valueIn(f.pids.db, 'net.ipv6.conf.nsx0.mtu'), '1300');
    for (const name of ['plain', 'spec', 'web'] as const)
      t.equal(valueIn(f.pids[name], 'net.ipv4.tcp_keepalive_time'), '645', `${name} applied`);
    t.equal(valueIn(f.pids.web, 'net.ipv6.conf.nsx0.mtu'), '1400', "the glob matched web's nsx0");

    // Back to 644 everywhere and web's MTU back to 1500, then the whole run as one transaction.
    t.equal(netns(['apply', '--all', base], f.env).status, 0);
    {
      using web = NetNamespace.fromPid(f.pids.web);
      web.sysctl.set('net.ipv6.conf.nsx0.mtu', 1500);
    }
    const all = netns(['apply', '--all', '--all-or-nothing', '--json', P], f.env);
    t.equal(all.status, 1);
    const ar = JSON.parse(all.stdout) as Report;
    t.equal(ar.restored, true, 'every namespace written was restored');
    const st = ar.targets.map((x) => x.status);
    t.equal(st.filter((s) => s === 'failed').length, 1);
    t.ok(
      st.every((s) => ['restored', 'failed', 'not-attempted'].includes(s)),
      st.join(' '),
    );
    for (const pid of Object.values(f.pids)) t.equal(valueIn(pid, 'net.ipv4.tcp_keepalive_time'), '644');
    t.equal(valueIn(f.pids.web, 'net.ipv6.conf.nsx0.mtu'), '1500', 'the MTU written in web is restored too');
    t.match(netns(['apply', '--all', '--all-or-nothing', P], f.env).stdout, /restored \(--all-or-nothing\)|FAILED/);
  },
);

t.test('selection: runtime, Kubernetes namespace, pod pattern, container name, id', async (t) => {
  const f = await fleet(t);
  const ids = (args: string[]) => {
    const r = netns(['apply', '--all', '--dry-run', '--json', ...args], f.env);
    return (JSON.parse(r.stdout) as Report).targets.map((x) =>
      x.containers
        .map((c) => c.id)
        .sort()
        .join('+'),
    );
  };
  const P = policy(f.dir, 's.conf', ['net.core.somaxconn = 1112']);
  t.equal(ids(['--runtime', 'containerd', P]).length, 2, '--runtime: the two pods');
  t.equal(ids(['--select', 'runtime=runc', P]).length, 2);
  const web = ids(['--select', 'k8s-namespace=prod', '--select', 'pod=web-*', P]);
  t.equal(web.length, 1);
  t.match(web[0], /websb.*\+.*webapp|webapp.*\+.*websb/, "the pod's namespace, with both its containers");
  t.same(ids(['--select', 'name=staging/db-*', P]).length, 1);
  t.same(ids(['--select', 'k8s-namespace=prod', '--select', 'pod=db-*', P]), [], 'every key must match');
  t.same(ids(['--select', 'id=ap-spec-*', P]).length, 1);
  const bad = netns(['apply', '--all', '--select', 'color=red', P], f.env);
  t.equal(bad.status, 2);
  t.match(bad.stderr, /--select expects KEY=PATTERN/);
  t.equal(netns(['apply', P], f.env).status, 2, 'apply needs --all or --watch');
  t.equal(netns(['apply', '--all'], f.env).status, 2, 'and a FILE');
});
