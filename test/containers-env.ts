// Real container runtimes for the container tests, started by the tests themselves: a busybox
// rootfs, runc containers (default root and Docker's), and a containerd of the test's own
// (root, state, sockets in a temporary directory). Every container gets a network namespace of
// its own and no network setup on the host. Everything is stopped and removed at teardown,
// also when a test fails.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import type { Test } from 'tap';

export const DOCKER_RUNC_ROOT = '/run/docker/runtime-runc/moby';

function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Why the runtime tests cannot run here, or undefined. */
export function missing(tools: string[]): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root: runs containers';
  const absent = tools.filter((t) => !which(t));
  if (absent.length > 0)
    return `needs ${absent.join(', ')} (apt-get install runc containerd busybox-static; .ci/run installs them)`;
  if (!isStatic('/bin/busybox')) return 'needs a static /bin/busybox (busybox-static) for the rootfs';
  return undefined;
}

function isStatic(file: string): boolean {
  try {
    // A static ELF has no PT_INTERP program header: look for the interpreter's path.
    return fs.existsSync(file) && !fs.readFileSync(file).includes('/lib64/ld-linux');
  } catch {
    return false;
  }
}

export function run(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, {
    encoding: 'utf8',
    input: input ?? '',
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: 60_000,
  });
}

/** Run, returning status and output instead of throwing. */
export function tryRun(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A temporary directory, removed at teardown. */
export function tempDir(t: Test, prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** DIR/rootfs: /bin/busybox and the applets the tests use. */
export function busyboxRootfs(dir: string): string {
  const rootfs = path.join(dir, 'rootfs');
  fs.mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
  fs.mkdirSync(path.join(rootfs, 'proc'));
  fs.mkdirSync(path.join(rootfs, 'dev'));
  fs.mkdirSync(path.join(rootfs, 'sys'));
  fs.mkdirSync(path.join(rootfs, 'tmp'));
  fs.copyFileSync('/bin/busybox', path.join(rootfs, 'bin/busybox'));
  fs.chmodSync(path.join(rootfs, 'bin/busybox'), 0o755);
  for (const a of ['sh', 'cat', 'sleep', 'echo']) fs.symlinkSync('busybox', path.join(rootfs, 'bin', a));
  return rootfs;
}

let seq = 0;
/** A container id unique to this test process: PREFIX-PID-N. */
export function containerId(prefix: string): string {
  return `${prefix}-${process.pid}-${++seq}`;
}

/**
 * A runc bundle in DIR: `runc spec`, then not a terminal, `sleep 600`, annotations, and the
 * `linux.sysctl` map `sysctl` (what `docker run --sysctl` writes). The spec's namespaces
 * include a network namespace of its own (no network set up in it).
 */
export function runcBundle(
  dir: string,
  annotations: Record<string, string> = {},
  sysctl?: Record<string, string>,
): string {
  busyboxRootfs(dir);
  run('runc', ['spec', '--bundle', dir]);
  const file = path.join(dir, 'config.json');
  const spec = JSON.parse(fs.readFileSync(file, 'utf8'));
  spec.process.terminal = false;
  spec.process.args = ['/bin/busybox', 'sleep', '600'];
  const ns: { type: string }[] = spec.linux.namespaces;
  if (!ns.some((n) => n.type === 'network')) ns.push({ type: 'network' });
  spec.annotations = annotations;
  if (sysctl) spec.linux.sysctl = sysctl;
  fs.writeFileSync(file, JSON.stringify(spec));
  return dir;
}

/** A container started with `runc [--root ROOT] run -d`, killed and deleted at teardown. */
export function runcRun(t: Test, id: string, bundle: string, root?: string): { id: string; pid: number; root: string } {
  const rootArgs = root ? ['--root', root] : [];
  const dir = root ?? '/run/runc';
  const made = fs.existsSync(dir) ? undefined : firstMissing(dir);
  t.teardown(() => {
    tryRun('runc', [...rootArgs, 'kill', id, 'KILL']);
    for (let i = 0; i < 50 && tryRun('runc', [...rootArgs, 'delete', '-f', id]).status !== 0; i++)
      spawnSync('sleep', ['0.1']);
    if (made) removeEmptyUpTo(dir, made);
  });
  const r = detached('runc', [...rootArgs, 'run', '-d', '--bundle', bundle, id], bundle);
  if (r.status !== 0) throw new Error(`runc run ${id} failed: ${r.stderr}`);
  const state = JSON.parse(run('runc', [...rootArgs, 'state', id])) as { pid: number };
  return { id, pid: state.pid, root: root ?? '/run/runc' };
}

/**
 * Run `runc run -d`-like commands with stdio on /dev/null and a file: a detached container's
 * init inherits them, and a pipe of ours would stay open as long as it runs.
 */
export function detached(cmd: string, args: string[], dir: string): { status: number | null; stderr: string } {
  const errFile = path.join(dir, `${cmd}.err`);
  const err = fs.openSync(errFile, 'w');
  try {
    const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', err], timeout: 60_000 });
    return { status: r.status, stderr: fs.readFileSync(errFile, 'utf8') };
  } finally {
    fs.closeSync(err);
  }
}

/** The first directory of `dir`'s path that does not exist yet. */
function firstMissing(dir: string): string {
  let d = path.resolve(dir);
  while (!fs.existsSync(path.dirname(d))) d = path.dirname(d);
  return d;
}

/** Remove `dir` and its parents up to `top`, as long as they are empty. */
function removeEmptyUpTo(dir: string, top: string): void {
  for (let d = path.resolve(dir); d.startsWith(top); d = path.dirname(d)) {
    try {
      fs.rmdirSync(d);
    } catch {
      return;
    }
    if (d === top) return;
  }
}

/** Run a command inside a runc container: `runc exec ID ARGS`. */
export function runcExec(
  c: { id: string; root: string },
  args: string[],
): { status: number | null; stdout: string; stderr: string } {
  return tryRun('runc', ['--root', c.root, 'exec', c.id, ...args]);
}

export interface Containerd {
  dir: string;
  sock: string;
  /** `ctr -a SOCK ARGS`. */
  ctr(args: string[]): { status: number | null; stdout: string; stderr: string };
}

const DISABLED = [
  'io.containerd.grpc.v1.cri',
  'io.containerd.snapshotter.v1.btrfs',
  'io.containerd.snapshotter.v1.zfs',
  'io.containerd.snapshotter.v1.devmapper',
  'io.containerd.snapshotter.v1.aufs',
  'io.containerd.tracing.processor.v1.otlp',
  'io.containerd.internal.v1.tracing',
];

/**
 * A containerd for this test only: its own config, root, state and sockets in a temporary
 * directory, the CRI and unneeded snapshotter plugins off. At teardown its tasks are killed,
 * its containers deleted, and it is stopped (SIGTERM, then SIGKILL).
 */
export async function startContainerd(t: Test): Promise<Containerd> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netns-ctd-'));
  const sock = path.join(dir, 'containerd.sock');
  const config = `version = 2
root = "${dir}/root"
state = "${dir}/state"
disabled_plugins = ${JSON.stringify(DISABLED)}
[grpc]
  address = "${sock}"
[ttrpc]
  address = "${sock}.ttrpc"
[debug]
  address = "${dir}/debug.sock"
`;
  fs.writeFileSync(path.join(dir, 'config.toml'), config);
  const log = fs.openSync(path.join(dir, 'containerd.log'), 'a');
  const daemon: ChildProcess = spawn('containerd', ['-c', path.join(dir, 'config.toml')], {
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  const ctr = (args: string[]) => tryRun('ctr', ['-a', sock, ...args]);
  const runcShimRoot = '/run/containerd/runc';
  const made = fs.existsSync('/run/containerd') ? undefined : firstMissing('/run/containerd');
  t.teardown(async () => {
    if (daemon.exitCode === null) {
      for (const ns of ctr(['namespaces', 'ls', '-q']).stdout.split('\n').filter(Boolean)) {
        for (const task of ctr(['-n', ns, 'tasks', 'ls', '-q']).stdout.split('\n').filter(Boolean)) {
          ctr(['-n', ns, 'tasks', 'kill', '-s', 'SIGKILL', task]);
          for (let i = 0; i < 50 && ctr(['-n', ns, 'tasks', 'delete', '-f', task]).status !== 0; i++)
            spawnSync('sleep', ['0.1']);
        }
        for (const c of ctr(['-n', ns, 'containers', 'ls', '-q']).stdout.split('\n').filter(Boolean))
          ctr(['-n', ns, 'containers', 'delete', c]);
      }
      daemon.kill('SIGTERM');
      // (The 10 s timer is cleared once the daemon has exited: left pending, it kept the test
      // process alive for 10 s after its last test.)
      let timer: NodeJS.Timeout | undefined;
      const stopped = await Promise.race([
        new Promise<boolean>((r) => daemon.once('exit', () => r(true))),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 10_000))),
      ]).finally(() => clearTimeout(timer));
      if (!stopped) daemon.kill('SIGKILL');
    }
    fs.rmSync(dir, { recursive: true, force: true });
    // What the shim and ctr leave under /run/containerd (runc/NAMESPACE, the shim sockets' s/,
    // ctr's fifo/), if this test made it and it is empty.
    if (made) {
      for (const ns of fs.existsSync(runcShimRoot) ? fs.readdirSync(runcShimRoot) : [])
        removeEmptyUpTo(path.join(runcShimRoot, ns), path.join(runcShimRoot, ns));
      for (const sub of ['runc', 's', 'fifo'])
        removeEmptyUpTo(path.join('/run/containerd', sub), path.join('/run/containerd', sub));
      removeEmptyUpTo('/run/containerd', made);
    }
  });
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
    if (daemon.exitCode !== null) break;
    if (fs.existsSync(sock) && ctr(['version']).status === 0) return { dir, sock, ctr };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(
    `containerd did not start: ${fs.readFileSync(path.join(dir, 'containerd.log'), 'utf8').slice(-2000)}`,
  );
}

/**
 * `ctr -n NS run -d --rootfs DIR --annotation K=V ... ID /bin/busybox sleep 600`; its pid.
 * `joinNetOf`: share that process's network namespace (`--with-ns`), as a pod's containers share
 * the sandbox's.
 */
export function ctrRun(
  cd: Containerd,
  ns: string,
  id: string,
  annotations: Record<string, string>,
  joinNetOf?: number,
): { id: string; pid: number } {
  const dir = path.join(cd.dir, `bundle-${id}`);
  fs.mkdirSync(dir);
  const rootfs = busyboxRootfs(dir);
  const args = ['-n', ns, 'run', '-d', '--rootfs'];
  for (const [k, v] of Object.entries(annotations)) args.push('--annotation', `${k}=${v}`);
  if (joinNetOf !== undefined) args.push('--with-ns', `network:/proc/${joinNetOf}/ns/net`);
  const r = cd.ctr([...args, rootfs, id, '/bin/busybox', 'sleep', '600']);
  if (r.status !== 0) throw new Error(`ctr run ${id} failed: ${r.stderr}`);
  const tasks = cd.ctr(['-n', ns, 'tasks', 'ls']).stdout;
  const line = tasks.split('\n').find((l) => l.split(/\s+/)[0] === id);
  const pid = Number(line?.split(/\s+/)[1]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no pid for ${id} in: ${tasks}`);
  return { id, pid };
}

/** Run a command inside a containerd task: `ctr task exec`. */
export function ctrExec(
  cd: Containerd,
  ns: string,
  id: string,
  args: string[],
): { status: number | null; stdout: string; stderr: string } {
  return cd.ctr(['-n', ns, 'tasks', 'exec', '--exec-id', `x${++seq}`, id, ...args]);
}

/** The CRI plugin's annotations for a container of a pod (as containerd's CRI sets them). */
export function criAnnotations(
  podNs: string,
  pod: string,
  container: string,
  sandboxId: string,
): Record<string, string> {
  return {
    'io.kubernetes.cri.container-type': 'container',
    'io.kubernetes.cri.container-name': container,
    'io.kubernetes.cri.sandbox-id': sandboxId,
    'io.kubernetes.cri.sandbox-name': pod,
    'io.kubernetes.cri.sandbox-namespace': podNs,
    'io.kubernetes.cri.sandbox-uid': `uid-${sandboxId}`,
  };
}
