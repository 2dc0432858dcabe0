// Opt-in probes (root only): the parent probe writes only inside throwaway namespaces; the
// host probe changes host values of keys on HOST_PROBE_SAFE for a moment, then restores and
// verifies them. Every read and write goes through the namespace's sysctl backend.
import { NetNamespace } from '../namespace/handle.js';
import { ERRNO, netnsError, toNetnsError } from '../errors.js';
import type { SysctlBackend } from '../sysctl/backend.js';
import { keyFromRel } from '../keypath.js';
import { backendOf, readRel, sameValue } from './observe.js';
import { claimJournal, recordJournal, releaseJournal, restoreExactly } from './probe-journal.js';
import { SignalGuard } from './signal-guard.js';
import type { ClassifyOptions, HostProbe, ParentProbe } from './types.js';

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
export const NEVER_WRITE = [/^netfilter\/nf_hooks_lwtunnel$/, /\/flush$/, /\/stable_secret$/];

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

/** Write the first alternative that takes; returns [written, value now in effect]. */
function writeAlternative(
  b: SysctlBackend,
  rel: string,
  original: string,
  alts: string[],
): [string, string] | undefined {
  for (const alt of alts) {
    try {
      b.write(rel, alt);
    } catch {
      continue;
    }
    const now = readRel(b, rel);
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
export function parentProbe(rels: string[], allowedCa: string[]): Map<string, ParentProbe> {
  const out = new Map<string, ParentProbe>();
  const host = backendOf();
  const hostBefore = new Map(rels.map((r) => [r, readRel(host, r)]));
  const P = NetNamespace.create();
  let C: NetNamespace | undefined;
  try {
    // Every original first: a write can change other keys of the batch (conf.all.X reaches
    // every device's X), and a value read after such a write is not P's own.
    const original = new Map<string, string>();
    for (const rel of rels) {
      const v = readRel(backendOf(P), rel);
      if (v === undefined) out.set(rel, { outcome: 'error', error: 'unreadable' });
      else original.set(rel, v);
    }
    for (const rel of rels) {
      const v = original.get(rel);
      if (v === undefined) continue;
      const alts = alternatives(rel, v, allowedCa);
      if (alts.length === 0) {
        out.set(rel, { outcome: 'no-alternative' });
        continue;
      }
      const w = writeAlternative(backendOf(P), rel, v, alts);
      if (!w) out.set(rel, { outcome: 'not-applied' });
      else out.set(rel, { wrote: w[0], outcome: 'inconclusive' });
    }
    C = P.runSync(() => NetNamespace.create());
    for (const [rel, p] of out) {
      if (p.outcome !== 'inconclusive') continue;
      const creator = readRel(backendOf(P), rel);
      const child = readRel(backendOf(C), rel);
      const orig = original.get(rel)!;
      if (creator !== undefined) p.creatorValue = creator;
      if (child !== undefined) p.childValue = child;
      if (creator === undefined || child === undefined) p.outcome = 'error';
      else if (sameValue(creator, orig))
        p.outcome = 'not-applied'; // undone by a later write in the batch
      else if (sameValue(child, creator)) p.outcome = 'from-creator';
      else if (sameValue(child, orig)) p.outcome = 'not-from-creator';
      else p.outcome = 'inconclusive';
    }
  } finally {
    C?.close();
    P.close();
    for (const [rel, before] of hostBefore) {
      const after = readRel(host, rel);
      if (before !== undefined && after !== undefined && !sameValue(before, after)) {
        // A write inside P reached the host: the key is not per-namespace. Put it back.
        try {
          host.write(rel, before);
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

const CC = 'ipv4/tcp_congestion_control';
/** Global: setting the host's default congestion control adds that algorithm to it. */
const ALLOWED_CC = 'ipv4/tcp_allowed_congestion_control';

/**
 * Host probe: change the host value of each key (all on HOST_PROBE_SAFE), create a namespace,
 * read it, restore every host value and verify it. Runs synchronously; SIGTERM/SIGINT handlers
 * are installed meanwhile so a signal cannot kill the process before the restore: the signal
 * is handled after the restore and then re-raised with the default action.
 *
 * Side effects are part of the restore: the kernel makes the algorithm set as the host's
 * default congestion control allowed for every namespace (tcp_allowed_congestion_control), and
 * setting the default back does not take it away. The probe picks only algorithms already
 * allowed, but restoring a default the allowed list lacks adds that one; so the allowed list
 * is read first and written back (and verified) after the default is restored.
 * @internal (its hooks are classify()'s test hooks)
 */
export function hostProbe(
  rels: string[],
  allowedCa: string[],
  hooks: Pick<ClassifyOptions, 'onHostProbeApplied' | 'hostProbeHoldMs'>,
): Map<string, HostProbe> {
  const out = new Map<string, HostProbe>();
  const host = backendOf();
  const originals = new Map<string, string>();
  const guard = SignalGuard.enter();
  let failure: unknown;
  let allowedBefore: string | undefined;
  try {
    // Every original is read, and recorded in the journal, before the first change: a probe
    // killed before its restore leaves them for the next one to put back (probe-journal.ts).
    claimJournal(host);
    let C: NetNamespace | undefined;
    try {
      allowedBefore = rels.includes(CC) ? readRel(host, ALLOWED_CC) : undefined;
      for (const rel of rels) {
        const v = readRel(host, rel);
        if (v === undefined) out.set(rel, { restored: true, outcome: 'error', error: 'unreadable' });
        else originals.set(rel, v);
      }
      const record: [string, string][] = [...originals];
      if (allowedBefore !== undefined) record.push([ALLOWED_CC, allowedBefore]);
      recordJournal(record);
      for (const [rel, v] of originals) {
        const alts = alternatives(rel, v, allowedCa);
        if (alts.length === 0) {
          out.set(rel, { restored: true, outcome: 'no-alternative' });
          continue;
        }
        const w = writeAlternative(host, rel, v, alts);
        out.set(
          rel,
          w ? { wrote: w[0], restored: false, outcome: 'inconclusive' } : { restored: false, outcome: 'not-applied' },
        );
      }
      hooks.onHostProbeApplied?.([...originals.keys()].map(keyFromRel));
      if (hooks.hostProbeHoldMs && hooks.hostProbeHoldMs > 0) Atomics.wait(sleeper, 0, 0, hooks.hostProbeHoldMs);
      C = NetNamespace.create();
      for (const [rel, p] of out) {
        if (p.outcome !== 'inconclusive') continue;
        const child = readRel(backendOf(C), rel);
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
        // An attempt that throws is retried; its error is the probe's only if no attempt
        // puts the value back (a transient failure must not keep the journal of a host that is back).
        let lastError: unknown;
        for (let attempt = 0; attempt < 3 && !ok; attempt++) {
          try {
            const now = readRel(host, rel);
            if (now === undefined || !sameValue(now, orig)) host.write(rel, orig);
            const back = readRel(host, rel);
            ok = back !== undefined && sameValue(back, orig);
          } catch (e) {
            lastError = e;
          }
        }
        if (p) p.restored = ok;
        if (!ok)
          failure ??=
            lastError ??
            netnsError(ERRNO.EIO, 'write', {
              path: `/proc/sys/net/${rel}`,
              reason: 'not-restored',
              value: orig,
            });
      }
      if (allowedBefore !== undefined && !restoreExactly(host, ALLOWED_CC, allowedBefore))
        failure ??= netnsError(ERRNO.EIO, 'write', {
          path: `/proc/sys/net/${ALLOWED_CC}`,
          reason: 'not-restored',
          value: allowedBefore,
        });
      // Kept when a value could not be put back: the next host probe tries again.
      if (failure === undefined) releaseJournal();
    }
  } finally {
    guard.leave();
  }
  if (failure) throw toNetnsError(failure);
  return out;
}
