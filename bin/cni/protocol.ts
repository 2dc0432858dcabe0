// The CNI protocol, as spec 1.0.0 (containernetworking/cni SPEC.md) defines it for a plugin:
// parameters in CNI_* environment variables, the configuration on stdin, a result or an
// error object on stdout, the exit status. Pure: no namespace is touched here.

/** The spec versions this plugin speaks (0.3.0 introduced chaining and prevResult). */
export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0'] as const;
/** The newest, answered to VERSION when the caller names none it knows. */
export const LATEST = '1.0.0';

/**
 * Error codes: 1-7 and 11 are the spec's well-known ones, 8 is libcni's ErrInvalidNetNS
 * (CNI_NETNS cannot be used), 100 and up are this plugin's own.
 */
export const CODE = {
  incompatibleVersion: 1,
  unsupportedField: 2,
  unknownContainer: 3,
  invalidEnvironment: 4,
  ioFailure: 5,
  decodingFailure: 6,
  invalidConfig: 7,
  invalidNetns: 8,
  tryAgainLater: 11,
  /** A sysctl could not be set; every key already written was restored. */
  sysctlFailed: 100,
  /** CHECK: a key no longer holds the configured value. */
  sysctlDrift: 101,
} as const;

/** A failure to report as a CNI error object. */
export class CniError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly details?: string,
  ) {
    super(message);
  }
}

/** The error object the spec defines (`details` only when there are some). */
export function errorObject(cniVersion: string, e: CniError): Record<string, unknown> {
  return { cniVersion, code: e.code, msg: e.message, ...(e.details ? { details: e.details } : {}) };
}

/** [major, minor, patch] of a version string, or undefined when it is not one. */
function parts(v: string): [number, number, number] | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** a >= b, for versions that parse. */
export function atLeast(a: string, b: string): boolean {
  const x = parts(a);
  const y = parts(b);
  if (!x || !y) return false;
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! > y[i]!;
  return true;
}

export type Command = 'ADD' | 'DEL' | 'CHECK' | 'VERSION';

/** The parameters of one invocation, from the environment. */
export interface Parameters {
  command: Command;
  containerId: string;
  netns: string;
  ifname: string;
  args: string;
  path: string;
}

/** Which variables each command requires (the spec's lists; CNI_PATH is optional). */
const REQUIRED: Record<Command, string[]> = {
  ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  DEL: ['CNI_CONTAINERID', 'CNI_IFNAME'],
  VERSION: [],
};

/**
 * The invocation's parameters, checked as the spec says: the variables the command requires
 * are there; a container id starts with an alphanumeric and holds only alphanumerics, '_',
 * '.' and '-'; an interface name is a Linux one (1-15 bytes, no '/', ':' or whitespace, not
 * '.' or '..'). Code 4 names the variables at fault.
 */
export function parameters(env: NodeJS.ProcessEnv): Parameters {
  const command = env.CNI_COMMAND ?? '';
  if (!Object.hasOwn(REQUIRED, command)) throw new CniError(CODE.invalidEnvironment, `unknown CNI_COMMAND: ${command}`);
  const missing = REQUIRED[command as Command].filter((v) => !env[v]);
  if (missing.length > 0)
    throw new CniError(CODE.invalidEnvironment, `required env variables [${missing.join(',')}] missing`);
  const p: Parameters = {
    command: command as Command,
    containerId: env.CNI_CONTAINERID ?? '',
    netns: env.CNI_NETNS ?? '',
    ifname: env.CNI_IFNAME ?? '',
    args: env.CNI_ARGS ?? '',
    path: env.CNI_PATH ?? '',
  };
  if (p.command === 'VERSION') return p;
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(p.containerId))
    throw new CniError(
      CODE.invalidEnvironment,
      'invalid characters in CNI_CONTAINERID',
      `${JSON.stringify(p.containerId)}: it must start with an alphanumeric character, then alphanumerics, '_', '.' or '-'`,
    );
  if (Buffer.byteLength(p.ifname) > 15 || p.ifname === '.' || p.ifname === '..' || /[/:\s\p{Cc}]/u.test(p.ifname))
    throw new CniError(
      CODE.invalidEnvironment,
      'invalid CNI_IFNAME',
      `${JSON.stringify(p.ifname)}: an interface name is 1-15 bytes without '/', ':' or whitespace, and not '.' or '..'`,
    );
  return p;
}

/** What this plugin reads of its configuration (other fields pass through untouched). */
export interface PluginConfig {
  cniVersion: string;
  name: string;
  type?: string;
  /** The `tuning` plugin's map, as it takes it: dotted keys, string values, IFNAME for CNI_IFNAME. */
  sysctl?: Record<string, string>;
  /** sysctl.d(5) files, applied before `sysctl` (a later line for a key wins). */
  sysctlFiles?: string[];
  /** Where ADD keeps what DEL restores (default /run/netns-cni). */
  dataDir?: string;
  /** Refuse keys that cannot be set per namespace (default true); false skips the classification. */
  classify?: boolean;
  /** The runtime's per-attachment arguments; `args.cni.sysctl` is merged last, as `tuning` does. */
  args?: { cni?: { sysctl?: Record<string, string> } };
  prevResult?: Record<string, unknown>;
}

/** Network names: as the spec's `name` (alphanumeric first, then alphanumerics, '_', '.', '-'). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

function stringMap(v: unknown, field: string): Record<string, string> | undefined {
  if (v === undefined) return undefined;
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new CniError(CODE.invalidConfig, `${field} must be an object of "key": "value" strings`);
  for (const [k, x] of Object.entries(v))
    if (typeof x !== 'string')
      throw new CniError(CODE.invalidConfig, `${field}["${k}"] must be a string`, `got ${JSON.stringify(x)}`);
  return v as Record<string, string>;
}

/**
 * The configuration on stdin, decoded (code 6) and checked (code 7 for this plugin's own
 * fields, code 1 for a cniVersion it does not speak: absent means 0.1.0, as libcni reads it).
 */
export function pluginConfig(stdin: string): PluginConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(stdin);
  } catch (e) {
    throw new CniError(CODE.decodingFailure, 'error unmarshalling network config', (e as Error).message);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new CniError(CODE.decodingFailure, 'error unmarshalling network config', 'not a JSON object');
  const c = raw as Record<string, unknown>;
  const version = c.cniVersion === undefined ? '0.1.0' : c.cniVersion;
  if (typeof version !== 'string' || !(SUPPORTED_VERSIONS as readonly string[]).includes(version))
    throw new CniError(
      CODE.incompatibleVersion,
      'incompatible CNI versions',
      `config is ${JSON.stringify(version)}, plugin supports ${JSON.stringify(SUPPORTED_VERSIONS)}`,
    );
  if (typeof c.name !== 'string' || c.name === '') throw new CniError(CODE.invalidConfig, 'missing network name');
  if (!NAME.test(c.name))
    throw new CniError(CODE.invalidConfig, 'invalid characters found in network name', JSON.stringify(c.name));
  const out: PluginConfig = { ...(c as object), cniVersion: version, name: c.name } as PluginConfig;
  const sysctl = stringMap(c.sysctl, 'sysctl');
  const argsSysctl = stringMap((c.args as PluginConfig['args'])?.cni?.sysctl, 'args.cni.sysctl');
  if (sysctl) out.sysctl = sysctl;
  if (argsSysctl) out.args = { cni: { sysctl: argsSysctl } };
  if (
    c.sysctlFiles !== undefined &&
    !(Array.isArray(c.sysctlFiles) && c.sysctlFiles.every((f) => typeof f === 'string' && f !== ''))
  )
    throw new CniError(CODE.invalidConfig, 'sysctlFiles must be an array of file paths');
  if (c.dataDir !== undefined && (typeof c.dataDir !== 'string' || !c.dataDir.startsWith('/')))
    throw new CniError(CODE.invalidConfig, 'dataDir must be an absolute path');
  if (c.classify !== undefined && typeof c.classify !== 'boolean')
    throw new CniError(CODE.invalidConfig, 'classify must be true or false');
  if (
    c.prevResult !== undefined &&
    (c.prevResult === null || typeof c.prevResult !== 'object' || Array.isArray(c.prevResult))
  )
    throw new CniError(CODE.decodingFailure, 'prevResult must be a result object');
  return out;
}

/** The result ADD prints: prevResult passed through (in the config's version), or an empty one. */
export function addResult(c: PluginConfig): Record<string, unknown> {
  return { ...(c.prevResult ?? {}), cniVersion: c.cniVersion };
}

/** VERSION's answer: the version asked for when this plugin speaks it, else its newest. */
export function versionResult(stdin: string): Record<string, unknown> {
  let asked: unknown;
  try {
    asked = (JSON.parse(stdin) as { cniVersion?: unknown }).cniVersion;
  } catch {
    asked = undefined;
  }
  const v = typeof asked === 'string' && (SUPPORTED_VERSIONS as readonly string[]).includes(asked) ? asked : LATEST;
  return { cniVersion: v, supportedVersions: [...SUPPORTED_VERSIONS] };
}
