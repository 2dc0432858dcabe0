// Where a value in a namespace comes from: the container's spec, the host at creation, the
// kernel's default for a new namespace, or a change since the start. A pure decision on what
// was read (the namespace's value and mode, the host's value now, a fresh namespace's value now,
// the key's class, the spec); explain(ns) and the audit gather those facts.
//
// What can be told apart, and what cannot: no record of the host's past values exists. A value
// copied from the host at creation that differs from the host's value now is either a host
// change since the start or a change inside; only a key read-only in the namespace (nothing
// inside can have written it) settles that. A key reset to the kernel's default in every new
// namespace that holds another value was changed since the start, whoever did it.
import { printable } from '../printable.js';
import { valuesEqual } from '../sysctl/values.js';
import type { Provenance, ProvenanceKind, SpecSetting, SysctlClass } from './types.js';

/** What {@link provenanceOf} decides from. */
export interface ProvenanceFacts {
  key: string;
  /** The namespace's value; null when absent or unreadable. */
  value: string | null;
  /** The entry exists in the namespace. */
  present: boolean;
  /** errno code when present but unreadable. */
  error?: string | undefined;
  /** The entry is writable in the namespace (undefined: not known). */
  writable?: boolean | undefined;
  /** The key's class. */
  class: SysctlClass;
  /** The host's value now. */
  host: string | null;
  /** What a namespace created now gets (null: no such entry in a new namespace, or not known). */
  fresh: string | null;
  /** For a copy from another key (`ip_forward` from `conf.all.forwarding`, `tcp_ehash_entries` from the creator's `tcp_child_ehash_entries`): that key. */
  sourceKey?: string | undefined;
  /** What the container's spec asked for, if it set the key. */
  spec?: SpecSetting | undefined;
  /**
   * For an entry of one of the namespace's own interfaces (absent from a new namespace): the
   * key it was copied from when the interface was created or moved in, and its value now; or,
   * with `rule`, what the kernel sets it from instead (the interface itself: an ipv6 MTU).
   */
  interfaceSource?: { key: string; value: string | null } | { rule: string } | undefined;
  /** When the container (the namespace) started, RFC 3339, if known. */
  started?: string | undefined;
}

const same = (a: string | null | undefined, b: string | null | undefined): boolean =>
  a !== null && a !== undefined && b !== null && b !== undefined && valuesEqual(a, b);

// The texts are for a person: every key, value, container id and file as printable() shows it.
const show = (v: string | null): string => (v === null ? '(none)' : `"${printable(v.replace(/\s+/g, ' ').trim())}"`);

/** Where the value of one key in a namespace comes from. */
export function provenanceOf(f: ProvenanceFacts): Provenance {
  const since = f.started !== undefined ? ` the container started at ${printable(f.started)}` : ' the start';
  const key = printable(f.key);
  const out = (kind: ProvenanceKind, why: string, alternatives?: ProvenanceKind[]): Provenance => {
    const p: Provenance = { kind, why };
    if (alternatives?.length) p.alternatives = alternatives;
    if (f.spec) p.spec = f.spec;
    return p;
  };
  if (!f.present) return out('absent', `${key} does not exist in this namespace`);
  if (f.value === null) return out('unknown', `${key} cannot be read in this namespace (${f.error ?? 'unreadable'})`);
  const v = f.value;

  // 1. The spec asked for a value at start (the runtime wrote it before the container's process ran).
  if (f.spec) {
    if (same(v, f.spec.value))
      return out(
        'spec',
        `set at start by the spec of container ${printable(f.spec.container)} (${printable(f.spec.file)}) to ${show(f.spec.value)}`,
      );
    return out(
      'changed',
      `the spec of container ${printable(f.spec.container)} set ${show(f.spec.value)} at start, and it is ${show(v)} now: changed since${since}`,
    );
  }
  const readOnly = f.writable === false;

  // 2. One kernel-wide value.
  if (f.class === 'shared' || f.class === 'readonly')
    return out(
      'global',
      `one kernel-wide value (${f.class}): the host's${same(v, f.host) ? '' : ` (the host shows ${show(f.host)} now)`}`,
    );

  // 3. An entry of the namespace's own interface, which a new namespace does not have.
  if (f.interfaceSource !== undefined) {
    const src = f.interfaceSource;
    if ('rule' in src) return out('interface', `set by the kernel from the interface itself: ${src.rule}`);
    const p = same(v, src.value)
      ? out(
          'interface',
          `equal to ${printable(src.key)} (${show(src.value)}), which the interface took when it was created or moved into this namespace`,
        )
      : out(
          'changed',
          `differs from ${printable(src.key)} (${show(src.value)}), which the interface took when it was created or moved in: set on the interface since (or ${printable(src.key)} changed after the interface was created)`,
        );
    p.from = src;
    return p;
  }

  const fresh = f.fresh;
  const src = f.sourceKey !== undefined ? `the host's ${printable(f.sourceKey)}` : "the host's value";
  switch (f.class) {
    case 'inherited':
      if (same(v, fresh))
        return out('inherited', `copied from the host when the namespace was created; equal to ${src} now`);
      if (readOnly)
        return out(
          'host-changed',
          `copied from the host when the namespace was created, and read-only here (nothing inside changed it): the host changed since${since}; it had ${show(v)} then, ${src} is ${show(fresh)} now`,
        );
      return out(
        'host-changed',
        `copied from the host when the namespace was created, but ${src} is ${show(fresh)} now: the host may have changed since${since} (it then had ${show(v)}), or it was changed inside since; no record of the host's past values tells which`,
        ['changed'],
      );
    case 'parent':
      if (same(v, fresh))
        return out(
          'parent',
          `taken from the namespace that created it${f.sourceKey !== undefined ? ` (its ${printable(f.sourceKey)})` : ''} when it was created, as a namespace created now gets it`,
        );
      if (readOnly)
        return out(
          'host-changed',
          `taken from the creating namespace${f.sourceKey !== undefined ? `'s ${printable(f.sourceKey)}` : ''} at creation and read-only here: the creating namespace changed since${since} (a namespace created now gets ${show(fresh)})`,
        );
      return out(
        'host-changed',
        `taken from the creating namespace at creation, but a namespace created now gets ${show(fresh)}: the creating namespace may have changed since${since}, or it was changed inside since`,
        ['changed'],
      );
    case 'default':
    case 'child-only':
      if (same(v, fresh))
        return out(
          'default',
          `the kernel's value for a new namespace${fresh !== null && f.host !== null && !same(fresh, f.host) ? `; the host's ${show(f.host)} does not reach it` : ''}`,
        );
      if (readOnly)
        return out(
          'default',
          `read-only in the namespace: kept by the kernel (a new namespace starts at ${show(fresh)}; nothing inside set it)`,
        );
      return out(
        'changed',
        `neither the kernel's value for a new namespace (${show(fresh)}) nor set by a spec: changed since${since}${same(v, f.host) ? "; it equals the host's value, which a new namespace does not copy" : ''}`,
      );
    default:
      // 'unknown' (or 'host-only' seen in a namespace that is not a new one): the value alone.
      if (fresh === null) return out('unknown', `what a new namespace gets for ${key} is not known here`);
      if (same(v, fresh) && same(v, f.host))
        return out(
          'unknown',
          "equal to the host's value and to a new namespace's: whether a new namespace copies it from the host is not settled on this kernel",
        );
      if (same(v, fresh)) return out('default', "what a new namespace gets (not the host's value)");
      return out(
        'changed',
        `differs from what a new namespace gets (${show(fresh)}): changed since${since}, or copied from a host value that changed since (the class is not settled)`,
        ['host-changed'],
      );
  }
}
