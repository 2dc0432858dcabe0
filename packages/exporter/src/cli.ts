// netns-exporter [FLAG...]: serve the sysctls of every pod's network namespace to Prometheus.
// Exit status: 0 after SIGTERM/SIGINT, 1 when it cannot start (the port is taken, a file is
// unreadable, no permission), 2 for a flag that cannot be used.
import { FlagError, parseFlags, startExporter, usage, versions } from './index.js';

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof FlagError || e instanceof RangeError)) throw e;
    process.stderr.write(`netns-exporter: ${e.message}\n`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(usage());
    return 0;
  }
  if (parsed.version) {
    const v = versions();
    process.stdout.write(`netns-exporter ${v.version} (netns ${v.netnsVersion}, node ${process.version})\n`);
    return 0;
  }
  const running = await startExporter(parsed.config);
  process.stdout.write(`netns-exporter: listening on ${running.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      running.close().then(resolve, resolve);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: Error) => {
    process.stderr.write(`netns-exporter: ${e.message}\n`);
    process.exitCode = 1;
  },
);
