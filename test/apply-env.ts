// What the netns apply tests share: the CLI run to completion, and `netns apply --watch --json`
// running in the background with its lines collected.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import { childEnv, exited, plainNode } from './helpers.js';

const CLI = fileURLToPath(new URL('../dist/bin/netns.js', import.meta.url));

/** `netns ARGS` with `env` added, stdin empty: status and output. */
export function netnsCli(args: string[], env: Record<string, string> = {}) {
  const [cmd, a] = plainNode([CLI, ...args]);
  const r = spawnSync(cmd, a, { encoding: 'utf8', input: '', env: childEnv(env), timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface Watch<L> {
  proc: ChildProcess;
  /** Every JSON line so far. */
  lines: L[];
  /** Its stderr so far (the ready line: "watching ..."). */
  stderr(): string;
}

/**
 * `netns apply --watch --json ARGS` with `env` added; resolves once it says what it watches.
 * Killed at teardown if still running.
 */
export async function startWatch<L>(t: Test, args: string[], env: Record<string, string>): Promise<Watch<L>> {
  const [cmd, a] = plainNode([CLI, 'apply', '--watch', '--json', ...args]);
  const proc = spawn(cmd, a, { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await exited(proc);
  });
  const lines: L[] = [];
  let partial = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
    const parts = (partial + d).split('\n');
    partial = parts.pop()!;
    for (const p of parts) if (p) lines.push(JSON.parse(p) as L);
  });
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (stderr.includes('watching')) resolve();
    });
    proc.once('exit', () => reject(new Error(`the watcher exited: ${stderr}`)));
  });
  return { proc, lines, stderr: () => stderr };
}

/** An interface pair nsx0/nsx1 with `mtu`, made inside the namespace of `pid` (never on the host). */
export function vethInside(pid: number, mtu: number): void {
  const r = spawnSync(
    'nsenter',
    [
      `--net=/proc/${pid}/ns/net`,
      'ip',
      'link',
      'add',
      'nsx0',
      'mtu',
      String(mtu),
      'type',
      'veth',
      'peer',
      'name',
      'nsx1',
      'mtu',
      String(mtu),
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`ip link add in ${pid}: ${r.stderr}`);
}
