#!/usr/bin/env node
// netns-cni: a CNI meta plugin (spec 1.0.0; 0.3.0 to 1.0.0 configurations) that sets sysctls
// in the pod's network namespace before the container starts, chained after the plugin that
// makes its interface. Configured like the `tuning` plugin's `sysctl` map (taken as is, with
// IFNAME standing for CNI_IFNAME), plus sysctl.d(5) files; applied as one transaction, keys
// that cannot be set per namespace refused. docs/remedies.md has the configuration.
//
// The runtime passes the parameters in CNI_* variables and the configuration on stdin; the
// result (or an error object) goes to stdout, logs to stderr; exit status 0 or 1.
import * as fs from 'node:fs';
import {
  CODE,
  CniError,
  SUPPORTED_VERSIONS,
  errorObject,
  parameters,
  pluginConfig,
  versionResult,
} from './cni/protocol.js';
import { add, check, del } from './cni/plugin.js';
import { VERSION } from './cli/version.js';

/** The configuration read from stdin, kept to answer an error in its cniVersion. */
let stdin: string | undefined;

function readStdin(): string {
  try {
    stdin = fs.readFileSync(0, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EAGAIN' && code !== 'EOF')
      // (a terminal, or nothing at all, is empty)
      throw new CniError(CODE.ioFailure, 'error reading from stdin', (e as Error).message);
    stdin = '';
  }
  return stdin;
}

/** Run one invocation: what to print on stdout (undefined: nothing). Throws CniError. */
function run(env: NodeJS.ProcessEnv): Record<string, unknown> | undefined {
  const p = parameters(env);
  const input = readStdin();
  if (p.command === 'VERSION') return versionResult(input);
  const c = pluginConfig(input);
  switch (p.command) {
    case 'ADD':
      return add(c, p);
    case 'CHECK':
      check(c, p);
      return undefined;
    case 'DEL':
      del(c, p, (s) => process.stderr.write(`${s}\n`));
      return undefined;
  }
}

/** The cniVersion to answer errors in: the configuration's when it names one. */
function errorVersion(): string {
  try {
    const v = (JSON.parse(stdin ?? '') as { cniVersion?: unknown }).cniVersion;
    if (typeof v === 'string' && v !== '') return v;
  } catch {
    /* not JSON */
  }
  return '1.0.0';
}

function main(): number {
  if (!process.env.CNI_COMMAND) {
    // As the reference plugins do: run by hand, say what this is.
    process.stderr.write(
      `CNI plugin netns-cni v${VERSION}: sysctls for a pod's network namespace (netns)\nCNI protocol versions supported: ${SUPPORTED_VERSIONS.join(', ')}\n`,
    );
    return 0;
  }
  try {
    const out = run(process.env);
    if (out !== undefined) process.stdout.write(`${JSON.stringify(out)}\n`);
    return 0;
  } catch (e) {
    const err =
      e instanceof CniError
        ? e
        : new CniError(999, e instanceof Error ? e.message : String(e), 'an internal error of netns-cni (a bug)');
    process.stdout.write(`${JSON.stringify(errorObject(errorVersion(), err))}\n`);
    return 1;
  }
}

process.exitCode = main();
