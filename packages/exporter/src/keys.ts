// Which keys are exported, and how each becomes metric families, after node_exporter's sysctl
// collector (collector/sysctl_linux.go): one family per key, named from the key
// (`netns_sysctl_net_ipv4_tcp_keepalive_time`); a key of several numbers gets an `index` label,
// or one family per field when names are given (`net.ipv4.tcp_rmem:min,default,max`, as
// node_exporter's --collector.sysctl.include takes them); a key whose value is text becomes
// series of `netns_sysctl_info` with `name`, `value` and `index` labels. Per-interface keys
// carry the interface in a `device` label, not in the name, and only for the interfaces the
// operator named (exactly, or by a glob with a limit): a tenant's interfaces never add series
// of their own.
import { shapeOf } from 'netns';
import { combineText, effectiveRule } from 'netns/explain';
import { globRegExp, isGlob, keyFromRel, pathForm } from 'netns/sysctld';
import { metricName } from './exposition.js';

/** The keys exported when no --sysctl.include is given: what people tune per pod. */
export const DEFAULT_INCLUDE: readonly string[] = [
  'net.core.somaxconn',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.tcp_tw_reuse',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
  'net.ipv4.tcp_congestion_control',
  'net.ipv4.ip_forward',
  'net.ipv4.conf.*.rp_filter',
];

/** The interfaces whose per-interface keys are exported by default: `all`, `default` and a pod's own interface. */
export const DEFAULT_DEVICES: readonly string[] = ['all', 'default', 'eth0'];

/** At most this many interfaces per namespace (after the exact names) when a device glob matches more. */
export const DEFAULT_DEVICE_LIMIT = 8;

/**
 * A namespace with more interfaces than this is listed bounded: only the keys outside the
 * interfaces and those of the interfaces exported, and reported as truncated. No real pod has
 * that many; a tenant that makes thousands of bridges does.
 */
export const DEFAULT_MAX_INTERFACES = 256;

/** Field names of vector keys, as node_exporter's `KEY:name,name` gives them (a flag's own names win). */
export const DEFAULT_FIELD_NAMES: Readonly<Record<string, readonly string[]>> = {
  'net.ipv4.tcp_rmem': ['min', 'default', 'max'],
  'net.ipv4.tcp_wmem': ['min', 'default', 'max'],
  'net.ipv4.tcp_mem': ['min', 'pressure', 'max'],
  'net.ipv4.udp_mem': ['min', 'pressure', 'max'],
  'net.ipv4.ip_local_port_range': ['min', 'max'],
  'net.ipv4.ping_group_range': ['min', 'max'],
};

/**
 * Keys that hold secrets: never exported, whatever the patterns say (a TCP Fast Open key, an
 * IPv6 stable-privacy address secret).
 */
const SECRETS = [/^net\/ipv4\/tcp_fastopen_key$/, /^net\/ipv6\/conf\/[^/]+\/stable_secret$/];

/** A key split at its interface: `net.ipv4.conf.eth0.rp_filter` is family key `net.ipv4.conf.rp_filter`, device `eth0`. */
export interface KeyParts {
  /** The path below /proc/sys/net (`ipv4/conf/eth0/rp_filter`). */
  rel: string;
  /** The dotted key (`net.ipv4.conf.eth0.rp_filter`). */
  key: string;
  /** The key without its interface, which names the family (`net.ipv4.conf.rp_filter`). */
  familyKey: string;
  /** The interface (`all` and `default` included), for a per-interface key. */
  device?: string;
}

/** A lone surrogate: the library's name for bytes that are not UTF-8 (fsdecode). */
const LONE_SURROGATE = /\p{Cs}/u;

const PER_DEVICE = /^(ipv4|ipv6|mpls)\/(conf|neigh)\/([^/]+)\/(.+)$/;

/** `rel` (below /proc/sys/net) split at its interface. */
export function splitKey(rel: string): KeyParts {
  const key = keyFromRel(rel);
  const m = PER_DEVICE.exec(rel);
  if (!m) return { rel, key, familyKey: key };
  return { rel, key, familyKey: `net.${m[1]}.${m[2]}.${m[4]!.replaceAll('/', '.')}`, device: m[3]! };
}

/** The family a key is exported as: `netns_sysctl_` and the key, every other character an underscore. */
export function familyName(familyKey: string): string {
  return `netns_sysctl_${metricName(familyKey.startsWith('net.') ? familyKey : `net.${familyKey}`)}`;
}

/**
 * The family of what the kernel uses for an interface, for a conf entry's family key
 * (`net.ipv4.conf.rp_filter` -> `netns_sysctl_net_ipv4_conf_rp_filter_effective`), with a HELP
 * that names the rule (netns' effective-value rules, for the running kernel's line); undefined
 * when no rule is known there, or nothing in the kernel reads the entry. The series have the
 * labels of the key's own, for each exported interface (never `all` or `default`, which no
 * interface uses as they are).
 */
export function effectiveFamily(familyKey: string): { name: string; help: string } | undefined {
  const m = /^net\.(ipv4|ipv6)\.conf\.([^.]+)$/.exec(familyKey);
  if (!m) return undefined;
  const ev = effectiveRule(`net.${m[1]}.conf.all.${m[2]}`);
  // device-else-default is stable_secret's (a secret, never exported).
  if (ev === undefined || ev.combine === 'unused' || ev.combine === 'device-else-default') return undefined;
  return {
    name: `${familyName(familyKey)}_effective`,
    help: `sysctl ${familyKey} as the kernel uses it for the interface in the device label (DEV), not the entry's own value; how conf.all's entry (all) takes part: ${combineText(ev.combine)} (${ev.reads}; netns' rule of the Linux ${ev.kernel.line} source); computed from values read together in this scrape; no series for all and default`,
  };
}

/** One `--sysctl.include` entry: a key or a glob in sysctl.d syntax, and field names for a vector key. */
interface Include {
  /** The key in path form (`net/ipv4/tcp_rmem`). */
  form: string;
  re: RegExp;
  glob: boolean;
  fields?: string[];
}

/** How the exported keys are chosen: the flags, compiled. */
export interface SelectionOptions {
  /** Keys or globs (sysctl.d syntax), each optionally followed by `:name,name` for a vector's fields. */
  include?: readonly string[];
  /** Keys or globs left out. */
  exclude?: readonly string[];
  /** Interface names or globs whose per-interface keys are exported. */
  devices?: readonly string[];
  /** At most this many interfaces matched by globs per namespace. */
  deviceLimit?: number;
  /** Every key of every namespace: a full walk per namespace per scrape. */
  all?: boolean;
  /** A namespace with more interfaces is listed bounded (only the interfaces exported) and reported truncated. */
  maxInterfaces?: number;
  /** The effective value of each exported interface's conf key beside its own (default true). */
  effective?: boolean;
}

/** A glob over dotted keys or interface names, or an exact name. */
function matcher(pattern: string): { re: RegExp; glob: boolean } {
  const glob = isGlob(pattern);
  return { re: glob ? globRegExp(pattern) : new RegExp(`^${pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`), glob };
}

/** The compiled selection: which keys and interfaces, and how vector keys are named. */
export class KeySelection {
  readonly all: boolean;
  /** Whether interfaces' conf keys get their effective value too. */
  readonly effective: boolean;
  readonly deviceLimit: number;
  readonly maxInterfaces: number;
  readonly #includes: Include[];
  readonly #excludes: RegExp[];
  readonly #deviceNames: string[];
  readonly #deviceGlobs: RegExp[];
  readonly #fields = new Map<string, readonly string[]>();

  constructor(options: SelectionOptions = {}) {
    this.all = options.all === true;
    this.effective = options.effective !== false;
    this.deviceLimit = options.deviceLimit ?? DEFAULT_DEVICE_LIMIT;
    if (!Number.isInteger(this.deviceLimit) || this.deviceLimit < 0)
      throw new RangeError(`Expected a whole number >= 0 for the device limit but received ${this.deviceLimit}`);
    this.maxInterfaces = options.maxInterfaces ?? DEFAULT_MAX_INTERFACES;
    if (!Number.isInteger(this.maxInterfaces) || this.maxInterfaces < 0)
      throw new RangeError(`Expected a whole number >= 0 for the interface bound but received ${this.maxInterfaces}`);
    for (const [k, v] of Object.entries(DEFAULT_FIELD_NAMES)) this.#fields.set(k, v);
    this.#includes = (options.include ?? DEFAULT_INCLUDE).map((entry) => {
      const colon = entry.indexOf(':');
      const key = (colon < 0 ? entry : entry.slice(0, colon)).trim();
      const form = checkedForm(key, '--sysctl.include');
      const fields = colon < 0 ? undefined : entry.slice(colon + 1).split(',');
      if (fields?.some((f) => !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(f)))
        throw new RangeError(
          `Expected field names ([a-zA-Z_][a-zA-Z0-9_]*, comma-separated) after ':' in --sysctl.include but received ${entry}`,
        );
      if (fields) this.#fields.set(keyFromRel(form.slice(4)), fields);
      return { form, ...matcher(form), ...(fields ? { fields } : {}) };
    });
    this.#excludes = (options.exclude ?? []).map((p) => matcher(checkedForm(p, '--sysctl.exclude')).re);
    const devices = options.devices ?? DEFAULT_DEVICES;
    for (const d of devices)
      if (d === '' || /[/\s:\0]/.test(d))
        throw new RangeError(
          `Expected an interface name or glob for --sysctl.device but received ${JSON.stringify(d)}`,
        );
    this.#deviceNames = devices.filter((d) => !isGlob(d));
    this.#deviceGlobs = devices.filter((d) => isGlob(d)).map((d) => globRegExp(d));
  }

  /** Whether the keys can be known without listing a namespace: every include and expectation names one key. */
  get exactOnly(): boolean {
    return !this.all && this.#includes.every((i) => !i.glob);
  }

  /** The keys named exactly (path form below /proc/sys/net), for namespaces that are not listed. */
  exactRels(): string[] {
    return this.#includes.filter((i) => !i.glob).map((i) => i.form.slice(4));
  }

  /** Whether device globs were given (a namespace's interfaces must be listed to apply them). */
  get deviceGlobs(): boolean {
    return this.#deviceGlobs.length > 0;
  }

  /** Whether the key `parts` is exported (interfaces aside: see {@link devicesOf}). */
  selects(parts: KeyParts): boolean {
    const form = `net/${parts.rel}`;
    if (SECRETS.some((re) => re.test(form))) return false;
    if (this.#excludes.some((re) => re.test(form))) return false;
    return this.all || this.#includes.some((i) => i.re.test(form));
  }

  /** Whether a key is a secret, never read for export. */
  static secret(rel: string): boolean {
    return SECRETS.some((re) => re.test(`net/${rel}`));
  }

  /**
   * The interfaces of a namespace whose keys are exported: those named exactly, then those a
   * glob matches, in name order, at most `deviceLimit` of them. `skipped` counts the glob
   * matches left out by the limit, and those whose name is not UTF-8 (a label value must be,
   * and an exact one could not be written: the name's bytes are shown by no series).
   */
  devicesOf(present: Iterable<string>): { devices: Set<string>; skipped: number } {
    const devices = new Set<string>();
    const matched: string[] = [];
    let raw = 0;
    for (const d of present) {
      if (this.#deviceNames.includes(d)) devices.add(d);
      else if (this.#deviceGlobs.some((re) => re.test(d))) {
        if (LONE_SURROGATE.test(d)) raw++;
        else matched.push(d);
      }
    }
    matched.sort();
    const kept = matched.slice(0, this.deviceLimit);
    for (const d of kept) devices.add(d);
    return { devices, skipped: matched.length - kept.length + raw };
  }

  /** Field names for a vector key's family key, if any. */
  fieldsOf(familyKey: string): readonly string[] | undefined {
    return this.#fields.get(familyKey);
  }
}

/** A key or glob as a path-form key under net/, or a RangeError naming the flag. */
function checkedForm(key: string, flag: string): string {
  const form = pathForm(key);
  if (!(form === 'net' || form.startsWith('net/')) || form.split('/').some((c) => c === '' || c === '..' || c === '.'))
    throw new RangeError(
      `Expected a net.* key or glob for ${flag} (e.g. net.ipv4.tcp_keepalive_time, 'net.ipv4.tcp_*') but received ${key}`,
    );
  return form;
}

/** How a key's value becomes samples: decided once per family key, from the catalogue or the first value seen. */
export type Kind = 'number' | 'vector' | 'fields' | 'text';

/** The kind of `familyKey` from the library's catalogue of typed keys, if it is there. */
export function catalogueKind(key: string, fields: readonly string[] | undefined): Kind | undefined {
  const s = shapeOf(key);
  if (s === undefined) return undefined;
  if (s === 'int' || s === 'switch') return 'number';
  if (s === 'string') return 'text';
  return fields ? 'fields' : 'vector';
}

const INT = /^-?\d+$/;
const INTS = /^-?\d+(?:[ \t]+-?\d+)+$/;

/** The kind a value shows (first sight decides for the family). */
export function kindOfValue(text: string, fields: readonly string[] | undefined): Kind {
  const t = text.trim();
  if (INT.test(t)) return 'number';
  if (INTS.test(t)) return fields ? 'fields' : 'vector';
  return 'text';
}

/** Whether `text` is one integer (as the kernel prints it: no spaces, no sign but '-'). */
export function isInteger(text: string): boolean {
  const n = text.length;
  if (n === 0) return false;
  if (n > 20) return INT.test(text);
  let i = text.charCodeAt(0) === 45 ? 1 : 0;
  if (i === n) return false;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}
