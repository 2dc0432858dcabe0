// State files are input from strangers (issue 25 item 3), end to end: two state roots of the
// test's own -- root's, and a rootless user's (chowned to nobody, as /run/user/UID/runc is its
// user's) -- each with one real container (a process in a network namespace of its own; the
// user's runs as nobody) and, beside it, hostile files: a sparse 1 GiB state.json, 100,000 '[',
// fields of the wrong type, a link to /etc/shadow, a FIFO, an id and a claimed name holding
// escape sequences. `netns list`, `diff --all` and their --json: the bad files skipped with a
// report (code, exact path; escaped for a person), both containers still listed and audited, the
// user's marked untrusted with its uid, nothing a terminal would act on in human output.
// Needs root (chown, a process as another user in a namespace of its own).
import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { printable } from '../lib/index.js';
import { procStartTime } from '../lib/container/read.js';
import { childEnv, HOST_NS, plainNode } from './helpers.js';

const CLI = fileURLToPath(new URL('../dist/bin/netns.js', import.meta.url));
const NOBODY = 65534;

if (process.getuid?.() !== 0) {
  t.plan(0, 'needs root: chown to nobody, a process as nobody in a network namespace of its own');
  process.exit(0);
}

/**
 * `sleep 600` in a network namespace of its own, as root or (through setpriv) as nobody: a
 * rootless container's init, as far as its state is concerned. Waits up to 30 s (a loaded
 * machine: the shared unshareSleep gives up after 2.5 s).
 */
async function nsSleep(t: Test, asNobody: boolean): Promise<ChildProcess & { pid: number }> {
  const user = asNobody ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'] : [];
  const child = spawn('unshare', ['-n', ...user, 'sleep', '600'], { stdio: 'ignore' });
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    try {
      const st = fs.statSync(`/proc/${child.pid}`);
      if (
        st.uid === (asNobody ? NOBODY : 0) &&
        fs.readlinkSync(`/proc/${child.pid}/ns/net`) !== HOST_NS &&
        fs.readFileSync(`/proc/${child.pid}/comm`, 'utf8').trim() === 'sleep'
      )
        return child as ChildProcess & { pid: number };
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`unshare -n ${user.join(' ')} sleep did not start in 30 s`);
}

function state(id: string, pid: number, bundle?: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    id,
    init_process_pid: pid,
    init_process_start: procStartTime(pid),
    created: new Date().toISOString(),
    config: { labels: bundle ? [`bundle=${bundle}`] : [] },
    ...extra,
  });
}

/** The hostile files every root gets beside its good container. */
function hostile(root: string, id: string): string[] {
  const put = (rel: string, text: string): void => {
    fs.mkdirSync(path.join(root, path.dirname(rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  };
  put('huge/state.json', '{}');
  fs.truncateSync(path.join(root, 'huge/state.json'), 1 << 30); // sparse
  put('deep/state.json', '['.repeat(100_000));
  put('types/state.json', JSON.stringify({ id: 42, init_process_pid: 'one', init_process_start: {} }));
  fs.mkdirSync(path.join(root, 'shadow'));
  fs.symlinkSync('/etc/shadow', path.join(root, 'shadow/state.json'));
  fs.mkdirSync(path.join(root, 'fifo'));
  spawnSync('mkfifo', [path.join(root, 'fifo/state.json')]);
  put(`${id}-bad\x1b[2J/state.json`, '{"id":');
  return ['huge', 'deep', 'types', 'shadow', 'fifo', `${id}-bad\x1b[2J`].map((d) => path.join(root, d, 'state.json'));
}

/** C0 (but newline), DEL, C1: what a terminal would act on. */
const CONTROL = /[\0-\x09\x0b-\x1f\x7f-\x9f]/;

t.test(
  'hostile state files in two roots: skipped with a report; the audit covers the good containers; the user’s marked untrusted',
  async (t) => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'netns-tc-sf-'));
    t.teardown(() => fs.rmSync(d, { recursive: true, force: true }));

    // Root's runc root, and its container.
    const rootRoot = path.join(d, 'run-runc');
    const trusted = await nsSleep(t, false);
    fs.mkdirSync(path.join(rootRoot, 'tc-good'), { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(rootRoot, 'tc-good/state.json'), state('tc-good', trusted.pid));

    // nobody's root (as /run/user/UID: 0700, the user's), its container with a hostile id and a
    // hostile name claimed in its bundle's annotations.
    const user = path.join(d, 'run-user');
    const userRoot = path.join(user, 'runc');
    const theirs = await nsSleep(t, true);
    const hostileId = 'tc-e\x1b[31mX';
    const claimed = 'n\x1b]0;pwned\x07\u009b1m';
    const bundle = path.join(user, 'bundle');
    fs.mkdirSync(path.join(userRoot, hostileId), { recursive: true, mode: 0o700 });
    fs.mkdirSync(bundle);
    fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify({ annotations: { 'nerdctl/name': claimed } }));
    fs.writeFileSync(path.join(userRoot, hostileId, 'state.json'), state(hostileId, theirs.pid, bundle));
    const bad = [...hostile(rootRoot, 'tc-r'), ...hostile(userRoot, 'tc-u')];
    spawnSync('chown', ['-hR', `${NOBODY}:${NOBODY}`, user]);
    fs.chmodSync(user, 0o700);

    const env = childEnv({ NETNS_CONTAINER_ROOTS: `runc=${rootRoot}:runc=${userRoot}` });
    const cli = (args: string[]) =>
      spawnSync(...plainNode([CLI, ...args]), { encoding: 'utf8', env, timeout: 120_000 });

    // netns list
    const list = cli(['list']);
    t.equal(list.status, 0, `exit 0 ${list.status === 0 ? '' : list.stderr}`);
    t.notOk(CONTROL.test(list.stdout) || CONTROL.test(list.stderr), 'nothing a terminal acts on, stdout or stderr');
    const row = list.stdout.split('\n').find((l) => l.includes(` ${theirs.pid} `));
    t.match(
      row,
      `runc     ${printable(hostileId)}  ${printable(claimed)} [untrusted: uid ${NOBODY}]`,
      "the user's container: its id and claimed name escaped, marked untrusted with its uid",
    );
    const good = list.stdout.split('\n').find((l) => l.includes(` ${trusted.pid} `));
    t.match(good, /\srunc\s+tc-good\s+-\s+sleep 600$/, "root's container, unmarked");
    for (const f of bad)
      t.ok(
        list.stderr.includes(`skipped `) && list.stderr.includes(printable(f)),
        `list reports ${printable(path.relative(d, f))}`,
      );
    t.match(list.stderr, /EFBIG: 1073741824 bytes/);
    t.match(list.stderr, /EINVAL: nested deeper than 64/);
    t.match(list.stderr, /EINVAL: id is 42, expected a string/);
    t.match(list.stderr, /ELOOP: a symbolic link, not followed: '[^']*shadow\/state.json'/);
    t.match(list.stderr, /EINVAL: not a regular file \(a FIFO\)/);
    t.match(list.stderr, /tc-u-bad\\x1b\[2J\/state.json/, 'a hostile directory name escaped in the report');

    const js = cli(['list', '--json']);
    t.equal(js.status, 0, `exit 0 ${js.status === 0 ? '' : js.stderr}`);
    const entries = JSON.parse(js.stdout) as { pids: number[]; containers: Record<string, unknown>[] }[];
    t.same(
      entries.find((e) => e.pids.includes(theirs.pid))?.containers,
      [
        {
          runtime: 'runc',
          oci: 'runc',
          id: hostileId,
          name: claimed,
          pid: theirs.pid,
          trust: 'untrusted',
          owner: NOBODY,
          untrustedPath: user,
        },
      ],
      'exact in JSON: the id, the claimed name, whose they are',
    );
    t.match(entries.find((e) => e.pids.includes(trusted.pid))?.containers, [
      { id: 'tc-good', trust: 'root', owner: 0 },
    ]);

    // netns diff --all --json: both audited, every bad file in `skipped`, exact.
    const audit = cli(['diff', '--all', '--json']);
    t.equal(audit.status, 0, `exit 0 ${audit.status === 0 ? '' : audit.stderr}`);
    const report = JSON.parse(audit.stdout) as {
      targets: { pids: number[]; containers: Record<string, unknown>[]; error?: unknown }[];
      skipped: { code: string; reason: string; path: string; message: string; trust: string; skipped: string }[];
    };
    const their = report.targets.find((x) => x.pids.includes(theirs.pid));
    t.match(their, { containers: [{ id: hostileId, name: claimed, trust: 'untrusted', owner: NOBODY }] });
    t.notOk(their?.error, "the user's container's namespace was read");
    t.match(
      report.targets.find((x) => x.pids.includes(trusted.pid)),
      { containers: [{ id: 'tc-good', trust: 'root' }] },
    );
    t.same(report.skipped.map((s) => s.path).sort(), [...bad].sort(), 'every bad file, its path exact');
    t.ok(
      report.skipped.every((s) => s.skipped === 'container' && /^E[A-Z]+$/.test(s.code) && !CONTROL.test(s.message)),
      'each with a code, an escaped message',
    );
    t.same(
      report.skipped.filter((s) => s.path.startsWith(userRoot)).map((s) => s.trust),
      Array(6).fill('untrusted'),
      "the user's bad files are the user's",
    );

    // netns diff --all, for a person.
    const text = cli(['diff', '--all']);
    t.equal(text.status, 0, `exit 0 ${text.status === 0 ? '' : text.stderr}`);
    t.notOk(CONTROL.test(text.stdout) || CONTROL.test(text.stderr), 'nothing a terminal acts on');
    t.match(
      text.stdout,
      `runc ${printable(hostileId)} ${printable(claimed)} [untrusted: uid ${NOBODY}] (namespace`,
      'the target titled with its escaped id and name, marked untrusted',
    );
    t.match(text.stdout, /^runc tc-good \(namespace \d+\)$/m);
    t.equal(text.stderr.split('\n').filter((l) => l.startsWith('netns: skipped ')).length, bad.length);

    // Opening the user's container by its exact hostile id works, and says whose it is.
    const one = cli(['sysctl', '--container', hostileId, 'net.core.somaxconn']);
    t.equal(one.status, 0, `exit 0 ${one.status === 0 ? '' : one.stderr}`);
    t.match(one.stderr, `[untrusted: uid ${NOBODY}]`);
    const explained = cli(['explain', '--container', hostileId, 'net.core.somaxconn']);
    t.equal(explained.status, 0, `exit 0 ${explained.status === 0 ? '' : explained.stderr}`);
    t.match(explained.stdout, `${printable(hostileId)} (${printable(claimed)}) [untrusted: uid ${NOBODY}]`);
    t.notOk(CONTROL.test(explained.stdout), 'explain TARGET escapes them too');
    const ej = JSON.parse(cli(['explain', '--container', hostileId, '--json', 'net.core.somaxconn']).stdout) as {
      containers: { id: string; trust: string; owner: number }[];
    };
    t.match(ej.containers, [{ id: hostileId, trust: 'untrusted', owner: NOBODY }], '--json: exact, with whose it is');
  },
);
