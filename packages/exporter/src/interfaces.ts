// A namespace's interfaces, counted before any of its keys are listed. A tenant with
// CAP_NET_ADMIN in its own namespace makes 2,000 bridges in half a second, and each brings
// about 120 keys: 246,000 keys, seconds and hundreds of MB to list them. The interfaces are
// counted from the names in ipv4/conf (opened inside the namespace, read off the event loop);
// over the bound, the namespace's keys are listed by a walk that enters only the interfaces
// exported, so the work stays in proportion to what is exported, never to what a tenant made.
// (When the library's bounded walks land, this walk is theirs to do.)
import * as fs from 'node:fs';
import { fsdecode, fsencode, type NetNamespace } from 'netns';

/** The directories below /proc/sys/net that hold one directory per interface. */
export const DEVICE_DIRS: readonly string[] = ['ipv4/conf', 'ipv4/neigh', 'ipv6/conf', 'ipv6/neigh', 'mpls/conf'];

/** Directories of those that are not interfaces: every interface's settings, and new ones'. */
const NOT_INTERFACES: ReadonlySet<string> = new Set(['all', 'default']);

const ROOT = Buffer.from('/proc/sys/net');
const SLASH = Buffer.from('/');
const CONF = '/proc/sys/net/ipv4/conf';

/** A name's bytes as the library writes names (plain ASCII directly, else fsdecode). */
function decode(b: Buffer): string {
  for (let i = 0; i < b.length; i++) if (b[i]! >= 0x80) return fsdecode(b);
  return b.toString('latin1');
}

/** A directory's entries, none when it is not there (mpls without its module, an interface gone). */
function entries(dir: Buffer): fs.Dirent<Buffer>[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true, encoding: 'buffer' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** Directory entries read at once: a pod's few interfaces in one go, a tenant's thousands in batches. */
const BATCH = 32;

/**
 * The interfaces of `ns` (`lo` included, `all` and `default` not), named as the library names
 * them: ipv4/conf read inside the namespace. Every interface with keys is there: IPv4 keeps a
 * directory for each interface of an MTU of 68 or more, IPv6 only from 1280, and the neigh and
 * mpls directories follow them; an interface below 68 has no keys at all. The directory is
 * opened inside the namespace (O_CLOEXEC, as opendir(3) opens), and what a directory of
 * /proc/sys lists is the namespace it was opened in: its first BATCH entries are read at once
 * (all a pod has), any more from the libuv pool, so that a tenant's thousands of names never
 * hold the event loop for long.
 */
export async function interfacesOf(ns: NetNamespace): Promise<Set<string>> {
  // Node reads the names as bytes with encoding 'buffer' (its types admit only text encodings).
  const options = { encoding: 'buffer' as BufferEncoding, bufferSize: BATCH };
  const dir = ns.runSync(() => fs.opendirSync(CONF, options));
  const names = new Set<string>();
  const add = (e: fs.Dirent): void => {
    const n = decode(e.name as unknown as Buffer);
    if (!NOT_INTERFACES.has(n)) names.add(n);
  };
  try {
    for (let i = 0; i < BATCH; i++) {
      const e = dir.readSync();
      if (e === null) return names;
      add(e);
    }
    for (let e = await dir.read(); e !== null; e = await dir.read()) add(e);
    return names;
  } finally {
    dir.closeSync();
  }
}

/**
 * The keys of `ns` (paths below /proc/sys/net) with only `devices` (and `all` and `default`)
 * entered in the per-interface directories, by name: a walk inside the namespace whose work
 * is the keys outside the interfaces plus those of the interfaces named, however many others
 * there are (the per-interface directories themselves are not read).
 */
export function keysWithin(ns: NetNamespace, devices: ReadonlySet<string>): string[] {
  const entered = [...NOT_INTERFACES, ...devices].map((d) => ({ name: d, bytes: fsencode(d) }));
  return ns.runSync(() => {
    const out: string[] = [];
    const walk = (dir: Buffer, rel: string): void => {
      for (const e of entries(dir)) {
        const name = decode(e.name);
        const r = rel === '' ? name : `${rel}/${name}`;
        const path = Buffer.concat([dir, SLASH, e.name]);
        if (!e.isDirectory()) out.push(r);
        else if (!DEVICE_DIRS.includes(r)) walk(path, r);
        else for (const d of entered) walk(Buffer.concat([path, SLASH, d.bytes]), `${r}/${d.name}`);
      }
    };
    walk(ROOT, '');
    return out;
  });
}
