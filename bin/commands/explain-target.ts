// netns explain TARGET [KEY...]: where each value of a namespace comes from (the library's
// explain(ns, keys)); the CLI only prints it. Keys, values, container ids and names, spec files
// come from tenants: human output shows them through printable() (`shown`, `cell`); --json is exact.
import { explain, type TargetExplanation, type TargetKeyExplanation } from 'netns';
import { OK } from '../cli/errors.js';
import { containerLabel } from 'netns/containers';
import { bold, cell, dim, json, out, paint, shown, table } from '../cli/output.js';
import { containerJson, containerOptions, resolveTarget, targetWords, type TargetValues } from '../cli/targets.js';

/** Kinds worth a row without --all: the value was set, changed, or differs from the host's. */
const NOTEWORTHY = new Set(['spec', 'changed', 'host-changed']);

function noteworthy(k: TargetKeyExplanation): boolean {
  if (NOTEWORTHY.has(k.provenance.kind)) return true;
  return (
    k.value !== null &&
    k.host !== null &&
    k.provenance.kind !== 'interface' &&
    k.provenance.kind !== 'global' &&
    k.remedy !== undefined
  );
}

function paintKind(kind: string): string {
  const bare = kind.replace(/\?$/, '');
  if (bare === 'changed' || bare === 'host-changed') return paint('33', kind);
  if (bare === 'spec') return paint('36', kind);
  return kind;
}

/** The namespace and its containers, in a few lines. */
function header(r: TargetExplanation): string {
  const ino = r.namespace.split(':')[1] ?? r.namespace;
  const lines = [
    bold(`namespace ${ino}`) + (r.hostIsInitial ? '' : dim(' (compared with a namespace that is not the host)')),
  ];
  if (r.containers.length === 0) lines.push('  no container found in it: no spec to compare with');
  for (const c of r.containers) {
    const spec = Object.entries(c.sysctl).map(([k, v]) => shown(`${k}=${v}`));
    lines.push(
      `  ${containerLabel(c)}, pid ${c.pid}${c.started ? `, started ${shown(c.started)}` : ''}`,
      `    spec sets ${spec.length ? spec.join(', ') : 'no net.* sysctl'}${c.sysctlSource ? dim(` (${shown(c.sysctlSource)})`) : ''}`,
    );
  }
  return lines.join('\n') + '\n';
}

function keyText(k: TargetKeyExplanation): string {
  const p = k.provenance;
  const lines: [string, string][] = [
    ['value', k.value !== null ? shown(k.value) : `(${k.present ? (k.error ?? 'unreadable') : 'absent'})`],
    ['host', k.host !== null ? shown(k.host) : '(absent)'],
    ['new namespace', k.fresh !== null ? shown(k.fresh) : '(absent)'],
    ['class', k.class],
    ['from', `${paintKind(p.kind)}${p.alternatives ? ` (or ${p.alternatives.join(', ')})` : ''}: ${p.why}`],
  ];
  if (p.spec)
    lines.push(['spec', `${shown(p.spec.value)} (container ${shown(p.spec.container)}, ${shown(p.spec.file)})`]);
  lines.push(['settable', `${k.settable.container ? 'yes' : 'no'}: ${k.settable.why}`]);
  if (k.effective) lines.push(['effective', k.effective.text]);
  if (k.write)
    lines.push(
      ['write inside', k.write.inside.allowed ? 'yes' : `no (${k.write.inside.errno ?? 'refused'})`],
      ['from the host', `${k.write.fromHost.allowed ? 'yes' : 'no'}: ${k.write.fromHost.why}`],
    );
  if (k.remedy) lines.push(['remedy', k.remedy]);
  const w = Math.max(...lines.map(([l]) => l.length));
  return `${bold(shown(k.key))}\n${lines.map(([l, t]) => `  ${(l + ':').padEnd(w + 1)} ${t.replace(/\t/g, ' ')}`).join('\n')}\n`;
}

/** Explain a target's values: a table of the noteworthy ones, or each KEY in full; --json: everything. */
export function runExplainTarget(v: TargetValues & { json?: boolean; all?: boolean }, keys: string[]): number {
  const ns = resolveTarget(v, 'explain')!;
  // --container: the one found, as every command's --json names it (beside all the namespace's `containers`).
  const found = ns.container ? containerJson(ns.container) : undefined;
  let r: TargetExplanation;
  try {
    r = explain(ns, keys.length > 0 ? keys : undefined, {
      containers: containerOptions(v),
      selector: targetWords(v),
    });
  } finally {
    ns.close();
  }
  if (v.json) {
    json(found ? { container: found, ...r } : r);
    return OK;
  }
  out(header(r));
  if (keys.length > 0) {
    out(`\n${r.keys.map(keyText).join('\n')}`);
    return OK;
  }
  const rows = v.all === true ? r.keys : r.keys.filter(noteworthy);
  out(
    '\n' +
      table(
        ['KEY', 'VALUE', 'HOST', 'NEW NAMESPACE', 'FROM', 'REMEDY'],
        rows.map((k) => [
          shown(k.key),
          cell(k.value, 30),
          cell(k.host, 30),
          cell(k.fresh, 30),
          k.provenance.kind + (k.provenance.alternatives ? '?' : ''),
          k.remedy ?? '',
        ]),
        (col, c) => (col === 4 ? paintKind(c) : c),
      ),
  );
  if (v.all !== true)
    out(
      dim(
        `(${rows.length} of ${r.keys.length} keys: set by the spec, changed since the start, or different from the host's value; --all lists every key, netns explain TARGET KEY says why)\n`,
      ),
    );
  return OK;
}
