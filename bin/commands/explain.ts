// netns explain: which keys a new namespace does not take from the host, why, how to set them.
import { classify, explain, parseKey, type Classification, type Explanation } from 'netns';
import { deviceOf } from 'netns/sysctld';
import { kernelSupport, remedyCommand, VERIFIED_LINES } from 'netns/explain';
import { OK, UsageError } from '../cli/errors.js';
import { bold, cell, dim, json, out, shown, table } from '../cli/output.js';
import { classColumn, paintClass, sameValue } from '../cli/classes.js';
import type { Command } from '../cli/args.js';

export const explainCommand: Command = {
  summary: 'which keys a new namespace does not take from the host, why, and how to set them',
  help: `Usage: netns explain [--probe] [--all] [--json] [KEY...]
       netns explain --kernel LINE [--json] [KEY...]

Compare the host with a fresh namespace. Without KEY: every key whose value (or presence)
differs, with its class and how to set it for a container. With KEY: a short explanation
of each key. Classes: inherited (copied from the host at creation), default (reset to the
kernel's default), parent, shared, readonly, host-only, child-only, hidden (not in a
namespace owned by a user namespace: a rootless container's), unknown.

Options:
      --probe          settle keys whose host and fresh values are equal by briefly
                       changing harmless host values (root only; restored, even on SIGTERM)
      --all            list keys with equal values too
      --kernel LINE    answer for another kernel line (6.1, or a release such as
                       6.1.0-57-amd64) from the rule base and the keys the kernel matrix saw
                       there; nothing is created or read, no root needed. Without KEY: every
                       key of that line. Verified lines: ${VERIFIED_LINES.map((l) => l.line).join(', ')}
      --json           machine-readable output: [{ key, class, host, child, evidence, ... }]

Examples:
  netns explain
  netns explain net.ipv4.tcp_keepalive_time net.ipv4.tcp_congestion_control
  netns explain --kernel 6.1 net.ipv4.tcp_congestion_control net.ipv4.tcp_keepalive_time
  netns explain --json | jq '.[] | select(.class == "default") | .key'`,
  options: {
    probe: { type: 'boolean' },
    all: { type: 'boolean' },
    json: { type: 'boolean' },
    kernel: { type: 'string' },
  },
  run(v, keys) {
    const probe = v.probe === true;
    for (const k of keys) parseKey(k); // argument errors before creating anything
    if (v.kernel !== undefined) return onLine(String(v.kernel), keys, v.json === true, probe);
    if (keys.length > 0) {
      const rows = keys.map((k) => explain(k, { probe }));
      if (v.json) json(rows);
      else out(rows.map((e) => explanationText(e)).join('\n'));
      return OK;
    }
    const rows = classify({ probe }).filter((c) => v.all === true || !sameValue(c.host, c.child));
    if (v.json) {
      json(rows);
      return OK;
    }
    // Entries of the host's own devices (conf.eth0.*) are absent from a fresh namespace by
    // nature: summarise them instead of listing hundreds of rows.
    const hidden = new Set<string>();
    const visible = rows.filter((c) => {
      const dev = deviceOf(c.key);
      if (v.all === true || dev === undefined || (c.host !== null && c.child !== null)) return true;
      hidden.add(dev);
      return false;
    });
    out(
      table(
        ['KEY', 'HOST', 'NEW NAMESPACE', 'CLASS', 'HOW TO SET IT FOR A CONTAINER'],
        visible.map((c) => [shown(c.key), cell(c.host), cell(c.child), c.class, howToSet(c)]),
        classColumn,
      ),
    );
    if (hidden.size > 0)
      out(
        dim(
          `(${rows.length - visible.length} entries of devices present on one side only hidden: ${[...hidden].map(shown).join(', ')}; --all shows them)\n`,
        ),
      );
    return OK;
  },
};

/** How to give a container the host's value: at the start of a command in a new namespace. */
function howToSet(c: Classification): string {
  const child = c.evidence.observed.child;
  return remedyCommand({
    class: c.class,
    key: c.key,
    value: c.host,
    target: 'at-start',
    present: child.present,
    writable: child.present ? child.writable : undefined,
  });
}

/** --kernel LINE: answers from the rule base for that line, for KEYs or every key of the line. */
function onLine(kernel: string, keys: string[], asJson: boolean, probe: boolean): number {
  if (probe) throw new UsageError('--probe runs on the running kernel: it cannot be combined with --kernel', 'explain');
  try {
    classify({ kernel, keys: [] });
  } catch (e) {
    if (e instanceof RangeError || e instanceof TypeError) throw new UsageError(`--kernel: ${e.message}`, 'explain');
    throw e;
  }
  if (keys.length > 0) {
    const rows = keys.map((k) => explain(k, { kernel }));
    if (asJson) json(rows);
    else out(`${dim(rows[0]!.kernel.note)}\n\n` + rows.map((e) => explanationText(e, true)).join('\n'));
    return OK;
  }
  const rows = classify({ kernel });
  if (asJson) {
    json(rows);
    return OK;
  }
  out(
    table(
      ['KEY', 'CLASS', 'WHY'],
      rows.map((c) => [shown(c.key), c.class, c.evidence.reason]),
      (col, s) => (col === 1 ? paintClass(s) : s),
    ),
  );
  const [major, minor] = (/^(\d+)\.(\d+)/.exec(kernel) ?? []).slice(1).map(Number) as [number, number];
  out(
    dim(
      `(${rows.length} keys; ${kernelSupport({ kernel: [major, minor], devconfInherit: 0 }).note}; netns explain --kernel LINE KEY says more about one)\n`,
    ),
  );
  return OK;
}

function explanationText(e: Explanation, onLine = false): string {
  const lines: [string, string][] = [['class', paintClass(e.class)]];
  if (onLine) lines.push(['line', e.kernel.line]);
  else
    lines.push(
      ['host', e.host === null ? '(absent)' : shown(e.host)],
      ['new namespace', e.child === null ? '(absent)' : shown(e.child)],
    );
  if (e.sentence) lines.push(['why', e.sentence]);
  if (e.source) lines.push(['source', e.source]);
  if (e.evidence?.reason) lines.push(['evidence', String(e.evidence.reason)]);
  if (e.evidence?.contradiction) lines.push(['contradiction', e.evidence.contradiction]);
  if (e.kernel && !onLine) lines.push(['kernel', e.kernel.note]);
  for (const n of e.evidence?.notes ?? []) if (onLine) lines.push(['note', n]);
  const h = e.howToSet ?? {};
  if (h.inside) lines.push(['inside', h.inside.cli]);
  if (h.atStart) lines.push(['at start', h.atStart.cli]);
  if (h.beforeCreate) lines.push(['before', h.beforeCreate]);
  if (h.cannot) lines.push(['cannot', h.cannot]);
  const r = e.remedies;
  if (r) {
    lines.push(['docker', r.docker.command ? `${r.docker.command} (${r.docker.text})` : r.docker.text]);
    lines.push([
      'kubernetes',
      r.kubernetes.securityContext ? `${r.kubernetes.securityContext}; ${r.kubernetes.text}` : r.kubernetes.text,
    ]);
    if (r.instead) lines.push(['instead', r.instead]);
    lines.push(['initContainer', r.initContainer]);
  }
  const w = Math.max(...lines.map(([l]) => l.length));
  return (
    `${bold(shown(e.key))}\n` +
    lines.map(([l, t]) => `  ${(l + ':').padEnd(w + 1)} ${t.replace(/\t/g, ' ')}`).join('\n') +
    '\n'
  );
}
