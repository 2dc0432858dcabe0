// Answers for a kernel line other than the running one (classify/explain with `kernel`): from the
// rule base evaluated for that line's version, and the keys the kernel matrix saw on it
// (kernel-lines.ts, generated from its records). Nothing is created or read.
import { invalid } from '../errors.js';
import { LINE_KEYS, LINE_RELEASES } from './kernel-lines.js';
import { keyFromRel } from '../keypath.js';
import { VERIFIED_LINES, findRule, ruleEvidence } from './rules.js';
import { settableOf } from './decide.js';
import type { Classification, ClassifyOptions, RuleContext, SideObservation } from './types.js';

/** Where a key is on a recorded line: on the host, in a new namespace, in one owned by a user namespace. */
export interface LinePresence {
  host: boolean;
  fresh: boolean;
  userns: boolean;
}

let table: Map<string, string> | undefined;
function entries(): Map<string, string> {
  table ??= new Map(
    LINE_KEYS.split(' ').map((e) => {
      const i = e.lastIndexOf('=');
      return [e.slice(0, i), e.slice(i + 1)];
    }),
  );
  return table;
}

/** "6.1" from "6.1", "6.1.0-57-amd64" or "6.12.118+deb12"; RangeError for anything else. */
export function kernelLine(kernel: unknown): string {
  if (typeof kernel !== 'string') invalid('a kernel line such as "6.1" (a string)', 'kernel', kernel);
  const m = /^(\d{1,2})\.(\d{1,3})(?:[.\-+~].*)?$/.exec(kernel);
  if (!m)
    return invalid('a kernel line such as "6.1" or a release such as "6.1.0-57-amd64"', 'kernel', kernel, RangeError);
  return `${Number(m[1])}.${Number(m[2])}`;
}

/** The kernel a line was recorded on, or undefined when the matrix has no record of it. */
export function lineRelease(
  line: string,
): { line: string; release: string; how: 'experiment' | 'presence' } | undefined {
  return LINE_RELEASES.find((l) => l.line === line);
}

/** A device's own entries are answered by lo's (every namespace has lo): "ipv4/conf/eth0/x" -> "ipv4/conf/lo/x". */
function recordedRel(rel: string): string {
  return rel.replace(/^(ipv[46]\/(?:conf|neigh))\/(?!all\/|default\/)[^/]+\//, '$1/lo/');
}

/** Where `rel` is on a recorded line: null when the line has no such key, undefined when the line was not recorded. */
export function linePresence(line: string, rel: string): LinePresence | null | undefined {
  const at = LINE_RELEASES.findIndex((l) => l.line === line);
  if (at < 0) return undefined;
  const d = Number(entries().get(recordedRel(rel))?.[at] ?? '0');
  return d === 0 ? null : { host: (d & 1) !== 0, fresh: (d & 2) !== 0, userns: (d & 4) !== 0 };
}

/** Every key recorded on `line` (or on any line, for a line without a record), in path form. */
export function lineKeys(line: string): string[] {
  const at = LINE_RELEASES.findIndex((l) => l.line === line);
  return [...entries()].filter(([, d]) => (at < 0 ? /[1-9]/.test(d) : d[at] !== '0')).map(([rel]) => rel);
}

const present = (p: boolean): SideObservation => ({ present: p });

/**
 * One key as the rule base answers it for `line`: its class from the rule in force on that
 * line's version, whether the key exists there (recorded lines), and why. `ctx` is that line's.
 */
export function classifyOnLine(rel: string, line: string, ctx: RuleContext): Classification {
  const rule = findRule(rel, ctx);
  const rev = rule ? ruleEvidence(rule, rel, ctx) : null;
  const where = linePresence(line, rel);
  const recorded = lineRelease(line);
  const notes: string[] = [];
  let cls: Classification['class'];
  let reason: string;
  if (where === null) {
    cls = 'unknown';
    reason = `absent on ${line}: the kernel matrix saw no such key on ${recorded!.release}`;
  } else if (where?.host && !where.fresh) {
    cls = 'host-only';
    reason = `observed on ${line} (${recorded!.release}): present in the initial namespace, absent in a new one`;
  } else if (rev?.verified) {
    cls = rev.class;
    reason = `rule ${rev.id} for ${line}${rev.kernel.checkedOnRunning ? ` (${rev.kernel.note})` : ''}`;
  } else {
    cls = 'unknown';
    reason = `no rule of the rule base applies on ${line}`;
  }
  if (where?.fresh && !where.userns)
    notes.push(`On ${line} a namespace owned by a user namespace (a rootless container's) does not have it.`);
  if (where === undefined)
    notes.push(`${line} is not a line the kernel matrix recorded: whether the key exists there is not known.`);
  const evidence: Classification['evidence'] = {
    observed: {
      host: present(where?.host ?? false),
      child: present(where?.fresh ?? false),
      equal: null,
      observerIsInitNet: true,
    },
    rule: rev,
    probe: null,
    reason,
  };
  if (notes.length) evidence.notes = notes;
  const c = { key: keyFromRel(rel), class: cls, host: null, child: null, evidence };
  return { ...c, settable: settableOf(c) };
}

/** classify({ kernel }): every key of that line (or the given ones), from the rule base. */
export function classifyLine(
  options: ClassifyOptions & { kernel: string },
  filters: string[] | undefined,
): Classification[] {
  const line = kernelLine(options.kernel);
  const [major, minor] = line.split('.').map(Number) as [number, number];
  const ctx: RuleContext = { kernel: [major, minor], devconfInherit: 0, ...options.context };
  const known = lineKeys(line);
  // A filter names keys of the line, or a key the line lacks (answered as absent).
  const rels = filters
    ? filters.flatMap((f) => {
        const under = known.filter((r) => f === '' || r === f || r.startsWith(f + '/'));
        return under.length > 0 ? under : f === '' ? [] : [f];
      })
    : known;
  return [...new Set(rels)].sort().map((rel) => classifyOnLine(rel, line, ctx));
}

/** Whether `line` is one the rule base was verified on, and how, for a note. */
export function lineSupport(line: string): { verified: boolean; note: string } {
  const v = VERIFIED_LINES.find((l) => l.line === line);
  if (v) return { verified: true, note: `answer for ${line} from the rule base, verified on ${line}: ${v.from}` };
  return {
    verified: false,
    note: `answer for ${line} from the rule base alone: ${line} is not a verified line (${VERIFIED_LINES.map((l) => l.line).join(', ')}). Not known on ${line}: whether the key exists there, and whether the rule that applies by version holds there (see the rule's checked lines)`,
  };
}
