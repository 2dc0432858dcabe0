// netns explain: which keys a new namespace does not take from the host, why, how to set them.
import { classify, explain, parseKey, type Classification, type Explanation } from 'netns';
import { deviceOf } from 'netns/sysctld';
import { kernelSupport, remedyCommand, VERIFIED_LINES } from 'netns/explain';
import { OK, UsageError } from '../cli/errors.js';
import { bold, cell, dim, json, out, shown, table } from '../cli/output.js';
import { classColumn, paintClass, sameValue } from '../cli/classes.js';
import { TARGET_HELP, hasTarget, targetOptions, type TargetValues } from '../cli/targets.js';
import { runExplainTarget } from './explain-target.js';
import { booleans, type Command } from '../cli/args.js';

export const explainCommand: Command = {
  summary: "why a namespace has its values: what a new one takes from the host, and a container's provenance",
  help: `Usage: netns explain [--probe] [--all] [--json] [KEY...]
       netns explain TARGET [--all] [--json] [KEY...]
       netns explain --settable [--all] [--json]
       netns explain --kernel LINE [--json] [KEY...]

Compare the host with a fresh namespace: every key whose value (or presence) differs, with
its class (inherited, default, parent, shared, readonly, host-only, child-only, hidden,
unknown) and how to set it for a container; with KEY, each key explained.

With a TARGET: where each of its values comes from: spec (set at start by its spec),
inherited, host-changed (? : a change inside is not ruled out), default, changed (since the
start), parent, interface, global; --all lists every key (see docs/cli.md).

${TARGET_HELP}

Options:
      --probe          settle keys whose host and fresh values are equal by briefly
                       changing harmless host values (root only; restored, even on SIGTERM)
      --all            list keys with equal values too
      --settable       the keys a container can set (--all: every key, yes or no, and why)
      --kernel LINE    answer for another kernel line (6.1, or a release such as
                       6.1.0-57-amd64) from the rule base and the keys the kernel matrix saw
                       there; nothing is created or read, no root needed. Without KEY: every
                       key of that line. Verified lines: ${VERIFIED_LINES.map((l) => l.line).join(', ')}
      --json           [{ key, class, host, child, settable, evidence, ... }]; with a target,
                       { namespace, containers, keys: [{ key, value, provenance, ... }] }

Examples:
  netns explain
  netns explain net.ipv4.tcp_keepalive_time net.ipv4.tcp_congestion_control
  netns explain --container web
  netns explain --kernel 6.1 net.ipv4.tcp_congestion_control net.ipv4.tcp_keepalive_time
  netns explain --json | jq '.[] | select(.settable.container) | .key'`,
  options: { ...targetOptions, ...booleans('probe', 'settable', 'all', 'json'), kernel: { type: 'string' } },
  run(v, keys) {
    const probe = v.probe === true;
    for (const k of keys) parseKey(k); // argument errors before creating anything
    if (hasTarget(v as TargetValues)) {
      if (probe || v.kernel !== undefined) throw new UsageError('--probe and --kernel go without a target', 'explain');
      if (v.settable === true) throw new UsageError('--settable goes without a target', 'explain');
      return runExplainTarget(v as TargetValues & { json?: boolean; all?: boolean }, keys);
    }
    if (v.kernel !== undefined) return onLine(String(v.kernel), keys, v.json === true, probe);
    if (v.settable === true) {
      if (keys.length > 0) throw new UsageError('--settable lists every key: give no KEY', 'explain');
      return runSettable(v as { json?: boolean; all?: boolean; probe?: boolean });
    }
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

/** netns explain --settable: the keys a container can set, or (--all) every key, yes or no, and why. */
function runSettable(v: { json?: boolean; all?: boolean; probe?: boolean }): number {
  const all = classify({ probe: v.probe === true });
  const rows = v.all === true ? all : all.filter((c) => c.settable.container);
  if (v.json) {
    json(rows.map(({ key, class: cls, host, child, settable }) => ({ key, class: cls, host, child, settable })));
    return OK;
  }
  out(
    table(
      v.all === true ? ['KEY', 'CLASS', 'SETTABLE IN A CONTAINER', 'WHY'] : ['KEY', 'CLASS', 'HOST', 'NEW NAMESPACE'],
      rows.map((c) =>
        v.all === true
          ? [shown(c.key), c.class, c.settable.container ? 'yes' : `no (${c.settable.reason})`, c.settable.why]
          : [shown(c.key), c.class, cell(c.host), cell(c.child)],
      ),
      (col, s) => (col === 1 ? paintClass(s) : s),
    ),
  );
  if (v.all !== true) {
    const no = new Map<string, number>();
    for (const c of all) if (!c.settable.container) no.set(c.settable.reason, (no.get(c.settable.reason) ?? 0) + 1);
    const parts = [...no].map(([reason, n]) => `${n} ${reason}`);
    out(
      dim(
        `(${rows.length} keys a container can set; ${all.length - rows.length} it cannot${parts.length ? `: ${parts.join(', ')}` : ''}; --all lists them with why)\n`,
      ),
    );
  }
  return OK;
}

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
  lines.push(['settable', `${e.settable.container ? 'yes' : 'no'}: ${e.settable.why}`]);
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
