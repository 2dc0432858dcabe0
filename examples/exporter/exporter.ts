// A Prometheus exporter built on netns: every running container's net.* sysctl values, and
// its deviations from an expected file (sysctl.d syntax), labelled with the container's
// runtime, id, name and Kubernetes pod, on /metrics (prom-client). Each scrape is one audit:
// the host is read once, each container's namespace once, from the runtimes' state on disk.
//
//   node dist/examples/exporter/exporter.js [--listen 127.0.0.1:9813] [--expect FILE]
//        [--keys net.ipv4.tcp_keepalive_time,...] [--host-pid 1] [--runtime R]
//
// It binds to 127.0.0.1 unless told otherwise. Needs CAP_SYS_ADMIN (to enter the containers'
// namespaces) and CAP_SYS_PTRACE (to open other users' processes); see daemonset.yaml.
import * as http from 'node:http';
import { parseArgs } from 'node:util';
import { Gauge, Registry } from 'prom-client';
import { NetNamespace, auditHost, type AuditReport, type ContainerRuntime, type NamespaceContainer } from 'netns';

/** Exported unless --keys says otherwise: the values people tune per container. */
export const DEFAULT_KEYS = [
  'net.core.somaxconn',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.tcp_tw_reuse',
  'net.ipv4.ip_unprivileged_port_start',
];

const LABELS = [
  'runtime',
  'container_id',
  'container_name',
  'namespace',
  'pod_namespace',
  'pod',
  'container',
  'netns',
] as const;
type Labels = Record<(typeof LABELS)[number], string>;

function labelsOf(c: NamespaceContainer, netns: string): Labels {
  const k = c.kubernetes;
  return {
    runtime: c.runtime,
    container_id: c.id,
    container_name: c.name ?? '',
    namespace: c.namespace ?? '',
    pod_namespace: k?.podNamespace ?? '',
    pod: k?.podName ?? '',
    container: k?.containerName ?? '',
    netns: netns.split(':')[1] ?? netns,
  };
}

/** A single integer value as a number; anything else (a list, text) is not a sample. */
function numeric(v: string | null | undefined): number | undefined {
  if (v === null || v === undefined || !/^\s*-?\d+\s*$/.test(v)) return undefined;
  return Number(v);
}

export interface ExporterOptions {
  expect?: string;
  keys?: string[];
  /** Compare with this pid's namespace instead of the exporter's own (1 with hostPID). */
  hostPid?: number;
  runtime?: ContainerRuntime;
}

/** The registry the exporter serves: its gauges are filled by one audit per scrape. */
export function exporterRegistry(options: ExporterOptions = {}): Registry {
  const keys = options.keys ?? DEFAULT_KEYS;
  const registry = new Registry();
  let last: AuditReport | undefined;
  let lastError = 0;
  const audit = (): AuditReport => {
    using host = options.hostPid !== undefined ? NetNamespace.fromPid(options.hostPid) : undefined;
    return auditHost({
      classify: false,
      values: keys,
      ...(host ? { host } : {}),
      ...(options.expect !== undefined ? { expect: options.expect } : {}),
      ...(options.runtime !== undefined ? { containers: { runtime: options.runtime } } : {}),
    });
  };
  // The first gauge collected runs the audit; the others read its report.
  new Gauge({
    name: 'netns_audit_success',
    help: "Whether the last audit of the containers' namespaces succeeded (1) or failed (0)",
    registers: [registry],
    collect() {
      try {
        last = audit();
        lastError = 0;
        this.set(1);
      } catch (e) {
        last = undefined;
        lastError = 1;
        this.set(0);
        process.stderr.write(`exporter: audit failed: ${(e as Error).message}\n`);
      }
    },
  });
  new Gauge({
    name: 'netns_container_info',
    help: 'A running container and the network namespace it is in (always 1)',
    labelNames: LABELS,
    registers: [registry],
    collect() {
      this.reset();
      for (const t of last?.targets ?? []) for (const c of t.containers) this.set(labelsOf(c, t.namespace), 1);
    },
  });
  new Gauge({
    name: 'netns_container_sysctl',
    help: "A net.* sysctl value inside the container's network namespace (single-integer keys)",
    labelNames: [...LABELS, 'key'],
    registers: [registry],
    collect() {
      this.reset();
      for (const t of last?.targets ?? [])
        for (const c of t.containers)
          for (const [key, v] of Object.entries(t.values ?? {})) {
            const n = numeric(v);
            if (n !== undefined) this.set({ ...labelsOf(c, t.namespace), key }, n);
          }
    },
  });
  new Gauge({
    name: 'netns_container_sysctl_deviation',
    help: 'A key of the expected file whose value in the container differs from the expected one (1; absent when it matches)',
    labelNames: [...LABELS, 'key', 'expected'],
    registers: [registry],
    collect() {
      this.reset();
      for (const t of last?.targets ?? [])
        for (const c of t.containers)
          for (const d of t.deviations) this.set({ ...labelsOf(c, t.namespace), key: d.key, expected: d.expected }, 1);
    },
  });
  new Gauge({
    name: 'netns_containers_deviating',
    help: 'How many container namespaces deviate from the expected file',
    registers: [registry],
    collect() {
      this.set(last?.deviating ?? 0);
    },
  });
  new Gauge({
    name: 'netns_container_read_errors',
    help: 'Container namespaces that could not be read in the last audit',
    registers: [registry],
    collect() {
      this.set(lastError + (last?.targets.filter((t) => t.error).length ?? 0));
    },
  });
  return registry;
}

/** Serve `registry` on /metrics at host:port; resolves with the server once listening. */
export function serve(registry: Registry, host: string, port: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url !== '/metrics' && req.url !== '/')) {
      res.writeHead(404).end('not found\n');
      return;
    }
    if (req.url === '/') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('netns exporter: see /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(text),
      (e: Error) => res.writeHead(500).end(`${e.message}\n`),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      listen: { type: 'string', default: '127.0.0.1:9813' },
      expect: { type: 'string' },
      keys: { type: 'string' },
      'host-pid': { type: 'string' },
      runtime: { type: 'string' },
    },
  });
  const at = values.listen.lastIndexOf(':');
  const host = at > 0 ? values.listen.slice(0, at).replace(/^\[|\]$/g, '') : '127.0.0.1';
  const port = Number(values.listen.slice(at + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--listen expects HOST:PORT, got ${values.listen}`);
  const options: ExporterOptions = {};
  if (values.expect !== undefined) options.expect = values.expect;
  if (values.keys !== undefined) options.keys = values.keys.split(',').filter(Boolean);
  if (values['host-pid'] !== undefined) options.hostPid = Number(values['host-pid']);
  if (values.runtime !== undefined) options.runtime = values.runtime as ContainerRuntime;
  const server = await serve(exporterRegistry(options), host, port);
  const addr = server.address() as { address: string; port: number };
  process.stdout.write(
    `listening on http://${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}/metrics\n`,
  );
  const stop = () => server.close(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e: Error) => {
    process.stderr.write(`exporter: ${e.message}\n`);
    process.exit(1);
  });
}
