// Shared test helpers: namespaces made by real tools, with cleanup that runs even on failure.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import type { Test } from 'tap';

export const HOST_NS = fs.readlinkSync('/proc/self/ns/net');

/** Every thread of this process, with the namespace it is in. */
export function threadNamespaces(): Map<string, string> {
  const out = new Map<string, string>();
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      out.set(tid, fs.readlinkSync(`/proc/self/task/${tid}/ns/net`));
    } catch {
      /* thread exited meanwhile */
    }
  }
  return out;
}

/** Threads that are not in the process's home namespace. */
export function strayThreads(): string[] {
  return [...threadNamespaces()].filter(([, ns]) => ns !== HOST_NS).map(([tid, ns]) => `${tid}:${ns}`);
}

/** Register the end-of-file check that every thread is home. */
export function checkThreadsAtEnd(t: Test): void {
  t.teardown(() => {
    const stray = strayThreads();
    if (stray.length) throw new Error(`threads left in a foreign namespace: ${stray.join(', ')}`);
  });
}

export function fdCount(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

/** ino of a namespace file as `readlink` shows it: net:[INO]. */
export function inoOf(link: string): number {
  const m = /^net:\[(\d+)\]$/.exec(link);
  if (!m) throw new Error(`not a net namespace link: ${link}`);
  return Number(m[1]);
}

export function sh(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

let seq = 0;
/** A unique namespace name for this test process. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${++seq}`;
}

/** `ip netns add NAME`, deleted at teardown. */
export function ipNetnsAdd(t: Test, prefix = 'nt'): string {
  const name = uniqueName(prefix);
  sh('ip', ['netns', 'add', name]);
  t.teardown(() => {
    try {
      sh('ip', ['netns', 'del', name]);
    } catch {
      /* already gone */
    }
  });
  return name;
}

/** Remove a named namespace at teardown, whoever made it. */
export function cleanupName(t: Test, name: string): void {
  t.teardown(() => {
    for (const dir of ['/run/netns', '/var/run/netns']) {
      const f = `${dir}/${name}`;
      if (!fs.existsSync(f)) continue;
      try {
        execFileSync('umount', ['-l', f], { stdio: 'ignore' });
      } catch {
        /* not mounted */
      }
      try {
        fs.unlinkSync(f);
      } catch {
        /* gone */
      }
    }
  });
}

/** `unshare -n sleep`: a process in a fresh namespace, killed at teardown. */
export async function unshareSleep(t: Test): Promise<ChildProcess & { pid: number }> {
  const child = spawn('unshare', ['-n', 'sleep', '600'], { stdio: 'ignore' });
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('spawn failed');
  // unshare execs sleep in the same process once it has moved: wait for that.
  // A deadline, not a count of polls: on a machine with a load of 50 the exec took over 2.5 s.
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
    try {
      if (
        fs.readlinkSync(`/proc/${pid}/ns/net`) !== HOST_NS &&
        fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep'
      )
        return child as ChildProcess & { pid: number };
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('unshare -n sleep did not start within 30 s');
}

/** Pids of processes whose command line contains `marker`. */
export function withMarker(marker: string): number[] {
  const out: number[] = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(marker)) out.push(Number(p));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** At teardown, SIGKILL every process whose command line contains `marker`. */
export function killWithMarker(t: Test, marker: string): void {
  t.teardown(() => {
    for (const p of withMarker(marker))
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
  });
}

/** Wait for a child to exit. */
export function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/** Read a file inside a namespace with nsenter, the oracle. */
export function nsenterCat(nsPath: string, file: string): string {
  return sh('nsenter', [`--net=${nsPath}`, 'cat', file]).replace(/\n$/, '');
}

/**
 * Variables tap sets for its test processes: its own settings (TAP, TAP_*), the process
 * tracker's (_TAPJS_PROCESSINFO_*, NODE_OPTIONS with its --import loader), coverage
 * (NODE_V8_COVERAGE), the TypeScript loader's (TS_NODE_*) and the colour switches it sets for
 * its children (FORCE_COLOR, NO_COLOR, COLOR).
 */
export const TAP_ENV = /^(NODE_OPTIONS|NODE_V8_COVERAGE|TAP|TAP_.*|_TAPJS_.*|TS_NODE_.*|FORCE_COLOR|NO_COLOR|COLOR)$/;

/**
 * The environment for plain-node child processes, without tap's variables. Not enough on its
 * own: tap's process tracker hooks every spawn and puts NODE_OPTIONS (its --import loader) and
 * its _TAPJS_PROCESSINFO_* variables back into the child's environment, whatever env is given.
 * Run node through {@link plainNode}, which drops them again with `env -u`.
 */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!TAP_ENV.test(k)) env[k] = v;
  return { ...env, ...extra };
}

/**
 * Command and arguments to run plain `node` in a child, free of tap's loaders (tap's process
 * tracker re-injects NODE_OPTIONS and its variables into every spawn; `env -u` drops them
 * again). A child run this way as `nobody` prints nothing of tap's on stderr.
 */
export function plainNode(args: string[]): [string, string[]] {
  const unset = ['NODE_OPTIONS', ...Object.keys(process.env).filter((k) => TAP_ENV.test(k) && k !== 'NODE_OPTIONS')];
  const cov = childCoverageDir();
  return [
    'env',
    [...unset.flatMap((k) => ['-u', k]), ...(cov ? [`NODE_V8_COVERAGE=${cov}`] : []), process.execPath, ...args],
  ];
}

// Coverage of the code the tests run in plain child processes (the CLI, the fixtures, code run
// as nobody from the staged copy): tap measures only the processes that carry its loaders, which
// plainNode drops. When tap collects coverage, each such child writes V8's own coverage
// (NODE_V8_COVERAGE) into a directory of this test process's own, writable by nobody too; at
// exit the files are merged into one, URLs of the staged copy are mapped back to the checkout
// (whose dist/ holds the same files and source maps), only the checkout's own files outside
// node_modules and test/ are kept, and the result joins tap's .tap/coverage.
const tapCwd = process.env._TAPJS_PROCESSINFO_CWD_;
const collectChildCoverage = tapCwd !== undefined && process.env._TAPJS_PROCESSINFO_COVERAGE_ !== '0';
let childCovDir: string | undefined;

function childCoverageDir(): string | undefined {
  if (!collectChildCoverage) return undefined;
  if (childCovDir) return childCovDir;
  const dir = fs.mkdtempSync(`${os.tmpdir()}/netns-cov-`);
  fs.chmodSync(dir, 0o1777);
  childCovDir = dir;
  process.once('exit', () => mergeChildCoverage(dir));
  return dir;
}

interface ScriptCov {
  url: string;
}
interface ProcessCov {
  result: ScriptCov[];
  'source-map-cache'?: Record<string, unknown>;
}

function mergeChildCoverage(dir: string): void {
  try {
    const home = `file://${checkout}`;
    const fix = (u: string): string =>
      staged && u.startsWith(`file://${staged}`) ? home + u.slice(`file://${staged}`.length) : u;
    const keep = (u: string): boolean =>
      u.startsWith(home) && !u.includes('/node_modules/') && !u.startsWith(`${home}test/`);
    const covs: ProcessCov[] = [];
    const maps: Record<string, unknown> = {};
    for (const f of fs.readdirSync(dir)) {
      if (!f.endsWith('.json')) continue;
      let cov: ProcessCov;
      try {
        cov = JSON.parse(fs.readFileSync(`${dir}/${f}`, 'utf8')) as ProcessCov;
      } catch {
        continue; // a child killed while writing
      }
      const result = cov.result.map((r) => ({ ...r, url: fix(r.url) })).filter((r) => keep(r.url));
      for (const [u, v] of Object.entries(cov['source-map-cache'] ?? {})) if (keep(fix(u))) maps[fix(u)] = v;
      if (result.length) covs.push({ result });
    }
    if (!covs.length) return;
    const { mergeProcessCovs } = createRequire(import.meta.url)('@bcoe/v8-coverage') as {
      mergeProcessCovs(c: ProcessCov[]): ProcessCov;
    };
    const merged = mergeProcessCovs(covs);
    const out = `${tapCwd}/.tap/coverage`;
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(
      `${out}/children-${process.pid}-${Date.now()}.json`,
      JSON.stringify({ ...merged, 'source-map-cache': maps }),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Every readable file under the host's /proc/sys/net, byte for byte (unreadable ones by errno),
 * read by this process (root). Live counters are left out.
 */
export function procSysNetSnapshot(): Map<string, string> {
  const m = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(p);
      else if (!/nf_conntrack_count$/.test(p)) {
        try {
          m.set(p, fs.readFileSync(p, 'latin1'));
        } catch (err) {
          m.set(p, `error ${(err as NodeJS.ErrnoException).code}`);
        }
      }
    }
  };
  walk('/proc/sys/net');
  return m;
}

/** The files whose content differs between two snapshots (or that only one has). */
export function snapshotDiff(a: Map<string, string>, b: Map<string, string>): string[] {
  return [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k));
}

/**
 * Hold /tmp/netns-host.lock (the lock every test that changes a host sysctl takes) until the
 * returned function is called: a `flock` child holds it while this process works.
 */
export async function holdHostLock(): Promise<() => Promise<void>> {
  const holder = spawn('flock', ['/tmp/netns-host.lock', '-c', 'echo locked; read x'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    holder.stdout!.on('data', (d: Buffer) => {
      if (String(d).includes('locked')) resolve();
    });
    holder.on('error', reject);
    holder.on('exit', (code) => reject(new Error(`flock exited (${code}) before taking the lock`)));
  });
  return async () => {
    const gone = new Promise<void>((resolve) => holder.once('exit', () => resolve()));
    holder.stdin!.end('\n');
    await gone;
  };
}

const checkout = new URL('..', import.meta.url).pathname;
let staged: string | undefined;

/**
 * Where code run as `nobody` finds the package: a copy of what it needs (package.json, dist/,
 * the addon and its helper program, the runtime dependencies, test/fixtures/) in a temporary
 * directory of this test file's own, readable by every user, laid out as the checkout is (so
 * the fixtures' relative imports resolve). The checkout itself may be where nobody cannot go
 * (a clone under /root, a 0700 home); nothing outside the copy has its permissions changed.
 * Made on first use, with a trailing slash like a `new URL('..')` root; removed when the test
 * process exits.
 */
export function stagedRoot(): string {
  if (staged) return staged;
  const dir = fs.mkdtempSync(`${os.tmpdir()}/netns-staged-`);
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const parts = ['package.json', 'dist', 'test/fixtures', 'node_modules/bindings', 'node_modules/file-uri-to-path'];
  // The addon the loader picks (lib/native/binding.ts): a local build, else the prebuilt one.
  for (const f of ['netns.node', 'netns-rootless']) parts.push(`build/Release/${f}`);
  if (fs.existsSync(`${checkout}prebuilds`)) parts.push('prebuilds');
  for (const p of parts) {
    if (!fs.existsSync(checkout + p)) throw new Error(`${p} is missing: run \`npm run build\` before the tests`);
    fs.cpSync(checkout + p, `${dir}/${p}`, { recursive: true });
  }
  // Readable (and, for programs, executable) by all, whatever the checkout's umask was.
  const open = (p: string): void => {
    const st = fs.statSync(p);
    fs.chmodSync(p, st.isDirectory() || st.mode & 0o100 ? 0o755 : 0o644);
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) open(`${p}/${e}`);
  };
  open(dir);
  staged = `${dir}/`;
  return staged;
}
