// Where container runtimes keep their state: the default roots, NETNS_CONTAINER_ROOTS, options.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { invalid } from '../errors.js';
import type { ContainerOptions, ContainerRoot, ContainerRuntime } from './types.js';

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
 * The roots searched by default. runc and crun default to /run/runc and /run/crun as root, and
 * to $XDG_RUNTIME_DIR/runc and /crun rootless; Podman and CRI-O run them with those roots (their
 * containers are told apart by their bundle's annotations). Docker runs runc with
 * /run/docker/runtime-runc/moby; containerd's runc shim uses /run/containerd/runc/NAMESPACE.
 */
export function defaultRoots(env: NodeJS.ProcessEnv = process.env): ContainerRoot[] {
  const roots: ContainerRoot[] = [
    { runtime: 'runc', dir: '/run/runc' },
    { runtime: 'crun', dir: '/run/crun' },
    { runtime: 'docker', dir: '/run/docker/runtime-runc/moby' },
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
  const { runtime, root, roots } = options;
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
  else list = defaultRoots(env);
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
