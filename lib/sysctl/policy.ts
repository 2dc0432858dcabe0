// A sysctl policy: desired values in sysctl.d(5) syntax (files or text), or a map as the CNI
// `tuning` plugin takes it, read once and checked; then resolved in each namespace as
// `sysctl -p` would apply it there (globs expanded against the keys present, the last line
// for a key deciding its value). Keys never leave /proc/sys/net: every key is parsed by the
// library's key parser, globs only ever match keys the namespace lists.
import * as fs from 'node:fs';
import { invalid } from '../errors.js';
import { pathForm } from '../keypath.js';
import { checkInterfaceName, parseKey } from './keys.js';
import { expandSettings, isGlob, isNetKey, parseConf, type Setting } from './sysctld.js';

/**
 * Where a policy comes from: a sysctl.d(5) file's path, its text (`{ text, file? }`), or a
 * map of keys to values (`{ sysctl, where? }`, the `tuning` plugin's `sysctl` object).
 */
export type PolicySource =
  | string
  | { text: string; file?: string }
  | { sysctl: Readonly<Record<string, string>>; where?: string };

/** A policy, read and checked ({@link loadPolicy}). */
export interface Policy {
  /** Every net.* setting, in order (a later one for the same key wins). */
  settings: Setting[];
  /** Settings outside net (kernel.*, vm.*): never applied, reported. */
  notNet: Setting[];
}

/** One write of a policy resolved in a namespace. */
export interface PolicyWrite {
  /** Dot form, as `Sysctl.list()` names it. */
  key: string;
  value: string;
  /** FILE:LINE (or the map's name) of the line. */
  where: string;
  /** A '-' line: failing to set it is not an error. */
  optional: boolean;
}

/** The component that stands for the interface a CNI plugin was given (the `tuning` plugin's). */
export const IFNAME = 'IFNAME';

function readSource(src: PolicySource, i: number): Setting[] {
  if (typeof src === 'string') {
    const text = fs.readFileSync(src, 'utf8');
    return settingsOf(text, src);
  }
  if (src === null || typeof src !== 'object') invalid('a file path, { text } or { sysctl }', `policy[${i}]`, src);
  if ('text' in src) {
    if (typeof src.text !== 'string') invalid('a string', `policy[${i}].text`, src.text);
    return settingsOf(src.text, src.file ?? 'policy');
  }
  const map = (src as { sysctl?: unknown }).sysctl;
  if (map === null || typeof map !== 'object' || Array.isArray(map))
    invalid('an object of key: "value" strings', `policy[${i}].sysctl`, map);
  const where = (src as { where?: string }).where ?? 'sysctl';
  return Object.entries(map as Record<string, unknown>).map(([key, value]) => {
    if (typeof value !== 'string') invalid('a string value', `${where}["${key}"]`, value);
    return { key, value, optional: false, where: `${where}["${key}"]` };
  });
}

function settingsOf(text: string, file: string): Setting[] {
  const { settings, invalid: bad } = parseConf(text, file);
  if (bad.length > 0) invalid('a sysctl.d(5) line (KEY = VALUE)', bad[0]!.where, bad[0]!.line, RangeError);
  return settings;
}

/**
 * Read a policy from its sources, in order (a later source's line for a key wins, as a later
 * sysctl.d file's does), and check every key: keys outside net are set apart, a key that
 * would leave /proc/sys/net (`..`, an absolute path, control characters) or is not a key at
 * all throws a RangeError naming its line, before anything is opened. Invalid lines throw too.
 */
export function loadPolicy(source: PolicySource | readonly PolicySource[]): Policy {
  const sources = Array.isArray(source) ? source : [source as PolicySource];
  const settings: Setting[] = [];
  const notNet: Setting[] = [];
  sources.forEach((src, i) => {
    for (const s of readSource(src, i)) {
      if (!isNetKey(s.key)) {
        notNet.push(s);
        continue;
      }
      checkKey(s);
      settings.push(s);
    }
  });
  return { settings, notNet };
}

/** A key (glob or not, with or without IFNAME) that parses under net, or a RangeError naming its line. */
function checkKey(s: Setting): void {
  const form = pathForm(s.key.trim());
  // A glob or an IFNAME component is checked with a plain name in its place: the parser then
  // sees the same separators, dots and '..' components the real keys will have.
  const probe = form
    .split('/')
    .map((c) => (c === IFNAME ? 'eth0' : isGlob(c) ? c.replace(/[*?[\]!]/g, 'x') || 'x' : c))
    .join('/');
  try {
    parseKey(probe);
  } catch (e) {
    if (!(e instanceof RangeError || e instanceof TypeError)) throw e;
    invalid('a key below net, without "..", empty components or control characters', s.where, s.key, RangeError);
  }
}

/**
 * The writes of a policy in one namespace, in order: globs expanded against `present()` (the
 * keys the namespace lists, asked only when a glob is there) as `sysctl -p` expands them, a
 * component `IFNAME` replaced by `ifname` (a setting naming IFNAME is dropped when no
 * interface is given), every key parsed (so a glob can only match keys the namespace lists,
 * and no key leaves /proc/sys/net).
 */
export function resolvePolicy(policy: Policy, present: () => readonly string[], ifname?: string): PolicyWrite[] {
  if (ifname !== undefined) checkInterfaceName(ifname);
  const settings: Setting[] = [];
  for (const s of policy.settings) {
    const parts = pathForm(s.key.trim()).split('/');
    if (!parts.includes(IFNAME)) {
      settings.push(s);
      continue;
    }
    if (ifname === undefined) continue;
    settings.push({ ...s, key: parts.map((c) => (c === IFNAME ? ifname : c)).join('/') });
  }
  const { writes } = expandSettings(settings, present);
  return writes.map((s) => ({ key: parseKey(s.key).key, value: s.value!, where: s.where, optional: s.optional }));
}

/** The write each key ends with (the last one for it), ordered by those last writes. */
export function finalValues(writes: readonly PolicyWrite[]): Map<string, PolicyWrite> {
  const out = new Map<string, PolicyWrite>();
  for (const w of writes) {
    out.delete(w.key);
    out.set(w.key, w);
  }
  return out;
}
