// The HTTP side: the metrics on the telemetry path (gzip when asked for, as Prometheus asks), a
// landing page on /, /-/healthy and /-/ready for probes. A scrape runs asynchronously and gives
// the event loop back every few milliseconds, so probes are answered while one runs.
import * as http from 'node:http';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Collector } from './collector.js';
import { CONTENT_TYPE } from './exposition.js';
import { processMetrics } from './process.js';

const gzipAsync = promisify(gzip);

export interface ServeOptions {
  host: string;
  port: number;
  telemetryPath: string;
  version: string;
  /** Where errors of a scrape are reported (default: stderr). */
  log?: (line: string) => void;
}

/** The landing page. */
function landing(path: string, version: string): string {
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>netns-exporter</title></head>
<body><h1>netns-exporter ${version}</h1>
<p>The sysctls of every pod's network namespace (/proc/sys/net), for Prometheus.</p>
<ul><li><a href="${path}">${path}</a></li><li><a href="/-/healthy">/-/healthy</a></li></ul>
</body></html>
`;
}

/** Serve the collector; resolves with the server once it listens. */
export function serve(collector: Collector, o: ServeOptions): Promise<http.Server> {
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    if (url === '/-/healthy' || url === '/-/ready') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('OK\n');
      return;
    }
    if (url === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(landing(o.telemetryPath, o.version));
      return;
    }
    if (url !== o.telemetryPath) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    collector.collect().then(
      async (text) => {
        const body = text + processMetrics();
        const headers: http.OutgoingHttpHeaders = { 'Content-Type': CONTENT_TYPE };
        if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
          headers['Content-Encoding'] = 'gzip';
          res.writeHead(200, headers).end(await gzipAsync(body));
        } else res.writeHead(200, headers).end(body);
      },
      (e: Error) => {
        log(`netns-exporter: scrape failed: ${e.message}`);
        res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`scrape failed: ${e.message}\n`);
      },
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
