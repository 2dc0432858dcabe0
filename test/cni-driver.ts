// A tiny CNI runtime for the tests, as libcni runs a network configuration list (CNI spec 1.0.0
// section 3): each plugin found by its `type` in a plugin directory (CNI_PATH) and executed
// with the CNI_* variables and its configuration on stdin (the list's cniVersion and name
// inserted, `capabilities` removed, the previous result as prevResult); ADD in order, CHECK in
// order with the ADD's result, DEL in reverse. Every plugin runs inside a network namespace
// of the test's own (the runtime's side), so the bridge it makes and everything else a plugin
// does "on the host" stays there.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import { plainNode } from './helpers.js';
import { tempDir } from './containers-env.js';

/** The package's plugin, as a runtime finds it: the bin file itself (its #!/usr/bin/env node line). */
export const NETNS_CNI = fileURLToPath(new URL('../dist/bin/netns-cni.js', import.meta.url));
/** Where Debian's containernetworking-plugins are. */
export const DEBIAN_CNI = '/usr/lib/cni';

export interface Runtime {
  /** CNI_PATH: netns-cni and Debian's plugins, linked. */
  pluginDir: string;
  /** The runtime's side: the namespace every plugin runs in (/run/netns/NAME). */
  runtimeNetns: string;
}

/** A plugin directory (netns-cni and Debian's plugins) for a runtime whose side is `runtimeNetns`. */
export function runtime(t: Test, runtimeNetns: string): Runtime {
  const pluginDir = path.join(tempDir(t, 'netns-cni-bin'), 'bin');
  fs.mkdirSync(pluginDir);
  fs.symlinkSync(NETNS_CNI, path.join(pluginDir, 'netns-cni'));
  if (fs.existsSync(DEBIAN_CNI))
    for (const p of fs.readdirSync(DEBIAN_CNI)) fs.symlinkSync(path.join(DEBIAN_CNI, p), path.join(pluginDir, p));
  return { pluginDir, runtimeNetns };
}

/** The attachment parameters. */
export interface Attachment {
  containerId: string;
  netns: string;
  ifname: string;
  args?: string;
}

/** What one plugin execution gave. */
export interface Execution {
  status: number | null;
  stdout: string;
  stderr: string;
  /** stdout as JSON, when it is. */
  json?: Record<string, unknown>;
}

/**
 * Execute one plugin as a runtime does: by path, in the runtime's namespace, with exactly
 * the CNI_* variables and PATH in its environment (tap's loader variables removed), the
 * configuration on stdin. `env` overrides (a variable set to undefined is left out).
 */
export function execPlugin(
  rt: Runtime,
  type: string,
  command: string,
  config: unknown,
  a: Partial<Attachment>,
  env: Record<string, string | undefined> = {},
): Execution {
  const vars: Record<string, string | undefined> = {
    CNI_COMMAND: command,
    CNI_CONTAINERID: a.containerId,
    CNI_NETNS: a.netns,
    CNI_IFNAME: a.ifname,
    CNI_ARGS: a.args,
    CNI_PATH: rt.pluginDir,
    ...env,
  };
  const clean: Record<string, string> = { PATH: `${path.dirname(process.execPath)}:/usr/sbin:/usr/bin:/sbin:/bin` };
  for (const [k, v] of Object.entries(vars)) if (v !== undefined) clean[k] = v;
  // `env -u ...` drops what tap's process tracker puts back into every child's environment.
  const unset = plainNode([])[1].slice(0, -1);
  const r = spawnSync('nsenter', [`--net=${rt.runtimeNetns}`, '--', 'env', ...unset, path.join(rt.pluginDir, type)], {
    encoding: 'utf8',
    input: typeof config === 'string' ? config : JSON.stringify(config),
    env: clean,
    timeout: 60_000,
  });
  const out: Execution = { status: r.status, stdout: r.stdout, stderr: r.stderr };
  try {
    out.json = JSON.parse(r.stdout) as Record<string, unknown>;
  } catch {
    /* empty, or not JSON */
  }
  return out;
}

/** A network configuration list (section 1). */
export interface Conflist {
  cniVersion: string;
  name: string;
  disableCheck?: boolean;
  plugins: Record<string, unknown>[];
}

/** A plugin's failure in a list: which plugin, and its error object. */
export class ChainError extends Error {
  constructor(
    readonly plugin: string,
    readonly execution: Execution,
  ) {
    super(`${plugin}: ${execution.stdout || execution.stderr}`);
  }
  get code(): unknown {
    return this.execution.json?.code;
  }
}

/** The execution configuration of one plugin of a list (section 3, "Deriving execution configuration"). */
function executionConfig(list: Conflist, plugin: Record<string, unknown>, prev?: unknown): Record<string, unknown> {
  const { capabilities: _capabilities, ...rest } = plugin;
  return { ...rest, cniVersion: list.cniVersion, name: list.name, ...(prev !== undefined ? { prevResult: prev } : {}) };
}

/** ADD every plugin in order, each given the previous one's result; the last result. */
export function addList(rt: Runtime, list: Conflist, a: Attachment): Record<string, unknown> {
  let prev: Record<string, unknown> | undefined;
  for (const p of list.plugins) {
    const type = String(p.type);
    const x = execPlugin(rt, type, 'ADD', executionConfig(list, p, prev), a);
    if (x.status !== 0) throw new ChainError(type, x);
    if (!x.json) throw new ChainError(type, { ...x, stderr: `no result on stdout: ${x.stderr}` });
    prev = x.json;
  }
  return prev ?? {};
}

/** CHECK every plugin in order with the ADD's result (nothing, unless disableCheck). */
export function checkList(rt: Runtime, list: Conflist, a: Attachment, result: unknown): void {
  if (list.disableCheck) return;
  for (const p of list.plugins) {
    const type = String(p.type);
    const x = execPlugin(rt, type, 'CHECK', executionConfig(list, p, result), a);
    if (x.status !== 0) throw new ChainError(type, x);
  }
}

/** DEL every plugin in reverse order with the ADD's result (if there was one). */
export function delList(rt: Runtime, list: Conflist, a: Attachment, result?: unknown): void {
  for (const p of [...list.plugins].reverse()) {
    const type = String(p.type);
    const x = execPlugin(rt, type, 'DEL', executionConfig(list, p, result), a);
    if (x.status !== 0) throw new ChainError(type, x);
  }
}
