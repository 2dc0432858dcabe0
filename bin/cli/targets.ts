// The namespace a command acts on: --pid / --name / --path, none = the current namespace.
// resolveTarget() is the one place that turns options into a namespace.
import { NetNamespace } from 'netns';
import { UsageError } from './errors.js';
import { shq } from './output.js';

export const targetOptions = {
  pid: { type: 'string' },
  name: { type: 'string' },
  path: { type: 'string' },
} as const;

export const TARGET_HELP = `Target (default: the current namespace):
  --pid PID            the namespace of process PID
  --name NAME          a named namespace (/run/netns/NAME, as ip netns names them)
  --path PATH          a namespace file (/proc/PID/ns/net, a bind mount)`;

export interface TargetValues {
  pid?: string;
  name?: string;
  path?: string;
}

const KINDS = ['pid', 'name', 'path'] as const;

/** Whether the options name a target at all. */
export function hasTarget(v: TargetValues): boolean {
  return KINDS.some((k) => v[k] !== undefined);
}

/** Check the target options without opening anything; throws a UsageError. */
export function checkTarget(v: TargetValues, command: string): void {
  if (KINDS.filter((k) => v[k] !== undefined).length > 1) throw new UsageError('give at most one of --pid, --name and --path', command);
  if (v.pid !== undefined && (!/^[0-9]+$/.test(v.pid) || Number(v.pid) < 1))
    throw new UsageError(`--pid expects a process id, got ${JSON.stringify(v.pid)}`, command);
}

/** Open the selected namespace, or undefined for the current one. The caller closes it. */
export function resolveTarget(v: TargetValues, command: string): NetNamespace | undefined {
  checkTarget(v, command);
  if (v.pid !== undefined) return NetNamespace.fromPid(Number(v.pid));
  if (v.name !== undefined) return NetNamespace.fromName(v.name);
  if (v.path !== undefined) return NetNamespace.fromPath(v.path);
  return undefined;
}

/** How to name the selected namespace in a suggested command. */
export function targetArgs(v: TargetValues): string {
  if (v.pid !== undefined) return `--pid ${v.pid}`;
  if (v.name !== undefined) return `--name ${shq(v.name)}`;
  if (v.path !== undefined) return `--path ${shq(v.path)}`;
  return '';
}
