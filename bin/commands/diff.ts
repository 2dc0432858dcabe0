// netns diff: a namespace's sysctls that differ from the host's, by compare(), and how to set them.
import { NetNamespace, classify, compare, type Classification, type CompareEntry } from 'netns';
import { OK, UsageError } from '../cli/errors.js';
import { cell, dim, json, out, table } from '../cli/output.js';
import { classColumn, deviceOf, howShort } from '../cli/classes.js';
import { TARGET_HELP, checkTarget, containerOptions, hasTarget, resolveTarget, targetArgs, targetOptions, type TargetValues } from '../cli/targets.js';
import { runDiffAll } from './diff-all.js';
import type { Command } from '../cli/args.js';

export const diffCommand: Command = {
  summary: "a namespace's sysctls that differ from the host's, and how to set them",
  help: `Usage: netns diff TARGET [--all] [--json]
       netns diff --all [--namespaces] [--expect FILE] [--json]

Compare every net.* key of a namespace with the current (host) namespace, by value (tabs
and spaces alike, numbers as numbers). For each difference: both values, the key's class
(why a new namespace differs), and the command that sets the host's value inside.

With --all and no target, audit the host: every namespace that holds a running container
(--namespaces: every namespace) against the host, which is read once. Each differing key
with its class and remedy; with --expect FILE (sysctl.d(5) syntax, net.* keys), also each
key whose value differs from the file's, and the exit status is 1 when a namespace deviates.

${TARGET_HELP}

Options:
      --all            with a target: also list entries of devices present on one side only;
                       without one: audit every container's namespace
      --namespaces     with --all: every namespace, not only containers'
      --expect FILE    with --all: desired values; exit 1 when a namespace deviates
      --json           machine-readable output

Examples:
  netns diff --pid 4242
  netns diff --name lab --json
  netns diff --container web
  netns diff --all --expect /etc/sysctl.d/90-net.conf`,
  options: {
    ...targetOptions,
    all: { type: 'boolean' },
    json: { type: 'boolean' },
    expect: { type: 'string' },
    namespaces: { type: 'boolean' },
  },
  run(v, args) {
    if (args.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(args[0])}`, 'diff');
    const audit = v.all === true && !hasTarget(v as TargetValues);
    if (!audit && (v.expect !== undefined || v.namespaces === true)) throw new UsageError('--expect and --namespaces go with --all and no target', 'diff');
    if (audit) {
      checkTarget(v as TargetValues, 'diff');
      return runDiffAll(v as { json?: boolean; expect?: string; namespaces?: boolean }, containerOptions(v as TargetValues));
    }
    if (!hasTarget(v as TargetValues)) throw new UsageError('diff needs a target: --pid PID, --name NAME, --path PATH or --container ID (or --all)', 'diff');
    const ns = resolveTarget(v as TargetValues, 'diff')!;
    let entries: CompareEntry[];
    try {
      using host = NetNamespace.current();
      entries = compare(host, ns);
    } finally {
      ns.close();
    }
    let devices = 0;
    const hidden = new Set<string>();
    const differing = entries.filter((e) => {
      if (e.equal || (e.a === null && e.b === null)) return false;
      const dev = deviceOf(e.key);
      if ((e.a === null || e.b === null) && dev !== undefined && v.all !== true) {
        devices++;
        hidden.add(dev);
        return false;
      }
      return true;
    });
    // Why: the class of each key.
    const classes = new Map<string, Classification>();
    if (differing.length > 0) for (const c of classify({ keys: differing.map((e) => e.key) })) classes.set(c.key, c);
    const sel = targetArgs(v as TargetValues);
    const rows = differing.map(({ key, a: host, b: target }) => {
      const c = classes.get(key);
      const cls = c?.class ?? (host !== null && target === null ? 'host-only' : host === null ? 'child-only' : 'unknown');
      const how = host === null ? '-' : howShort({ key, class: cls }, host, sel);
      return { key, host, target, class: cls, how, ...(c ? { evidence: c.evidence } : {}) };
    });
    if (v.json) {
      json(rows);
      return OK;
    }
    out(
      table(
        ['KEY', 'HOST', 'TARGET', 'CLASS', 'SET THE HOST VALUE INSIDE'],
        rows.map((r) => [r.key, cell(r.host), cell(r.target), r.class, r.how]),
        classColumn,
      ),
    );
    if (devices > 0) out(dim(`(${devices} entries of devices present on one side only hidden: ${[...hidden].join(', ')}; --all shows them)\n`));
    return OK;
  },
};
