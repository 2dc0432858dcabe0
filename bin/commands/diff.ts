// netns diff: one namespace audited against the host (auditNamespace(), the audit `diff --all`
// makes of every container's namespace), its differing keys with their class and remedy.
import { auditNamespace, type AuditTarget } from 'netns';
import { deviceOf } from 'netns/sysctld';
import { OK, UsageError } from '../cli/errors.js';
import { cell, dim, json, out, quote, shown, table, warn } from '../cli/output.js';
import { classColumn } from '../cli/classes.js';
import {
  TARGET_HELP,
  checkTarget,
  containerOptions,
  hasTarget,
  resolveTarget,
  targetOptions,
  targetWords,
  type TargetValues,
} from '../cli/targets.js';
import { runDiffAll } from './diff-all.js';
import type { Command } from '../cli/args.js';

export const diffCommand: Command = {
  summary: "a namespace's sysctls that differ from the host's, and how to set them",
  help: `Usage: netns diff TARGET [--devices] [--json]
       netns diff --all [--namespaces] [--expect FILE] [--json]

Audit one namespace against the current (host) namespace: every net.* key whose value
differs, by value (tabs and spaces alike, numbers as numbers), and every key present on one
side only. For each: both values, the key's class (why a new namespace differs), and the
command that sets the host's value inside. Entries of devices present on one side only (the
host's eth0, the container's own interfaces) are left out unless --devices.

With --all and no target, audit the host: every namespace that holds a running container
(--namespaces: every namespace) against the host, read once, and each container against what
its own spec asked for at start (SPEC; FROM: where the value comes from, see netns explain
TARGET). Exit status 1 when a namespace drifts from its spec, or, with --expect FILE
(sysctl.d(5) syntax), when one deviates from the file. The library's auditHost().

${TARGET_HELP}

Options:
      --devices        with a target: also list entries of devices present on one side only
      --all            without a target: audit every container's namespace
      --namespaces     with --all: every namespace, not only containers'
      --expect FILE    with --all: desired values; exit 1 when a namespace deviates
      --json           with a target, [{ key, host, target, class, from?, how }] (null:
                       absent there); with --all, the audit report

Changed: --all with a target is now --devices (the old spelling still works); diff --all
also audits each container's spec and, without --expect, exits 1 when one drifts.

Examples:
  netns diff --pid 4242
  netns diff --name lab --json
  netns diff --container web --devices
  netns diff --all --expect /etc/sysctl.d/90-net.conf`,
  options: {
    ...targetOptions,
    devices: { type: 'boolean' },
    all: { type: 'boolean' },
    json: { type: 'boolean' },
    expect: { type: 'string' },
    namespaces: { type: 'boolean' },
  },
  run(v, args) {
    if (args.length > 0) throw new UsageError(`unexpected argument ${quote(args[0]!)}`, 'diff');
    const target = hasTarget(v as TargetValues);
    if (!target) {
      if (v.devices === true) throw new UsageError('--devices goes with a target', 'diff');
      if (v.all !== true)
        throw new UsageError(
          'diff needs a target: --pid PID, --name NAME, --path PATH or --container ID (or --all)',
          'diff',
        );
      checkTarget(v as TargetValues, 'diff');
      return runDiffAll(
        v as { json?: boolean; expect?: string; namespaces?: boolean },
        containerOptions(v as TargetValues),
      );
    }
    if (v.expect !== undefined || v.namespaces === true)
      throw new UsageError('--expect and --namespaces go with --all and no target', 'diff');
    if (v.all === true) warn('diff: --all with a target is now spelled --devices (--all alone audits every container)');
    const devices = v.devices === true || v.all === true;
    const ns = resolveTarget(v as TargetValues, 'diff')!;
    let t: AuditTarget;
    try {
      t = auditNamespace(ns, {
        oneSided: true,
        selector: targetWords(v as TargetValues),
        containers: containerOptions(v as TargetValues),
      }).targets[0]!;
    } finally {
      ns.close();
    }
    const hidden = new Set<string>();
    const oneSided = (t.oneSided ?? []).filter((d) => {
      const dev = deviceOf(d.key);
      if (devices || dev === undefined) return true;
      hidden.add(dev);
      return false;
    });
    const rows = [
      ...t.differences.map((d) => ({
        key: d.key,
        host: d.host,
        target: d.value,
        class: d.class,
        from: d.provenance.kind,
        how: d.remedy,
      })),
      ...oneSided.map((d) => ({ key: d.key, host: d.host, target: d.value, class: d.class, how: d.remedy })),
    ].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    if (v.json) {
      json(rows);
      return OK;
    }
    out(
      table(
        ['KEY', 'HOST', 'TARGET', 'CLASS', 'SET THE HOST VALUE INSIDE'],
        rows.map((r) => [shown(r.key), cell(r.host), cell(r.target), r.class, r.how]),
        classColumn,
      ),
    );
    const n = (t.oneSided?.length ?? 0) - oneSided.length;
    if (n > 0)
      out(
        dim(
          `(${n} entries of devices present on one side only hidden: ${[...hidden].map(shown).join(', ')}; --devices shows them)\n`,
        ),
      );
    return OK;
  },
};
