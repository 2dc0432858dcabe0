// One scrape: every target namespace's chosen keys read and written as metric families, with
// the expected values and a mismatch series for each expected key. The cost is in proportion
// to the keys asked for: each namespace keeps a snapshot of just its keys (one fd per key,
// netns' sysctl.snapshot(keys)) across scrapes, read with one pread per key, made when the
// namespace appears and closed when it goes; a full walk per namespace only when every key is
// asked for (--sysctl.all), and then on the addon's own thread. The event loop is given back
// every few milliseconds, so /metrics never holds up a readiness probe or another request.
// A namespace's interfaces are counted before its keys are listed or walked; over the bound
// (--sysctl.max-interfaces) only the interfaces exported are entered (interfaces.ts), and the
// namespace is reported truncated.
// For an interface's conf key whose rule netns knows (effective.ts), the value the kernel uses
// for the interface is exported beside the entry's own (`<family>_effective`): computed by
// netns' effectiveFrom() from values read together in the same scrape, its inputs (conf.all's
// entry, the interface's forwarding) held in the same snapshot or taken from the same walk,
// read but not exported unless they are chosen too.
import { NetNamespace, valuesEqual, type SysctlSnapshotHandle } from 'netns';
import { defaultContext, effectiveFrom, effectiveInputs, findRule } from 'netns/explain';
import { expectationFor, pathForm, type Expectation, type Expectations } from 'netns/sysctld';
import type { NamespaceLabels, Target, TargetSource } from './discovery.js';
import { yieldToLoop } from './discovery.js';
import { interfacesOf, keysWithin } from './interfaces.js';
import { Family, escapeLabelValue, labelPairs } from './exposition.js';
import {
  KeySelection,
  catalogueKind,
  effectiveFamily,
  familyName,
  isInteger,
  kindOfValue,
  splitKey,
  type KeyParts,
  type Kind,
} from './keys.js';

/** Give the event loop back after this many milliseconds of work in one go. */
const SLICE_MS = 4;
/** A namespace's keys are listed again this soon after it appeared (when patterns need a listing). */
const RELIST_FIRST_MS = 10_000;

/** What the exporter was built from, for netns_exporter_build_info. */
export interface BuildInfo {
  version: string;
  netnsVersion: string;
}

export interface CollectorOptions {
  source: TargetSource;
  selection?: KeySelection;
  /** Desired values (sysctl.d), for the expected and mismatch series. */
  expect?: Expectations;
  build?: BuildInfo;
  /**
   * Walks in flight at once with --sysctl.all (default 8). They run one after another on the
   * addon's one thread; those queued behind the running one keep that thread busy while
   * JavaScript renders a finished walk or collects garbage (a major GC outlasts four walks).
   * Measured over 500 namespaces x every key, the addon's thread idle during a scrape (wall
   * time minus its CPU time): 40-480 ms with 4 in flight, 4-180 ms with 8, 7-140 ms with 16.
   */
  walkConcurrency?: number;
  /**
   * With patterns (or --sysctl.device globs), list each namespace's keys again about this often
   * (ms, default 60 s): interfaces come and go. Exact keys are never listed.
   */
  relistInterval?: number;
}

/** How one key of one namespace becomes samples (kept across scrapes in keys mode). */
interface Slot {
  parts: KeyParts;
  /** Label pairs: the namespace's, then the device's. */
  labels: string;
  kind?: Kind;
  /** kind 'number': `family{labels} `. */
  prefix?: string;
  fam?: Family;
  fields?: Family[];
  /** Read only as an input of an interface's effective value: not exported (keys mode). */
  input?: boolean;
  /** Its effective value, for an interface's conf key whose rule is known; null: none (decided once). */
  eff?: Effective | null;
}

/** The value the kernel uses for one interface's conf key, computed by netns' effectiveFrom(). */
interface Effective {
  /** What it is computed from (netns' effectiveInputs), the key's own entry first. */
  inputs: KeyParts[];
  /** Keys mode: the inputs' indexes in the namespace's slots (-1: absent there). */
  at: number[];
  fam: Family;
  /** `family{labels} `: the labels of the key's own series. */
  prefix: string;
  /** The inputs of the last computation, and its sample line ('' when it gave no value). */
  last: (string | null | undefined)[] | undefined;
  line: string;
}

/** An expected key of one namespace. */
interface Expected {
  e: Expectation;
  /** Index of its key in the namespace's slots, -1 when the key is absent there. */
  slot: number;
  /** `netns_sysctl_mismatch{labels} `. */
  mismatch: string;
  /** The expected-value sample lines (numbers only), constant. */
  lines: string;
}

/** A target and what the collector keeps for it. */
interface NsState {
  target: Target;
  labels: string;
  snap?: SysctlSnapshotHandle;
  slots: Slot[];
  /** Keys mode: the effective values of its slots. */
  effs: Effective[];
  expected: Expected[];
  /** Interfaces matched by device globs and left out by the limit. */
  skipped: number;
  /** Its interfaces when they were last counted (listing and walking count them), else undefined. */
  interfaces?: number;
  /** More interfaces than the bound: listed or walked only for the interfaces exported. */
  truncated: boolean;
  /** --sysctl.all: the slots of the keys exported at the last walks, by key (their kinds and text decided once). */
  walkSlots?: Map<string, Slot>;
  /** Its keys must be chosen again (an interface went away, or its keys could not be listed). */
  stale: boolean;
  /** When its keys are listed again (listing mode: interfaces come and go; ms, Date.now()). */
  relistAt: number;
}

const NS_LABELS: (keyof NamespaceLabels)[] = [
  'netns',
  'namespace',
  'pod',
  'uid',
  'container',
  'runtime',
  'host_network',
];

/** The collector: `collect()` is one scrape's metric families as text. */
export class Collector {
  readonly #source: TargetSource;
  readonly #sel: KeySelection;
  readonly #expect: Expectations | undefined;
  readonly #build: BuildInfo | undefined;
  readonly #walks: number;
  readonly #relist: number;
  #states = new Map<string, NsState>();
  #families = new Map<string, Family>();
  /** Which family key owns a metric name (two keys that sanitize alike: the first keeps it). */
  #owner = new Map<string, string>();
  #kinds = new Map<string, Kind>();
  #ordered: Family[] | undefined;
  #running: Promise<string> | undefined;
  #closed = false;
  /** Errors of the scrape being made. */
  #errors = 0;
  #lastDuration = 0;
  /** What a new namespace gets ({@link #probeFresh}). */
  #fresh: Record<string, string> | undefined;
  readonly #ctx = defaultContext();
  readonly #perNamespace = new Map<string, boolean>();
  readonly #expectationOf = new Map<string, Expectation | null>();
  readonly #partsOf = new Map<string, KeyParts>();
  readonly #rels = new Map<string, string>();
  /** Each conf family key's effective family, null when it has none. */
  readonly #effFamilies = new Map<string, Family | null>();

  constructor(options: CollectorOptions) {
    this.#source = options.source;
    this.#sel = options.selection ?? new KeySelection();
    this.#expect = options.expect;
    this.#build = options.build;
    this.#walks = options.walkConcurrency ?? 8;
    this.#relist = options.relistInterval ?? 60_000;
  }

  /** How long the last scrape took, in seconds. */
  get lastDuration(): number {
    return this.#lastDuration;
  }

  /**
   * One scrape: the metric families of every target as text. Scrapes asked for while one runs
   * get its result (one read of the namespaces serves them all).
   */
  collect(): Promise<string> {
    if (this.#closed) return Promise.reject(new Error('the collector is closed'));
    this.#running ??= this.#collect().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Close every snapshot (and the discovery's handles). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const st of this.#states.values()) st.snap?.close();
    this.#states.clear();
    this.#source.close();
  }

  async #collect(): Promise<string> {
    const t0 = performance.now();
    this.#errors = 0;
    const targets = await this.#source.scan();
    if (targets) await this.#reconcile(targets);
    for (const f of this.#families.values()) f.body = '';
    const mismatch = this.#family('netns_sysctl_mismatch', MISMATCH_HELP);
    const expected = this.#family('netns_sysctl_expected', EXPECTED_HELP);
    if (this.#sel.all) await this.#walkAll(mismatch, expected);
    else await this.#readAll(mismatch, expected);
    if (this.#closed) throw new Error('the collector was closed during the scrape');
    const meta = this.#meta();
    this.#lastDuration = (performance.now() - t0) / 1000;
    const duration = new Family(
      'netns_scrape_duration_seconds',
      'How long this scrape of the network namespaces took (discovery, reads and formatting)',
    );
    duration.sample('', this.#lastDuration);
    let out = '';
    for (const f of this.#order()) out += f.text();
    return out + meta + duration.text();
  }

  // ---- keys mode: a snapshot of the chosen keys per namespace ----

  async #readAll(mismatch: Family, expected: Family): Promise<void> {
    let since = performance.now();
    const now = Date.now();
    const tuning = this.#family('netns_sysctl_host_tuning_missing', TUNING_HELP);
    /** The host's keys that differ from what a new namespace gets (the host's tuning), by key. */
    let tuned: Map<string, string> | undefined;
    for (const st of this.#states.values()) {
      if (st.stale || (st.relistAt < now && this.#listing())) await this.#choose(st);
      const snap = st.snap;
      if (snap === undefined) {
        this.#errors++;
        continue;
      }
      const raw = snap.readRaw();
      const slots = st.slots;
      for (let i = 0; i < raw.length; i++) {
        const v = raw[i];
        const s = slots[i]!;
        if (typeof v === 'string') {
          if (s.input !== true) this.#emit(s, v);
        } else if (v === undefined)
          st.stale = true; // its interface went away: choose again next time
        else if (s.input !== true) this.#errors++;
      }
      for (const e of st.effs) {
        // Its inputs as read now; the last ones (no new array) when none changed.
        const { at, last } = e;
        let same = last !== undefined;
        for (let i = 0; same && i < at.length; i++) same = (at[i]! < 0 ? undefined : raw[at[i]!]) === last![i];
        this.#emitEffective(e, same ? last! : at.map((j) => (j < 0 ? undefined : raw[j])));
      }
      // The targets come host first: its tuning, then each other namespace against it.
      if (st.target.labels.host_network === 'true') tuned = this.#tunedOnHost(slots, raw);
      else if (tuned !== undefined && tuned.size > 0)
        for (let i = 0; i < raw.length; i++) {
          const v = raw[i];
          const s = slots[i]!;
          if (typeof v !== 'string' || !tuned.has(s.parts.key)) continue;
          const fresh = this.#fresh![s.parts.key]!;
          const missing = v === fresh || valuesEqual(v, fresh);
          tuning.body += `netns_sysctl_host_tuning_missing{${s.labels},name="${escapeLabelValue(s.parts.key)}"} ${missing ? 1 : 0}\n`;
        }
      for (const x of st.expected) {
        const v = x.slot >= 0 ? raw[x.slot] : undefined;
        const ok = typeof v === 'string' && (v === x.e.value || valuesEqual(v, x.e.value));
        mismatch.body += ok ? `${x.mismatch}0\n` : `${x.mismatch}1\n`;
        expected.body += x.lines;
      }
      if (performance.now() - since > SLICE_MS) {
        await yieldToLoop();
        since = performance.now();
      }
    }
  }

  /** Of the host's values just read, those of keys (not per interface) a new namespace does not get. */
  #tunedOnHost(slots: Slot[], raw: (string | null | undefined)[]): Map<string, string> | undefined {
    const fresh = this.#fresh;
    if (fresh === undefined) return undefined;
    const out = new Map<string, string>();
    for (let i = 0; i < raw.length; i++) {
      const v = raw[i];
      const p = slots[i]!.parts;
      const f = fresh[p.key];
      if (typeof v === 'string' && p.device === undefined && f !== undefined && v !== f && !valuesEqual(v, f))
        out.set(p.key, v);
    }
    return out;
  }

  /**
   * What a new network namespace gets, key by key: a namespace made for the purpose and walked
   * once, whenever the targets change (an inherited key follows the host's value at creation).
   * Undefined when no namespace can be made here.
   */
  async #probeFresh(): Promise<Record<string, string> | undefined> {
    try {
      const ns = NetNamespace.create();
      try {
        return (await ns.sysctl.getAllAsync()).raw;
      } finally {
        ns.close();
      }
    } catch (e) {
      if (!isSystemError(e)) throw e;
      return undefined;
    }
  }

  /** Keep one state per target: new ones get their keys chosen, gone ones are closed. */
  async #reconcile(targets: Target[]): Promise<void> {
    if (!this.#sel.all) this.#fresh = await this.#probeFresh();
    const next = new Map<string, NsState>();
    let since = performance.now();
    for (const t of targets) {
      let st = this.#states.get(t.id);
      const labels = labelPairs(NS_LABELS.map((n) => [n, t.labels[n]] as const));
      if (st && st.target.ns === t.ns && st.labels === labels && sameSpec(st.target.spec, t.spec)) st.target = t;
      else {
        st?.snap?.close();
        st = {
          target: t,
          labels,
          slots: [],
          effs: [],
          expected: [],
          skipped: 0,
          truncated: false,
          stale: true,
          relistAt: 0,
        };
        if (!this.#sel.all) await this.#choose(st);
      }
      next.set(t.id, st);
      if (performance.now() - since > SLICE_MS) {
        await yieldToLoop();
        since = performance.now();
      }
    }
    for (const [id, st] of this.#states) if (next.get(id) !== st) st.snap?.close();
    this.#states = next;
  }

  /** Choose a namespace's keys (listing it when patterns ask for it) and open their snapshot. */
  async #choose(st: NsState): Promise<void> {
    st.stale = false;
    // Listed again later: soon after it appeared (a pod's eth0 is added by its CNI plugin
    // after the namespace exists), then about every relist interval, spread out.
    const first = st.relistAt === 0;
    st.relistAt =
      Date.now() + (first ? Math.min(RELIST_FIRST_MS, this.#relist) : this.#relist * (0.75 + Math.random() / 2));
    st.snap?.close();
    st.snap = undefined;
    const ns = st.target.ns;
    try {
      let rels: string[];
      let bounded: DeviceChoice | undefined;
      if (this.#listing()) {
        bounded = await this.#bound(st);
        rels =
          bounded === undefined
            ? (await ns.sysctl.listAsync()).map((k) => pathForm(k).slice(4))
            : keysWithin(ns, bounded.devices);
      } else rels = this.#exactRels(st);
      const { chosen, expected, skipped } = this.#chosen(st, rels, bounded);
      st.skipped = skipped;
      const byKey = new Map<string, Slot>();
      for (const p of chosen) byKey.set(p.key, this.#slot(p, st.labels));
      // The inputs of the effective values (conf.all's entry, the interface's forwarding): read
      // with the keys, exported only when chosen themselves.
      for (const s of [...byKey.values()])
        for (const q of this.#effectiveOf(s)?.inputs ?? [])
          if (!byKey.has(q.key)) byKey.set(q.key, { parts: q, labels: '', input: true });
      const snap = ns.sysctl.snapshot([...byKey.keys()].sort()); // sorted: read in place, no reordering
      st.snap = snap;
      const index = new Map(snap.keys.map((k, i) => [k, i]));
      st.slots = snap.keys.map((k) => byKey.get(k)!);
      st.effs = [];
      for (const s of st.slots)
        if (s.eff) {
          s.eff.at = s.eff.inputs.map((q) => index.get(q.key) ?? -1);
          st.effs.push(s.eff);
        }
      st.expected = expected.map((w) => this.#expectedOf(st.labels, w, index.get(w.e.key) ?? -1));
    } catch (e) {
      // The namespace went away, or is out of reach: its series are left out, and counted.
      this.#errors++;
      st.stale = true;
      st.slots = [];
      st.effs = [];
      st.expected = [];
      if (!isSystemError(e)) throw e;
    }
  }

  /**
   * Count a namespace's interfaces; over the bound, the interfaces to enter (those exported:
   * the flags' and the glob matches within the limit, and the interfaces of keys named
   * exactly), else undefined (list or walk it whole). Throws a system error when the
   * namespace cannot be entered.
   */
  async #bound(st: NsState): Promise<DeviceChoice | undefined> {
    const present = await interfacesOf(st.target.ns);
    st.interfaces = present.size;
    st.truncated = present.size > this.#sel.maxInterfaces;
    if (!st.truncated) return undefined;
    const choice = this.#sel.devicesOf(['all', 'default', ...present]);
    for (const rel of this.#exactRels(st)) {
      const d = this.#parts(rel).device;
      if (d !== undefined && present.has(d)) choice.devices.add(d);
    }
    return choice;
  }

  /** Whether a namespace must be listed to know its keys (patterns, or every key). */
  #listing(): boolean {
    return !this.#sel.exactOnly || this.#sel.deviceGlobs || (this.#expect?.globs.length ?? 0) > 0;
  }

  /** The keys named exactly by the flags, by the expectations and by the namespace's containers' specs. */
  #exactRels(st: NsState): string[] {
    const rels = new Set(this.#sel.exactRels());
    for (const form of this.#expect?.exact.keys() ?? []) rels.add(form.slice(4));
    for (const key of this.#specOf(st).keys()) rels.add(this.#relOf(key));
    return [...rels];
  }

  /**
   * What the namespace's containers' specs asked for, at most MAX_SPEC_KEYS keys (a rootless
   * runtime's state file is its user's to write); none for the host, whose hostNetwork pods
   * cannot set network keys.
   */
  #specOf(st: NsState): ReadonlyMap<string, string> {
    const spec = st.target.spec;
    if (spec === undefined || st.target.labels.host_network === 'true') return NO_SPEC;
    if (spec.size <= MAX_SPEC_KEYS) return spec;
    return new Map([...spec].slice(0, MAX_SPEC_KEYS));
  }

  /**
   * Of `rels` (present in the namespace, or named exactly), the keys exported and the
   * expectations that apply; `bounded`: the interfaces already chosen from all of them (the
   * keys were listed for those alone).
   */
  #chosen(
    st: NsState,
    rels: readonly string[],
    bounded?: DeviceChoice,
  ): { chosen: KeyParts[]; expected: Wanted[]; skipped: number } {
    const parts = rels.map((r) => this.#parts(r));
    const { devices, skipped } =
      bounded ?? this.#sel.devicesOf(new Set(parts.flatMap((p) => (p.device ? [p.device] : []))));
    const exact = new Set(this.#sel.exactRels());
    const host = st.target.labels.host_network === 'true';
    const spec = this.#specOf(st);
    const chosen: KeyParts[] = [];
    const expected: Wanted[] = [];
    const seen = new Set<string>();
    for (const p of parts) {
      if (seen.has(p.rel) || KeySelection.secret(p.rel)) continue;
      seen.add(p.rel);
      const deviceOk = p.device === undefined || devices.has(p.device) || exact.has(p.rel);
      const e = deviceOk ? this.#expectation(p.key) : undefined;
      const applies = e !== undefined && (host || this.#perNamespaceKey(p.rel));
      if (applies) expected.push({ e, source: 'file' });
      if ((deviceOk && this.#sel.selects(p)) || applies || spec.has(p.key)) chosen.push(p);
    }
    // Exact expectations of keys this namespace lacks: still expected (mismatch 1).
    for (const form of this.#expect?.exact.keys() ?? []) {
      const p = this.#parts(form.slice(4));
      if (seen.has(p.rel)) continue;
      const e = this.#expectation(p.key);
      if (e && (host || this.#perNamespaceKey(p.rel))) expected.push({ e, source: 'file' });
    }
    // The containers' own specs: each key they set, present or not (a key read for the purpose).
    for (const [key, value] of spec)
      if (!KeySelection.secret(this.#relOf(key))) expected.push({ e: { key, value, where: 'spec' }, source: 'spec' });
    return { chosen, expected, skipped };
  }

  /** A dotted key's path below /proc/sys/net (the same keys recur in every namespace). */
  #relOf(key: string): string {
    let rel = this.#rels.get(key);
    if (rel === undefined) {
      rel = pathForm(key).slice(4);
      if (this.#rels.size > 65536) this.#rels.clear();
      this.#rels.set(key, rel);
    }
    return rel;
  }

  #parts(rel: string): KeyParts {
    let p = this.#partsOf.get(rel);
    if (p === undefined) {
      p = splitKey(rel);
      if (this.#partsOf.size > 65536) this.#partsOf.clear();
      this.#partsOf.set(rel, p);
    }
    return p;
  }

  #expectation(key: string): Expectation | undefined {
    if (!this.#expect) return undefined;
    let e = this.#expectationOf.get(key);
    if (e === undefined) {
      e = expectationFor(this.#expect, key) ?? null;
      if (this.#expectationOf.size > 65536) this.#expectationOf.clear();
      this.#expectationOf.set(key, e);
    }
    return e ?? undefined;
  }

  /**
   * Whether a namespace other than the host's has its own value of the key: not for a key the
   * kernel keeps only on the host, nor one all namespaces share (netns' rule base). Expecting
   * those is about the host alone.
   */
  #perNamespaceKey(rel: string): boolean {
    let v = this.#perNamespace.get(rel);
    if (v === undefined) {
      const r = findRule(rel, this.#ctx);
      const c = r === undefined ? undefined : typeof r.class === 'function' ? r.class(this.#ctx, rel) : r.class;
      v = c !== 'host-only' && c !== 'shared';
      this.#perNamespace.set(rel, v);
    }
    return v;
  }

  #slot(parts: KeyParts, nsLabels: string): Slot {
    const labels = parts.device === undefined ? nsLabels : `${nsLabels},device="${escapeLabelValue(parts.device)}"`;
    return { parts, labels };
  }

  #expectedOf(nsLabels: string, { e, source }: Wanted, slot: number): Expected {
    const labels = `${nsLabels},name="${escapeLabelValue(e.key)}",source="${source}"`;
    const v = e.value.trim();
    let lines = '';
    if (isInteger(v)) lines = `netns_sysctl_expected{${labels}} ${v}\n`;
    else if (/^-?\d+(?:\s+-?\d+)+$/.test(v))
      v.split(/\s+/).forEach((x, i) => {
        lines += `netns_sysctl_expected{${labels},index="${i}"} ${x}\n`;
      });
    return { e, slot, mismatch: `netns_sysctl_mismatch{${labels}} `, lines };
  }

  // ---- samples ----

  /** The samples of one value. */
  #emit(s: Slot, v: string): void {
    const kind = s.kind ?? this.#decide(s, v);
    if (kind === 'number') {
      if (isInteger(v)) s.fam!.body += s.prefix! + v + '\n';
      else this.#errors++;
      return;
    }
    if (s.fam === undefined && s.fields === undefined) {
      this.#errors++; // its name is taken by another key
      return;
    }
    const fields = v.trim().split(/[ \t]+/);
    if (kind === 'text') {
      const info = s.fam!;
      const name = `,name="${escapeLabelValue(s.parts.familyKey)}"`;
      for (let i = 0; i < fields.length; i++)
        info.body += `netns_sysctl_info{${s.labels}${name},value="${escapeLabelValue(fields[i]!)}",index="${i}"} 1\n`;
      return;
    }
    if (!fields.every(isInteger)) {
      this.#errors++;
      return;
    }
    if (kind === 'fields') {
      const fams = s.fields!;
      if (fams.length !== fields.length) {
        this.#errors++;
        return;
      }
      for (let i = 0; i < fields.length; i++) fams[i]!.body += `${fams[i]!.name}{${s.labels}} ${fields[i]}\n`;
      return;
    }
    for (let i = 0; i < fields.length; i++) s.fam!.body += `${s.fam!.name}{${s.labels},index="${i}"} ${fields[i]}\n`;
  }

  /**
   * A slot's effective value: for an interface's conf key (not all's or default's) whose rule
   * netns knows on the running kernel, with the inputs the rule reads (secrets never). Decided
   * once per slot.
   */
  #effectiveOf(s: Slot): Effective | null {
    if (s.eff !== undefined) return s.eff;
    const p = s.parts;
    let fam: Family | null = null;
    if (this.#sel.effective && p.device !== undefined && p.device !== 'all' && p.device !== 'default' && !s.input) {
      fam = this.#effFamilies.get(p.familyKey) ?? null;
      if (!this.#effFamilies.has(p.familyKey)) {
        const f = effectiveFamily(p.familyKey);
        // Its name taken by another key's family (no kernel has such a key): none.
        fam =
          f !== undefined && this.#claim(f.name, `${p.familyKey} (effective)`) ? this.#family(f.name, f.help) : null;
        this.#effFamilies.set(p.familyKey, fam);
      }
    }
    s.eff =
      fam === null
        ? null
        : {
            inputs: effectiveInputs(p.key)
              .filter((r) => !KeySelection.secret(r))
              .map((r) => this.#parts(r)),
            at: [],
            fam,
            prefix: `${fam.name}{${s.labels}} `,
            last: undefined,
            line: '',
          };
    return s.eff;
  }

  /**
   * The effective value's sample from its inputs as read in this scrape (`vals`, in the order
   * of its inputs): netns' effectiveFrom(), computed again only when an input changed. No
   * sample when its own entry is gone or unreadable (counted there); an error when an input
   * it needs could not be read.
   */
  #emitEffective(e: Effective, vals: (string | null | undefined)[]): void {
    if (typeof vals[0] !== 'string') return;
    const last = e.last;
    if (vals !== last && (last === undefined || vals.some((v, i) => v !== last[i]))) {
      const keys = e.inputs.map((q) => q.key);
      const v = effectiveFrom(keys[0]!, (k) => vals[keys.indexOf(k)]).effective;
      e.last = vals;
      e.line = v !== null && isInteger(v) ? `${e.prefix}${v}\n` : '';
    }
    if (e.line === '') this.#errors++;
    else e.fam.body += e.line;
  }

  /** A slot's kind (its family key's, decided at first sight) and its families. */
  #decide(s: Slot, v: string): Kind {
    const fk = s.parts.familyKey;
    const names = this.#sel.fieldsOf(fk);
    let kind = this.#kinds.get(fk);
    if (kind === undefined) {
      kind = catalogueKind(fk, names) ?? kindOfValue(v, names);
      if (kind === 'fields' && names && names.length !== v.trim().split(/[ \t]+/).length) kind = 'vector';
      this.#kinds.set(fk, kind);
    }
    s.kind = kind;
    const name = familyName(fk);
    const help = `sysctl ${s.parts.device === undefined ? fk : `${fk} (per interface: the interface in the device label)`}, in each network namespace`;
    if (kind === 'text') s.fam = this.#family('netns_sysctl_info', INFO_HELP);
    else if (kind === 'fields')
      s.fields = names!.every((f) => this.#claim(`${name}_${f}`, fk))
        ? names!.map((f, i) => this.#family(`${name}_${f}`, `${help}, field ${i} (${f})`))
        : undefined;
    else if (this.#claim(name, fk)) {
      s.fam = this.#family(name, help);
      if (kind === 'number') s.prefix = `${name}{${s.labels}} `;
    }
    if (kind === 'number' && s.prefix === undefined) s.kind = 'vector'; // name taken: counted as an error in #emit
    return s.kind;
  }

  #claim(name: string, familyKey: string): boolean {
    const owner = this.#owner.get(name);
    if (owner === undefined) this.#owner.set(name, familyKey);
    return owner === undefined || owner === familyKey;
  }

  #family(name: string, help: string): Family {
    let f = this.#families.get(name);
    if (f === undefined) {
      f = new Family(name, help);
      this.#families.set(name, f);
      this.#ordered = undefined;
    }
    return f;
  }

  #order(): Family[] {
    return (this.#ordered ??= [...this.#families.values()].sort((a, b) => (a.name < b.name ? -1 : 1)));
  }

  // ---- --sysctl.all: a walk of each namespace, on the addon's thread ----

  async #walkAll(mismatch: Family, expected: Family): Promise<void> {
    const states = [...this.#states.values()];
    let next = 0;
    // Walks finish in batches (one completion call for all that were queued together), and
    // each is rendered as its Promise settles: without a check, the workers would render a
    // whole batch in one turn of the event loop. Each looks at the clock before it renders
    // (the others having rendered meanwhile) and, once SLICE_MS are used up, waits for the
    // next turn, which all the waiting ones share: it starts a new slice.
    let since = performance.now();
    let turn: Promise<void> | undefined; // the one the workers waiting for the loop share
    const nextTurn = (): Promise<void> =>
      (turn ??= yieldToLoop().then(() => {
        turn = undefined;
        since = performance.now();
      }));
    const worker = async (): Promise<void> => {
      while (next < states.length && !this.#closed) {
        const st = states[next++]!;
        let raw: Record<string, string>;
        let bounded: DeviceChoice | undefined;
        try {
          bounded = await this.#bound(st);
          raw = bounded === undefined ? (await st.target.ns.sysctl.getAllAsync()).raw : this.#readBounded(st, bounded);
        } catch (e) {
          if (!isSystemError(e)) throw e;
          this.#errors++;
          continue;
        }
        while (performance.now() - since > SLICE_MS) await nextTurn();
        this.#renderWalk(st, raw, mismatch, expected, bounded);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.#walks) }, worker));
  }

  /**
   * A namespace over the bound, in place of its walk: the keys outside the interfaces and
   * those of the interfaces exported, opened, read once and closed (secrets never opened).
   */
  #readBounded(st: NsState, bounded: DeviceChoice): Record<string, string> {
    const ns = st.target.ns;
    const keys = keysWithin(ns, bounded.devices)
      .filter((rel) => !KeySelection.secret(rel))
      .map((rel) => this.#parts(rel).key);
    const snap = ns.sysctl.snapshot(keys.sort());
    try {
      return snap.current.raw;
    } finally {
      snap.close();
    }
  }

  /**
   * One namespace's walk as samples. The keys are chosen at each walk (they may change); a
   * key's slot is kept from one walk to the next.
   */
  #renderWalk(
    st: NsState,
    raw: Record<string, string>,
    mismatch: Family,
    expected: Family,
    bounded?: DeviceChoice,
  ): void {
    const rels: string[] = [];
    for (const key in raw) rels.push(this.#relOf(key));
    const { chosen, expected: exp, skipped } = this.#chosen(st, rels, bounded);
    st.skipped = skipped;
    let slots = st.walkSlots;
    if (slots === undefined || slots.size > 2 * chosen.length + 64) slots = st.walkSlots = new Map(); // keys gone: start again
    for (const p of chosen) {
      let slot = slots.get(p.key);
      if (slot === undefined) slots.set(p.key, (slot = this.#slot(p, st.labels)));
      this.#emit(slot, raw[p.key]!);
      const e = this.#effectiveOf(slot);
      if (e)
        this.#emitEffective(
          e,
          e.inputs.map((q) => raw[q.key]),
        );
    }
    for (const w of exp) {
      const e = w.e;
      const x = this.#expectedOf(st.labels, w, 0);
      const v = raw[e.key];
      const ok = v !== undefined && (v === e.value || valuesEqual(v, e.value));
      mismatch.body += ok ? `${x.mismatch}0\n` : `${x.mismatch}1\n`;
      expected.body += x.lines;
    }
  }

  // ---- about the exporter and the scrape ----

  #meta(): string {
    const fams: Family[] = [];
    if (this.#build) {
      const b = new Family(
        'netns_exporter_build_info',
        'The version of netns-exporter, of the netns library it runs on, and of Node.js (always 1)',
      );
      b.sample(
        labelPairs([
          ['version', this.#build.version],
          ['netns_version', this.#build.netnsVersion],
          ['nodejs_version', process.version],
        ]),
        1,
      );
      fams.push(b);
    }
    const info = new Family(
      'netns_container_info',
      'A running container and the network namespace it is in (always 1); host_network="true": it shares the host\'s',
    );
    const interfaces = new Family(
      'netns_interfaces',
      'Interfaces in the network namespace (lo included; all and default not), counted when its keys were last listed or walked',
    );
    const truncated = new Family(
      'netns_sysctl_truncated',
      'Whether the namespace had more interfaces than --sysctl.max-interfaces when its keys were last listed or walked (1): then no key of an interface that is not exported was read; 0 otherwise',
    );
    let skipped = 0;
    for (const st of this.#states.values()) {
      skipped += st.skipped;
      if (st.interfaces !== undefined) {
        interfaces.sample(st.labels, st.interfaces);
        truncated.sample(st.labels, st.truncated ? 1 : 0);
      }
      for (const m of st.target.members)
        info.sample(
          labelPairs([
            ['netns', st.target.labels.netns],
            ['namespace', m.namespace],
            ['pod', m.pod],
            ['uid', m.uid],
            ['container', m.name],
            ['container_id', m.id],
            ['runtime', m.runtime],
            ['host_network', st.target.labels.host_network],
          ]),
          1,
        );
    }
    fams.push(info, interfaces, truncated);
    const n = new Family(
      'netns_namespaces',
      'Network namespaces exported (the host and one per pod or container namespace)',
    );
    n.sample('', this.#states.size);
    fams.push(n);
    const d = new Family(
      'netns_sysctl_devices_skipped',
      'Interfaces that a --sysctl.device glob matched but --sysctl.device-limit left out, over all namespaces',
    );
    d.sample('', skipped);
    fams.push(d);
    const e = new Family(
      'netns_scrape_errors',
      'Values, namespaces and containers that could not be read in this scrape (0 when all were)',
    );
    e.sample('', this.#errors + this.#source.errors);
    fams.push(e);
    return fams.map((f) => f.text()).join('');
  }
}

/** An expectation and where it comes from: the --sysctl.expect files, or the containers' specs. */
type Wanted = { e: Expectation; source: 'file' | 'spec' };

/** At most this many keys of a namespace's containers' specs are expected (the rest are not). */
const MAX_SPEC_KEYS = 256;
const NO_SPEC: ReadonlyMap<string, string> = new Map();

/** The interfaces whose keys are exported from a namespace, and the glob matches left out. */
type DeviceChoice = { devices: Set<string>; skipped: number };

const MISMATCH_HELP =
  'Whether the key differs from its expected value in this namespace (1) or not (0); one series per expected key, always present';
const EXPECTED_HELP =
  'The expected value of the key (--sysctl.expect, sysctl.d syntax), for keys whose value is numbers';
const TUNING_HELP =
  "For a key tuned on the host (the host's value differs from what a new network namespace gets): 1 when this namespace has what a new one gets, not the host's value (the lesson: tuning the host does not reach pods); 0 when it has another value. Only keys tuned on the host; not with --sysctl.all";
const INFO_HELP = 'sysctl keys whose value is text: each field of the value (by index) in the value label (always 1)';

/** Whether two targets' specs ask for the same keys and values (else the keys are chosen again). */
function sameSpec(a: ReadonlyMap<string, string> | undefined, b: ReadonlyMap<string, string> | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

function isSystemError(e: unknown): boolean {
  return e instanceof Error && typeof (e as { code?: unknown }).code === 'string';
}
