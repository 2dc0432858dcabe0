// Key <-> path: a sysctl key in sysctl(8) syntax and the file it names. The one home of the
// conversion (procps' rule: the first separator decides the form; in the dot form dots and
// slashes swap), for the parser, the walks, sysctl.d, compare, the rules and the hints. A leaf:
// it imports nothing, validates nothing (lib/sysctl/keys.ts's parseKey does that) and does no I/O.

/** Swap '.' and '/' in one pass (the dot form of a path, and the path of a dot form). */
function swapped(s: string): string {
  if (!s.includes('/')) return s.replaceAll('.', '/');
  if (!s.includes('.')) return s.replaceAll('/', '.');
  return s.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
}

/**
 * The path of a key below /proc/sys, as procps opens it: when a dot comes before any slash the
 * key is in dot form, components separated by dots, a '/' in one standing for a '.' in the file
 * name (`net.ipv4.conf.eth0/100.rp_filter` is `net/ipv4/conf/eth0.100/rp_filter`); otherwise
 * it is already a path and kept as it is. Not validated.
 */
export function pathForm(key: string): string {
  const dot = key.indexOf('.');
  if (dot === -1) return key;
  const slash = key.indexOf('/');
  return slash === -1 || dot < slash ? swapped(key) : key;
}

/** The dot form of a path relative to /proc/sys/net: `ipv4/conf/eth0.100/rp_filter` is `net.ipv4.conf.eth0/100.rp_filter`. */
export function keyFromRel(rel: string): string {
  // Hot in getAll, snapshots and audits (~600-1,100 keys per call, the same ones every time):
  // a cached key is also already internalized when it is used as a property name.
  let key = relKeys.get(rel);
  if (key === undefined) {
    key = rel === '' ? 'net' : 'net.' + swapped(rel);
    if (relKeys.size >= 16384) relKeys.clear();
    relKeys.set(rel, key);
  }
  return key;
}

const relKeys = new Map<string, string>();

/** A key in dot form that starts with `net.` (its first separator is the dot). */
function isDotForm(key: string): boolean {
  return key.startsWith('net.');
}

/**
 * The interface a per-interface key belongs to (`conf.<if>.*`, `neigh.<if>.*` of ipv4 and
 * ipv6; not `all` or `default`), by its file name (`eth0.100`), or undefined. `key` is a key in
 * either form, or a path relative to /proc/sys/net.
 */
export function deviceOf(key: string): string | undefined {
  if (isDotForm(key)) {
    // The dot form as walks give it, without making the path (audits ask this of every key).
    const d = /^net\.ipv[46]\.(?:conf|neigh)\.([^.]+)\./.exec(key)?.[1];
    if (d === undefined || d === 'all' || d === 'default') return undefined;
    return d.includes('/') ? d.replaceAll('/', '.') : d;
  }
  const m = /^(?:net\/)?ipv[46]\/(?:conf|neigh)\/([^/]+)\//.exec(pathForm(key));
  if (!m || m[1] === 'all' || m[1] === 'default') return undefined;
  return m[1];
}

/**
 * `key` with its interface (`device`, as deviceOf gives it) replaced by `other`, in the form
 * `key` is in: `withDevice('net.ipv4.conf.eth0/100.rp_filter', 'eth0.100', 'default')` is
 * `net.ipv4.conf.default.rp_filter`. A key of no interface comes back as it is.
 */
export function withDevice(key: string, device: string, other: string): string {
  if (isDotForm(key)) {
    const d = /^(net\.ipv[46]\.(?:conf|neigh)\.)([^.]+)(\..*)$/.exec(key);
    if (!d || d[2] !== swapped(device)) return key;
    return d[1] + swapped(other) + d[3];
  }
  const path = pathForm(key);
  const m = /^((?:net\/)?ipv[46]\/(?:conf|neigh)\/)([^/]+)(\/.*)$/.exec(path);
  if (!m || m[2] !== device) return key;
  const out = m[1] + other + m[3];
  return path === key ? out : swapped(out);
}
