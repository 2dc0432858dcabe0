// netns-cni's commands: ADD applies the configured sysctls to the pod's namespace (CNI_NETNS)
// as one transaction (the library's applyToNamespace), CHECK reports drift, DEL restores what
// ADD changed (when the namespace is still the same one). The protocol is protocol.ts's.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  NetNamespace,
  NetnsError,
  applyToNamespace,
  loadPolicy,
  undoEntries,
  type Policy,
  type PolicySource,
} from 'netns';
import { CODE, CniError, addResult, atLeast, type Parameters, type PluginConfig } from './protocol.js';

/** Where ADD keeps what DEL restores, by default. */
export const DEFAULT_DATA_DIR = '/run/netns-cni';

/** The configured policy: sysctlFiles, then the `sysctl` map, then args.cni.sysctl (later wins). */
function policyOf(c: PluginConfig): Policy {
  const sources: PolicySource[] = [...(c.sysctlFiles ?? [])];
  if (c.sysctl) sources.push({ sysctl: c.sysctl, where: 'sysctl' });
  const fromArgs = c.args?.cni?.sysctl;
  if (fromArgs) sources.push({ sysctl: fromArgs, where: 'args.cni.sysctl' });
  let policy: Policy;
  try {
    policy = loadPolicy(sources);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (typeof err.code === 'string' && err.syscall !== undefined)
      throw new CniError(CODE.ioFailure, `cannot read a sysctl file: ${err.message}`);
    throw new CniError(CODE.invalidConfig, 'invalid sysctl configuration', err.message);
  }
  if (policy.notNet.length > 0) {
    const s = policy.notNet[0]!;
    throw new CniError(
      CODE.invalidConfig,
      `invalid net sysctl key: ${JSON.stringify(s.key)}`,
      `${s.where}: only keys under net (a namespace's own /proc/sys/net) can be set for a container`,
    );
  }
  return policy;
}

/** The pod's namespace, refused when it cannot be opened or is the plugin's own (code 8). */
function openNetns(p: Parameters): NetNamespace {
  let ns: NetNamespace;
  try {
    ns = NetNamespace.fromPath(p.netns);
  } catch (e) {
    if (!(e instanceof NetnsError)) throw e;
    throw new CniError(CODE.invalidNetns, `failed to open netns ${JSON.stringify(p.netns)}`, e.message);
  }
  using self = NetNamespace.current();
  if (ns.equals(self)) {
    ns.close();
    throw new CniError(
      CODE.invalidNetns,
      "plugin's netns and netns from CNI_NETNS should not be the same",
      "writing there would change the runtime's own namespace (the host's)",
    );
  }
  return ns;
}

/** The state file of one attachment: DATADIR/NETWORK/CONTAINERID-IFNAME.json (all three validated). */
function stateFile(c: PluginConfig, p: Parameters): string {
  return path.join(c.dataDir ?? DEFAULT_DATA_DIR, c.name, `${p.containerId}-${p.ifname}.json`);
}

/** What DEL needs to undo an ADD. */
interface State {
  netns: string;
  /** DEV:INO of the namespace ADD wrote in: DEL restores only there. */
  namespace: string;
  undo: [string, string][];
}

/** ADD: apply, all or nothing; keep what undoes it; pass prevResult through. */
export function add(c: PluginConfig, p: Parameters): Record<string, unknown> {
  const policy = policyOf(c);
  using ns = openNetns(p);
  const r = applyToNamespace(ns, policy, { ifname: p.ifname, classify: c.classify !== false, failOnRefused: true });
  if (r.status === 'failed') {
    const e = r.error!;
    if (r.refused.length > 0)
      throw new CniError(CODE.invalidConfig, `sysctl ${e.key} cannot be set per namespace`, e.message);
    const details = [e.message];
    if (e.notRestored?.length) details.push(`NOT restored: ${e.notRestored.join(', ')}`);
    throw new CniError(
      CODE.sysctlFailed,
      `failed to set sysctl ${e.key ?? ''} in ${p.netns}`.trim(),
      details.join('; '),
    );
  }
  if (r.changes.length > 0) {
    const state: State = {
      netns: p.netns,
      namespace: ns.id,
      undo: undoEntries({ changed: r.changes.map((x) => x.key), previous: r.previous, propagated: r.propagated }),
    };
    const file = stateFile(c, p);
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      fs.writeFileSync(`${file}.tmp`, JSON.stringify(state), { mode: 0o600 });
      fs.renameSync(`${file}.tmp`, file);
    } catch (e) {
      // Without it DEL could not undo: undo now, and fail.
      ns.sysctl.setMany(state.undo, { raw: true });
      throw new CniError(CODE.ioFailure, `cannot keep the previous values in ${file}`, (e as Error).message);
    }
  }
  return addResult(c);
}

/** CHECK: every configured key still holds its value (code 101 lists those that drifted). */
export function check(c: PluginConfig, p: Parameters): void {
  if (!atLeast(c.cniVersion, '0.4.0'))
    throw new CniError(CODE.incompatibleVersion, 'config version does not allow CHECK', c.cniVersion);
  const policy = policyOf(c);
  using ns = openNetns(p);
  const r = applyToNamespace(ns, policy, { ifname: p.ifname, classify: c.classify !== false, dryRun: true });
  if (r.refused.length > 0)
    throw new CniError(
      CODE.invalidConfig,
      `sysctl ${r.refused[0]!.key} cannot be set per namespace`,
      r.refused[0]!.reason,
    );
  if (r.deviations.length > 0)
    throw new CniError(
      CODE.sysctlDrift,
      `${r.deviations.length} sysctl${r.deviations.length === 1 ? '' : 's'} drifted from the configured value${r.deviations.length === 1 ? '' : 's'} in ${p.netns}`,
      r.deviations.map((d) => `${d.key} = ${d.value ?? '(absent)'}, configured ${d.expected} (${d.where})`).join('; '),
    );
}

/**
 * DEL: put back what ADD changed, when the namespace is still there and is the one ADD wrote
 * in; always succeeds for a missing namespace or state (DEL may come twice), reporting on
 * stderr what could not be restored.
 */
export function del(c: PluginConfig, p: Parameters, log: (s: string) => void): void {
  const file = stateFile(c, p);
  let state: State;
  try {
    state = JSON.parse(fs.readFileSync(file, 'utf8')) as State;
  } catch {
    return; // no ADD of ours to undo (or already undone)
  }
  if (p.netns !== '') {
    try {
      using ns = NetNamespace.fromPath(p.netns);
      if (ns.id === state.namespace) ns.sysctl.setMany(state.undo, { raw: true });
      else log(`netns-cni: ${p.netns} is no longer the namespace ADD wrote in (${state.namespace}): nothing restored`);
    } catch (e) {
      if (!(e instanceof NetnsError)) throw e;
      if (e.key !== undefined) log(`netns-cni: could not restore the previous values: ${e.message}`);
      // else: the namespace is gone, and its values with it
    }
  }
  fs.rmSync(file, { force: true });
}
