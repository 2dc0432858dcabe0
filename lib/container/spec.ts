// The sysctls a container's own spec set at start: the OCI bundle's config.json `linux.sysctl`
// map, what `docker run --sysctl`, Kubernetes securityContext.sysctls and the engines' own
// defaults (ip_unprivileged_port_start, ping_group_range) become. The runtime writes them
// into the new namespace before the container's process starts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ContainerInfo } from './types.js';

/** Larger than any real config.json; a bigger file is not read. */
const MAX_CONFIG = 64 << 20;

/**
 * The `linux.sysctl` map of a container's bundle (`config.json`), keys as the spec writes
 * them (dot form), values as strings; `{}` when the spec sets none, undefined when there is
 * no bundle or its config.json cannot be read. The file is opened without following a
 * symlink and without blocking (a FIFO planted there is not waited on), and read only when
 * it is a regular file.
 */
export function specSysctls(c: Pick<ContainerInfo, 'bundle'>): Record<string, string> | undefined {
  if (c.bundle === undefined) return undefined;
  let fd: number;
  try {
    fd = fs.openSync(
      path.join(c.bundle, 'config.json'),
      fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK,
    );
  } catch {
    return undefined;
  }
  let json: unknown;
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.size > MAX_CONFIG) return undefined;
    json = JSON.parse(fs.readFileSync(fd, 'utf8'));
  } catch {
    return undefined; // being written, or not JSON
  } finally {
    fs.closeSync(fd);
  }
  const linux = (json as { linux?: { sysctl?: unknown } } | null)?.linux;
  const map = linux?.sysctl;
  const out: Record<string, string> = {};
  if (map === null || typeof map !== 'object' || Array.isArray(map)) return out;
  for (const [k, v] of Object.entries(map)) if (typeof v === 'string') out[k] = v;
  return out;
}
