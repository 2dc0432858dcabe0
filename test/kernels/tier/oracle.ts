// What this kernel really does with each /proc/sys/net key in a new namespace, found by
// experiment with plain fs reads and writes and util-linux `unshare` (none of this library's
// code), in a throwaway VM whose global values the experiment may change:
//
//   1. presence: walk the initial namespace (H0), two fresh namespaces (C0, C0b: values that
//      differ between them change by themselves) and one owned by a new user namespace (U0).
//   2. the creator: in a namespace A, write another value to every key it may write, walk A,
//      and walk a namespace B created from inside A; a key of B that differs from C0 follows
//      its creator ("parent"); a host key that changed meanwhile is one global value ("shared").
//   3. the host: write another value to every writable key of the initial namespace (those that
//      exist only there too: a device's neighbour values come from neigh.default), walk a fresh
//      namespace C1, and restore every value; a key of C1 that differs from C0 follows the host.
//
// A key then is: host-only / child-only (presence), shared, parent, readonly (read-only in A and
// following the host), inherited (writable in A and following the host), default (its own host
// value was changed and a new namespace did not follow), or not settled by the experiment.
import * as fs from 'node:fs';
import { walk, writeAll, type Seen, type Walk } from './walk.js';
import { sameText, walkIn } from './common.js';

export type Observed = 'host-only' | 'child-only' | 'shared' | 'parent' | 'readonly' | 'inherited' | 'default';

export interface KeyVerdict {
  /** The class the experiment shows, or undefined when it cannot settle the key. */
  cls?: Observed;
  why: string;
}

/** What presence alone shows: the initial namespace, two new ones, one owned by a new user namespace. */
export interface Presence {
  host: Walk;
  fresh: Walk;
  fresh2: Walk;
  userns: Walk;
}

/** Every walk of the experiment, and what was written where. */
export interface Experiment extends Presence {
  /** A after its writes, B created from it, and the host after A's writes. */
  creator: Walk;
  grandchild: Walk;
  hostAfterChild: Walk;
  childWritten: string[];
  /** The host after its writes, and a fresh namespace created then. */
  hostChanged: Walk;
  freshAfterHost: Walk;
  hostWritten: string[];
  /** Host keys whose original value could not be written back (kernel-wide switches such as nf_hooks_lwtunnel). */
  notRestored: string[];
}

/**
 * Keys the experiment never writes on the host: they change how namespaces are created
 * (which source conf.all/default take; which fallback tunnel devices a namespace gets).
 */
const NEVER_WRITE = new Set(['core/devconf_inherit_init_net', 'core/fb_tunnels_only_for_init_net']);

/**
 * Other values a key may take, best first; [] when the experiment does not know one. Numbers
 * are doubled first: a key and its alias in other units (base_reachable_time and _ms,
 * unres_qlen and _bytes) are both written, the later write wins, and a change of one unit
 * would vanish in the rounding of the other. The child hash sizes get one large enough that
 * every value derived from them (max_tw_buckets, max_syn_backlog) changes too.
 */
export function alternatives(rel: string, value: string, congestion: string[]): string[] {
  const v = value.trim();
  if (rel === 'ipv4/tcp_congestion_control') return congestion.filter((c) => c !== v).slice(0, 1);
  if (/^ipv4\/(tcp_child_ehash|udp_child_hash)_entries$/.test(rel) && v === '0') return ['65536', '1'];
  if (/^-?\d+$/.test(v)) {
    const n = BigInt(v);
    if (n === 0n) return ['1'];
    if (n === 1n) return ['0', '2'];
    return [String(n * 2n), String(n - 1n), String(n + 1n)];
  }
  if (/^-?\d+(\s+-?\d+)+$/.test(v)) {
    const parts = v.split(/\s+/).map((x) => BigInt(x));
    const first = parts[0]!;
    const rest = parts.slice(1).map(String);
    return [[String(first + 1n), ...rest].join('\t'), [String(first - 1n), ...rest].join('\t')];
  }
  return [];
}

/** Change every writable key of `side` that has a known alternative: the values written. */
function changeAll(side: Walk, congestion: string[], skip: (rel: string) => boolean): Record<string, string> {
  const writes: Record<string, string> = {};
  for (const [rel, s] of Object.entries(side)) {
    if (!s.writable || s.value === undefined || skip(rel)) continue;
    const alt = alternatives(rel, s.value, congestion)[0];
    if (alt !== undefined) writes[rel] = alt;
  }
  return writes;
}

const read = (rel: string): string | undefined => {
  try {
    return fs.readFileSync(`/proc/sys/net/${rel}`, 'latin1').replace(/\n$/, '');
  } catch {
    return undefined;
  }
};

/** Change the calling (initial) namespace's values: the keys written. */
function changeHost(host: Walk, congestion: string[]): string[] {
  const changed: string[] = [];
  for (const [rel, s] of Object.entries(host)) {
    if (!s.writable || s.value === undefined || NEVER_WRITE.has(rel)) continue;
    for (const alt of alternatives(rel, s.value, congestion)) {
      writeAll({ [rel]: alt });
      const now = read(rel);
      if (now !== undefined && !sameText(now, s.value)) {
        changed.push(rel);
        break;
      }
    }
  }
  return changed;
}

/**
 * Write the original values back: the keys left changed. Twice: restoring a key can change its
 * alias (unres_qlen rewrites unres_qlen_bytes, rounded), so what still differs is written again.
 */
function restoreHost(host: Walk, keys: string[]): string[] {
  let left = [...keys].reverse();
  for (let pass = 0; pass < 2 && left.length; pass++) {
    for (const rel of left) writeAll({ [rel]: host[rel]!.value! });
    left = left.filter((rel) => !sameText(read(rel), host[rel]!.value));
  }
  return left;
}

/** The keys whose value in `after` differs from `before`. */
const changedKeys = (before: Walk, after: Walk): string[] =>
  Object.keys(before).filter(
    (rel) =>
      before[rel]!.value !== undefined &&
      after[rel]?.value !== undefined &&
      !sameText(before[rel]!.value, after[rel]!.value),
  );

/** Walks that change nothing (root): safe on any machine. */
export function presence(): Presence {
  return {
    host: walk(),
    fresh: walkIn(['unshare', '-n']).keys,
    fresh2: walkIn(['unshare', '-n']).keys,
    userns: walkIn(['unshare', '-U', '-r', '-n']).keys,
  };
}

/** Run the whole experiment (root, in a throwaway VM: it changes and restores global values). */
export function experiment(): Experiment {
  const { host, fresh, fresh2, userns } = presence();
  const congestion = (host['ipv4/tcp_available_congestion_control']?.value ?? 'reno cubic').trim().split(/\s+/);

  // 2. The creator: A writes, B is made from A.
  const childWrites = changeAll(fresh, congestion, () => false);
  const a = walkIn(['unshare', '-n'], childWrites, ['unshare', '-n']);
  const hostAfterChild = walk();
  const notRestored = restoreHost(host, changedKeys(host, hostAfterChild));

  // 3. The host.
  const written = changeHost(host, congestion);
  const hostChanged = walk();
  const freshAfterHost = walkIn(['unshare', '-n']).keys;
  notRestored.push(...restoreHost(host, written));

  return {
    host,
    fresh,
    fresh2,
    userns,
    creator: a.keys,
    grandchild: a.then!.keys,
    hostAfterChild,
    // (What really changed, once every write was done: a later write to an alias may undo one.)
    childWritten: changedKeys(fresh, a.keys),
    hostChanged,
    freshAfterHost,
    hostWritten: changedKeys(host, hostChanged),
    notRestored: [...new Set(notRestored)],
  };
}

const differs = (a: Seen | undefined, b: Seen | undefined): boolean =>
  a !== undefined && b !== undefined && a.value !== undefined && b.value !== undefined && !sameText(a.value, b.value);

/**
 * The class the experiment shows for each key (as root: a namespace made by root). From
 * presence alone (no writes), only host-only, child-only and read-only values of their own.
 */
export function verdicts(x: Presence | Experiment): Map<string, KeyVerdict> {
  const out = new Map<string, KeyVerdict>();
  const full = 'creator' in x;
  const hostWritten = new Set(full ? x.hostWritten : []);
  const childWritten = new Set(full ? x.childWritten : []);
  for (const rel of new Set([...Object.keys(x.host), ...Object.keys(x.fresh)])) {
    const h = x.host[rel];
    const c = x.fresh[rel];
    if (h && !c) {
      out.set(rel, { cls: 'host-only', why: 'present in the initial namespace, absent in a new one' });
      continue;
    }
    if (!h && c) {
      out.set(rel, { cls: 'child-only', why: 'absent in the initial namespace, present in a new one' });
      continue;
    }
    if (!h || !c) continue;
    if (differs(c, x.fresh2[rel]) || (c.error !== undefined && h.error !== undefined)) {
      out.set(rel, { why: c.error ? `unreadable (${c.error})` : 'differs between two new namespaces' });
      continue;
    }
    if (full && childWritten.has(rel) && differs(h, x.hostAfterChild[rel])) {
      out.set(rel, { cls: 'shared', why: "writing it in a new namespace changed the initial namespace's value" });
      continue;
    }
    if (full && differs(c, x.grandchild[rel])) {
      out.set(rel, {
        cls: 'parent',
        why: 'a namespace made from another one follows that one, not the initial namespace',
      });
      continue;
    }
    if (full && differs(c, x.freshAfterHost[rel])) {
      out.set(
        rel,
        c.writable
          ? { cls: 'inherited', why: "a new namespace takes the initial namespace's value at creation" }
          : { cls: 'readonly', why: "read-only in a new namespace, and it shows the initial namespace's value" },
      );
      continue;
    }
    if (full && hostWritten.has(rel) && x.freshAfterHost[rel]?.value !== undefined) {
      out.set(rel, {
        cls: 'default',
        why: "the initial namespace's value was changed and a new namespace did not take it",
      });
      continue;
    }
    if (full && !h.writable && !c.writable && differs(h, c)) {
      out.set(rel, { cls: 'default', why: 'read-only everywhere, with a value of its own in a new namespace' });
      continue;
    }
    out.set(rel, {
      why: !full
        ? 'not written: presence only'
        : h.writable
          ? 'no other value could be written on the host'
          : 'read-only in both, same value: global or a per-namespace constant',
    });
  }
  return out;
}

/** Keys a namespace owned by a new user namespace does not have, and those it has read-only. */
export function usernsEffects(x: Presence): { hidden: string[]; readonly: string[] } {
  const hidden: string[] = [];
  const readonly: string[] = [];
  for (const [rel, c] of Object.entries(x.fresh)) {
    const u = x.userns[rel];
    if (!u) hidden.push(rel);
    else if (c.writable && !u.writable) readonly.push(rel);
  }
  return { hidden: hidden.sort(), readonly: readonly.sort() };
}

/** One side of a recorded key: [mode, text] or [mode, null, errno code]. */
export type RecordedSide = [mode: number, value: string | null, error?: string];

/** What a line showed, as kept in test/kernels/observed/LINE.json (the rule base's evidence). */
export interface Recorded {
  line: string;
  release: string;
  /** "experiment" (the VM: every class the writes settle) or "presence" (a real host: no writes). */
  how: 'experiment' | 'presence';
  keys: Record<
    string,
    {
      class: Observed | null;
      why: string;
      host: RecordedSide | null;
      fresh: RecordedSide | null;
      userns: [mode: number, writable: boolean] | null;
    }
  >;
}

const side = (s: Seen | undefined): RecordedSide | null =>
  s ? (s.value !== undefined ? [s.mode, s.value] : [s.mode, null, s.error ?? 'EIO']) : null;

/** A device's own entries (conf.eth0.*): the record keeps lo's (every namespace has lo), not those of the machine's other devices. */
const otherDevice = (rel: string): boolean => /^ipv[46]\/(conf|neigh)\/(?!all\/|default\/|lo\/)[^/]+\//.test(rel);

/** The record of a line. */
export function record(line: string, release: string, x: Presence | Experiment, v: Map<string, KeyVerdict>): Recorded {
  const keys: Recorded['keys'] = {};
  for (const rel of [...v.keys()].filter((r) => !otherDevice(r)).sort()) {
    const u = x.userns[rel];
    keys[rel] = {
      class: v.get(rel)!.cls ?? null,
      why: v.get(rel)!.why,
      host: side(x.host[rel]),
      fresh: side(x.fresh[rel]),
      userns: u ? [u.mode, u.writable] : null,
    };
  }
  return { line, release, how: 'creator' in x ? 'experiment' : 'presence', keys };
}

/** A record as JSON text, one key a line (diffs of a re-recorded line stay readable). */
export function recordText(r: Recorded): string {
  const keys = Object.entries(r.keys).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  return `{\n "line": ${JSON.stringify(r.line)},\n "release": ${JSON.stringify(r.release)},\n "how": ${JSON.stringify(r.how)},\n "keys": {\n${keys.join(',\n')}\n }\n}\n`;
}
