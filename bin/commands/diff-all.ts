// netns diff --all: every container's namespace (or every namespace) against the host, by
// auditHost(); with --expect FILE, against desired values, the exit status saying whether any
// namespace deviates.
import { auditHost, type AuditReport, type AuditTarget, type ContainerOptions } from 'netns';
import { containerName } from 'netns/containers';
import { FAILED, OK } from '../cli/errors.js';
import { bold, cell, json, out, shown, table, warn } from '../cli/output.js';
import { paintClass } from '../cli/classes.js';
import { shortId } from '../cli/containers.js';

/** "containerd k8s.io/3f2a1b… default/web/nginx": how a target is named in the report. */
export function targetTitle(t: AuditTarget): string {
  const ino = t.namespace.split(':')[1] ?? t.namespace;
  if (t.containers.length === 0)
    return `namespace ${ino}${t.names.length ? ` (${t.names.map(shown).join(', ')})` : ''}: pid ${t.pids[0] ?? '-'} ${shown(t.command ?? '')}`.trimEnd();
  const cs = t.containers.map((c) => {
    const name = containerName(c);
    return `${c.runtime} ${shown(shortId(c))}${name !== undefined ? ` ${shown(name)}` : ''}`;
  });
  return `${cs.join(', ')} (namespace ${ino})`;
}

/**
 * Run the audit and print it; the exit status is 1 when a namespace deviates from --expect, or,
 * without --expect, when one drifts from its containers' specs.
 */
export function runDiffAll(
  v: { json?: boolean; expect?: string; namespaces?: boolean },
  containers: ContainerOptions,
): number {
  const report: AuditReport = auditHost({
    targets: v.namespaces ? 'all' : 'containers',
    containers,
    ...(v.expect !== undefined ? { expect: v.expect } : {}),
  });
  if (v.json) json(report);
  else printReport(report, v.expect !== undefined);
  // The policy the status follows: the expected file when one is given (it may ask for other
  // values than a spec did), else each container's own spec.
  return (v.expect !== undefined ? report.deviating : report.drifting) > 0 ? FAILED : OK;
}

function printReport(r: AuditReport, expecting: boolean): void {
  if (r.targets.length === 0)
    out('no container namespaces found (netns list shows what there is; --namespaces audits every namespace)\n');
  for (const t of r.targets) {
    out(bold(targetTitle(t)) + '\n');
    if (t.error) {
      out(`  cannot read it: ${t.error.message}\n\n`);
      continue;
    }
    const dev = new Map(t.deviations.map((d) => [d.key, d]));
    const drift = new Map(t.drift.map((d) => [d.key, d]));
    const keys = [...new Set([...t.differences.map((d) => d.key), ...dev.keys(), ...drift.keys()])].sort();
    if (keys.length === 0) {
      out(`  same as the host${expecting ? ' and as expected' : ''}\n\n`);
      continue;
    }
    const diff = new Map(t.differences.map((d) => [d.key, d]));
    // One row per key: the expected file's remedy first, then the spec's, then the host's value.
    const rows = keys.map((k) => {
      const d = diff.get(k);
      const x = dev.get(k);
      const s = drift.get(k);
      const value = x ? x.value : s ? s.value : d!.value;
      const from = s?.provenance ?? d?.provenance;
      return [
        shown(k),
        cell(d?.host ?? null),
        cell(value),
        s ? cell(s.spec) : '-',
        x ? cell(x.expected) : '-',
        (x ?? s ?? d)!.class,
        from ? from.kind + (from.alternatives ? '?' : '') : '-',
        // A value its spec set and still holds: the host's value is no remedy for it.
        !x && !s && from?.kind === 'spec' ? 'as its spec asked at start' : (x ?? s ?? d)!.remedy,
      ];
    });
    const headers = ['KEY', 'HOST', 'VALUE', 'SPEC', 'EXPECTED', 'CLASS', 'FROM', 'REMEDY'];
    out(
      table(headers, rows, (col, c) => (col === 5 ? paintClass(c) : c))
        .split('\n')
        .map((l) => (l ? `  ${l}` : l))
        .join('\n') + '\n',
    );
    if (t.drift.length > 0)
      out(
        `  drifts from its spec since the start: ${t.drift.map((d) => `${shown(d.key)} ${d.value === null ? '(absent)' : shown(d.value)} (spec ${shown(d.spec)}, ${shown(d.container)})`).join(', ')}\n`,
      );
    out('\n');
  }
  if (r.drifting > 0) out(`${r.drifting} of ${r.targets.length} namespaces drift from their containers' specs\n`);
  if (expecting) {
    for (const d of r.hostDeviations)
      warn(
        `the host deviates: ${shown(d.key)} = ${d.value === null ? '(absent)' : shown(d.value)}, expected ${shown(d.expected)} (${shown(d.where)})`,
      );
    out(`${r.deviating} of ${r.targets.length} namespaces deviate from the expected values\n`);
  }
}
