// classify(options): one class per key, decided from three sources of evidence:
//   1. observation that changes nothing: presence, file mode and values on the host and in a
//      fresh namespace (observe.ts);
//   2. the kernel's rules (rules.ts), with function, file and versions (decide.ts);
//   3. opt-in probes (root only, probe.ts): a "parent" probe that only writes inside throwaway
//      namespaces, and a "host" probe that briefly changes a host value for keys on a short
//      list proven harmless, then restores and verifies it (also on SIGTERM/SIGINT).
import { NetNamespace } from '../namespace/handle.js';
import { ERRNO, invalid, netnsError } from '../errors.js';
import { defaultContext } from './rules.js';
import { parseKey } from '../sysctl/keys.js';
import { keyFromRel } from '../keypath.js';
import { INIT_ONLY_MARKERS, backendOf, observe, sameValue, outcomeValue, type Observation } from './observe.js';
import { awaitHostProbe, recoverJournal, type HostProbeInProgress } from './probe-journal.js';
import { HOST_PROBE_SAFE, NEVER_WRITE, hostProbe, parentProbe } from './probe.js';
import { applyProbe, decide } from './decide.js';
import { boundsOf, devicesOfKeys, type Bounds } from '../sysctl/bounds.js';
import { classifyLine } from './lines.js';
import type { Classification, ClassifyOptions, HostProbe, RuleContext } from './types.js';

function readDevconf(host: Observation): number {
  const v = outcomeValue(host.map.get('core/devconf_inherit_init_net')?.out).value;
  return v === undefined ? 0 : Number(v.trim());
}

/** Whether `rel` is one of `filters` or below one ('' is the whole tree): its path and each ancestor looked up. */
function matchesFilter(rel: string, filters: ReadonlySet<string> | undefined): boolean {
  if (!filters) return true;
  if (filters.has('') || filters.has(rel)) return true;
  for (let i = rel.lastIndexOf('/'); i > 0; i = rel.lastIndexOf('/', i - 1))
    if (filters.has(rel.slice(0, i))) return true;
  return false;
}

/**
 * Classify every key under /proc/sys/net (or those selected by `options.keys`) on the running
 * kernel: what a new network namespace gets for it, with the evidence. Root compares with a
 * fresh namespace of its own; an unprivileged caller with a rootless one (owned by its user
 * namespace: entries the kernel hides there are `hidden`). Without `probe`, changes nothing.
 * With `kernel` ("6.1"), answers for that kernel line from the rule base instead (see
 * {@link ClassifyOptions.kernel}).
 */
export function classify(options: ClassifyOptions = {}): Classification[] {
  if (options === null || typeof options !== 'object') invalid('an options object', 'options', options);
  const relOf = (k: string): string => parseKey(k, { allowRoot: true }).rel;
  const filters = options.keys === undefined ? undefined : new Set(options.keys.map(relOf));
  const probing = options.probe === true;
  if (options.kernel !== undefined) {
    if (probing)
      invalid('no probe with `kernel` (a probe runs on the running kernel)', 'probe', options.probe, RangeError);
    return classifyLine({ ...options, kernel: options.kernel }, filters && [...filters]);
  }
  if (probing && process.getuid?.() !== 0)
    throw netnsError(ERRNO.EPERM, 'probe', { op: 'probe', reason: 'needs-root' });
  const hostProbeAllowed = new Set(HOST_PROBE_SAFE);
  const hostProbeKeys = options.hostProbeKeys?.map(relOf);
  for (const k of hostProbeKeys ?? [])
    if (!hostProbeAllowed.has(k))
      invalid(
        `a key on HOST_PROBE_SAFE (${HOST_PROBE_SAFE.map(keyFromRel).join(', ')})`,
        'hostProbeKeys',
        keyFromRel(k),
        RangeError,
      );

  // 1. Observation: host, fresh namespace, host again; each bounded (the interfaces `keys`
  // names always read).
  const limits = options.limits ?? {};
  if (limits === null || typeof limits !== 'object')
    invalid('an object { maxInterfaces, maxKeys, devices }', 'options.limits', limits);
  const given = limits.devices ?? [];
  if (!Array.isArray(given)) invalid('an array of interface names', 'options.limits.devices', given);
  const bounds = boundsOf({ ...limits, devices: [...given, ...devicesOfKeys(options.keys ?? [])] }, 'options.limits');
  if (options.onTruncated !== undefined && typeof options.onTruncated !== 'function')
    invalid('a function', 'options.onTruncated', options.onTruncated);
  // A host probe that did not finish left nudged host values (put back now), or one is running
  // (EBUSY): either way the host read below would not be the host's own. Without a probe
  // nothing is put back: a running probe is waited for (a few milliseconds),
  // and what is still nudged after that is reported on its keys.
  if (probing) recoverJournal(backendOf());
  let inProgress = probing ? undefined : awaitHostProbe();
  const { host, child, unstable, childUserns } = observeHostAndFresh(bounds);
  // One that started meanwhile may have nudged what the fresh namespace copied.
  if (!probing) inProgress ??= awaitHostProbe(0);
  if (host.truncated) options.onTruncated?.({ ...host.truncated, side: 'host' });
  if (child.truncated) options.onTruncated?.({ ...child.truncated, side: 'new namespace' });
  const observerIsInitNet = INIT_ONLY_MARKERS.some((m) => host.map.has(m));
  const ctx: RuleContext = { ...defaultContext(readDevconf(host)), childUserns, ...options.context };
  const allowedCa = (outcomeValue(host.map.get('ipv4/tcp_allowed_congestion_control')?.out).value ?? 'reno')
    .trim()
    .split(/\s+/);

  const rels = [...new Set([...host.map.keys(), ...child.map.keys()])].filter((r) => matchesFilter(r, filters)).sort();

  // 2. First pass: observation + rules.
  const results = new Map<string, Classification>();
  const unsettled: string[] = [];
  for (const rel of rels) {
    const nudged = inProgress?.live === true && inProgress.values.has(rel);
    const c = decide(rel, host, child, ctx, observerIsInitNet, unstable.has(rel) || nudged, options.rules);
    if (inProgress) noteHostProbe(c, rel, inProgress);
    results.set(rel, c);
    const h = c.evidence.observed.host;
    const ch = c.evidence.observed.child;
    if (
      probing &&
      h.writable &&
      ch.writable &&
      c.evidence.observed.equal === true &&
      !unstable.has(rel) &&
      !NEVER_WRITE.some((re) => re.test(rel))
    )
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

/** Say on a key that a host probe had it changed while it was observed (HostProbeInProgress). */
function noteHostProbe(c: Classification, rel: string, p: HostProbeInProgress): void {
  const orig = p.values.get(rel);
  if (p.live && orig !== undefined)
    (c.evidence.notes ??= []).push(
      `A host probe (classify with probe, ${p.owner}) had the host value changed while it was observed (the host's own value: ${orig}): classify again when it is done.`,
    );
  else if (!p.live && orig !== undefined)
    (c.evidence.notes ??= []).push(
      `The host value was left changed by a host probe of ${p.owner} that ended before its restore (the host's own value: ${orig}); a probing classify as root puts it back.`,
    );
}

/**
 * The host, a fresh namespace, and the host again. A host value that changes meanwhile
 * (another process tuning it) would make the comparison meaningless: observe again, up to
 * three times, and report the keys that kept changing.
 */
function observeHostAndFresh(bounds: Bounds): {
  host: Observation;
  child: Observation;
  unstable: Set<string>;
  childUserns: boolean;
} {
  let host!: Observation;
  let child!: Observation;
  let unstable = new Set<string>();
  let childUserns = false;
  for (let attempt = 0; attempt < 3; attempt++) {
    const before = observe(undefined, bounds);
    const ns = NetNamespace.create();
    childUserns = ns.rootless !== undefined;
    try {
      child = observe(ns, bounds);
    } finally {
      ns.close();
    }
    host = observe(undefined, bounds);
    unstable = new Set<string>();
    for (const [rel, e] of host.map) {
      if (/nf_conntrack_count$/.test(rel)) continue; // a live counter
      const a = outcomeValue(before.map.get(rel)?.out).value;
      const b = outcomeValue(e.out).value;
      if (a !== undefined && b !== undefined && !sameValue(a, b)) unstable.add(rel);
    }
    if (unstable.size === 0) break;
  }
  return { host, child, unstable, childUserns };
}
