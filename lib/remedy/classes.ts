// Which keys a policy may set per namespace: the library's classification (classify(), the
// same evidence `netns explain` gives), asked once per key and kept. Host-only, shared and
// read-only keys are refused with the reason: writing a shared key in a container changes it
// for the host and every container. An interface's entry is per-namespace by nature (the
// interface belongs to one namespace): it is judged by its family's `default` entry, since a
// container's eth0 and the host's eth0 are different entries with the same name.
import { NetnsError } from '../errors.js';
import { deviceOf, withDevice } from '../keypath.js';
import { classify } from '../explain/classify.js';
import { remedyCommand, settablePerNamespace } from '../explain/remedies.js';
import { defaultContext, findRule, ruleEvidence } from '../explain/rules.js';
import type { SysctlClass } from '../explain/types.js';
import { parseKey } from '../sysctl/keys.js';

/** What a policy may do with one key. */
export interface KeyVerdict {
  class: SysctlClass;
  /** It can be given a value of its own in a namespace other than the host's. */
  settable: boolean;
  /** Why not (the kernel rule's explanation, or what was observed), when it is not. */
  reason?: string;
  /** What to do instead, when it is not. */
  remedy?: string;
}

/** Key classifications for policies, each key classified once (one classify() call per batch of new keys). */
export class KeyClasses {
  readonly #cache = new Map<string, KeyVerdict>();
  readonly #enabled: boolean;

  /** `enabled` false: nothing is classified and nothing refused (every key 'unknown', settable). */
  constructor(enabled = true) {
    this.#enabled = enabled;
  }

  /** The verdicts of `keys` (dot form), classifying those not seen before. */
  of(keys: Iterable<string>): Map<string, KeyVerdict> {
    const probeOf = new Map<string, string>();
    for (const k of keys) {
      const dev = deviceOf(k);
      probeOf.set(k, dev === undefined ? k : parseKey(withDevice(k, dev, 'default')).key);
    }
    const missing = [...new Set(probeOf.values())].filter((p) => !this.#cache.has(p));
    if (missing.length > 0) this.#classify(missing);
    return new Map([...probeOf].map(([k, p]) => [k, this.#cache.get(p)!]));
  }

  #classify(keys: string[]): void {
    const unknown: KeyVerdict = { class: 'unknown', settable: true };
    if (!this.#enabled) {
      for (const k of keys) this.#cache.set(k, unknown);
      return;
    }
    let found: Map<string, KeyVerdict>;
    try {
      found = new Map(
        classify({ keys }).map((c) => {
          const child = c.evidence.observed.child;
          const readOnly = child.present && child.writable === false;
          const settable = settablePerNamespace(c.class) && !readOnly;
          const v: KeyVerdict = { class: c.class, settable };
          if (!settable) {
            v.reason = readOnly
              ? `read-only in a network namespace other than the host's${c.evidence.rule ? `: ${c.evidence.rule.explanation}` : ''}`
              : (c.evidence.rule?.explanation ?? c.evidence.reason);
            v.remedy = remedyCommand({ class: c.class, key: c.key, value: 'VALUE', target: [], writable: !readOnly });
          }
          return [c.key, v];
        }),
      );
    } catch (e) {
      if (!(e instanceof NetnsError)) throw e;
      found = this.#byRules(keys); // no permission to create a namespace: the rules alone
    }
    for (const k of keys) this.#cache.set(k, found.get(k) ?? unknown);
  }

  /** Verdicts from the kernel rules alone (verified rules only), when observation is not possible. */
  #byRules(keys: string[]): Map<string, KeyVerdict> {
    const ctx = defaultContext();
    const out = new Map<string, KeyVerdict>();
    for (const k of keys) {
      const rel = parseKey(k).rel;
      const rule = findRule(rel, ctx);
      if (!rule?.verified) continue;
      const ev = ruleEvidence(rule, rel, ctx);
      const settable = settablePerNamespace(ev.class);
      out.set(
        k,
        settable
          ? { class: ev.class, settable }
          : {
              class: ev.class,
              settable,
              reason: ev.explanation,
              remedy: remedyCommand({ class: ev.class, key: k, value: 'VALUE', target: [] }),
            },
      );
    }
    return out;
  }
}
