// The `netns` command (dist/bin/netns.js) run as a child process, with sysctl(8), nsenter and
// `ip netns` as the oracles for the same keys in the same namespaces.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { NetNamespace, auditNamespace, valuesEqual } from '../lib/index.js';
import {
  HOST_NS,
  childEnv,
  cleanupName,
  exited,
  ipNetnsAdd,
  plainNode,
  sh,
  stagedRoot,
  uniqueName,
  unshareSleep,
} from './helpers.js';

// Needs: root (namespaces, bind mounts under /run/netns), iproute2, util-linux (nsenter,
// unshare, script), procps sysctl. Every namespace here is made by the test and named ntcli-*.
const root = fileURLToPath(new URL('..', import.meta.url));
const CLI = path.join(root, 'dist/bin/netns.js');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
};

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function netns(args: string[], opts: { input?: string; env?: Record<string, string>; preload?: string } = {}): Run {
  const nodeArgs = opts.preload ? ['--import', opts.preload, CLI, ...args] : [CLI, ...args];
  const [cmd, a] = plainNode(nodeArgs);
  const r = spawnSync(cmd, a, {
    encoding: 'utf8',
    input: opts.input ?? '',
    env: childEnv(opts.env ?? {}),
    timeout: 60_000,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** The oracle: sysctl(8) run inside the namespace by nsenter, with a private UTS namespace. */
function oracle(nsPath: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('nsenter', [`--net=${nsPath}`, 'unshare', '-u', 'sysctl', ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function oracleValue(nsPath: string, key: string): string {
  return oracle(nsPath, ['-n', key]).stdout.replace(/\n$/, '');
}

function lines(s: string): string[] {
  return s.split('\n').filter((l) => l !== '');
}

/** A named namespace made with `ip netns add` (removed at teardown); returns [name, path]. */
function namedNs(t: Parameters<typeof ipNetnsAdd>[0]): [string, string] {
  const name = ipNetnsAdd(t, 'ntcli');
  return [name, `/run/netns/${name}`];
}

/** A module for `node --import` in a temporary directory (removed at teardown); its file: URL. */
function preloadModule(t: Parameters<typeof ipNetnsAdd>[0], text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ntcli-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'preload.mjs');
  fs.writeFileSync(file, text);
  return pathToFileURL(file).href;
}

/** One line on stderr, prefixed, without a stack trace. */
function oneErrorLine(t: Parameters<typeof ipNetnsAdd>[0], r: Run, re: RegExp): void {
  const errLines = lines(r.stderr);
  t.equal(errLines.length, 1, `one line on stderr: ${r.stderr}`);
  t.match(errLines[0], /^netns: /);
  t.match(errLines[0], re);
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

t.test('build: bin entry, shebang, executable', async (t) => {
  t.equal(pkg.bin.netns, 'dist/bin/netns.js');
  const text = fs.readFileSync(CLI, 'utf8');
  t.ok(text.startsWith('#!/usr/bin/env node\n'), 'shebang kept in the compiled file');
  t.ok((fs.statSync(CLI).mode & 0o111) !== 0, 'executable');
  // env -u: tap would re-inject its loaders into this child (see plainNode).
  const r = spawnSync('env', ['-u', 'NODE_OPTIONS', CLI, '--version'], { encoding: 'utf8', env: childEnv() });
  t.equal(r.status, 0, 'runs directly through the shebang');
  t.equal(r.stdout, `netns ${pkg.version}\n`);
});

t.test('help: netns --help and COMMAND --help, with examples', async (t) => {
  const main = netns(['--help']);
  t.equal(main.status, 0);
  t.match(main.stdout, /^Usage: netns COMMAND/);
  const commands = ['sysctl', 'list', 'create', 'delete', 'exec', 'explain', 'diff'];
  for (const c of commands) {
    t.match(main.stdout, new RegExp(`\\n  ${c} +\\S`), `main help lists ${c}`);
    for (const form of [
      [c, '--help'],
      [c, '-h'],
      ['help', c],
    ]) {
      const r = netns(form);
      t.equal(r.status, 0, `${form.join(' ')}: exit 0`);
      t.match(r.stdout, new RegExp(`^Usage: netns ${c}`), `${form.join(' ')}: usage line`);
      t.equal(r.stderr, '');
    }
    const r = netns([c, '--help']);
    t.match(r.stdout, /\nExamples?:\n {2}netns /, `${c}: examples`);
    t.ok(lines(r.stdout).length < 45, `${c}: help is short`);
  }
  const none = netns([]);
  t.equal(none.status, 2, 'no command: usage error');
  t.match(none.stderr, /^Usage: netns/);
  t.equal(netns(['-V']).stdout, `netns ${pkg.version}\n`);
});

t.test('exit code 2: usage errors, one line with a hint', async (t) => {
  const cases: [string[], RegExp][] = [
    [['frobnicate'], /unknown command "frobnicate"/],
    [['sysctl', '--pid', 'abc', 'net.core.somaxconn'], /--pid expects a process id/],
    [['sysctl', '--pid', '1', '--name', 'x', 'net.core.somaxconn'], /at most one of/],
    [['sysctl', '--pid'], /argument missing/],
    [['sysctl', '--atomic', 'net.core.somaxconn', 'net.core.somaxconn=5'], /either reads .* or writes/],
    [['exec', '--new'], /no COMMAND/],
    [['exec', '--new', '--pid', '1', '--', 'true'], /exclude each other/],
    [['exec', '--sysctl', 'nokey', '--', 'true'], /expected KEY=VALUE/],
    [['diff'], /needs a target/],
    [['diff', '--devices'], /--devices goes with a target/],
    [['create'], /exactly one NAME/],
    [['delete'], /at least one NAME/],
    [['list', 'extra'], /unexpected argument/],
  ];
  for (const [args, re] of cases) {
    const r = netns(args);
    t.equal(r.status, 2, `${args.join(' ')}: exit 2`);
    oneErrorLine(t, r, re);
    t.match(r.stderr, /Try 'netns (\w+ )?--help'/, 'points at the help');
    t.equal(r.stdout, '', 'nothing on stdout');
  }
});

t.test('exit code 1: operations that fail, with the hints the library gives', async (t) => {
  const [name] = namedNs(t);
  // Key not in this namespace: host-only keys get the host-only hint.
  const hostOnly = netns(['sysctl', '--name', name, 'net.core.netdev_max_backlog']);
  t.equal(hostOnly.status, 1);
  oneErrorLine(t, hostOnly, /ENOENT.*host-only/);
  const typo = netns(['sysctl', '--name', name, 'net.ipv4.tcp_keepalive_tim']);
  t.equal(typo.status, 1);
  oneErrorLine(t, typo, /does not exist in this namespace/);
  t.equal(netns(['sysctl', '-e', '--name', name, 'net.ipv4.tcp_keepalive_tim']).status, 0, '-e ignores unknown keys');
  // Value rejected.
  const rejected = netns(['sysctl', '--name', name, '-w', 'net.ipv4.tcp_ecn=99']);
  t.equal(rejected.status, 1);
  oneErrorLine(t, rejected, /EINVAL.*rejected the value "99"/);
  // A key outside net: refused before any file is opened, pointing to sysctl(8); -e ignores it.
  const notNet = netns(['sysctl', 'kernel.pid_max']);
  t.equal(notNet.status, 1);
  oneErrorLine(t, notNet, /^netns: kernel\.pid_max is not a network sysctl.*use sysctl\(8\)/);
  const notNetIgnored = netns(['sysctl', '-e', 'kernel.pid_max', 'kernel.pid_max=1']);
  t.same(
    [notNetIgnored.status, notNetIgnored.stdout, notNetIgnored.stderr],
    [0, '', ''],
    '-e: ignored, as an unknown key',
  );
  // Namespace not found / pid gone.
  const missing = netns(['sysctl', '--name', uniqueName('ntcli-absent'), 'net.core.somaxconn']);
  t.equal(missing.status, 1);
  oneErrorLine(t, missing, /No network namespace named/);
  const gone = spawnSync('true');
  const dead = netns(['sysctl', '--pid', String(gone.pid), 'net.core.somaxconn']);
  t.equal(dead.status, 1);
  oneErrorLine(t, dead, /ESRCH.*has exited/);
  // Permission: a non-root user cannot enter another namespace.
  // nobody runs the CLI from a copy it can read (the checkout may be in a 0700 home).
  const nobodyCli = path.join(stagedRoot(), 'dist/bin/netns.js');
  const [cmd, a] = plainNode([nobodyCli, 'sysctl', '--name', name, 'net.core.somaxconn']);
  const nobody = spawnSync(cmd, a, { encoding: 'utf8', uid: 65534, gid: 65534, env: childEnv(), cwd: '/' });
  t.equal(nobody.status, 1, 'nobody: exit 1');
  t.match(nobody.stderr, /^netns: E(PERM|ACCES)/);
  t.equal(lines(nobody.stderr).length, 1);
  // Reading one's own namespace needs nothing.
  const own = spawnSync(cmd, [...a.slice(0, a.indexOf(nobodyCli) + 1), 'sysctl', '-n', 'net.core.somaxconn'], {
    encoding: 'utf8',
    uid: 65534,
    gid: 65534,
    env: childEnv(),
    cwd: '/',
  });
  t.equal(own.status, 0, 'nobody reads its own namespace');
  t.equal(own.stdout.trim(), fs.readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim());
  // -a as nobody: root-only keys (mode 0600) are summarised in one line, as sysctl(8) warns about them.
  const rootOnly = fs
    .readdirSync('/proc/sys/net/core')
    .filter(
      (f) =>
        (fs.statSync(`/proc/sys/net/core/${f}`).mode & 0o044) === 0 &&
        (fs.statSync(`/proc/sys/net/core/${f}`).mode & 0o400) !== 0,
    );
  const allAsNobody = spawnSync(cmd, [...a.slice(0, a.indexOf(nobodyCli) + 1), 'sysctl', '-a'], {
    encoding: 'utf8',
    uid: 65534,
    gid: 65534,
    env: childEnv(),
    cwd: '/',
  });
  t.equal(allAsNobody.status, 0, 'nobody: -a succeeds');
  if (rootOnly.length > 0) oneErrorLine(t, allAsNobody, /keys could not be read without root/);
  else t.equal(allAsNobody.stderr, '');
});

t.test('exit code 255: an internal error, one line; NETNS_DEBUG=1 adds the stack', async (t) => {
  // Break the library from outside: list() throws a plain Error, as a bug would.
  const inject = preloadModule(
    t,
    `import { NetNamespace } from ${JSON.stringify(pathToFileURL(path.join(root, 'dist/index.js')).href)};\n` +
      `NetNamespace.list = () => { throw new Error('injected fault'); };\n`,
  );
  const r = netns(['list'], { preload: inject });
  t.equal(r.status, 255);
  oneErrorLine(t, r, /internal error: injected fault.*NETNS_DEBUG=1/);
  const d = netns(['list'], { preload: inject, env: { NETNS_DEBUG: '1' } });
  t.equal(d.status, 255);
  t.match(d.stderr, /\n\s+at /, 'stack trace with NETNS_DEBUG=1');
  // And NETNS_DEBUG=1 shows the stack of an ordinary failure too.
  const f = netns(['sysctl', 'net.ipv4.no_such_key'], { env: { NETNS_DEBUG: '1' } });
  t.equal(f.status, 1);
  t.match(f.stderr, /\n\s+at /);
});

t.test('sysctl -a equals sysctl(8) -a in the same namespace', async (t) => {
  const [name, nsPath] = namedNs(t);
  // Make a few values differ from the defaults so the comparison is not trivially about them.
  sh('nsenter', [
    `--net=${nsPath}`,
    'sysctl',
    '-q',
    '-w',
    'net.ipv4.tcp_keepalive_time=611',
    'net.ipv4.ip_local_port_range=2000 3111',
  ]);
  const mine = netns(['sysctl', '--name', name, '-a']);
  t.equal(mine.status, 0);
  t.equal(mine.stderr, '');
  const theirs = oracle(nsPath, ['-a', '-r', '^net\\.']);
  const m = lines(mine.stdout).sort();
  const o = lines(theirs.stdout).sort();
  t.ok(o.length > 100, `the oracle lists many keys (${o.length})`);
  const keyOf = (l: string): string => l.slice(0, l.indexOf(' = '));
  t.same(m.map(keyOf), o.map(keyOf), 'same key set (deprecated base_reachable_time/retrans_time hidden by both)');
  t.same(m, o, 'same lines, byte for byte (tabs in values included)');
  for (const l of m) {
    const [k, v] = [keyOf(l), l.slice(l.indexOf(' = ') + 3)];
    const ol = o.find((x) => keyOf(x) === k);
    if (!ol || !valuesEqual(v, ol.slice(ol.indexOf(' = ') + 3))) t.fail(`value of ${k} differs by value`);
  }
  t.ok(m.includes('net.ipv4.tcp_keepalive_time = 611'));
  t.ok(m.includes('net.ipv4.ip_local_port_range = 2000\t3111'), 'tab printed as sysctl(8) prints it');
  t.notOk(
    m.some((l) => /\.(base_reachable_time|retrans_time) = /.test(l)),
    'deprecated keys hidden',
  );

  const dep = lines(netns(['sysctl', '--name', name, '-a', '--deprecated']).stdout).sort();
  const depOracle = lines(oracle(nsPath, ['-a', '--deprecated', '-r', '^net\\.']).stdout).sort();
  t.same(dep, depOracle, '--deprecated: both include them');
  t.ok(dep.some((l) => l.startsWith('net.ipv4.neigh.lo.base_reachable_time = ')));

  for (const pattern of ['keepalive', 'rmem$|wmem$', '^net\\.ipv6\\.conf\\.lo\\.']) {
    const p = lines(netns(['sysctl', '--name', name, '-a', `--pattern=${pattern}`]).stdout).sort();
    const q = lines(netns(['sysctl', '--name', name, '-a', '-r', pattern]).stdout).sort();
    const po = lines(oracle(nsPath, ['-a', '-r', pattern]).stdout)
      .filter((l) => l.startsWith('net.'))
      .sort();
    t.ok(po.length > 0, `${pattern}: oracle matches some keys`);
    t.same(p, po, `-a ${pattern} = sysctl -a -r ${pattern}`);
    t.same(q, p, '-r PATTERN is the same as --pattern=PATTERN');
  }
  const names = lines(netns(['sysctl', '--name', name, '-a', '-N', '-r', 'keepalive']).stdout);
  t.same(
    names,
    lines(oracle(nsPath, ['-a', '-N', '-r', 'keepalive']).stdout)
      .filter((l) => l.startsWith('net.'))
      .sort(),
  );

  const js = JSON.parse(netns(['sysctl', '--name', name, '-a', '--json']).stdout) as {
    values: Record<string, unknown>;
    unreadable: Record<string, string>;
  };
  t.equal(Object.keys(js.values).length, m.length, '--json has every key');
  t.same(js.values['net.ipv4.ip_local_port_range'], [2000, 3111], 'typed values');
  t.equal(js.unreadable['net.ipv4.route.flush'], 'EACCES', 'write-only keys listed as unreadable');
});

t.test('sysctl KEY and -n equal sysctl(8) output', async (t) => {
  const [name, nsPath] = namedNs(t);
  sh('nsenter', [`--net=${nsPath}`, 'sysctl', '-q', '-w', 'net.ipv4.tcp_rmem=4096 87380 1000001']);
  const keys = [
    'net.ipv4.tcp_rmem',
    'net.core.somaxconn',
    'net.ipv4.ip_local_port_range',
    'net/ipv4/tcp_keepalive_time',
    'net.ipv4.conf.lo.forwarding',
  ];
  for (const flags of [[], ['-n'], ['-N']]) {
    const mine = netns(['sysctl', '--name', name, ...flags, ...keys]);
    t.equal(mine.status, 0);
    t.equal(mine.stdout, oracle(nsPath, [...flags, ...keys]).stdout, `sysctl ${flags.join(' ')} KEY...: same bytes`);
  }
  // A directory lists everything beneath it, as sysctl(8) does.
  const dir = lines(netns(['sysctl', '--name', name, 'net.ipv4.conf.lo']).stdout).sort();
  t.same(dir, lines(oracle(nsPath, ['net.ipv4.conf.lo']).stdout).sort(), 'directory key');
  // --pid and --path select the same namespace.
  const child = await unshareSleep(t);
  sh('nsenter', [`--net=/proc/${child.pid}/ns/net`, 'sysctl', '-q', '-w', 'net.core.somaxconn=777']);
  t.equal(netns(['sysctl', '--pid', String(child.pid), '-n', 'net.core.somaxconn']).stdout, '777\n');
  t.equal(netns(['sysctl', '--path', `/proc/${child.pid}/ns/net`, '-n', 'net.core.somaxconn']).stdout, '777\n');
  // No selector: the current namespace.
  t.equal(
    netns(['sysctl', '-n', 'net.core.somaxconn']).stdout,
    fs.readFileSync('/proc/sys/net/core/somaxconn', 'utf8'),
  );
  // --json: typed values and errors.
  const js = netns(['sysctl', '--name', name, '--json', 'net.ipv4.tcp_rmem', 'net.ipv4.nope']);
  t.equal(js.status, 1);
  const parsed = JSON.parse(js.stdout) as { values: Record<string, unknown>; errors: Record<string, { code: string }> };
  t.same(parsed.values, { 'net.ipv4.tcp_rmem': [4096, 87380, 1000001] });
  t.equal(parsed.errors['net.ipv4.nope']?.code, 'ENOENT');
});

t.test('sysctl --atomic -w: effects seen by sysctl(8); one transaction', async (t) => {
  const [name, nsPath] = namedNs(t);
  const w = netns([
    'sysctl',
    '--name',
    name,
    '--atomic',
    '-w',
    'net.ipv4.tcp_keepalive_time=613',
    'net.ipv4.ip_local_port_range = 1024 65000',
    'net.ipv4.tcp_congestion_control=reno',
  ]);
  t.equal(w.status, 0, w.stderr);
  t.equal(
    w.stdout,
    'net.ipv4.tcp_keepalive_time = 613\nnet.ipv4.ip_local_port_range = 1024\t65000\nnet.ipv4.tcp_congestion_control = reno\n',
    'prints key = value as set',
  );
  t.equal(oracleValue(nsPath, 'net.ipv4.tcp_keepalive_time'), '613');
  t.equal(oracleValue(nsPath, 'net.ipv4.ip_local_port_range'), '1024\t65000');
  t.equal(oracleValue(nsPath, 'net.ipv4.tcp_congestion_control'), 'reno');
  t.not(fs.readFileSync('/proc/sys/net/ipv4/tcp_keepalive_time', 'utf8').trim(), '613', 'the host is not touched');
  // KEY=VALUE without -w writes too, as with sysctl(8); -q prints nothing.
  const q = netns(['sysctl', '--name', name, '-q', 'net.ipv4.tcp_keepalive_time=614']);
  t.equal(q.status, 0);
  t.equal(q.stdout, '');
  t.equal(oracleValue(nsPath, 'net.ipv4.tcp_keepalive_time'), '614');
  // All or nothing: a rejected value rolls back the keys already written.
  const bad = netns([
    'sysctl',
    '--name',
    name,
    '--atomic',
    '-w',
    'net.ipv4.tcp_keepalive_time=700',
    'net.ipv4.tcp_ecn=99',
  ]);
  t.equal(bad.status, 1);
  oneErrorLine(t, bad, /tcp_ecn.*Rolled back: net\.ipv4\.tcp_keepalive_time/);
  t.equal(bad.stdout, '');
  t.equal(oracleValue(nsPath, 'net.ipv4.tcp_keepalive_time'), '614', 'rolled back');
  // --json report.
  const js = JSON.parse(
    netns(['sysctl', '--name', name, '-w', '--json', 'net.ipv4.tcp_keepalive_time=614', 'net.core.somaxconn=999'])
      .stdout,
  ) as Record<string, unknown>;
  t.same(js.unchanged, ['net.ipv4.tcp_keepalive_time']);
  t.same(js.changed, ['net.core.somaxconn']);
  t.equal(oracleValue(nsPath, 'net.core.somaxconn'), '999');
});

t.test('sysctl -p: sysctl.d(5) files, as sysctl(8) -p applies them', async (t) => {
  const [name, nsPath] = namedNs(t);
  const [, oraclePath] = namedNs(t);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ntcli-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const swappiness = fs.readFileSync('/proc/sys/vm/swappiness', 'utf8').trim();
  const netLines = [
    '# a comment',
    '; another comment',
    '',
    'net.ipv4.tcp_keepalive_time = 621',
    '   net.ipv4.tcp_keepalive_intvl=12   ',
    'net.ipv4.ip_local_port_range =   1500    2500',
    '-net.ipv4.no_such_key_ntcli = 1',
    'this line has no equals sign',
    'net.ipv4.conf.*.accept_local = 1',
    '-net.ipv4.conf.lo.accept_local',
  ];
  const conf = path.join(dir, 'test.conf');
  // vm.swappiness is not a network key: netns must skip it (and never write it).
  fs.writeFileSync(
    conf,
    [...netLines.slice(0, 6), `vm.swappiness = ${Number(swappiness) === 33 ? 34 : 33}`, ...netLines.slice(6)].join(
      '\n',
    ) + '\n',
  );
  // The oracle gets the same file without the non-net line: sysctl(8) would set it host-wide.
  const oracleConf = path.join(dir, 'oracle.conf');
  fs.writeFileSync(oracleConf, netLines.join('\n') + '\n');

  const mine = netns(['sysctl', '--name', name, '-p', conf]);
  oracle(oraclePath, ['-p', oracleConf]);
  t.equal(mine.status, 0, mine.stderr);
  t.equal(fs.readFileSync('/proc/sys/vm/swappiness', 'utf8').trim(), swappiness, 'the non-net key was not written');
  for (const k of [
    'net.ipv4.tcp_keepalive_time',
    'net.ipv4.tcp_keepalive_intvl',
    'net.ipv4.ip_local_port_range',
    'net.ipv4.conf.all.accept_local',
    'net.ipv4.conf.default.accept_local',
    'net.ipv4.conf.lo.accept_local',
  ])
    t.equal(oracleValue(nsPath, k), oracleValue(oraclePath, k), `${k}: same effect as sysctl -p`);
  t.equal(oracleValue(nsPath, 'net.ipv4.tcp_keepalive_time'), '621');
  t.equal(oracleValue(nsPath, 'net.ipv4.ip_local_port_range'), '1500\t2500');
  t.equal(oracleValue(nsPath, 'net.ipv4.conf.default.accept_local'), '1', 'glob applied');
  // (lo.accept_local may still turn 1 in both: writing conf.default copies the value to every
  // device that has not set its own, a kernel rule; the exclusion only means "do not write lo".)
  t.same(
    lines(mine.stdout),
    [
      'net.ipv4.tcp_keepalive_time = 621',
      'net.ipv4.tcp_keepalive_intvl = 12',
      'net.ipv4.ip_local_port_range = 1500    2500',
      'net.ipv4.conf.all.accept_local = 1',
      'net.ipv4.conf.default.accept_local = 1',
    ],
    'prints what it applied as written, in file order (the excluded lo entry not written)',
  );
  t.same(
    lines(mine.stdout),
    lines(oracle(oraclePath, ['--dry-run', '-p', oracleConf]).stdout),
    'the lines sysctl(8) prints',
  );
  const err = lines(mine.stderr);
  t.ok(
    err.some((l) => /^netns: .*test\.conf:9: invalid syntax/.test(l)),
    'bad line reported with FILE:LINE',
  );
  t.ok(
    err.some((l) => /^netns: skipped vm\.swappiness \(.*test\.conf:7\): not a network sysctl/.test(l)),
    'non-net key skipped with reason',
  );
  t.ok(
    err.some((l) => /^netns: skipped net\.ipv4\.no_such_key_ntcli \(.*test\.conf:8\): ENOENT/.test(l)),
    "'-' key skipped with reason",
  );

  // --atomic: a failing line makes the whole file fail: nothing stays applied.
  const failing = path.join(dir, 'failing.conf');
  fs.writeFileSync(failing, 'net.ipv4.tcp_keepalive_time = 622\nnet.ipv4.tcp_ecn = 99\n');
  const f = netns(['sysctl', '--name', name, '--atomic', '-p', failing]);
  t.equal(f.status, 1);
  oneErrorLine(t, f, /failing\.conf:2: .*EINVAL.*Rolled back/);
  t.equal(oracleValue(nsPath, 'net.ipv4.tcp_keepalive_time'), '621', 'transaction rolled back');
  // Without --atomic, as sysctl(8): every line it can, the failure reported, status 1.
  const be = netns(['sysctl', '--name', name, '-p', failing]);
  t.equal(be.status, 1);
  t.equal(be.stdout, 'net.ipv4.tcp_keepalive_time = 622\n');
  t.match(be.stderr, /failing\.conf:2: setting key "net\.ipv4\.tcp_ecn": Invalid argument/);
  t.equal(oracleValue(nsPath, 'net.ipv4.tcp_keepalive_time'), '622', 'best effort: the good line applied');
  // Unreadable file: exit 1, nothing applied. stdin with '-'.
  t.equal(netns(['sysctl', '--name', name, '-p', path.join(dir, 'absent.conf')]).status, 1);
  const stdin = netns(['sysctl', '--name', name, '-p', '-'], { input: 'net.ipv4.tcp_keepalive_time = 623\n' });
  t.equal(stdin.status, 0);
  t.equal(oracleValue(nsPath, 'net.ipv4.tcp_keepalive_time'), '623');
  // --json gives the report with the skipped and invalid lines.
  const js = JSON.parse(netns(['sysctl', '--name', name, '-p', conf, '--json']).stdout) as Record<string, unknown[]>;
  t.same(js.skipped, ['net.ipv4.no_such_key_ntcli']);
  t.equal((js.notNet as { key: string }[])[0]?.key, 'vm.swappiness');
  t.equal(js.invalid?.length, 1);
});

t.test('exec: presets before the first instruction, status and signals pass through', async (t) => {
  const presets = netns([
    'exec',
    '--sysctl',
    'net.ipv4.tcp_keepalive_time=631',
    '--sysctl',
    'net.core.somaxconn=1231',
    '--',
    'sh',
    '-c',
    'cat /proc/sys/net/ipv4/tcp_keepalive_time /proc/sys/net/core/somaxconn; readlink /proc/self/ns/net',
  ]);
  t.equal(presets.status, 0, presets.stderr);
  const [keep, somax, ns] = lines(presets.stdout);
  t.equal(keep, '631', 'the command reads its preset itself');
  t.equal(somax, '1231');
  t.not(ns, HOST_NS, 'in a new namespace');
  t.equal(
    netns(['exec', '--new', 'readlink', '/proc/self/ns/net']).stdout.trim() === HOST_NS,
    false,
    '--new without --',
  );
  t.equal(
    netns(['exec', '--', 'readlink', '/proc/self/ns/net']).stdout.trim(),
    HOST_NS,
    'no target: the current namespace',
  );
  // A selector: the command runs there, presets are applied there.
  const [name, nsPath] = namedNs(t);
  const inNamed = netns([
    'exec',
    '--name',
    name,
    '--sysctl',
    'net.ipv4.tcp_keepalive_time=632',
    '--',
    'readlink',
    '/proc/self/ns/net',
  ]);
  t.equal(inNamed.stdout.trim(), `net:[${fs.statSync(nsPath).ino}]`);
  t.equal(oracleValue(nsPath, 'net.ipv4.tcp_keepalive_time'), '632');
  // A preset that fails: the command never runs.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ntcli-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const marker = path.join(dir, 'ran');
  const bad = netns(['exec', '--sysctl', 'net.ipv4.tcp_ecn=99', '--', 'touch', marker]);
  t.equal(bad.status, 1);
  oneErrorLine(t, bad, /EINVAL/);
  t.notOk(fs.existsSync(marker), 'command not started');
  // Exit status and signals.
  t.equal(netns(['exec', '--new', '--', 'sh', '-c', 'exit 7']).status, 7);
  t.equal(
    netns(['exec', '--new', '--', 'sh', '-c', 'echo out; echo err >&2']).stdout,
    'out\n',
    'stdout passes through',
  );
  t.equal(netns(['exec', '--new', '--', 'sh', '-c', 'cat'], { input: 'in\n' }).stdout, 'in\n', 'stdin passes through');
  const term = netns(['exec', '--new', '--', 'sh', '-c', 'kill -TERM $$']);
  t.equal(term.signal, 'SIGTERM', 'killed by the same signal');
  t.equal(term.status, null);
  const int = netns(['exec', '--new', '--', 'sh', '-c', 'kill -INT $$']);
  t.equal(int.signal, 'SIGINT');
  const segv = netns(['exec', '--new', '--', 'sh', '-c', 'kill -SEGV $$']);
  t.equal(segv.status, 128 + os.constants.signals.SIGSEGV, 'core-dumping signal: 128+N');
  const nf = netns(['exec', '--new', '--', 'ntcli-no-such-command']);
  t.equal(nf.status, 127);
  oneErrorLine(t, nf, /command not found/);
  t.equal(netns(['exec', '--new', '--', '/proc/self/ns']).status, 126, 'not executable: 126');
});

/** `netns exec --new -- sleep 60` (with `preload`, if given), SIGTERM to netns once sleep runs. */
async function signalReachesCommand(t: Parameters<typeof ipNetnsAdd>[0], preload?: string): Promise<void> {
  const [cmd, a] = plainNode([...(preload ? ['--import', preload] : []), CLI, 'exec', '--new', '--', 'sleep', '60']);
  const cli = spawn(cmd, a, { stdio: 'ignore', env: childEnv() });
  let sleepPid: number | undefined;
  t.teardown(() => {
    cli.kill('SIGKILL');
    if (alive()) process.kill(sleepPid!, 'SIGKILL');
  });
  // Find the sleep, in a namespace of its own, child of the netns process (a minute at most,
  // as for every netns run here: a slow start on a loaded machine is no failure).
  const deadline = Date.now() + 60_000;
  while (sleepPid === undefined && cli.exitCode === null && cli.signalCode === null && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
    for (const p of fs.readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
      try {
        const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'sleep' && isDescendant(ppid, cli.pid!))
          sleepPid = Number(p);
      } catch {
        /* gone */
      }
    }
  }
  if (!t.ok(sleepPid, 'the command started')) return;
  // Its start time tells it from a later process given the same pid.
  const started = startTime(sleepPid!);
  function alive(): boolean {
    if (sleepPid === undefined) return false;
    const st = safeRead(`/proc/${sleepPid}/stat`);
    return st !== '' && startTime(sleepPid) === started;
  }
  t.not(fs.readlinkSync(`/proc/${sleepPid}/ns/net`), HOST_NS, 'in a new namespace');
  // The node process is the grandchild of `env`, which execs it: same pid.
  process.kill(cli.pid!, 'SIGTERM');
  await exited(cli);
  t.equal(cli.signalCode, 'SIGTERM', 'netns died of the signal the command died of');
  // netns re-raises the signal only after it has reaped the command: the command is gone
  // (not a zombie, not reparented) by the time netns has exited.
  t.notOk(alive(), 'the command got the signal, died and was reaped before netns died');
}

/** Field 22 of /proc/PID/stat: when the process started, in clock ticks after boot. */
function startTime(pid: number): string {
  const st = safeRead(`/proc/${pid}/stat`);
  return st.slice(st.lastIndexOf(')') + 2).split(' ')[19] ?? '';
}

t.test('exec: a signal sent to netns reaches the command', async (t) => {
  await signalReachesCommand(t);
});

t.test('exec: a signal that arrives just after the command started reaches it too', async (t) => {
  // Forwarding must be in place before the command starts. A preload holds netns up for 1.5 s
  // right after child_process.spawn returns (as a busy machine may deschedule it there): the
  // test finds the sleep and signals netns within that window.
  const preload = preloadModule(
    t,
    `import cp from 'node:child_process';\n` +
      `import { syncBuiltinESMExports } from 'node:module';\n` +
      `const spawn = cp.spawn;\n` +
      `cp.spawn = function (...a) { const c = spawn.apply(this, a); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1500); return c; };\n` +
      `syncBuiltinESMExports();\n`,
  );
  await signalReachesCommand(t, preload);
});

function safeRead(f: string): string {
  try {
    return fs.readFileSync(f, 'utf8');
  } catch {
    return '';
  }
}

function isDescendant(pid: number, ancestor: number): boolean {
  for (let p = pid, i = 0; p > 1 && i < 10; i++) {
    if (p === ancestor) return true;
    const stat = safeRead(`/proc/${p}/stat`);
    if (!stat) return false;
    p = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  }
  return false;
}

t.test('create / delete are seen by ip netns list; list shows names, pids, command', async (t) => {
  const name = uniqueName('ntcli');
  cleanupName(t, name);
  const c = netns(['create', name]);
  t.equal(c.status, 0, c.stderr);
  t.ok(
    lines(sh('ip', ['netns', 'list'])).some((l) => l.split(' ')[0] === name),
    'ip netns list shows it',
  );
  t.equal(
    sh('ip', ['netns', 'exec', name, 'cat', '/proc/sys/net/core/somaxconn']).trim(),
    netns(['sysctl', '--name', name, '-n', 'net.core.somaxconn']).stdout.trim(),
    'ip netns exec enters the same namespace',
  );
  const again = netns(['create', name]);
  t.equal(again.status, 1);
  oneErrorLine(t, again, /EEXIST.*already exists/);

  const child = await unshareSleep(t);
  const table = netns(['list']);
  t.equal(table.status, 0);
  const [header, ...rows] = lines(table.stdout);
  t.match(header, /^NS +NAMES +NPROCS +PID +RUNTIME +CONTAINER +CNAME +COMMAND$/);
  const ino = String(fs.statSync(`/run/netns/${name}`).ino);
  const named = rows.find((r) => r.startsWith(ino + ' '));
  t.match(named, new RegExp(`^${ino} +${name} +0 +- +- +- +- +-$`), 'named namespace row (no container in it)');
  const sleeper = rows.find((r) => r.includes(` ${child.pid} `));
  t.match(sleeper, /\s1\s+\d+\s+-\s+-\s+-\s+sleep 600$/, 'process row with its command line (no container)');
  const starts = header.indexOf('COMMAND');
  // (A namespace's second and later containers have rows of their own, without a command.)
  t.ok(
    rows.filter((r) => !r.startsWith(' ')).every((r) => r.length >= starts && r[starts - 1] === ' '),
    'columns aligned',
  );
  t.notMatch(table.stdout, /\x1b\[/, 'no colour when stdout is not a terminal');
  const js = JSON.parse(netns(['list', '--json']).stdout) as {
    id: string;
    names: string[];
    pids: number[];
    command?: string;
  }[];
  t.ok(
    js.find((e) => e.names.includes(name)),
    '--json has the named namespace',
  );
  t.equal(js.find((e) => e.pids.includes(child.pid))?.command, 'sleep 600');

  const d = netns(['delete', name]);
  t.equal(d.status, 0, d.stderr);
  t.notOk(
    lines(sh('ip', ['netns', 'list'])).some((l) => l.split(' ')[0] === name),
    'gone from ip netns list',
  );
  const d2 = netns(['delete', name]);
  t.equal(d2.status, 1);
  oneErrorLine(t, d2, /No network namespace named/);
  // ip netns add / netns delete interoperate the other way round too.
  const [other] = namedNs(t);
  t.equal(netns(['delete', other]).status, 0);
  t.notOk(fs.existsSync(`/run/netns/${other}`));
});

t.test('colour only on a terminal, and never with NO_COLOR', async (t) => {
  const [name] = namedNs(t);
  const viaPty = (env: Record<string, string>): string => {
    // script(1) gives the command a pseudo-terminal as stdout.
    const cmdline = ['env', '-u', 'NODE_OPTIONS', process.execPath, CLI, 'diff', '--name', name]
      .map((w) => `'${w}'`)
      .join(' ');
    const e = childEnv(env);
    if (!('NO_COLOR' in env)) delete e.NO_COLOR; // tap sets NO_COLOR=1 for its children
    delete e.FORCE_COLOR;
    return spawnSync('script', ['-qec', cmdline, '/dev/null'], { encoding: 'utf8', env: e }).stdout;
  };
  t.match(viaPty({}), /\x1b\[1m/, 'bold headers on a terminal');
  t.notMatch(viaPty({ NO_COLOR: '1' }), /\x1b\[/, 'NO_COLOR: none');
});

t.test('diff and explain: values that differ from the host, by value; JSON shapes', async (t) => {
  const [name, nsPath] = namedNs(t);
  sh('nsenter', [
    `--net=${nsPath}`,
    'sysctl',
    '-q',
    '-w',
    'net.core.somaxconn=1357',
    'net.ipv4.ip_local_port_range=2001 3001',
  ]);
  const hostSomax = fs.readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim();
  const r = netns(['diff', '--name', name, '--json']);
  t.equal(r.status, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as {
    key: string;
    host: string | null;
    target: string | null;
    class: string;
    how: string;
  }[];
  const somax = rows.find((x) => x.key === 'net.core.somaxconn');
  t.same({ host: somax?.host, target: somax?.target }, { host: hostSomax, target: '1357' });
  t.equal(
    somax?.how,
    `netns sysctl --name ${name} -w net.core.somaxconn=${hostSomax}`,
    'how to set the host value inside',
  );
  t.ok(rows.find((x) => x.key === 'net.ipv4.ip_local_port_range'));
  t.notOk(
    rows.find((x) => x.key === 'net.ipv4.tcp_ecn' && valuesEqual(x.host, x.target)),
    'equal values are not listed',
  );
  t.ok(
    rows.every((x) => x.host === null || x.target === null || !valuesEqual(x.host, x.target)),
    'only differences, compared by value',
  );
  const hostOnly = rows.find((x) => x.key === 'net.core.netdev_max_backlog');
  t.equal(hostOnly?.class, 'host-only');
  t.match(hostOnly?.how, /^cannot/);
  t.notOk(
    rows.some((x) => 'evidence' in x),
    "the rows are the audit's: no evidence (netns explain has it)",
  );
  // One truth: the CLI prints what the library's audit of that one namespace computed.
  const lib = (() => {
    using ns = NetNamespace.fromName(name);
    return auditNamespace(ns, { oneSided: true, selector: ['--name', name] }).targets[0]!;
  })();
  const libRow = (key: string) => [...lib.differences, ...(lib.oneSided ?? [])].find((d) => d.key === key);
  for (const key of ['net.core.somaxconn', 'net.core.netdev_max_backlog']) {
    const mine = rows.find((x) => x.key === key);
    t.same(
      [mine?.class, mine?.how],
      [libRow(key)?.class, libRow(key)?.remedy],
      `${key}: class and remedy are auditNamespace()'s`,
    );
  }
  const text = netns(['diff', '--name', name]);
  t.match(lines(text.stdout)[0], /^KEY +HOST +TARGET +CLASS +SET THE HOST VALUE INSIDE$/);
  t.match(text.stdout, new RegExp(`\\nnet\\.core\\.somaxconn +${hostSomax} +1357 +\\S+ +netns sysctl`));
  // Entries of the host's own devices: hidden, counted, and shown by --devices (--all, the old spelling, too).
  const hostDevs = fs.readdirSync('/proc/sys/net/ipv4/conf').filter((d) => !['all', 'default', 'lo'].includes(d));
  const devKey = /^net\.ipv[46]\.(conf|neigh)\.(?!all\.|default\.|lo\.)/;
  t.notOk(
    rows.some((x) => devKey.test(x.key)),
    'device entries present on one side only: hidden',
  );
  if (hostDevs.length > 0) {
    t.match(text.stdout, /entries of devices present on one side only hidden: .*; --devices shows them/);
    const withDevs = netns(['diff', '--name', name, '--devices', '--json']);
    t.equal(withDevs.status, 0, withDevs.stderr);
    const devRows = (JSON.parse(withDevs.stdout) as { key: string; target: string | null; class: string }[]).filter(
      (x) => devKey.test(x.key),
    );
    t.ok(
      devRows.length > 0 && devRows.every((x) => x.target === null),
      "--devices: the host's device entries, absent in the namespace",
    );
    const old = netns(['diff', '--name', name, '--all', '--json']);
    t.equal(old.status, 0);
    t.match(old.stderr, /--all with a target is now spelled --devices/, 'the old spelling says so');
    t.same(
      (JSON.parse(old.stdout) as { key: string }[]).filter((x) => devKey.test(x.key)).map((x) => x.key),
      devRows.map((x) => x.key),
      'and still means --devices',
    );
  }

  const ex = netns(['explain', '--json', 'net.core.netdev_max_backlog', 'net.ipv4.tcp_keepalive_time']);
  t.equal(ex.status, 0, ex.stderr);
  const exRows = JSON.parse(ex.stdout) as {
    key: string;
    class: string;
    host: string | null;
    child: string | null;
    evidence: object;
  }[];
  t.same(
    exRows.map((e) => e.key),
    ['net.core.netdev_max_backlog', 'net.ipv4.tcp_keepalive_time'],
    'in the order asked',
  );
  for (const e of exRows) for (const f of ['key', 'class', 'host', 'child', 'evidence']) t.ok(f in e, `${e.key}: ${f}`);
  t.equal(exRows[0]?.class, 'host-only');
  t.equal(exRows[0]?.child, null);
  t.equal(exRows[1]?.child, '7200', 'a fresh namespace has the kernel default');
  const all = netns(['explain']);
  t.equal(all.status, 0, all.stderr);
  t.match(lines(all.stdout)[0], /^KEY +HOST +NEW NAMESPACE +CLASS +HOW TO SET IT FOR A CONTAINER$/);
  t.match(all.stdout, /\nnet\.core\.netdev_max_backlog +\d+ +\(absent\) +host-only +cannot/);
  const one = netns(['explain', 'net.core.netdev_max_backlog']);
  t.match(one.stdout, /^net\.core\.netdev_max_backlog\n {2}class: +host-only\n/);
});

t.test(
  'explain --kernel LINE: answers for another kernel line from the rule base, saying where it was verified',
  async (t) => {
    const r = netns(['explain', '--kernel', '6.1', 'net.ipv4.tcp_congestion_control', 'net.ipv4.tcp_keepalive_time']);
    t.equal(r.status, 0, r.stderr);
    t.match(r.stdout, /^answer for 6\.1 from the rule base, verified on 6\.1: Debian 12 linux-image-6\.1/);
    t.match(r.stdout, /\nnet\.ipv4\.tcp_congestion_control\n {2}class: +inherited\n {2}line: +6\.1\n/);
    t.match(r.stdout, /\nnet\.ipv4\.tcp_keepalive_time\n {2}class: +default\n/);
    const off = netns(['explain', '--kernel', '5.15', '--json', 'net.ipv4.tcp_keepalive_time']);
    t.equal(off.status, 0, off.stderr);
    const [e] = JSON.parse(off.stdout) as {
      class: string;
      kernel: { line: string; verified: boolean; note: string };
    }[];
    t.same([e!.class, e!.kernel.line, e!.kernel.verified], ['default', '5.15', false]);
    t.match(e!.kernel.note, /not a verified line.*Not known on 5\.15/);
    const list = netns(['explain', '--kernel', '5.10']);
    t.match(list.stdout, /\nnet\.ipv4\.icmp_msgs_per_sec +host-only +observed on 5\.10/);
    const bad = netns(['explain', '--kernel', '6', 'net.core.somaxconn']);
    t.equal(bad.status, 2);
    t.match(bad.stderr, /--kernel: Expected a kernel line/);
    t.equal(netns(['explain', '--kernel', '6.1', '--probe']).status, 2, '--probe runs on the running kernel only');
  },
);
