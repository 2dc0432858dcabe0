// Where container runtimes keep their state: the default roots, NETNS_CONTAINER_ROOTS, options.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { invalid } from '../errors.js';
import type { ContainerOptions, ContainerRoot, ContainerRuntime, DockerRoots } from './types.js';

/** Debian's (and Docker's own) defaults for dockerd's `--exec-root` and `--data-root`. */
export const DOCKER_EXEC_ROOT = '/run/docker';
export const DOCKER_DATA_ROOT = '/var/lib/docker';

/** Every runtime a container may be reported as, and the values --runtime and `options.runtime` take. */
export const CONTAINER_RUNTIMES: readonly ContainerRuntime[] = [
  'runc',
  'crun',
  'docker',
  'containerd',
  'podman',
  'cri-o',
];

/**
 * Where dockerd's state is: `options.docker`, else NETNS_DOCKER_EXEC_ROOT / NETNS_DOCKER_DATA_ROOT,
 * else the defaults (each field on its own).
 */
export function dockerRoots(
  docker: DockerRoots | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Required<DockerRoots> {
  if (docker !== undefined && (docker === null || typeof docker !== 'object'))
    invalid('an object { execRoot?, dataRoot? }', 'options.docker', docker);
  const pick = (v: unknown, name: string, fromEnv: string | undefined, dflt: string): string => {
    if (v !== undefined && (typeof v !== 'string' || v === '')) invalid('a directory', `options.docker.${name}`, v);
    return (v as string | undefined) ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : dflt);
  };
  return {
    execRoot: pick(docker?.execRoot, 'execRoot', env.NETNS_DOCKER_EXEC_ROOT, DOCKER_EXEC_ROOT),
    dataRoot: pick(docker?.dataRoot, 'dataRoot', env.NETNS_DOCKER_DATA_ROOT, DOCKER_DATA_ROOT),
  };
}

/**
 * The roots searched by default. runc and crun default to /run/runc and /run/crun as root, and
 * to $XDG_RUNTIME_DIR/runc and /crun rootless; Podman and CRI-O run them with those roots (their
 * containers are told apart by their bundle's annotations). Docker runs runc with
 * EXEC_ROOT/runtime-runc/moby (/run/docker, or `docker.execRoot` / NETNS_DOCKER_EXEC_ROOT);
 * containerd's runc shim uses /run/containerd/runc/NAMESPACE.
 */
export function defaultRoots(env: NodeJS.ProcessEnv = process.env, docker?: DockerRoots): ContainerRoot[] {
  const d = dockerRoots(docker, env);
  const roots: ContainerRoot[] = [
    { runtime: 'runc', dir: '/run/runc' },
    { runtime: 'crun', dir: '/run/crun' },
    { runtime: 'docker', dir: path.join(d.execRoot, 'runtime-runc/moby'), dataRoot: d.dataRoot },
    { runtime: 'containerd', dir: '/run/containerd/runc' },
  ];
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg)
    roots.push({ runtime: 'runc', dir: path.join(xdg, 'runc') }, { runtime: 'crun', dir: path.join(xdg, 'crun') });
  // As root: every user's rootless runtimes (Podman rootless), /run/user/UID/{runc,crun}.
  if (process.getuid?.() === 0) {
    let users: string[] = [];
    try {
      users = fs.readdirSync('/run/user').filter((u) => /^[0-9]+$/.test(u));
    } catch {
      /* no /run/user */
    }
    for (const u of users)
      roots.push({ runtime: 'runc', dir: `/run/user/${u}/runc` }, { runtime: 'crun', dir: `/run/user/${u}/crun` });
  }
  return roots;
}

/**
 * NETNS_CONTAINER_ROOTS: roots separated by ':', each `RUNTIME=DIR` or a bare DIR (reported as
 * runc/crun by its layout). When set, it replaces the default roots.
 */
export function rootsFromEnv(value: string): ContainerRoot[] {
  return value
    .split(':')
    .filter((s) => s !== '')
    .map((s) => {
      const eq = s.indexOf('=');
      const runtime = eq > 0 ? s.slice(0, eq) : 'runc';
      const dir = eq > 0 ? s.slice(eq + 1) : s;
      if (!CONTAINER_RUNTIMES.includes(runtime as ContainerRuntime))
        invalid(
          `RUNTIME=DIR with RUNTIME one of ${CONTAINER_RUNTIMES.join(', ')}`,
          'NETNS_CONTAINER_ROOTS',
          s,
          RangeError,
        );
      return { runtime: runtime as ContainerRuntime, dir };
    });
}

/** A directory's real path (a root may be a symlink to another), or its resolved path when it does not exist. */
function realDir(dir: string): string {
  try {
    return fs.realpathSync(dir);
  } catch {
    return path.resolve(dir);
  }
}

/** The roots to search for `options`, duplicates (the same directory twice, also through a symlink) dropped. */
export function rootsFor(options: ContainerOptions = {}, env: NodeJS.ProcessEnv = process.env): ContainerRoot[] {
  if (options === null || typeof options !== 'object') invalid('an options object', 'options', options);
  const { runtime, root, roots, docker } = options;
  if (runtime !== undefined && !CONTAINER_RUNTIMES.includes(runtime))
    invalid(`one of ${CONTAINER_RUNTIMES.join(', ')}`, 'options.runtime', runtime, RangeError);
  if (root !== undefined && (typeof root !== 'string' || root === '')) invalid('a directory', 'options.root', root);
  let list: ContainerRoot[];
  if (root !== undefined) list = [{ runtime: runtime ?? 'runc', dir: root }];
  else if (roots !== undefined) {
    if (!Array.isArray(roots)) invalid('an array of { runtime, dir }', 'options.roots', roots);
    list = roots;
  } else if (env.NETNS_CONTAINER_ROOTS !== undefined && env.NETNS_CONTAINER_ROOTS !== '')
    list = rootsFromEnv(env.NETNS_CONTAINER_ROOTS);
  else list = defaultRoots(env, docker);
  // Docker's names: the data-root given for the root, else the one configured.
  const { dataRoot } = dockerRoots(docker, env);
  list = list.map((r) => (r.runtime === 'docker' && r.dataRoot === undefined ? { ...r, dataRoot } : r));
  // Podman and CRI-O keep their containers in runc's and crun's roots.
  const wanted = (r: ContainerRoot): boolean =>
    runtime === undefined ||
    root !== undefined ||
    r.runtime === runtime ||
    ((runtime === 'podman' || runtime === 'cri-o') && (r.runtime === 'runc' || r.runtime === 'crun'));
  const seen = new Set<string>();
  return list.filter((r) => {
    if (!wanted(r)) return false;
    const key = realDir(r.dir);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
