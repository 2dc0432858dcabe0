// Real Docker and Podman for the engine tests, started by the tests themselves, with their
// networking off and every piece of state in a temporary directory of their own:
//   dockerd   --data-root, --exec-root (its containerd's root, state and sockets inside it),
//             --pidfile, -H unix://SOCK, --config-file, --bridge=none --iptables=false
//             --ip6tables=false --ip-forward=false --ip-masq=false --storage-driver=vfs, and a
//             cgroup parent of its own;
//   podman    rootful, --runtime runc (Debian's crun refuses this machine's hybrid cgroups),
//             --root/--runroot/--tmpdir/--network-config-dir in the directory, vfs, cgroupfs,
//             `run --network none` with the ulimits runc's init needs here and a cgroup parent
//             of its own.
// Images come from `docker import` / `podman import` of a busybox-static root: no registry.
// Teardown removes the containers, stops the daemon, kills whatever of theirs is left (by the
// directory in its command line or the cgroup it is in), unmounts what they mounted there,
// removes their cgroups, the directory, and what they made outside it (/run/docker/plugins,
// /run/containerd/s, /run/runc, Podman's blob cache in /var/lib/containers) when it was not
// there before. The same script runs from a watcher if the test process dies without its
// teardown (a crash, SIGKILL, a timeout).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import type { Test } from 'tap';
import { busyboxRootfs } from './containers-env.js';

export interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

function runIn(cmd: string, args: string[], env: NodeJS.ProcessEnv, input?: Buffer | string, timeout = 60_000): Result {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    input: input ?? '',
    env,
    timeout,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return { status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/**
 * What the host's network looks like: interfaces, addresses, routes and policy rules of every
 * table, and the iptables / ip6tables rules (counters and comment lines dropped), to compare
 * before and after.
 */
export function hostNetwork(): Record<string, string> {
  const out: Record<string, string> = {};
  const cmds: [string, string, string[]][] = [
    ['links', 'ip', ['-o', 'link']],
    ['addresses', 'ip', ['-o', 'addr']],
    ['routes', 'ip', ['route', 'show', 'table', 'all']],
    ['routes6', 'ip', ['-6', 'route', 'show', 'table', 'all']],
    ['rules', 'ip', ['rule']],
    ['iptables', 'iptables-save', []],
    ['ip6tables', 'ip6tables-save', []],
  ];
  for (const [name, cmd, args] of cmds) {
    if (which(cmd) === undefined) continue;
    const r = runIn(cmd, args, process.env);
    out[name] = `${r.status} ${r.stdout}`
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .map((l) => l.replace(/\[\d+:\d+\]/g, '[]'))
      .join('\n');
  }
  return out;
}

/** Why the engine tests cannot run here, or undefined. */
export function enginesMissing(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root: runs dockerd and rootful Podman';
  const absent = ['dockerd', 'podman', 'runc', 'containerd', 'tar'].filter((c) => which(c) === undefined);
  if (!fs.existsSync('/bin/busybox')) absent.push('busybox-static');
  if (absent.length > 0)
    return `needs ${absent.join(', ')} (apt-get install docker.io podman busybox-static with services kept from starting; .ci/run installs them)`;
  return undefined;
}

/** Directories outside the engine's own that it makes when missing, and what it leaves in them. */
const HOST_DIRS = ['/run/docker', '/run/containerd', '/run/runc', '/var/lib/containers'];
const BLOB_CACHE = '/var/lib/containers/cache/blob-info-cache-v1.boltdb';

/**
 * The cleanup, as a bash script: run by the teardown, or by the watcher once the test process
 * is gone. `graceful`: commands that remove the containers and stop the daemon. It ends every
 * process of the engine's (the directory in its command line, or in the cgroup), unmounts
 * every mount below the directory, removes the cgroups, the directory and what the engine made
 * outside it.
 */
function cleanupScript(
  dir: string,
  cgroup: string,
  graceful: string,
  made: string[],
  cache: 'restore' | 'remove' | undefined,
): string {
  const q = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;
  return `#!/bin/bash
# netns engine test cleanup for ${dir} (written by test/engines-env.ts)
DIR=${q(dir)}
CG=${q(cgroup)}
ours() { # the pids of processes of the engine's: the directory in the command line, or in its cgroup
  local p pid args cg stat
  for p in /proc/[0-9]*; do
    pid=\${p#/proc/}
    mapfile -d '' args <"$p/cmdline" 2>/dev/null || continue
    [[ "\${args[*]}" == "bash $0" ]] && continue # this script, and its subshells
    mapfile -t cg <"$p/cgroup" 2>/dev/null || continue
    read -r stat <"$p/stat" 2>/dev/null || continue
    [[ "\${stat##*) }" == Z* ]] && continue # exited: its parent reaps it
    if [[ "\${args[*]}" == *"$DIR"* || "\${cg[*]}" =~ :/(.*/)?$CG(/| |$) ]]; then echo "$pid"; fi
  done
}
${graceful}
for i in $(seq 50); do
  pids=$(ours)
  [ -z "$pids" ] && break
  kill -9 $pids 2>/dev/null
  sleep 0.1
done
# Mounts below the directory, deepest first (docker's data-root bind, netns files, shm).
for m in $(awk -v d="$DIR" 'index($5, d) == 1 { print length($5), $5 }' /proc/self/mountinfo | sort -rn | cut -d' ' -f2); do
  umount -l "$m" 2>/dev/null
done
for i in $(seq 50); do
  left=$(find /sys/fs/cgroup -maxdepth 8 -depth -type d \\( -name "$CG" -o -path "*/$CG/*" \\) 2>/dev/null)
  [ -z "$left" ] && break
  rmdir $left 2>/dev/null
  sleep 0.1
done
${cache === 'restore' ? `cp -p "$DIR/blob-info-cache.bak" ${q(BLOB_CACHE)}` : ''}
${cache === 'remove' ? `rm -f ${q(BLOB_CACHE)}; rmdir /var/lib/containers/cache 2>/dev/null` : ''}
rm -rf "$DIR"

${made.includes('/run/docker') ? 'rmdir /run/docker/plugins 2>/dev/null' : ''}
${made.includes('/run/containerd') ? 'rmdir /run/containerd/s 2>/dev/null' : ''}
for d in ${made.map(q).join(' ')}; do rmdir "$d" 2>/dev/null; done
exit 0
`;
}

interface Engine {
  /** The temporary directory holding all of its state. */
  dir: string;
  /** Its cgroup parent's name (one directory in each hierarchy). */
  cgroup: string;
  /** The busybox image it has. */
  image: string;
  /** The engine's CLI: `docker -H unix://SOCK ARGS` (Debian's when installed), `podman GLOBAL-FLAGS ARGS`. */
  cli(args: string[], input?: Buffer | string): Result;
  /**
   * `run -d --name NAME --network none ARGS... IMAGE /bin/busybox sleep 3600` (Podman's with the
   * ulimits and its cgroup parent): the full id.
   */
  run(name: string, args?: string[]): string;
  /** Remove its containers, stop it, remove everything it made (once; the teardown does it too). */
  stop(): void;
}

/**
 * A temporary directory and a cleanup registered for it: at teardown, and in a watcher process
 * that runs it if this process dies first. Returns the directory and a function to set the
 * graceful part (commands that need the daemon, known once it runs).
 */
function prepare(
  t: Test,
  prefix: string,
  blobCache = false,
): { dir: string; cgroup: string; setGraceful(cmds: string): void; stop(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  const cgroup = `${path.basename(dir)}`;
  const made = HOST_DIRS.filter((d) => !fs.existsSync(d));
  // Podman's import writes containers/image's blob-info cache, a path --root does not move:
  // put back the host's, or remove the one it made.
  let cache: 'restore' | 'remove' | undefined;
  if (blobCache) {
    cache = fs.existsSync(BLOB_CACHE) ? 'restore' : 'remove';
    if (cache === 'restore') fs.copyFileSync(BLOB_CACHE, path.join(dir, 'blob-info-cache.bak'));
  }
  const script = path.join(dir, 'cleanup.sh');
  let graceful = '';
  const write = (): void =>
    fs.writeFileSync(script, cleanupScript(dir, cgroup, graceful, made, cache), { mode: 0o700 });
  write();
  // The watcher reads the script only once this process is gone, so it runs the latest one.
  // (The script's path is passed in the environment: a command line naming the directory is
  // one the cleanup ends.)
  const watch = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; exec bash "$NETNS_CLEANUP"`;
  const watcher = spawn('bash', ['-c', watch], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, NETNS_CLEANUP: script },
  });
  watcher.unref();
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    const r = spawnSync('bash', [script], { encoding: 'utf8', timeout: 120_000 });
    // Done: the watcher is not needed. Not done: it runs the script again once this process exits.
    if (r.status !== 0) throw new Error(`cleanup of ${dir} failed (${r.status ?? r.signal}): ${r.stderr}`);
    if (watcher.pid !== undefined) {
      try {
        process.kill(-watcher.pid, 'SIGKILL'); // its process group: bash and its sleep
      } catch {
        /* gone */
      }
    }
  };
  t.teardown(stop);
  return {
    dir,
    cgroup,
    setGraceful(cmds) {
      graceful = cmds;
      write();
    },
    stop,
  };
}

/**
 * `ENGINE import - IMAGE` of the busybox root the runc tests use (with /etc for the engines'
 * files), made in `dir` and removed after: an image without a registry. Returns IMAGE.
 */
function importImage(
  cli: (args: string[], input: Buffer) => Result,
  image: string,
  dir: string,
  engine: string,
): string {
  const rootfs = busyboxRootfs(dir);
  fs.mkdirSync(path.join(rootfs, 'etc'));
  const tar = spawnSync('tar', ['-C', rootfs, '-c', '.'], { maxBuffer: 64 << 20 });
  if (tar.status !== 0) throw new Error(`tar failed: ${tar.stderr}`);
  fs.rmSync(rootfs, { recursive: true, force: true });
  const r = cli(['import', '-', image], tar.stdout);
  if (r.status !== 0) throw new Error(`${engine} import failed: ${r.stderr}`);
  return image;
}

/** `ENGINE run -d --name NAME --network none ARGS... /bin/busybox sleep 3600` (ARGS end with the image): the full id. */
function runSleeper(cli: Engine['cli'], engine: string, name: string, args: string[], log = (): string => ''): string {
  const r = cli(['run', '-d', '--name', name, '--network', 'none', ...args, '/bin/busybox', 'sleep', '3600']);
  if (r.status !== 0) throw new Error(`${engine} run ${name} failed: ${r.stderr}\n${log()}`);
  return r.stdout.trim();
}

export interface Docker extends Engine {
  /** What dockerd was given as --exec-root, --data-root and -H unix://. */
  execRoot: string;
  dataRoot: string;
  sock: string;
}

export interface Podman extends Engine {
  /** Its --root (containers-storage's graph root) and --runroot. */
  root: string;
  runroot: string;
}

/**
 * A dockerd of the test's own. Its containerd is the one dockerd starts itself, with root and
 * state below the data-root and the exec-root (its shims' sockets in /run/containerd/s, a path
 * containerd fixes).
 */
export async function startDocker(t: Test): Promise<Docker> {
  const { dir, cgroup, setGraceful, stop } = prepare(t, 'netns-docker');
  const execRoot = path.join(dir, 'exec');
  const dataRoot = path.join(dir, 'data');
  const sock = path.join(dir, 'docker.sock');
  const pidfile = path.join(dir, 'docker.pid');
  const config = path.join(dir, 'daemon.json');
  fs.writeFileSync(config, '{}\n'); // not /etc/docker/daemon.json
  const cliPath = fs.existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
  const env = { ...process.env, DOCKER_CONFIG: path.join(dir, 'cli'), DOCKER_HOST: `unix://${sock}` };
  const cli = (args: string[], input?: Buffer | string): Result => runIn(cliPath, args, env, input);
  const docker = `${cliPath} -H unix://${sock}`;
  setGraceful(`export DOCKER_CONFIG=${JSON.stringify(path.join(dir, 'cli'))}
ids=$(timeout 20 ${docker} ps -aq 2>/dev/null)
[ -n "$ids" ] && timeout 60 ${docker} rm -f $ids >/dev/null 2>&1
if [ -f ${pidfile} ]; then
  pid=$(cat ${pidfile}); kill -TERM "$pid" 2>/dev/null
  for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
fi`);
  // Started through `sh -c '... &'`: not a child of this process (which cannot reap it while it
  // waits in the synchronous cleanup), in a session of its own (a signal meant for the test does
  // not reach it before its containers are removed). The cleanup stops it.
  const logFile = path.join(dir, 'dockerd.log');
  const args = [
    `--config-file=${config}`,
    `--data-root=${dataRoot}`,
    `--exec-root=${execRoot}`,
    `--pidfile=${pidfile}`,
    `--host=unix://${sock}`,
    '--bridge=none',
    '--iptables=false',
    '--ip6tables=false',
    '--ip-forward=false',
    '--ip-masq=false',
    '--storage-driver=vfs',
    '--exec-opt=native.cgroupdriver=cgroupfs',
    `--cgroup-parent=${cgroup}`,
  ];
  const launch = spawnSync(
    'sh',
    ['-c', 'setsid "$@" </dev/null >>"$NETNS_LOG" 2>&1 & echo $!', 'sh', 'dockerd', ...args],
    {
      encoding: 'utf8',
      env: { ...process.env, NETNS_LOG: logFile },
    },
  );
  const daemon = Number(launch.stdout.trim());
  if (!(daemon > 0)) throw new Error(`dockerd could not be started: ${launch.stderr}`);
  const alive = (): boolean => {
    try {
      return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${daemon}/stat`, 'latin1'));
    } catch {
      return false;
    }
  };
  const logTail = (): string => fs.readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n');
  let up = false;
  for (let i = 0; i < 300 && !up; i++) {
    if (!alive()) throw new Error(`dockerd exited: ${logTail()}`);
    up = fs.existsSync(sock) && cli(['version', '--format', '{{.Server.Version}}']).status === 0;
    if (!up) await new Promise((r) => setTimeout(r, 100));
  }
  if (!up) throw new Error(`dockerd did not answer within 30 s: ${logTail()}`);
  const image = importImage(cli, `netns-busybox:${process.pid}`, dir, 'docker');
  return {
    dir,
    cgroup,
    image,
    execRoot,
    dataRoot,
    sock,
    cli,
    stop,
    run: (name, extra = []) => runSleeper(cli, 'docker', name, [...extra, image], logTail),
  };
}

/**
 * A rootful Podman of the test's own (no daemon: each command is a process; conmon watches each
 * container). runc keeps its containers' state in its default root, /run/runc.
 */
export async function startPodman(t: Test): Promise<Podman> {
  const { dir, cgroup, setGraceful, stop } = prepare(t, 'netns-podman', true);
  const [root, runroot, tmp] = ['root', 'runroot', 'tmp'].map((d) => path.join(dir, d)) as [string, string, string];
  fs.mkdirSync(tmp);
  const global = [
    `--root=${root}`,
    `--runroot=${runroot}`,
    `--tmpdir=${path.join(dir, 'libpod')}`,
    `--network-config-dir=${path.join(dir, 'net')}`,
    '--runtime=runc',
    '--storage-driver=vfs',
    '--cgroup-manager=cgroupfs',
    '--events-backend=file',
  ];
  const env = { ...process.env, TMPDIR: tmp };
  const cli = (args: string[], input?: Buffer | string): Result => runIn('podman', [...global, ...args], env, input);
  setGraceful(
    `TMPDIR=${JSON.stringify(tmp)} timeout 60 podman ${global.map((g) => JSON.stringify(g)).join(' ')} rm -f -a -t 0 >/dev/null 2>&1`,
  );
  const image = importImage(cli, `localhost/netns-busybox:${process.pid}`, dir, 'podman');
  return {
    dir,
    cgroup,
    image,
    root,
    runroot,
    cli,
    stop,
    run: (name, extra = []) => {
      const limits = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];
      return runSleeper(cli, 'podman', name, [...limits, `--cgroup-parent=/${cgroup}`, ...extra, image]);
    },
  };
}
