// Shared by the kernel tier's files (test/kernels/tier/*.ts, compiled to dist/kernels/ and run
// by `npm run test:kernels` inside each kernel's VM with node's own test runner).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { fileURLToPath } from 'node:url';
import { defaultContext, findRule } from 'netns/explain';
import type { Walk } from './walk.js';

/** The checkout (the tier runs from dist/kernels/ in it). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The compiled walker program. */
export const WALK_JS = fileURLToPath(new URL('./walk.js', import.meta.url));
/** netns' command. */
export const NETNS_CLI = `${ROOT}dist/bin/netns.js`;
/** The running kernel's line, "6.1". */
export const LINE = /^(\d+\.\d+)/.exec(os.release())?.[1] ?? os.release();
/** Where the tier leaves what it measured for the runner (the VM's results share), if anywhere. */
export const RESULTS = process.env.NETNS_KERNEL_RESULTS;
/** The tier runs in a throwaway VM: it may change that kernel's global values. */
export const IN_VM = process.env.NETNS_KERNEL_VM === '1';

/** Run a program, its stdout as text. */
export function run(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): string {
  return execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20, stdio: ['pipe', 'pipe', 'pipe'], ...opts });
}

/** The walker run through `prefix` (e.g. ['unshare', '-n']): what it saw, and what its command saw. */
export function walkIn(
  prefix: string[],
  writes?: Record<string, string>,
  then?: string[],
): { failed: Record<string, string>; keys: Walk; then?: { keys: Walk } } {
  const args = [process.execPath, WALK_JS];
  let tmp: string | undefined;
  if (writes) {
    tmp = fs.mkdtempSync(`${os.tmpdir()}/netns-walk-`);
    fs.writeFileSync(`${tmp}/writes.json`, JSON.stringify(writes));
    fs.chmodSync(tmp, 0o755);
    args.push(`${tmp}/writes.json`);
  }
  if (then) args.push('--', ...then, process.execPath, WALK_JS);
  try {
    return JSON.parse(run(prefix[0]!, [...prefix.slice(1), ...args]));
  } finally {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Save a JSON result (or text already made) for the runner (no-op outside the matrix). */
export function saveResult(name: string, data: unknown): void {
  if (RESULTS)
    fs.writeFileSync(`${RESULTS}/${name}.json`, typeof data === 'string' ? data : JSON.stringify(data, null, 1));
}

/** Read a result an earlier tier file saved, if any. */
export function loadResult<T>(name: string): T | undefined {
  if (!RESULTS || !fs.existsSync(`${RESULTS}/${name}.json`)) return undefined;
  return JSON.parse(fs.readFileSync(`${RESULTS}/${name}.json`, 'utf8')) as T;
}

/** `unshare -n sleep`, started and known to be in its own namespace: { child, pid, kill }. */
export async function sleeper(): Promise<{ child: ChildProcess; pid: number; kill: () => void }> {
  const host = fs.readlinkSync('/proc/self/ns/net');
  const child = spawn('unshare', ['-n', 'sleep', '600'], { stdio: 'ignore' });
  const pid = child.pid!;
  const kill = (): void => void child.kill('SIGKILL');
  for (let i = 0; i < 2000; i++) {
    try {
      if (
        fs.readlinkSync(`/proc/${pid}/ns/net`) !== host &&
        fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep'
      )
        return { child, pid, kill };
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  kill();
  throw new Error('unshare -n sleep did not start');
}

/** A named namespace made by `ip netns add`, and its removal. */
export function ipNetns(): { name: string; remove: () => void } {
  const name = `kt-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  run('ip', ['netns', 'add', name]);
  return {
    name,
    remove: () => {
      try {
        run('ip', ['netns', 'del', name]);
      } catch {
        /* gone */
      }
    },
  };
}

/** procps `sysctl -a --deprecated` inside a named namespace (every key it can read): key -> value. */
export function procpsAll(name: string): Map<string, string> {
  const out = run('ip', ['netns', 'exec', name, 'unshare', '-u', 'sysctl', '-a', '--deprecated', '-r', '^net\\.']);
  const m = new Map<string, string>();
  for (const line of out.split('\n')) {
    const i = line.indexOf(' = ');
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 3));
  }
  return m;
}

/** Equal as sysctl values: the same numbers or words, whatever the whitespace between them. */
export const sameText = (a: string | undefined, b: string | undefined): boolean =>
  a !== undefined && b !== undefined && a.trim().split(/\s+/).join(' ') === b.trim().split(/\s+/).join(' ');

/** What the rule base says a namespace owned by a user namespace does with a key on this kernel. */
export function rulesUserns(rel: string): string | undefined {
  const ctx = { ...defaultContext(), childUserns: true };
  const rule = findRule(rel, ctx);
  return typeof rule?.userns === 'function' ? rule.userns(rel, ctx) : rule?.userns;
}
