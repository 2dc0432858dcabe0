// `netns sysctl --atomic` (and --json): all or nothing, with a failure at every position, for
// -w and -p; and the best-effort default for contrast. Needs root (named namespaces).
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NetNamespace } from '../lib/index.js';
import { childEnv, ipNetnsAdd, plainNode } from './helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const CLI = path.join(root, 'dist/bin/netns.js');

function netns(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const [cmd, a] = plainNode([CLI, ...args]);
  const r = spawnSync(cmd, a, { encoding: 'utf8', env: childEnv(), timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const GOOD: [string, string][] = [
  ['net.ipv4.tcp_keepalive_time', '701'],
  ['net.ipv4.tcp_keepalive_intvl', '61'],
  ['net.core.somaxconn', '1301'],
  ['net.ipv4.ip_local_port_range', '2001 3001'],
];

// A missing key is found before anything is written (every key is read first); the others
// fail at their write, after the keys before them were written, which are then restored.
const FAILURES: { kind: string; pair: [string, string]; message: RegExp; atWrite: boolean }[] = [
  { kind: 'a rejected value', pair: ['net.ipv4.tcp_ecn', '99'], message: /net\.ipv4\.tcp_ecn: EINVAL/, atWrite: true },
  {
    kind: 'a missing key',
    pair: ['net.ipv4.no_such_key_ntcli', '1'],
    message: /ENOENT.*net\.ipv4\.no_such_key_ntcli does not exist/,
    atWrite: false,
  },
  {
    kind: 'a read-only key',
    pair: ['net.ipv4.conf.all.mc_forwarding', '1'],
    message: /net\.ipv4\.conf\.all\.mc_forwarding: EACCES/,
    atWrite: true,
  },
];

function values(name: string): Record<string, string> {
  using ns = NetNamespace.fromName(name);
  return Object.fromEntries(GOOD.map(([k]) => [k, ns.sysctl.getRaw(k)]));
}

/** The good pairs with the failing one inserted at position i. */
function withFailure(i: number, bad: [string, string]): [string, string][] {
  return [...GOOD.slice(0, i), bad, ...GOOD.slice(i)];
}

t.test('--atomic -w: a failure at any position changes nothing', async (t) => {
  const name = ipNetnsAdd(t, 'ntcli-at');
  const before = values(name);
  for (const f of FAILURES) {
    for (let i = 0; i <= GOOD.length; i++) {
      const pairs = withFailure(i, f.pair).map(([k, v]) => `${k}=${v}`);
      const r = netns(['sysctl', '--name', name, '--atomic', '-w', ...pairs]);
      t.equal(r.status, 1, `${f.kind} at ${i}: status 1`);
      t.equal(r.stdout, '', `${f.kind} at ${i}: nothing printed`);
      t.match(r.stderr, f.message, `${f.kind} at ${i}: names the key`);
      t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
      if (f.atWrite)
        t.match(r.stderr, i === 0 ? /Nothing had been written before it/ : /Rolled back: /, 'says what was undone');
      t.same(values(name), before, `${f.kind} at ${i}: every key as before`);
    }
  }
  const ok = netns(['sysctl', '--name', name, '--atomic', '-w', ...GOOD.map(([k, v]) => `${k}=${v}`)]);
  t.equal(ok.status, 0, ok.stderr);
  t.same(
    values(name),
    Object.fromEntries(GOOD.map(([k, v]) => [k, v.replace(' ', '\t')])),
    'all applied when none fails',
  );
});

t.test('--atomic -p and --json -p: a failing line at any position changes nothing', async (t) => {
  const name = ipNetnsAdd(t, 'ntcli-at');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ntcli-atomic-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const before = values(name);
  for (const mode of ['--atomic', '--json']) {
    for (let i = 0; i <= GOOD.length; i++) {
      const file = path.join(dir, `f${i}.conf`);
      fs.writeFileSync(
        file,
        withFailure(i, FAILURES[0]!.pair)
          .map(([k, v]) => `${k} = ${v}`)
          .join('\n') + '\n',
      );
      const r = netns(['sysctl', '--name', name, mode, '-p', file]);
      t.equal(r.status, 1, `${mode}, failure at line ${i + 1}: status 1`);
      t.match(r.stderr, new RegExp(`f${i}\\.conf:${i + 1}: .*EINVAL`), 'FILE:LINE of the failing line');
      t.same(values(name), before, `${mode}, failure at line ${i + 1}: every key as before`);
    }
  }
});

t.test('best effort (the default): the other keys land, status 1', async (t) => {
  for (const f of FAILURES) {
    for (let i = 0; i <= GOOD.length; i++) {
      const name = ipNetnsAdd(t, 'ntcli-be');
      const pairs = withFailure(i, f.pair).map(([k, v]) => `${k}=${v}`);
      const r = netns(['sysctl', '--name', name, '-w', ...pairs]);
      t.equal(r.status, 1, `${f.kind} at ${i}: status 1`);
      t.equal(r.stdout, GOOD.map(([k, v]) => `${k} = ${v}\n`).join(''), 'each good key echoed as typed, in order');
      t.same(
        values(name),
        Object.fromEntries(GOOD.map(([k, v]) => [k, v.replace(' ', '\t')])),
        'the good keys applied',
      );
    }
  }
});

t.test('--json -w: the report, and errors as JSON-friendly lines', async (t) => {
  const name = ipNetnsAdd(t, 'ntcli-at');
  const r = netns([
    'sysctl',
    '--name',
    name,
    '--json',
    '-w',
    'net.core.somaxconn=4096',
    'net.ipv4.tcp_keepalive_time=702',
    '-e',
    'net.ipv4.no_such_key_ntcli=1',
  ]);
  t.equal(r.status, 0, r.stderr);
  const js = JSON.parse(r.stdout) as {
    changed: string[];
    unchanged: string[];
    skipped: string[];
    values: Record<string, unknown>;
  };
  t.same(js.unchanged, ['net.core.somaxconn']);
  t.same(js.changed, ['net.ipv4.tcp_keepalive_time']);
  t.same(js.skipped, ['net.ipv4.no_such_key_ntcli'], '-e: a missing key is skipped');
  t.same(js.values['net.ipv4.tcp_keepalive_time'], 702);
  const notNet = netns(['sysctl', '--name', name, '--atomic', '-w', 'net.core.somaxconn=1', 'kernel.hostname=x']);
  t.equal(notNet.status, 1);
  t.match(notNet.stderr, /kernel\.hostname is not a network sysctl.*Nothing was applied/);
  t.equal(values(name)['net.core.somaxconn'], '4096', 'nothing applied');
});
