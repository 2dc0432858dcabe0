// "I tuned this on the host: why doesn't my container see it, and how do I set it there?"
//
// compare(a, b): every /proc/sys/net key of two namespaces, side by side, equal by value.
// classify(options): one class per key, decided from three sources of evidence:
//   1. observation that changes nothing: presence, file mode and values on the host and in a
//      fresh namespace;
//   2. the kernel's rules (lib/kernel-rules.ts), with function, file and versions;
//   3. opt-in probes (root only): a "parent" probe that only writes inside throwaway
//      namespaces, and a "host" probe that briefly changes a host value for keys on a short
//      list proven harmless, then restores and verifies it (also on SIGTERM/SIGINT).
// explain(key): the same for one key, in a sentence, plus how to set it for a container.
import { constants as osConstants } from 'node:os';
import { NetNamespace } from './netns.js';
import { NetnsError, errnoName, invalid, wrap } from './errors.js';
import { parseKey } from './keys.js';
import { valuesEqual } from './values.js';
import { native, sysctlWalk, WALK_MODE, WALK_READ, isNativeErrno, type NativeOutcome, type WalkResult } from './native/index.js';
import {
  ENSURE_SAFE_RULE,
  defaultContext,
  findRule,
  relToKey,
  ruleEvidence,
  type RuleClass,
  type RuleContext,
  type RuleEvidence,
} from './kernel-rules.js';

const { EIO, ENOENT, EPERM } = osConstants.errno;

/** The class of a key: what a new namespace gets (see the README's table), or `unknown`. */
export type SysctlClass = RuleClass | 'unknown';

/** One key of {@link compare}. */
export interface CompareEntry {
  /** Dotted key, as sysctl(8) prints it. */
  key: string;
  /** Value in the first namespace (exact text, trailing newline removed); null when absent or unreadable. */
  a: string | null;
  /** Value in the second namespace. */
  b: string | null;
  /** errno code when present but unreadable in the first namespace. */
  aError?: string;
  /** errno code when present but unreadable in the second namespace. */
  bError?: string;
  /** Present in both, readable in both, and equal by value (numbers compared as numbers, whitespace ignored). */
  equal: boolean;
}

/** What was seen of one key in one namespace. */
export interface SideObservation {
  present: boolean;
  /** Permission bits as the kernel reports them (e.g. "644"), when present. */
  mode?: string;
  /** Some write bit is set. */
  writable?: boolean;
  /** Exact text read, trailing newline removed. */
  value?: string;
  /** errno code when the read failed (e.g. "EIO" for an unset stable_secret, "EACCES" for write-only). */
  error?: string;
}

/** The outcome of the probe that writes only inside throwaway namespaces. */
export interface ParentProbe {
  /** Value written in the creating (throwaway) namespace. */
  wrote?: string;
  /** Value the creating namespace held after the write. */
  creatorValue?: string;
  /** Value a namespace created from it received. */
  childValue?: string;
  outcome: 'from-creator' | 'not-from-creator' | 'not-applied' | 'no-alternative' | 'inconclusive' | 'error';
  /** Error code, for outcome "error". */
  error?: string;
}

/** The outcome of the probe that briefly changes the host value. */
export interface HostProbe {
  /** Value temporarily written on the host. */
  wrote?: string;
  /** Value a namespace created meanwhile received. */
  childValue?: string;
  /** The original host value was written back and read back equal. */
  restored: boolean;
  outcome: 'from-host' | 'not-from-host' | 'not-applied' | 'no-alternative' | 'inconclusive' | 'error';
  error?: string;
}

/** Everything behind one classification. */
export interface Evidence {
  observed: {
    host: SideObservation;
    child: SideObservation;
    /** Host and fresh-namespace values equal by value (null when either is absent or unreadable). */
    equal: boolean | null;
    /** The host value compared against, when the rule says the value is copied from another key. */
    source?: { key: string; value?: string; equal: boolean | null };
    /** The observing namespace is the initial one (it has init-only entries such as net.core.netdev_max_backlog). */
    observerIsInitNet: boolean;
  };
  /** The kernel rule that applies on this kernel, or null. */
  rule: RuleEvidence | null;
  /** Probe outcomes, when probing was asked for and the key qualified. */
  probe: { parent?: ParentProbe; host?: HostProbe } | null;
  /** One line: which evidence decided the class. */
  reason: string;
  /** Extra facts, e.g. that the key belongs to a device. */
  notes?: string[];
}

/** The classification of one key. Serialises to JSON as { key, class, host, child, evidence }. */
export interface Classification {
  /** Dotted key. */
  key: string;
  class: SysctlClass;
  /** Host value (exact text), null when absent or unreadable. */
  host: string | null;
  /** Value in a fresh namespace, null when absent or unreadable. */
  child: string | null;
  evidence: Evidence;
}

/** Options of {@link classify}. */
export interface ClassifyOptions {
  /**
   * Opt in to probes (root only). The parent probe writes only inside namespaces it creates;
   * the host probe changes host values of keys on {@link HOST_PROBE_SAFE} for a moment and
   * restores them, even on SIGTERM/SIGINT. Only keys whose value in a fresh namespace equals
   * the host's are probed.
   */
  probe?: boolean;
  /** Limit the host probe to these keys (dotted or path form; each must be on HOST_PROBE_SAFE). */
  hostProbeKeys?: string[];
  /** Only classify keys under these prefixes / exactly these keys (dotted or path form). */
  keys?: string[];
  /** Override facts about the kernel (for tests). */
  context?: Partial<RuleContext>;
  /** @internal Test hook: called after the host values were changed, before the namespace is made. */
  onHostProbeApplied?: (keys: string[]) => void;
  /** @internal Test hook: keep the host values changed this long (ms) before restoring. */
  hostProbeHoldMs?: number;
}

/** One explanation: a classification, a sentence, and how to set the key for a container. */
export interface Explanation extends Classification {
  /** A sentence a user understands. */
  sentence: string;
  /** How to set it for a container, or why that cannot be done. */
  howToSet: {
    /** Inside a running container, by its pid. */
    inside?: { api: string; cli: string };
    /** When starting a process in a new namespace, with presets. */
    atStart?: { api: string; cli: string };
    /** Before creating the namespace, on the host or in the creating namespace. */
    beforeCreate?: string;
    /** Why it cannot be set per container: "host-only" or "shared" and what to do instead. */
    cannot?: string;
  };
}

// ---------------------------------------------------------------------------------------------
// Values and keys

/** Equal by value (numbers as numbers, tab vs space ignored): the shared valuesEqual. */
const sameValue = (a: string, b: string): boolean => valuesEqual(a, b);

/** Path below /proc/sys/net for a key in sysctl(8) syntax, validated by the shared parser. */
const keyToRel = (key: string): string => parseKey(key, { allowRoot: true }).rel;

function valueOf(o: NativeOutcome | undefined): { value?: string; error?: string } {
  if (o === undefined) return {};
  if (o === null) return { error: 'EACCES' };
  if (typeof o === 'string') return { value: o.replace(/\n$/, '') };
  if (isNativeErrno(o)) return { error: errnoName(o.errno) };
  return { error: 'EIO' };
}

interface Snapshot {
  map: Map<string, { mode: number; out: NativeOutcome }>;
}

function snapshotOf(w: WalkResult): Snapshot {
  const map = new Map<string, { mode: number; out: NativeOutcome }>();
  w.keys.forEach((k, i) => map.set(k, { mode: w.modes[i] ?? 0, out: w.values[i] as NativeOutcome }));
  return { map };
}

function walk(nsfd: number): Snapshot {
  return snapshotOf(wrap(() => sysctlWalk(nsfd, '', WALK_READ | WALK_MODE)));
}

function side(s: Snapshot, rel: string): SideObservation {
  const e = s.map.get(rel);
  if (!e) return { present: false };
  const o: SideObservation = { present: true, mode: (e.mode & 0o7777).toString(8), writable: (e.mode & 0o222) !== 0 };
  Object.assign(o, valueOf(e.out));
  return o;
}

function eqObs(a: SideObservation | undefined, b: SideObservation): boolean | null {
  if (!a || a.value === undefined || b.value === undefined) return null;
  return sameValue(a.value, b.value);
}

/** Init-only entries: if the observing namespace has one, it is the initial namespace. */
const INIT_ONLY_MARKERS = ['core/netdev_max_backlog', 'core/devconf_inherit_init_net'];

// ---------------------------------------------------------------------------------------------
// compare

/**
 * Every key present in either namespace, with its value in each and whether they are equal
 * by value. Reads both trees in one walk each; changes nothing.
 */
export function compare(a: NetNamespace, b: NetNamespace): CompareEntry[] {
  if (!(a instanceof NetNamespace)) invalid('a NetNamespace', 'a', a);
  if (!(b instanceof NetNamespace)) invalid('a NetNamespace', 'b', b);
  const sa = walk(a.fd);
  const sb = walk(b.fd);
  const rels = [...new Set([...sa.map.keys(), ...sb.map.keys()])].sort();
  return rels.map((rel) => {
    const va = valueOf(sa.map.get(rel)?.out);
    const vb = valueOf(sb.map.get(rel)?.out);
    const e: CompareEntry = {
      key: relToKey(rel),
      a: va.value ?? null,
      b: vb.value ?? null,
      equal: va.value !== undefined && vb.value !== undefined && sameValue(va.value, vb.value),
    };
    if (va.error) e.aError = va.error;
    if (vb.error) e.bError = vb.error;
    return e;
  });
}

// ---------------------------------------------------------------------------------------------
// probes

/**
 * Keys whose host value the host probe may change for a moment: none of them can affect the
 * host's connectivity (no conf/*, forwarding, rp_filter, routes, neighbour thresholds, port
 * ranges). Values are nudged by one unit, or to another allowed congestion control.
 */
export const HOST_PROBE_SAFE: readonly string[] = [
  'ipv4/tcp_keepalive_time',
  'ipv4/tcp_keepalive_intvl',
  'ipv4/tcp_keepalive_probes',
  'ipv4/tcp_congestion_control',
  'ipv4/tcp_rmem',
  'ipv4/tcp_wmem',
  'ipv4/tcp_fin_timeout',
  'ipv4/tcp_fastopen_blackhole_timeout_sec',
  'ipv4/udp_rmem_min',
  'ipv4/udp_wmem_min',
  'core/somaxconn',
  'core/optmem_max',
];

/**
 * Keys never written, not even inside a throwaway namespace: their handlers change
 * kernel-global state that cannot be undone (nf_hooks_lwtunnel enables a global static key
 * that refuses to be disabled), or they are actions rather than values.
 */
const NEVER_WRITE = [/^netfilter\/nf_hooks_lwtunnel$/, /\/flush$/, /\/stable_secret$/];

/** Candidate replacement values for a probe: one unit up or down, or another allowed name. */
function alternatives(rel: string, value: string, allowedCa: string[]): string[] {
  if (rel === 'ipv4/tcp_congestion_control') {
    return allowedCa.filter((c) => c !== value.trim());
  }
  const tokens = value.trim().split(/\s+/);
  if (tokens.length === 0 || !tokens.every((t) => /^-?\d+$/.test(t))) return [];
  const last = BigInt(tokens[tokens.length - 1]!);
  const bump = (d: bigint): string => [...tokens.slice(0, -1), (last + d).toString()].join('\t');
  if (rel === 'ipv4/tcp_rmem' || rel === 'ipv4/tcp_wmem') return [bump(4096n), bump(-4096n)];
  return [bump(1n), bump(-1n)];
}

function readRel(nsfd: number, rel: string): string | undefined {
  try {
    return native.sysctlRead(nsfd, rel).replace(/\n$/, '');
  } catch {
    return undefined;
  }
}

/** Write the first alternative that takes; returns [written, value now in effect]. */
function writeAlternative(nsfd: number, rel: string, original: string, alts: string[]): [string, string] | undefined {
  for (const alt of alts) {
    try {
      native.sysctlWrite(nsfd, rel, alt);
    } catch {
      continue;
    }
    const now = readRel(nsfd, rel);
    if (now !== undefined && !sameValue(now, original)) return [alt, now];
  }
  return undefined;
}

/**
 * Parent probe: in a throwaway namespace P, change each key; create C from inside P; a key
 * whose value in C follows P's is copied from the creator ("parent"). Touches no host value;
 * as a guard, the host's values of the probed keys are read before and after and any
 * difference is reported (and written back).
 */
function parentProbe(rels: string[], allowedCa: string[]): Map<string, ParentProbe> {
  const out = new Map<string, ParentProbe>();
  const hostBefore = new Map(rels.map((r) => [r, readRel(-1, r)]));
  const P = NetNamespace.create();
  let C: NetNamespace | undefined;
  try {
    const original = new Map<string, string>();
    for (const rel of rels) {
      const v = readRel(P.fd, rel);
      if (v === undefined) {
        out.set(rel, { outcome: 'error', error: 'unreadable' });
        continue;
      }
      original.set(rel, v);
      const alts = alternatives(rel, v, allowedCa);
      if (alts.length === 0) {
        out.set(rel, { outcome: 'no-alternative' });
        continue;
      }
      const w = writeAlternative(P.fd, rel, v, alts);
      if (!w) out.set(rel, { outcome: 'not-applied' });
      else out.set(rel, { wrote: w[0], outcome: 'inconclusive' });
    }
    C = P.runSync(() => NetNamespace.create());
    for (const [rel, p] of out) {
      if (p.outcome !== 'inconclusive') continue;
      const creator = readRel(P.fd, rel);
      const child = readRel(C.fd, rel);
      const orig = original.get(rel)!;
      if (creator !== undefined) p.creatorValue = creator;
      if (child !== undefined) p.childValue = child;
      if (creator === undefined || child === undefined) p.outcome = 'error';
      else if (sameValue(creator, orig)) p.outcome = 'not-applied'; // undone by a later write in the batch
      else if (sameValue(child, creator)) p.outcome = 'from-creator';
      else if (sameValue(child, orig)) p.outcome = 'not-from-creator';
      else p.outcome = 'inconclusive';
    }
  } finally {
    C?.close();
    P.close();
    for (const [rel, before] of hostBefore) {
      const after = readRel(-1, rel);
      if (before !== undefined && after !== undefined && !sameValue(before, after)) {
        // A write inside P reached the host: the key is not per-namespace. Put it back.
        try {
          native.sysctlWrite(-1, rel, before);
        } catch {
          /* reported below */
        }
        const p = out.get(rel) ?? { outcome: 'error' as const };
        p.outcome = 'error';
        p.error = `host value changed by a write in a child namespace (${before} -> ${after}); restored`;
        out.set(rel, p);
      }
    }
  }
  return out;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Holds SIGTERM/SIGINT/SIGHUP while host values are changed. The probe runs synchronously, so
 * Node delivers a signal that arrives meanwhile only after the probe has restored the host;
 * the handler then removes itself and re-raises the signal with its default action (unless
 * the application has its own listener, which then handles it as usual; it is prepended so
 * that listeners like signal-exit's see themselves alone and re-raise).
 */
class SignalGuard {
  static readonly signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];
  static #depth = 0;
  static #installed = false;
  static #cleanup: NodeJS.Timeout | undefined;

  static #handler = (sig: NodeJS.Signals): void => {
    // Runs from the event loop, i.e. never while a probe is changing host values.
    SignalGuard.#uninstall();
    if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
  };

  static #uninstall(): void {
    if (!SignalGuard.#installed) return;
    for (const s of SignalGuard.signals) process.removeListener(s, SignalGuard.#handler);
    SignalGuard.#installed = false;
  }

  static enter(): { leave(): void } {
    if (SignalGuard.#cleanup) clearTimeout(SignalGuard.#cleanup);
    if (!SignalGuard.#installed) {
      // First in line, so that it is gone before libraries such as signal-exit check whether
      // they are the last listener (and re-raise the signal themselves).
      for (const s of SignalGuard.signals) process.prependListener(s, SignalGuard.#handler);
      SignalGuard.#installed = true;
    }
    SignalGuard.#depth++;
    return {
      leave(): void {
        if (--SignalGuard.#depth > 0) return;
        // Keep the handlers until the event loop has had a turn to deliver a signal that
        // arrived during the probe; unref'd so it never keeps the process alive.
        SignalGuard.#cleanup = setTimeout(() => SignalGuard.#uninstall(), 200);
        SignalGuard.#cleanup.unref();
      },
    };
  }
}

/**
 * Host probe: change the host value of each key (all on HOST_PROBE_SAFE), create a namespace,
 * read it, restore every host value and verify it. Runs synchronously; SIGTERM/SIGINT handlers
 * are installed meanwhile so a signal cannot kill the process before the restore: the signal
 * is handled after the restore and then re-raised with the default action.
 */
function hostProbe(
  rels: string[],
  allowedCa: string[],
  hooks: Pick<ClassifyOptions, 'onHostProbeApplied' | 'hostProbeHoldMs'>,
): Map<string, HostProbe> {
  const out = new Map<string, HostProbe>();
  const originals = new Map<string, string>();
  const guard = SignalGuard.enter();
  let failure: unknown;
  try {
    let C: NetNamespace | undefined;
    try {
      for (const rel of rels) {
        const v = readRel(-1, rel);
        if (v === undefined) {
          out.set(rel, { restored: true, outcome: 'error', error: 'unreadable' });
          continue;
        }
        originals.set(rel, v);
        const alts = alternatives(rel, v, allowedCa);
        if (alts.length === 0) {
          out.set(rel, { restored: true, outcome: 'no-alternative' });
          continue;
        }
        const w = writeAlternative(-1, rel, v, alts);
        out.set(rel, w ? { wrote: w[0], restored: false, outcome: 'inconclusive' } : { restored: false, outcome: 'not-applied' });
      }
      hooks.onHostProbeApplied?.([...originals.keys()].map(relToKey));
      if (hooks.hostProbeHoldMs && hooks.hostProbeHoldMs > 0) Atomics.wait(sleeper, 0, 0, hooks.hostProbeHoldMs);
      C = NetNamespace.create();
      for (const [rel, p] of out) {
        if (p.outcome !== 'inconclusive') continue;
        const child = readRel(C.fd, rel);
        const orig = originals.get(rel)!;
        const wrote = p.wrote!;
        if (child === undefined) {
          p.outcome = 'error';
          continue;
        }
        p.childValue = child;
        if (sameValue(child, wrote)) p.outcome = 'from-host';
        else if (sameValue(child, orig)) p.outcome = 'not-from-host';
      }
    } finally {
      C?.close();
      // Restore every host value we may have touched, then verify.
      for (const [rel, orig] of originals) {
        const p = out.get(rel);
        let ok = false;
        for (let attempt = 0; attempt < 3 && !ok; attempt++) {
          try {
            const now = readRel(-1, rel);
            if (now === undefined || !sameValue(now, orig)) native.sysctlWrite(-1, rel, orig);
            const back = readRel(-1, rel);
            ok = back !== undefined && sameValue(back, orig);
          } catch (e) {
            failure = e;
          }
        }
        if (p) p.restored = ok;
        if (!ok) failure ??= new NetnsError(EIO, 'write', { path: `/proc/sys/net/${rel}`, hint: `Could not restore the host value ${JSON.stringify(orig)} after probing; set it back by hand` });
      }
    }
  } finally {
    guard.leave();
  }
  if (failure) throw failure;
  return out;
}

// ---------------------------------------------------------------------------------------------
// classify

function readDevconf(host: Snapshot): number {
  const v = valueOf(host.map.get('core/devconf_inherit_init_net')?.out).value;
  return v === undefined ? 0 : Number(v.trim());
}

function matchesFilter(rel: string, filters: string[] | undefined): boolean {
  if (!filters) return true;
  return filters.some((f) => f === '' || rel === f || rel.startsWith(f + '/'));
}

function deviceOf(rel: string): string | undefined {
  const m = /^ipv[46]\/(?:conf|neigh)\/([^/]+)\//.exec(rel);
  if (!m || m[1] === 'all' || m[1] === 'default') return undefined;
  return m[1];
}

/**
 * Classify every key under /proc/sys/net (or those selected by `options.keys`) on the running
 * kernel: what a new network namespace gets for it, with the evidence. Needs permission to
 * create a network namespace (root). Without `probe`, changes nothing.
 */
export function classify(options: ClassifyOptions = {}): Classification[] {
  if (options === null || typeof options !== 'object') invalid('an options object', 'options', options);
  const filters = options.keys?.map(keyToRel);
  const probing = options.probe === true;
  if (probing && process.getuid?.() !== 0)
    throw new NetnsError(EPERM, 'probe', { hint: 'Probe mode changes sysctls and creates namespaces; it needs root' });
  const hostProbeAllowed = new Set(HOST_PROBE_SAFE);
  const hostProbeKeys = options.hostProbeKeys?.map(keyToRel);
  for (const k of hostProbeKeys ?? [])
    if (!hostProbeAllowed.has(k))
      invalid(`a key on HOST_PROBE_SAFE (${HOST_PROBE_SAFE.map(relToKey).join(', ')})`, 'hostProbeKeys', relToKey(k), RangeError);

  // 1. Observation: host, fresh namespace, host again. A host value that changes meanwhile
  // (another process tuning it) would make the comparison meaningless: observe again.
  let host!: Snapshot;
  let child!: Snapshot;
  let unstable = new Set<string>();
  for (let attempt = 0; attempt < 3; attempt++) {
    const before = walk(-1);
    const ns = NetNamespace.create();
    try {
      child = walk(ns.fd);
    } finally {
      ns.close();
    }
    host = walk(-1);
    unstable = new Set<string>();
    for (const [rel, e] of host.map) {
      if (/nf_conntrack_count$/.test(rel)) continue; // a live counter
      const a = valueOf(before.map.get(rel)?.out).value;
      const b = valueOf(e.out).value;
      if (a !== undefined && b !== undefined && !sameValue(a, b)) unstable.add(rel);
    }
    if (unstable.size === 0) break;
  }
  const observerIsInitNet = INIT_ONLY_MARKERS.some((m) => host.map.has(m));
  const ctx: RuleContext = { ...defaultContext(readDevconf(host)), ...options.context };
  const allowedCa = (valueOf(host.map.get('ipv4/tcp_allowed_congestion_control')?.out).value ?? 'reno')
    .trim()
    .split(/\s+/);

  const rels = [...new Set([...host.map.keys(), ...child.map.keys()])].filter((r) => matchesFilter(r, filters)).sort();

  // 2. First pass: observation + rules.
  const results = new Map<string, Classification>();
  const unsettled: string[] = [];
  for (const rel of rels) {
    const c = decide(rel, host, child, ctx, observerIsInitNet, unstable.has(rel));
    results.set(rel, c);
    const h = c.evidence.observed.host;
    const ch = c.evidence.observed.child;
    if (probing && h.writable && ch.writable && c.evidence.observed.equal === true && !unstable.has(rel) && !NEVER_WRITE.some((re) => re.test(rel)))
      unsettled.push(rel);
  }

  // 3. Probes, for keys whose host value equals the fresh value.
  if (probing && unsettled.length > 0) {
    const parent = parentProbe(unsettled, allowedCa);
    const hostSet = hostProbeKeys ?? HOST_PROBE_SAFE;
    const hostRels = unsettled.filter((r) => hostSet.includes(r));
    const hostRes = hostRels.length > 0 ? hostProbe(hostRels, allowedCa, options) : new Map<string, HostProbe>();
    for (const rel of unsettled) {
      const c = results.get(rel)!;
      const pp = parent.get(rel);
      const hp = hostRes.get(rel);
      c.evidence.probe = {};
      if (pp) c.evidence.probe.parent = pp;
      if (hp) c.evidence.probe.host = hp;
      applyProbe(c, pp, hp, observerIsInitNet);
    }
  }
  return rels.map((r) => results.get(r)!);
}

function decide(
  rel: string,
  host: Snapshot,
  child: Snapshot,
  ctx: RuleContext,
  observerIsInitNet: boolean,
  unstable: boolean,
): Classification {
  const h = side(host, rel);
  const ch = side(child, rel);
  const rule = findRule(rel, ctx);
  const rev = rule ? ruleEvidence(rule, rel, ctx) : null;
  const equal = eqObs(h, ch);
  const evidence: Evidence = {
    observed: { host: h, child: ch, equal, observerIsInitNet },
    rule: rev,
    probe: null,
    reason: '',
  };
  const notes: string[] = [];
  const dev = deviceOf(rel);
  if (dev) {
    const where = h.present && !ch.present ? 'on the host only' : !h.present && ch.present ? 'in the new namespace only' : 'in both';
    notes.push(
      `Per-device entry of "${dev}" (present ${where}): each namespace has its own devices; a device created in or moved into a namespace takes that namespace's conf.default (or neigh defaults).`,
    );
  }
  let source: Evidence['observed']['source'];
  if (rev?.sourceKey) {
    const srcRel = keyToRel(rev.sourceKey);
    const s = side(host, srcRel);
    source = { key: rev.sourceKey, equal: eqObs(s, ch) };
    if (s.value !== undefined) source.value = s.value;
    evidence.observed.source = source;
  }
  const result = (cls: SysctlClass, reason: string): Classification => {
    evidence.reason = reason;
    if (notes.length) evidence.notes = notes;
    return { key: relToKey(rel), class: cls, host: h.value ?? null, child: ch.value ?? null, evidence };
  };
  const ruleUsable = rev !== null && rev.verified;
  if (unstable) {
    notes.push('The host value changed while it was being observed (another process is changing it).');
    if (!(h.present && !ch.present) && !(!h.present && ch.present))
      return result('unknown', 'the host value kept changing during observation');
  }

  // Presence settles host-only and child-only by observation alone.
  if (h.present && !ch.present) return result('host-only', 'observed: present on the host, absent in a fresh namespace');
  if (!h.present && ch.present) return result('child-only', 'observed: absent on the host, present in a fresh namespace');

  // Writable on the host, read-only in the child.
  if (h.writable && !ch.writable) {
    if (equal === true) {
      if (!rev) evidence.rule = ruleEvidence(ENSURE_SAFE_RULE, rel, ctx);
      return result('readonly', 'observed: writable on the host, read-only in a fresh namespace, same value');
    }
    if (ruleUsable && rev.class === 'readonly')
      return result('readonly', 'rule + observed mode (values differ: a global value that changed between the reads?)');
    return result('unknown', 'observed: read-only in a fresh namespace but its value differs from the host\'s');
  }

  // Read-only everywhere: only a rule can say what it is.
  if (!h.writable && !ch.writable) {
    if (ruleUsable) {
      if (rev.class === 'shared' && equal === false)
        return result('unknown', 'rule says shared, but the values differ');
      return result(rev.class, `rule ${rev.id} (read-only in both namespaces)`);
    }
    return result('unknown', 'read-only in both namespaces and no verified rule says whether it is global or per-namespace');
  }

  // Writable in the child (and on the host).
  if (ruleUsable) {
    const cls = rev.class;
    const cmpEq = source ? source.equal : equal;
    if ((cls === 'inherited' || cls === 'parent') && cmpEq === false && observerIsInitNet)
      return result('unknown', `rule ${rev.id} predicts ${cls}, but the fresh value differs from the host's${source ? ` ${source.key}` : ''}: the rule does not hold here`);
    if (cls === 'readonly' || cls === 'host-only' || cls === 'child-only' || cls === 'shared')
      return result('unknown', `rule ${rev.id} predicts ${cls}, but the entry is present and writable in a fresh namespace`);
    return result(cls, `rule ${rev.id}${cmpEq === false ? ' (values differ, consistent)' : cmpEq === true ? ' (values equal: the rule decides)' : ''}`);
  }
  if (equal === false && observerIsInitNet)
    return result('default', 'observed: a fresh namespace gets a different value than the host (not copied from it)');
  if (equal === null) return result('unknown', 'unreadable on the host or in a fresh namespace, and no verified rule');
  return result('unknown', 'equal values on the host and in a fresh namespace, and no verified rule');
}

function applyProbe(c: Classification, pp: ParentProbe | undefined, hp: HostProbe | undefined, initNet: boolean): void {
  const ruleCls = c.evidence.rule?.verified ? c.evidence.rule.class : undefined;
  let probeCls: SysctlClass | undefined;
  let why = '';
  if (pp?.outcome === 'from-creator') {
    probeCls = 'parent';
    why = 'parent probe: a namespace created from another one took the creator\'s value';
  } else if (hp?.outcome === 'from-host' && pp?.outcome === 'not-from-creator' && initNet) {
    probeCls = 'inherited';
    why = 'host probe: a fresh namespace took the temporarily changed host value, and the parent probe shows it is not the creator\'s';
  } else if (hp?.outcome === 'from-host' && initNet && !pp) {
    probeCls = 'inherited';
    why = 'host probe: a fresh namespace took the temporarily changed host value';
  } else if (hp?.outcome === 'not-from-host' && initNet) {
    probeCls = 'default';
    why = 'host probe: a fresh namespace kept its own value while the host\'s was changed';
  }
  if (pp?.outcome === 'error' && pp.error?.startsWith('host value changed')) {
    probeCls = 'shared';
    why = 'parent probe: writing it in a child namespace changed the host value';
  }
  if (!probeCls) {
    const parts: string[] = [];
    if (pp) parts.push(`parent probe: ${pp.outcome}`);
    parts.push(hp ? `host probe: ${hp.outcome}` : 'no host probe (not on HOST_PROBE_SAFE)');
    c.evidence.reason += ` (${parts.join('; ')})`;
    return;
  }
  if (ruleCls && ruleCls !== probeCls) {
    c.class = 'unknown';
    c.evidence.reason = `rule ${c.evidence.rule!.id} predicts ${ruleCls} but the probe shows ${probeCls}`;
    return;
  }
  c.class = probeCls;
  c.evidence.reason = ruleCls ? `rule ${c.evidence.rule!.id}, confirmed by probe (${why})` : why;
}

// ---------------------------------------------------------------------------------------------
// explain

function sample(c: Classification): string {
  const v = c.child ?? c.host;
  if (v === null) return 'VALUE';
  return v.replace(/\s+/g, ' ').trim();
}

/**
 * Explain one key: its class with the evidence, a sentence a user understands, and how to set
 * it for a container (inside by pid, at start with presets, or why it cannot be done).
 */
export function explain(key: string, options: ClassifyOptions = {}): Explanation {
  const rel = keyToRel(key);
  const [c] = classify({ ...options, keys: [relToKey(rel)] }).filter((x) => keyToRel(x.key) === rel);
  if (!c)
    throw new NetnsError(ENOENT, 'open', {
      path: `/proc/sys/net/${rel}`,
      key: relToKey(rel),
      hint: 'No such key on the host or in a fresh namespace on this kernel',
    });
  const k = c.key;
  const v = sample(c);
  const tokens = v.split(' ');
  const numeric = tokens.every((x) => /^-?\d+$/.test(x));
  const lit = numeric ? (tokens.length === 1 ? v : `[${tokens.join(', ')}]`) : JSON.stringify(v);
  const arg = /\s/.test(v) ? `'${k}=${v}'` : `${k}=${v}`;
  const inside = {
    api: `NetNamespace.fromPid(PID).sysctl.set('${k}', ${lit})`,
    cli: `netns sysctl --pid PID -w ${arg}`,
  };
  const atStart = {
    api: `spawnInNetns(cmd, args, { sysctl: { '${k}': ${lit} } })`,
    cli: `netns exec --sysctl ${arg} -- cmd`,
  };
  const src = c.evidence.rule?.sourceKey ?? c.evidence.observed.source?.key;
  const dev = deviceOf(rel);
  let sentence: string;
  const howToSet: Explanation['howToSet'] = {};
  switch (c.class) {
    case 'inherited':
      sentence = `${k} is copied from the host${src ? ` (${src})` : ''} when a namespace is created: a container sees the host's value as it was at the container's start, and later host changes do not reach it.`;
      howToSet.inside = inside;
      howToSet.atStart = atStart;
      howToSet.beforeCreate = `or set ${src ?? k} on the host before the container's namespace is created`;
      break;
    case 'default':
      sentence = `${k} is reset to the kernel's built-in default in every new namespace: tuning it on the host does not reach containers.`;
      howToSet.inside = inside;
      howToSet.atStart = atStart;
      break;
    case 'parent':
      sentence = `${k} is taken from the namespace that creates the new one${src ? ` (its ${src})` : ''}, not from the host's initial namespace.`;
      if (c.evidence.observed.child.writable) {
        howToSet.inside = inside;
        howToSet.atStart = atStart;
      }
      howToSet.beforeCreate = `set ${src ?? k} in the namespace that creates the container's namespace, before creating it`;
      break;
    case 'shared':
      sentence = `${k} is one kernel-wide value, the same in every namespace.`;
      howToSet.cannot = 'shared: it cannot be set per container; changing it (on the host) changes it for every namespace';
      break;
    case 'readonly':
      sentence = `${k} is global: containers see the host's value read-only.`;
      howToSet.cannot = `shared: it cannot be set per container; set it on the host (sysctl -w ${k}=…) and every namespace sees the new value`;
      break;
    case 'host-only':
      sentence = dev
        ? `${k} belongs to the host's device "${dev}", which a new namespace does not have; a container's own devices have their own entries.`
        : `${k} exists only in the host's initial namespace: it is global and a container cannot see it.`;
      howToSet.cannot = dev
        ? `host-only: set the entry of the container's own device inside it (e.g. ${k.replace(`.${dev}.`, '.DEV.')}) by pid, or set the namespace's conf.default before the device is created`
        : 'host-only: it cannot be set per container; setting it on the host applies to every namespace';
      break;
    case 'child-only':
      sentence = `${k} exists in a new namespace but not on the host.`;
      howToSet.inside = inside;
      howToSet.atStart = atStart;
      break;
    default:
      sentence = `What a new namespace gets for ${k} could not be settled on this kernel (${c.evidence.reason}).`;
      if (c.evidence.observed.child.writable) {
        howToSet.inside = inside;
        howToSet.atStart = atStart;
      }
  }
  return { ...c, sentence, howToSet };
}
