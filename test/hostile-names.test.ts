// Control characters never reach a terminal (issue 25 item 1). A namespace of the test's own
// holds interfaces named as a tenant may name them: an escape sequence, a C1 control (U+009B
// and a raw 0x9b byte), DEL and a backslash, bytes that are not UTF-8 (two names that differ
// only there). Every human output escapes them (printable(): \xNN, \\), --json keeps them exact,
// `netns sysctl` to a pipe prints procps' own bytes, and the keys are reachable by name. The
// same for a namespace name, and for container ids and names read from fabricated state (under
// a temporary root, NETNS_CONTAINER_ROOTS) naming a real process of the test's own.
// Needs root (ip netns, ip link inside the namespace), util-linux script(1), procps sysctl.
import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NetNamespace, fsdecode, fsencode, printable } from '../lib/index.js';
import { procStartTime } from '../lib/container/read.js';
import { childEnv, ipNetnsAdd, plainNode, sh, uniqueName } from './helpers.js';

const CLI = fileURLToPath(new URL('../dist/bin/netns.js', import.meta.url));

if (process.getuid?.() !== 0) {
  t.plan(0, 'needs root: ip netns and ip link in a namespace of its own');
  process.exit(0);
}

/** The interfaces: printf(1) formats (octal bytes) and the strings the library gives for them. */
const IFACES: { fmt: string; name: string }[] = [
  { fmt: 'e\\033[31mX', name: 'e\x1b[31mX' },
  { fmt: 'c\\302\\233q', name: 'c\u009bq' },
  { fmt: 'd\\233q', name: 'd\udc9bq' },
  { fmt: 'f\\177\\\\g', name: 'f\x7f\\g' },
  { fmt: 'b\\377z', name: 'b\udcffz' },
  { fmt: 'b\\376z', name: 'b\udcfez' },
];

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const [nodeCmd, nodeArgs] = plainNode([CLI]);
const NETNS = [nodeCmd, ...nodeArgs].map(q).join(' ');

interface Run {
  status: number | null;
  stdout: Buffer;
  stderr: Buffer;
}

/** `netns ARGS`, ARGS shell words (so they may hold any byte: "$(printf ...)"). */
function netnsSh(args: string, env: Record<string, string> = {}): Run {
  const r = spawnSync('sh', ['-c', `${NETNS} ${args}`], { env: childEnv(env), timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same on a terminal: script(1) gives it a pseudo-terminal as stdout (and stderr). */
function netnsTty(args: string, env: Record<string, string> = {}): Buffer {
  const e = childEnv(env);
  delete e.NO_COLOR;
  return spawnSync('script', ['-qec', `${NETNS} ${args}`, '/dev/null'], { env: e, timeout: 120_000 }).stdout;
}

/** A printf(1) word for bytes: "$(printf 'FMT')". */
const bytesWord = (fmt: string): string => `"$(printf ${q(fmt)})"`;

/**
 * What a terminal would act on, or a person could not see: C0 (but newline and, from script(1),
 * carriage return), DEL, C1, and bytes that are not UTF-8. `colour` allows SGR sequences.
 */
function unsafeIn(out: Buffer, colour = false): string[] {
  let text = fsdecode(out);
  if (colour) text = text.replace(/\x1b\[[0-9;]*m/g, '');
  const bad = text.match(
    /[\0-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]/gu,
  );
  return (bad ?? []).map((c) => printable(c));
}

function makeIfaces(t: Test, ns: string): boolean {
  for (const i of IFACES) {
    const r = spawnSync('ip', ['netns', 'exec', ns, 'sh', '-c', `ip link add name ${bytesWord(i.fmt)} type bridge`]);
    if (r.status !== 0) {
      t.comment(`ip link add ${i.fmt} type bridge: ${r.stderr}`);
      return false;
    }
  }
  return true;
}

t.test('interface names a tenant chose: escaped for a person, exact in JSON and to a pipe, reachable', async (t) => {
  const ns = ipNetnsAdd(t, 'nthostile');
  if (!t.ok(makeIfaces(t, ns), 'bridges with those names made inside the namespace')) return;
  const keys = IFACES.map((i) => `net.ipv4.conf.${i.name}.forwarding`);
  const shown = IFACES.map((i) => `net.ipv4.conf.${printable(i.name)}.forwarding`);

  // The library: every key listed once, exact, readable and writable by the name it lists.
  {
    using h = NetNamespace.fromName(ns);
    const all = h.sysctl.getAll('net.ipv4.conf');
    for (const k of keys) t.ok(k in all.raw, `listed exactly: ${printable(k)}`);
    t.equal(Object.keys(all.raw).filter((k) => k.endsWith('.forwarding')).length, IFACES.length + 3, 'none aliased');
    h.sysctl.set(keys[4]!, 1); // b\xffz
    t.equal(h.sysctl.get(keys[4]!), 1);
    t.equal(h.sysctl.get(keys[5]!), 0, 'b\\xfez is another interface: untouched');
    const cat = spawnSync('ip', [
      'netns',
      'exec',
      ns,
      'sh',
      '-c',
      `cat /proc/sys/net/ipv4/conf/${bytesWord(IFACES[4]!.fmt)}/forwarding`,
    ]);
    t.equal(cat.stdout.toString().trim(), '1', 'the file of those bytes (cat, the oracle)');
    t.same(fsencode(IFACES[4]!.name), Buffer.from('62ff7a', 'hex'));
    for (const k of keys.slice(0, 4)) {
      h.sysctl.set(k, 1);
      t.equal(h.sysctl.get(k), 1, `written and read by its listed name: ${printable(k)}`);
    }
  }

  // sysctl -a to a pipe: procps' bytes (sysctl(8) in the namespace is the oracle).
  const pipe = netnsSh(`sysctl --name ${q(ns)} -a -r 'forwarding'`);
  t.equal(pipe.status, 0, String(pipe.stderr));
  const procps = spawnSync('ip', ['netns', 'exec', ns, 'unshare', '-u', 'sysctl', '-a', '-r', 'forwarding']).stdout;
  const lines = (b: Buffer): string[] =>
    fsdecode(b)
      .split('\n')
      .filter((l) => l.includes('.conf.'))
      .sort();
  t.same(lines(pipe.stdout), lines(procps), 'the same lines, byte for byte, as sysctl(8)');
  t.ok(pipe.stdout.includes(Buffer.from('1b5b33316d', 'hex')), 'the raw escape sequence goes to the pipe, as procps');

  // On a terminal: escaped.
  const tty = netnsTty(`sysctl --name ${q(ns)} -a -r 'forwarding'`);
  t.same(unsafeIn(tty), [], 'nothing a terminal acts on');
  for (const s of shown) t.ok(fsdecode(tty).includes(`${s} = `), `shown as ${s}`);
  t.match(fsdecode(tty), /net\.ipv4\.conf\.b\\xffz\.forwarding = 1/);

  // --json: exact.
  const js = netnsSh(`sysctl --name ${q(ns)} -a --json -r forwarding`);
  const values = (JSON.parse(js.stdout.toString('utf8')) as { values: Record<string, number> }).values;
  for (const k of keys) t.ok(k in values, `JSON key exact: ${printable(k)}`);
  t.equal(values[keys[4]!], 1);
  t.equal(values[keys[5]!], 0);
  t.ok(js.stdout.toString('latin1').includes('"net.ipv4.conf.b\\udcffz.forwarding"'), 'a byte as \\udcXX in JSON');

  // A key given with its raw bytes on the command line (argv read back exactly).
  const w = netnsSh(`sysctl --name ${q(ns)} -w "net.ipv4.conf.$(printf 'b\\376z').forwarding=1"`);
  t.equal(w.status, 0, String(w.stderr));
  t.same(w.stdout, Buffer.from(`net.ipv4.conf.b${'\xfe'}z.forwarding = 1\n`, 'latin1'), 'echoed as given, bytes');
  {
    using h = NetNamespace.fromName(ns);
    t.equal(h.sysctl.get(keys[5]!), 1, 'b\\xfez written, by its bytes');
  }
  const r = netnsSh(`sysctl --name ${q(ns)} -n "net.ipv4.conf.$(printf 'e\\033[31mX').forwarding"`);
  t.same(r.stdout.toString(), '1\n', 'a key with an escape sequence, by name');

  // Errors: escaped on stderr, always.
  const missing = netnsSh(`sysctl --name ${q(ns)} "net.ipv4.conf.$(printf 'e\\033[31mX').nosuch"`);
  t.equal(missing.status, 1);
  t.same(unsafeIn(missing.stderr), []);
  t.match(missing.stderr.toString(), /cannot stat \/proc\/sys\/net\/ipv4\/conf\/e\\x1b\[31mX\/nosuch/);
  const refused = netnsSh(`sysctl --name ${q(ns)} "$(printf 'net.ipv4.conf.x\\ty\\033.z')"`);
  t.same(unsafeIn(refused.stderr), []);
  t.match(refused.stderr.toString(), /"net\.ipv4\.conf\.x\\x09y\\x1b\.z" refused/);

  // diff: the table escapes, the remedy quotes as $'...' (safe, and exact when pasted), JSON exact.
  const diff = netnsSh(`diff --name ${q(ns)} --devices`);
  t.equal(diff.status, 0, String(diff.stderr));
  t.same(unsafeIn(diff.stdout), [], 'diff: nothing a terminal acts on');
  for (const s of shown) t.ok(diff.stdout.toString().includes(s), `diff shows ${s}`);
  const diffTty = netnsTty(`diff --name ${q(ns)}`);
  t.same(unsafeIn(diffTty, true), [], 'diff on a terminal: colours only');
  const hiddenLine = fsdecode(diffTty)
    .split('\n')
    .find((l) => l.includes('hidden: '));
  for (const i of IFACES)
    t.ok(hiddenLine?.includes(` ${printable(i.name)},`), `hidden devices list ${printable(i.name)}`);
  const dj = JSON.parse(netnsSh(`diff --name ${q(ns)} --devices --json`).stdout.toString()) as { key: string }[];
  for (const k of keys)
    t.ok(
      dj.some((x) => x.key === k),
      `diff --json: ${printable(k)} exact`,
    );

  // explain of such a key: not on the host or in a fresh namespace; the error escapes it.
  const ex = netnsSh(`explain "net.ipv4.conf.$(printf 'e\\033[31mX').rp_filter"`);
  t.equal(ex.status, 1);
  t.same(unsafeIn(ex.stderr), []);
  t.match(ex.stderr.toString(), /conf\/e\\x1b\[31mX\/rp_filter/);
});

t.test('a namespace name with an escape sequence and a byte that is not UTF-8', async (t) => {
  const base = uniqueName('nthostile');
  const fmt = `${base}-\\033[32m\\377`;
  const name = `${base}-\x1b[32m\udcff`;
  sh('sh', ['-c', `ip netns add ${bytesWord(fmt)}`]);
  t.teardown(() => spawnSync('sh', ['-c', `ip netns del ${bytesWord(fmt)}`]));
  const list = netnsSh('list');
  t.equal(list.status, 0, String(list.stderr));
  t.same(unsafeIn(list.stdout), [], 'list: nothing a terminal acts on');
  t.ok(list.stdout.toString().includes(`${base}-\\x1b[32m\\xff`), 'the name shown escaped');
  const js = JSON.parse(netnsSh('list --json').stdout.toString()) as { names: string[] }[];
  t.ok(
    js.some((e) => e.names.includes(name)),
    'list --json: the exact name',
  );
  t.ok(
    NetNamespace.list({ containers: false }).some((e) => e.names.includes(name)),
    'NetNamespace.list(): the exact name',
  );
  {
    using h = NetNamespace.fromName(name);
    t.ok(h.sysctl.get('net.core.somaxconn'), 'opened by the name list() gave');
  }
  const r = netnsSh(`sysctl --name ${bytesWord(fmt)} -n net.core.somaxconn`);
  t.equal(r.status, 0, String(r.stderr));
  const bad = netnsSh(`sysctl --name ${bytesWord(`${base}-\\033[32m\\376`)} -n net.core.somaxconn`);
  t.equal(bad.status, 1, 'a name that differs by one byte is another');
  t.same(unsafeIn(bad.stderr), []);
  t.match(
    bad.stderr.toString(),
    /No network namespace named ".*-\\x1b\[32m\\xfe".*ip netns add \$'.*-\\x1b\[32m\\xfe'/,
  );
});

t.test(
  'container ids and names from state files: escaped in list, diff --all and messages; exact in JSON',
  async (t) => {
    const ns = ipNetnsAdd(t, 'nthostile');
    if (!t.ok(makeIfaces(t, ns), 'bridges with those names made inside the namespace')) return;
    const child = spawn('ip', ['netns', 'exec', ns, 'sleep', '600'], { stdio: 'ignore' });
    t.teardown(() => child.kill('SIGKILL'));
    const nsIno = fs.statSync(`/run/netns/${ns}`).ino;
    for (let i = 0; i < 500 && fs.statSync(`/proc/${child.pid}/ns/net`).ino !== nsIno; i++)
      await new Promise((r) => setTimeout(r, 10));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netns-hostile-'));
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    const id = 'ctr\x1b]0;owned\x07';
    const pod = 'web\u009b2J';
    const cname = 'ng\x1b[2Jx';
    const bundle = path.join(dir, 'bundle');
    fs.mkdirSync(bundle);
    fs.writeFileSync(
      path.join(bundle, 'config.json'),
      JSON.stringify({
        annotations: {
          'io.kubernetes.cri.container-type': 'container',
          'io.kubernetes.cri.container-name': cname,
          'io.kubernetes.cri.sandbox-name': pod,
          'io.kubernetes.cri.sandbox-namespace': 'prod',
        },
      }),
    );
    fs.mkdirSync(path.join(dir, 'root', id), { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'root', id, 'state.json'),
      JSON.stringify({
        id,
        init_process_pid: child.pid,
        init_process_start: procStartTime(child.pid!),
        config: { labels: [`bundle=${bundle}`] },
      }),
    );
    const env = { NETNS_CONTAINER_ROOTS: `runc=${path.join(dir, 'root')}` };
    {
      using h = NetNamespace.fromName(ns);
      h.sysctl.set('net.ipv4.tcp_keepalive_time', 4321); // a difference with a remedy
    }
    const shownId = 'ctr\\x1b]0;owned\\x07';
    const shownName = `prod/web\\xc2\\x9b2J/ng\\x1b[2Jx`;

    const list = netnsSh('list', env);
    t.equal(list.status, 0, String(list.stderr));
    t.same(unsafeIn(list.stdout), []);
    const row = list.stdout
      .toString()
      .split('\n')
      .find((l) => l.includes(shownId));
    t.ok(row?.includes(shownName), `list: ${row}`);
    const lj = JSON.parse(netnsSh('list --json', env).stdout.toString()) as {
      containers: { id: string; kubernetes?: { podName?: string; containerName?: string } }[];
    }[];
    const c = lj.flatMap((e) => e.containers).find((x) => x.id === id);
    t.same([c?.kubernetes?.podName, c?.kubernetes?.containerName], [pod, cname], 'list --json: exact');

    const all = netnsSh('diff --all', env);
    t.equal(all.status, 0, String(all.stderr));
    t.same(unsafeIn(all.stdout), [], 'diff --all: nothing a terminal acts on');
    t.match(all.stdout.toString(), new RegExp(`^runc ${shownId.replace(/[\\[\]()^$.|?*+]/g, '\\$&')} `, 'm'));
    const aj = JSON.parse(netnsSh('diff --all --json', env).stdout.toString()) as {
      targets: { containers: { id: string }[]; differences: { key: string; remedy: string }[] }[];
    };
    t.same(
      aj.targets.map((x) => x.containers[0]?.id),
      [id],
      'diff --all --json: the exact id',
    );
    const remedy = aj.targets[0]?.differences.find((d) => d.remedy.startsWith('netns '))?.remedy ?? '';
    t.match(remedy, /--container \$'ctr\\x1b\]0;owned\\x07' -w /, 'the remedy names it as bash would read it back');
    t.same(unsafeIn(Buffer.from(remedy)), [], 'a remedy is safe text even in JSON');

    // The container acted on, named on stderr; and errors naming queries.
    const s = netnsSh(`sysctl --container ${bytesWord('web\\302\\2332J/ng\\033[2Jx')} -n net.core.somaxconn`, env);
    t.equal(s.status, 0, String(s.stderr));
    t.same(unsafeIn(s.stderr), []);
    t.match(
      s.stderr.toString(),
      /^netns: container runc ctr\\x1b\]0;owned\\x07 \(prod\/web\\xc2\\x9b2J\/ng\\x1b\[2Jx\), init pid/,
    );
    const sj = JSON.parse(
      netnsSh(
        `sysctl --container ${bytesWord('ctr\\033]0;owned\\007')} --json net.core.somaxconn`,
        env,
      ).stdout.toString(),
    ) as { container: { id: string } };
    t.equal(sj.container.id, id, '--json: the exact id');
    const unknown = netnsSh(`sysctl --container ${bytesWord('zz\\033[5m')} -n net.core.somaxconn`, env);
    t.equal(unknown.status, 1);
    t.same(unsafeIn(unknown.stderr), []);
    t.match(
      unknown.stderr.toString(),
      /no container matches "zz\\x1b\[5m".*Known containers: runc ctr\\x1b\]0;owned\\x07/,
    );

    // Its spec (config.json's linux.sysctl), as a tenant may write it: a key of an interface
    // named with an escape sequence, a value holding one. explain TARGET's header, table and
    // per-key detail and diff --all's drift line escape them; --json keeps them exact.
    const evilKey = `net.ipv4.conf.${IFACES[0]!.name}.rp_filter`;
    const evilValue = '7\x1b[5m';
    {
      using h = NetNamespace.fromName(ns);
      h.sysctl.set(evilKey, 1);
    }
    const cfg = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8')) as Record<string, unknown>;
    cfg.linux = { sysctl: { [evilKey]: '2', 'net.ipv4.tcp_keepalive_intvl': evilValue } };
    fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(cfg));
    const target = `--container ${bytesWord('ctr\\033]0;owned\\007')}`;
    const ex = netnsSh(`explain ${target}`, env);
    t.equal(ex.status, 0, String(ex.stderr));
    t.same([unsafeIn(ex.stdout), unsafeIn(ex.stderr)], [[], []], 'explain TARGET: nothing a terminal acts on');
    const exOut = ex.stdout.toString();
    t.ok(exOut.includes(`runc ${shownId} (${shownName})`), 'the header names the container as every message does');
    t.ok(exOut.includes(`net.ipv4.conf.e\\x1b[31mX.rp_filter=2`), 'the spec line escapes the key');
    t.ok(exOut.includes('net.ipv4.tcp_keepalive_intvl=7\\x1b[5m'), 'and the value');
    t.match(exOut, /^net\.ipv4\.conf\.e\\x1b\[31mX\.rp_filter +1 /m, 'a table row for the drifted key');
    const detail = netnsSh(
      `explain ${target} "net.ipv4.conf.$(printf 'e\\033[31mX').rp_filter" net.ipv4.tcp_keepalive_intvl`,
      env,
    );
    t.equal(detail.status, 0, String(detail.stderr));
    t.same(unsafeIn(detail.stdout), [], 'explain TARGET KEY: nothing a terminal acts on');
    t.match(detail.stdout.toString(), /spec: +7\\x1b\[5m \(container ctr\\x1b\]0;owned\\x07, /);
    const ej = JSON.parse(netnsSh(`explain ${target} --json`, env).stdout.toString()) as {
      container: { id: string };
      containers: { id: string; sysctl: Record<string, string> }[];
      keys: { key: string; provenance: { kind: string; why: string; spec?: { value: string } } }[];
    };
    t.equal(ej.container.id, id, 'explain --json: the container found, exact');
    t.same(ej.containers[0]?.sysctl, { [evilKey]: '2', 'net.ipv4.tcp_keepalive_intvl': evilValue }, 'the spec, exact');
    const ek = ej.keys.find((k) => k.key === evilKey);
    t.same([ek?.provenance.kind, ek?.provenance.spec?.value], ['changed', '2'], 'the exact key drifted from its spec');
    t.same(
      unsafeIn(Buffer.from(ej.keys.map((k) => k.provenance.why).join('\n'))),
      [],
      'provenance sentences are safe text',
    );
    const drift = netnsSh('diff --all', env);
    t.equal(drift.status, 1, 'diff --all: drift from the spec');
    t.same(unsafeIn(drift.stdout), [], 'diff --all with drift: nothing a terminal acts on');
    t.match(
      drift.stdout.toString(),
      /drifts from its spec since the start: .*net\.ipv4\.conf\.e\\x1b\[31mX\.rp_filter 1 \(spec 2, ctr\\x1b\]0;owned\\x07\)/,
    );
  },
);
