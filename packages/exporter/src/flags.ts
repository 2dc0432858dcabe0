// The command line, in one table: the parser, --help, the README's flag table and the
// Kubernetes manifests (test/unit/exporter-deploy.test.ts) are all checked against it. Flags are
// named as Prometheus' own exporters name theirs (--web.listen-address, --web.telemetry-path).
import { parseArgs } from 'node:util';
import type { ContainerRuntime } from 'netns';
import { CONTAINER_RUNTIMES, type ContainerRoot } from 'netns/containers';
import type { DiscoveryOptions } from './discovery.js';
import {
  DEFAULT_DEVICE_LIMIT,
  DEFAULT_DEVICES,
  DEFAULT_INCLUDE,
  DEFAULT_MAX_INTERFACES,
  KeySelection,
  type SelectionOptions,
} from './keys.js';

/** One flag. */
export interface Flag {
  name: string;
  type: 'string' | 'boolean';
  /** May be given several times (each adds one value). */
  multiple?: boolean;
  /** What the value looks like, for --help. */
  arg?: string;
  /** The default, as --help shows it. */
  default?: string;
  help: string;
}

/** The default port (the example exporter's since the first release). */
export const DEFAULT_PORT = 9813;

export const FLAGS: readonly Flag[] = [
  {
    name: 'web.listen-address',
    type: 'string',
    arg: 'HOST:PORT',
    default: `127.0.0.1:${DEFAULT_PORT}`,
    help: 'Where to serve the metrics. The default serves this host only; in a pod, :9813 (every address).',
  },
  {
    name: 'web.telemetry-path',
    type: 'string',
    arg: 'PATH',
    default: '/metrics',
    help: 'The path of the metrics.',
  },
  {
    name: 'sysctl.include',
    type: 'string',
    multiple: true,
    arg: 'KEY[:FIELD,...]',
    default: DEFAULT_INCLUDE.join(' '),
    help: "A key or glob (sysctl.d syntax: 'net.ipv4.tcp_*', 'net.ipv4.conf.*.rp_filter') to export; FIELD names give a vector key one family per field (net.ipv4.tcp_rmem:min,default,max), as node_exporter's --collector.sysctl.include. Replaces the default list.",
  },
  {
    name: 'sysctl.exclude',
    type: 'string',
    multiple: true,
    arg: 'KEY',
    help: 'A key or glob not to export.',
  },
  {
    name: 'sysctl.all',
    type: 'boolean',
    help: 'Export every key (a full walk of each namespace at each scrape; per-interface keys still only for --sysctl.device).',
  },
  {
    name: 'sysctl.device',
    type: 'string',
    multiple: true,
    arg: 'NAME',
    default: DEFAULT_DEVICES.join(' '),
    help: 'An interface name or glob whose per-interface keys are exported (in the device label). Replaces the default list.',
  },
  {
    name: 'sysctl.device-limit',
    type: 'string',
    arg: 'N',
    default: String(DEFAULT_DEVICE_LIMIT),
    help: 'At most N interfaces per namespace matched by --sysctl.device globs (names given exactly always count).',
  },
  {
    name: 'sysctl.max-interfaces',
    type: 'string',
    arg: 'N',
    default: String(DEFAULT_MAX_INTERFACES),
    help: "A namespace with more than N interfaces is listed bounded: no key of an interface that is not exported is read, and netns_sysctl_truncated says so (a tenant's thousands of bridges cost nothing).",
  },
  {
    name: 'no-sysctl.effective',
    type: 'boolean',
    help: "Do not export the effective values (netns_sysctl_<key>_effective: what the kernel uses for an interface, from conf.all's entry and its own), nor read their inputs that are not exported. With --sysctl.all, about 90 series fewer per exported interface.",
  },
  {
    name: 'sysctl.expect',
    type: 'string',
    multiple: true,
    arg: 'FILE',
    help: 'Expected values, in sysctl.d(5) syntax: netns_sysctl_expected and netns_sysctl_mismatch for each key it names. Several files read as one, in order.',
  },
  {
    name: 'host.pid',
    type: 'string',
    arg: 'PID',
    help: "The host's network namespace is this process's (1 in a pod with hostPID); the default is the exporter's own.",
  },
  {
    name: 'host.disable',
    type: 'boolean',
    help: "Do not export the host's namespace (nor the hostNetwork pods that share it).",
  },
  {
    name: 'containers.runtime',
    type: 'string',
    arg: 'RUNTIME',
    help: `Only containers of this runtime: ${CONTAINER_RUNTIMES.join(', ')}.`,
  },
  {
    name: 'containers.root',
    type: 'string',
    multiple: true,
    arg: 'RUNTIME=DIR',
    help: "A runtime's state directory to read instead of the defaults (/run/runc, /run/crun, /run/containerd/runc, /run/docker/runtime-runc/moby).",
  },
  {
    name: 'kubernetes.namespace',
    type: 'string',
    multiple: true,
    arg: 'NAME',
    help: "Only pods of this Kubernetes namespace (a name or glob); containers outside Kubernetes count as namespace ''.",
  },
  {
    name: 'kubernetes.exclude-namespace',
    type: 'string',
    multiple: true,
    arg: 'NAME',
    help: 'Leave out pods of this Kubernetes namespace (a name or glob).',
  },
  {
    name: 'discovery.interval',
    type: 'string',
    arg: 'DURATION',
    default: '60s',
    help: "Read the runtimes' state again at least this often (a change in their state directories is seen at the next scrape); with patterns, list each namespace's keys again about this often.",
  },
  { name: 'version', type: 'boolean', help: 'Print the version and exit.' },
  { name: 'help', type: 'boolean', help: 'Print this help and exit.' },
];

/** What the flags ask for. */
export interface ExporterConfig {
  host: string;
  port: number;
  telemetryPath: string;
  selection: SelectionOptions;
  expectFiles: string[];
  discovery: DiscoveryOptions;
}

/** A flag that cannot be used as given (the exporter exits with status 2). */
export class FlagError extends Error {
  override name = 'FlagError';
}

/** A duration as Prometheus writes them (90s, 5m, 1h, 500ms) or a number of seconds, in ms. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new FlagError(`Expected a duration (90s, 5m, 1h) for --${flag} but received ${text}`);
  const n = Number(m[1]);
  return n * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const)[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
}

/** HOST:PORT (':PORT' and '[::]:PORT' too) as host and port. */
export function parseListen(text: string): { host: string; port: number } {
  const at = text.lastIndexOf(':');
  const port = Number(text.slice(at + 1));
  if (at < 0 || text.slice(at + 1) === '' || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new FlagError(`Expected HOST:PORT for --web.listen-address but received ${text}`);
  const host = text.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  return { host: host === '' ? '::' : host, port };
}

/** The command line as a config; `help`/`version` when asked for. Throws FlagError. */
export function parseFlags(argv: readonly string[]): { config: ExporterConfig; help: boolean; version: boolean } {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {};
  for (const f of FLAGS) options[f.name] = f.multiple ? { type: f.type, multiple: true } : { type: f.type };
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, allowPositionals: false, strict: true }));
  } catch (e) {
    throw new FlagError(`${(e as Error).message} (netns-exporter --help lists the flags)`);
  }
  const str = (name: string): string | undefined => values[name] as string | undefined;
  const list = (name: string): string[] | undefined => values[name] as string[] | undefined;
  const def = (name: string): string => FLAGS.find((f) => f.name === name)!.default!;
  const { host, port } = parseListen(str('web.listen-address') ?? def('web.listen-address'));
  const telemetryPath = str('web.telemetry-path') ?? def('web.telemetry-path');
  if (!telemetryPath.startsWith('/') || telemetryPath === '/' || telemetryPath.startsWith('/-/'))
    throw new FlagError(
      `Expected a path such as /metrics for --web.telemetry-path (not /, not under /-/) but received ${telemetryPath}`,
    );
  const limitText = str('sysctl.device-limit') ?? def('sysctl.device-limit');
  const deviceLimit = Number(limitText);
  if (!/^\d+$/.test(limitText))
    throw new FlagError(`Expected a whole number for --sysctl.device-limit but received ${limitText}`);
  const boundText = str('sysctl.max-interfaces') ?? def('sysctl.max-interfaces');
  if (!/^\d+$/.test(boundText))
    throw new FlagError(`Expected a whole number for --sysctl.max-interfaces but received ${boundText}`);
  const selection: SelectionOptions = {
    deviceLimit,
    maxInterfaces: Number(boundText),
    all: values['sysctl.all'] === true,
  };
  if (values['no-sysctl.effective'] === true) selection.effective = false;
  const include = list('sysctl.include'),
    exclude = list('sysctl.exclude'),
    devices = list('sysctl.device');
  if (include) selection.include = include;
  if (exclude) selection.exclude = exclude;
  if (devices) selection.devices = devices;
  try {
    new KeySelection(selection); // checked now: a bad pattern is a flag error
  } catch (e) {
    if (e instanceof RangeError) throw new FlagError(e.message);
    throw e;
  }

  const discovery: DiscoveryOptions = {
    interval: parseDuration(str('discovery.interval') ?? def('discovery.interval'), 'discovery.interval'),
  };
  const pid = str('host.pid');
  if (pid !== undefined) {
    if (!/^[1-9]\d*$/.test(pid)) throw new FlagError(`Expected a pid for --host.pid but received ${pid}`);
    discovery.hostPid = Number(pid);
  }
  if (values['host.disable'] === true) discovery.noHost = true;
  const runtime = str('containers.runtime');
  if (runtime !== undefined) {
    if (!CONTAINER_RUNTIMES.includes(runtime as ContainerRuntime))
      throw new FlagError(
        `Expected one of ${CONTAINER_RUNTIMES.join(', ')} for --containers.runtime but received ${runtime}`,
      );
    discovery.runtime = runtime as ContainerRuntime;
  }
  const roots = list('containers.root');
  if (roots)
    discovery.roots = roots.map((r): ContainerRoot => {
      const eq = r.indexOf('=');
      const rt = r.slice(0, eq);
      if (eq < 1 || !CONTAINER_RUNTIMES.includes(rt as ContainerRuntime) || !r.slice(eq + 1).startsWith('/'))
        throw new FlagError(
          `Expected RUNTIME=DIR (RUNTIME one of ${CONTAINER_RUNTIMES.join(', ')}, DIR absolute) for --containers.root but received ${r}`,
        );
      return { runtime: rt as ContainerRuntime, dir: r.slice(eq + 1) };
    });
  const ns = list('kubernetes.namespace'),
    notNs = list('kubernetes.exclude-namespace');
  if (ns) discovery.namespaces = ns;
  if (notNs) discovery.excludeNamespaces = notNs;
  return {
    config: { host, port, telemetryPath, selection, expectFiles: list('sysctl.expect') ?? [], discovery },
    help: values.help === true,
    version: values.version === true,
  };
}

/** --help. */
export function usage(): string {
  const lines = ['usage: netns-exporter [FLAG...]', '', 'Flags:'];
  for (const f of FLAGS) {
    const head = `  --${f.name}${f.type === 'string' ? `=${f.arg ?? 'VALUE'}` : ''}${f.multiple ? ' (repeatable)' : ''}`;
    lines.push(head);
    lines.push(`      ${f.help}${f.default !== undefined ? ` Default: ${f.default}.` : ''}`);
  }
  return lines.join('\n') + '\n';
}
