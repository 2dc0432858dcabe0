// The demo (examples/inherited-vs-default.ts, `npm run demo`): its claims, checked against
// independent tools while the host holds the lesson's values, and the host restored after a
// normal run, after SIGTERM / SIGINT in the middle, and rootless as nobody (host byte-identical), and a clean refusal without user namespaces.
import t from 'tap';
import * as fs from 'node:fs';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { childEnv, holdHostLock, plainNode, procSysNetSnapshot, sh, snapshotDiff, stagedRoot } from './helpers.js';

// Needs: root (the demo changes four host sysctls and restores them), util-linux unshare,
// npm, unprivileged user namespaces (the rootless runs as nobody). Changes the host's
// tcp_congestion_control and tcp_keepalive_* for a few seconds (root runs only).
const root = fileURLToPath(new URL('..', import.meta.url));
const demo = root + 'dist/examples/inherited-vs-default.js';
const KEYS = [
  'net.ipv4.tcp_congestion_control',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
];
const TRIO = KEYS.slice(1);
const file = (k: string): string => '/proc/sys/' + k.replaceAll('.', '/');
const hostValues = (): string[] => KEYS.map((k) => fs.readFileSync(file(k), 'utf8').trim());
/** A namespace made by another tool, read by another tool. */
const freshNamespaceValues = (): string[] =>
  sh('unshare', ['-n', 'cat', ...KEYS.map(file)])
    .trimEnd()
    .split('\n');

// The demo changes host values: the file holds the host lock throughout, released after the
// safety net below.
const release = await holdHostLock();
// Safety net: if a demo run failed to restore, put back the keys that still hold a value the
// demo sets (the host is shared: a value someone else set meanwhile is left alone).
const before = hostValues();
const available = fs.readFileSync(file('net.ipv4.tcp_available_congestion_control'), 'utf8').trim().split(/\s+/);
const demoCc = ['bbr', 'cubic', 'reno'].find((a) => a !== before[0] && available.includes(a));
const demoValues = [demoCc, '600', '10', '6'];
t.teardown(async () => {
  try {
    const now = hostValues();
    KEYS.forEach((k, i) => {
      if (now[i] !== before[i] && now[i] === demoValues[i]) fs.writeFileSync(file(k), before[i]!);
    });
  } finally {
    await release();
  }
});

function run(
  args: string[],
  env: Record<string, string> = {},
): ChildProcess & { out: Promise<string>; err: Promise<string>; marker: Promise<void> } {
  const child = spawn(process.execPath, [demo, ...args], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  let onMarker: () => void;
  const marker = new Promise<void>((r) => (onMarker = r));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
    if (err.includes('netns-demo: host changed')) onMarker();
  });
  const closed = new Promise<void>((r) => child.on('close', () => r()));
  return Object.assign(child, { out: closed.then(() => out), err: closed.then(() => err), marker });
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((r) => {
    if (child.exitCode !== null || child.signalCode !== null) r({ code: child.exitCode, signal: child.signalCode });
    else child.on('exit', (code, signal) => r({ code, signal }));
  });
}

t.test('npm run demo: builds, runs, prints the table and the remedies, restores the host', async (t) => {
  const r = spawnSync('npm', ['run', '--silent', 'demo'], {
    cwd: root,
    encoding: 'utf8',
    env: childEnv(),
    timeout: 180_000,
  });
  t.equal(r.status, 0, r.stderr);
  const out = r.stdout;
  t.match(out, /key\s+host\s+clone\s+create\s+verdict/);
  t.match(out, /net\.ipv4\.tcp_congestion_control\s+(\S+)\s+\1\s+\1\s+inherited from host/);
  for (const [k, d] of [
    ['time', 7200],
    ['intvl', 75],
    ['probes', 9],
  ] as const)
    t.match(out, new RegExp(`net\\.ipv4\\.tcp_keepalive_${k}\\s+\\d+\\s+${d}\\s+${d}\\s+reset to kernel default`));
  t.match(out, /container now sees from inside:\s+600 10 6\s+✔/);
  t.match(out, /the command's own first read: \S+ 600 10 6\s+✔ \(exit 0\)/);
  t.match(out, /Host restored: 4 key\(s\) changed, 4 restored\./);
  t.notMatch(out, /✘/);
  t.same(hostValues(), before, 'host values restored');
});

t.test('--json: the claims hold while the host holds the lesson values', async (t) => {
  const child = run(['--json'], { NETNS_DEMO_PAUSE_AFTER_HOST_CHANGE: '800' });
  t.teardown(() => child.kill('SIGKILL'));
  await child.marker;
  // Independent checks while the host is changed: values read from /proc, a namespace made
  // by unshare(1).
  const host = hostValues();
  t.same(host.slice(1), ['600', '10', '6'], 'the host holds the lesson keepalive values');
  t.not(host[0], before[0], 'congestion control changed to another algorithm');
  const fresh = freshNamespaceValues();
  t.equal(fresh[0], host[0], 'a new namespace copies congestion control from the host');
  t.same(fresh.slice(1), ['7200', '75', '9'], 'a new namespace gets the kernel defaults for the keepalive trio');

  const { code } = await exitOf(child);
  t.equal(code, 0, await child.err);
  const doc = JSON.parse(await child.out);
  t.equal(doc.ok, true);
  t.same(doc.original, Object.fromEntries(KEYS.map((k, i) => [k, before[i]])));
  t.same(doc.host, Object.fromEntries(KEYS.map((k, i) => [k, host[i]])));
  for (const ns of [doc.clone.values, doc.create.values]) {
    t.equal(ns['net.ipv4.tcp_congestion_control'], host[0]);
    t.same(
      TRIO.map((k) => ns[k]),
      ['7200', '75', '9'],
    );
  }
  t.same(
    doc.table.map((r: { key: string; verdict: string }) => [r.key, r.verdict]),
    [['net.ipv4.tcp_congestion_control', 'inherited from host'], ...TRIO.map((k) => [k, 'reset to kernel default'])],
  );
  t.not(doc.clone.netnsId, doc.create.netnsId);
  t.same(doc.remedies.nsenter.before, Object.fromEntries(TRIO.map((k, i) => [k, ['7200', '75', '9'][i]])));
  t.same(doc.remedies.nsenter.after, Object.fromEntries(TRIO.map((k, i) => [k, ['600', '10', '6'][i]])));
  t.same(doc.remedies.dockerSysctl.seen, {
    ...Object.fromEntries(TRIO.map((k, i) => [k, ['600', '10', '6'][i]])),
    'net.ipv4.tcp_congestion_control': host[0],
  });
  t.equal(doc.remedies.dockerSysctl.exitCode, 0);
  t.same(doc.changed.sort(), [...KEYS].sort());
  t.ok(doc.restored.every((r: { ok: boolean }) => r.ok));
  t.same(hostValues(), before, 'host values restored');
});

for (const [sig, status] of [
  ['SIGTERM', 143],
  ['SIGINT', 130],
] as const) {
  t.test(`${sig} right after the host was changed: the host is restored`, async (t) => {
    const child = run([], { NETNS_DEMO_PAUSE_AFTER_HOST_CHANGE: '30000' });
    t.teardown(() => child.kill('SIGKILL'));
    await child.marker;
    t.same(hostValues().slice(1), ['600', '10', '6'], 'changed at the marker');
    child.kill(sig);
    const { code } = await exitOf(child);
    t.equal(code, status);
    t.same(hostValues(), before, 'host values restored');
    const out = await child.out;
    t.match(out, new RegExp(`Interrupted by ${sig}\\.`));
    t.match(out, /Host restored: 4 key\(s\) changed, 4 restored\./);
  });
}

/** Run the built demo as nobody (uid/gid 65534), free of tap's tracker; `wrap` goes in front of node. */
function asNobody(args: string[], wrap: string[] = []) {
  // From a copy nobody can read (the checkout may be in a 0700 home).
  const [cmd, a] = plainNode([stagedRoot() + 'dist/examples/inherited-vs-default.js', ...args]);
  const argv = [...wrap, cmd, ...a];
  return spawnSync(argv[0]!, argv.slice(1), {
    encoding: 'utf8',
    uid: 65534,
    gid: 65534,
    cwd: '/',
    env: childEnv(),
    timeout: 120_000,
  });
}

t.test('as nobody: rootless mode, the table and both remedies, the host not changed', async (t) => {
  const snapBefore = procSysNetSnapshot();
  const r = asNobody([]);
  const snapAfter = procSysNetSnapshot();
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stderr, '', 'nothing on stderr');
  const out = r.stdout;
  t.match(out, /Rootless mode \(uid 65534, not root on the host\): nothing on the host is changed/);
  t.match(out, /key\s+host\s+clone\s+create\s+verdict/);
  t.match(out, /net\.ipv4\.tcp_congestion_control\s+(\S+)\s+\1\s+\1\s+inherited from host/);
  t.equal(
    out.match(/net\.ipv4\.tcp_congestion_control\s+(\S+)\s/)?.[1],
    before[0],
    'the host column is the host value',
  );
  for (const [k, d] of [
    ['time', 7200],
    ['intvl', 75],
    ['probes', 9],
  ] as const)
    t.match(
      out,
      new RegExp(`net\\.ipv4\\.tcp_keepalive_${k}\\s+\\d+\\s+${d}\\s+${d}\\s+reset to kernel default`),
      `keepalive_${k}: ${d} in both new namespaces`,
    );
  t.match(out, /tcp_sk_init\(\) in net\/ipv4\/tcp_ipv4\.c/, 'explained by the kernel rule');
  t.match(
    out,
    /net\.ipv4\.tcp_keepalive_time\s+600\s+7200\s+reset to kernel default/,
    'one level down: set to 600, a namespace made there gets 7200',
  );
  t.match(out, /cannot be entered by pid the nsenter way/, 'says the by-pid way is closed without privileges');
  t.match(out, /container now sees from inside:\s+600 10 6\s+✔/);
  t.match(out, /the command's own first read: \S+ 600 10 6\s+✔ \(exit 0\)/);
  t.match(out, /Host not changed/);
  t.notMatch(out, /✘/);
  t.same(snapshotDiff(snapBefore, snapAfter), [], "the host's /proc/sys/net is byte-identical before and after");
  t.same(hostValues(), before);
});

t.test('as nobody, --json: the same data, mode rootless', async (t) => {
  const r = asNobody(['--json']);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stderr, '');
  const doc = JSON.parse(r.stdout);
  t.equal(doc.ok, true);
  t.equal(doc.mode, 'rootless');
  t.same(doc.original, Object.fromEntries(KEYS.map((k, i) => [k, before[i]])));
  t.same(doc.host, doc.original);
  t.equal(doc.clone.user, true, 'cloneNetns({ user: true })');
  for (const ns of [doc.clone.values, doc.create.values]) {
    t.equal(ns['net.ipv4.tcp_congestion_control'], before[0]);
    t.same(
      TRIO.map((k) => ns[k]),
      ['7200', '75', '9'],
    );
  }
  t.same(
    doc.table.map((r: { key: string; verdict: string }) => [r.key, r.verdict]),
    [['net.ipv4.tcp_congestion_control', 'inherited from host'], ...TRIO.map((k) => [k, 'reset to kernel default'])],
  );
  t.same(
    doc.nested.rows.slice(1).map((r: { child: string }) => r.child),
    ['7200', '75', '9'],
  );
  t.equal(
    doc.nested.rows[0].child,
    before[0],
    "a namespace made inside one gets the host's congestion control, not its creator's",
  );
  t.equal(doc.remedies.nsenter.byPid.ok, false);
  t.equal(doc.remedies.nsenter.byPid.error, 'EPERM');
  t.same(doc.remedies.nsenter.after, Object.fromEntries(TRIO.map((k, i) => [k, ['600', '10', '6'][i]])));
  t.same(
    TRIO.map((k) => doc.remedies.dockerSysctl.seen[k]),
    ['600', '10', '6'],
  );
  t.equal(
    doc.remedies.dockerSysctl.seen['net.ipv4.tcp_congestion_control'],
    doc.remedies.dockerSysctl.presets['net.ipv4.tcp_congestion_control'],
  );
  t.equal(doc.remedies.dockerSysctl.exitCode, 0);
  t.same(doc.changed, []);
  t.equal(doc.hostUnchanged, true);
  t.same(hostValues(), before);
});

t.test('without root and without user namespaces: says what it needs, exits 2, touches nothing', async (t) => {
  // nobody makes a user namespace of its own and sets user.max_user_namespaces = 0 inside it:
  // there it is uid 0 but not root on the host, and cannot make further user namespaces.
  const wrap = ['unshare', '-Ur', 'sh', '-c', 'echo 0 > /proc/sys/user/max_user_namespaces && exec "$0" "$@"'];
  const snapBefore = procSysNetSnapshot();
  const r = asNobody([], wrap);
  t.equal(r.status, 2, r.stderr);
  t.match(r.stderr, /needs root .* or unprivileged user namespaces/);
  t.match(r.stderr, /user\.max_user_namespaces = 0/);
  t.equal(r.stdout, '');
  const j = asNobody(['--json'], wrap);
  t.equal(j.status, 2);
  t.match(JSON.parse(j.stdout), { ok: false, error: 'needs-root-or-userns', reason: /max_user_namespaces/ });
  t.same(snapshotDiff(snapBefore, procSysNetSnapshot()), []);
  t.same(hostValues(), before);
});
