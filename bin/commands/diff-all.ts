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

/** Run the audit and print it; the exit status is 1 when --expect is given and a namespace deviates. */
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
  return v.expect !== undefined && report.deviating > 0 ? FAILED : OK;
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
    const keys = [...new Set([...t.differences.map((d) => d.key), ...dev.keys()])].sort();
    if (keys.length === 0) {
      out(`  same as the host${expecting ? ' and as expected' : ''}\n\n`);
      continue;
    }
    const diff = new Map(t.differences.map((d) => [d.key, d]));
    const rows = keys.map((k) => {
      const d = diff.get(k);
      const x = dev.get(k);
      const value = x ? x.value : d!.value;
      return [
        shown(k),
        cell(d?.host ?? null),
        cell(value),
        x ? cell(x.expected) : '-',
        (x ?? d)!.class,
        (x ?? d)!.remedy,
      ];
    });
    const headers = ['KEY', 'HOST', 'VALUE', 'EXPECTED', 'CLASS', 'REMEDY'];
    out(
      table(headers, rows, (col, c) => (col === 4 ? paintClass(c) : c))
        .split('\n')
        .map((l) => (l ? `  ${l}` : l))
        .join('\n') + '\n',
    );
  }
  if (expecting) {
    for (const d of r.hostDeviations)
      warn(
        `the host deviates: ${shown(d.key)} = ${d.value === null ? '(absent)' : shown(d.value)}, expected ${shown(d.expected)} (${shown(d.where)})`,
      );
    out(`${r.deviating} of ${r.targets.length} namespaces deviate from the expected values\n`);
  }
}
