// netns-exporter: the sysctls of every pod's network namespace, for Prometheus. The command
// (src/cli.ts) is startExporter() over the flags; the pieces are exported for programs and
// tests that run it in-process.
import * as fs from 'node:fs';
import type * as http from 'node:http';
import { createRequire } from 'node:module';
import { expectationsFrom, type Expectations } from 'netns/sysctld';
import { Collector } from './collector.js';
import { ContainerDiscovery } from './discovery.js';
import type { ExporterConfig } from './flags.js';
import { KeySelection } from './keys.js';
import { serve } from './server.js';

export { Collector, type CollectorOptions, type BuildInfo } from './collector.js';
export {
  ContainerDiscovery,
  hostLabels,
  type DiscoveryOptions,
  type Member,
  type NamespaceLabels,
  type Target,
  type TargetSource,
} from './discovery.js';
export {
  FLAGS,
  FlagError,
  parseFlags,
  parseDuration,
  parseListen,
  usage,
  DEFAULT_PORT,
  type ExporterConfig,
  type Flag,
} from './flags.js';
export {
  KeySelection,
  DEFAULT_INCLUDE,
  DEFAULT_DEVICES,
  DEFAULT_DEVICE_LIMIT,
  DEFAULT_MAX_INTERFACES,
  DEFAULT_FIELD_NAMES,
  effectiveFamily,
  familyName,
  splitKey,
  type SelectionOptions,
  type KeyParts,
} from './keys.js';
export { CONTENT_TYPE, escapeLabelValue, metricName } from './exposition.js';
export { serve, type ServeOptions } from './server.js';

const require = createRequire(import.meta.url);

/** This package's version and the netns library's. */
export function versions(): { version: string; netnsVersion: string } {
  return {
    version: (require('../package.json') as { version: string }).version,
    netnsVersion: (require('netns/package.json') as { version: string }).version,
  };
}

/** The expectations of sysctl.d files, read as one in their order (a later file's line wins). */
export function readExpectations(files: readonly string[]): Expectations | undefined {
  if (files.length === 0) return undefined;
  const out: Expectations = { exact: new Map(), globs: [] };
  for (const file of files) {
    const e = expectationsFrom(fs.readFileSync(file, 'utf8'), file);
    for (const [k, v] of e.exact) out.exact.set(k, v);
    out.globs.push(...e.globs);
  }
  return out;
}

/** A running exporter. */
export interface RunningExporter {
  server: http.Server;
  collector: Collector;
  /** http://HOST:PORT/PATH */
  url: string;
  /** Stop serving and close every handle. */
  close(): Promise<void>;
}

/** Read the expectations, start discovery and collector, and serve. */
export async function startExporter(config: ExporterConfig): Promise<RunningExporter> {
  const build = versions();
  const expect = readExpectations(config.expectFiles);
  const selection = new KeySelection(config.selection);
  const collector = new Collector({
    source: new ContainerDiscovery(config.discovery),
    selection,
    build,
    ...(expect ? { expect } : {}),
    ...(config.discovery.interval !== undefined ? { relistInterval: config.discovery.interval } : {}),
  });
  let server: http.Server;
  try {
    server = await serve(collector, {
      host: config.host,
      port: config.port,
      telemetryPath: config.telemetryPath,
      version: build.version,
    });
  } catch (e) {
    collector.close();
    throw e;
  }
  const addr = server.address() as { address: string; port: number };
  const host = addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  return {
    server,
    collector,
    url: `http://${host}:${addr.port}${config.telemetryPath}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => {
          collector.close();
          resolve();
        });
      }),
  };
}
