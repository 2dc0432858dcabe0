// The kernel tier's independent observation: /proc/sys/net of the calling process's network
// namespace, walked with plain fs calls (none of this library's code), so what the library
// says can be checked against it. As a program (run inside namespaces made by `unshare`):
//
//   node walk.js [WRITES.json] [-- CMD ARG...]
//
// applies WRITES ({ "ipv4/tcp_syn_retries": "5", ... }, paths below /proc/sys/net) here, walks,
// then runs CMD (typically `unshare -n node walk.js`, a namespace created from this one) and
// prints one JSON object { writes, keys, then } on stdout.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One key: permission bits, whether this process may write it (access(2)), its text or its errno code. */
export interface Seen {
  mode: number;
  writable: boolean;
  value?: string;
  error?: string;
}
export type Walk = Record<string, Seen>;

const ROOT = '/proc/sys/net';

/** Every file under /proc/sys/net of this process's namespace, by path below it. */
export function walk(): Walk {
  const out: Walk = {};
  const visit = (rel: string): void => {
    for (const e of fs.readdirSync(rel ? `${ROOT}/${rel}` : ROOT, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        visit(r);
        continue;
      }
      const p = `${ROOT}/${r}`;
      const s: Seen = { mode: fs.statSync(p).mode & 0o7777, writable: true };
      try {
        fs.accessSync(p, fs.constants.W_OK);
      } catch {
        s.writable = false;
      }
      try {
        s.value = fs.readFileSync(p, 'latin1').replace(/\n$/, '');
      } catch (e) {
        s.error = (e as NodeJS.ErrnoException).code ?? 'EIO';
      }
      out[r] = s;
    }
  };
  visit('');
  return out;
}

/** Write each value (one write at offset 0); the errno code of each failed write. */
export function writeAll(writes: Record<string, string>): Record<string, string> {
  const failed: Record<string, string> = {};
  for (const [rel, v] of Object.entries(writes)) {
    try {
      fs.writeFileSync(`${ROOT}/${rel}`, v);
    } catch (e) {
      failed[rel] = (e as NodeJS.ErrnoException).code ?? 'EIO';
    }
  }
  return failed;
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const cut = args.indexOf('--');
  const own = cut < 0 ? args : args.slice(0, cut);
  const cmd = cut < 0 ? [] : args.slice(cut + 1);
  const writes = own[0] ? (JSON.parse(fs.readFileSync(own[0], 'utf8')) as Record<string, string>) : {};
  const failed = writeAll(writes);
  const keys = walk();
  const then = cmd.length
    ? JSON.parse(execFileSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', maxBuffer: 256 << 20 }))
    : undefined;
  process.stdout.write(JSON.stringify({ failed, keys, then }));
}
