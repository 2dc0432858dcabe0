// Hostile input: thousands of generated keys (traced: nothing outside /proc/sys/net is ever
// opened), hostile values (rejected first, or by the kernel, old value kept), bad fds.
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as dgram from 'node:dgram';
import { spawnSync } from 'node:child_process';
import { NetNamespace, NetnsError, parseKey, sysctl } from '../lib/index.js';
import { native } from '../lib/native/index.js';
import { checkThreadsAtEnd, childEnv, HOST_NS, nsenterCat, plainNode } from './helpers.js';
// @ts-expect-error plain JS fixture
import { prng } from './fixtures/stress-core.mjs';

// Needs: root, strace, util-linux nsenter, dist/ built (npm test does).
checkThreadsAtEnd(t);
const SEED = Number(process.env.NETNS_FUZZ_SEED ?? Date.now() % 1e9);
const N_KEYS = Number(process.env.NETNS_FUZZ_KEYS ?? 5000);

// ---------------------------------------------------------------- key corpus
const FRAGMENTS = [
  '..',
  '.',
  '',
  '...',
  '....',
  '%2e%2e',
  '%2e',
  '%2f',
  '%2F',
  '%252e%252e',
  '..%2f',
  '%00',
  '\0',
  '\n',
  '\r',
  '\t',
  '\x1b',
  '\x7f',
  '\u0085',
  '//',
  '/./',
  '/../',
  ' ',
  ' .. ',
  'ｎｅｔ',
  '\uFF0E\uFF0E',
  '\u2024\u2024',
  '\u2215',
  '\uFF0F',
  '\u0338',
  '\u202E',
  '😀',
  '\uD800',
  'é',
  'e\u0301',
  '*',
  '?',
  '~',
  '$HOME',
  '\\',
  '\\..\\',
  'proc',
  'self',
  'thread-self',
  'root',
  'cwd',
  'fd',
  '0',
  'exe',
  'environ',
  'etc',
  'passwd',
  'shadow',
  'kernel',
  'hostname',
  'sys',
  'vm',
  'fs',
  'dev',
  'null',
  'lo',
  'all',
  'default',
  'eth0.100',
  'eth0/100',
  'a.b/c',
  'x'.repeat(256),
  'y'.repeat(300),
];
const TEMPLATES = [
  'net/../../self/root/etc/passwd',
  'net.ipv4.conf.lo/../../../../../self/cwd',
  '../../self/fd/0',
  'net/../../../proc/self/environ',
  'net.ipv4/../../self/exe',
  'net.ipv4.conf.%2e%2e.%2e%2e.self.root',
  'net/ipv4/conf/lo%2f..%2f..%2f..%2fkernel/hostname',
  '/proc/sys/net/ipv4/ip_forward',
  '/proc/self/root/proc/sys/net/ipv4/ip_forward',
  '/etc/passwd',
  'kernel.hostname',
  'kernel/hostname',
  'vm.swappiness',
  'fs.file-max',
  'net',
  'NET.ipv4.ip_forward',
  'netx.ipv4.ip_forward',
  'net..ipv4',
  'net.',
  '.net.ipv4.ip_forward',
  'net//ipv4//ip_forward',
  'net/./ipv4/ip_forward',
  'net.ipv4.conf.lo/1.rp_filter',
  'net/ipv4/conf/lo.1/rp_filter',
  'net.ipv4.conf.all.rp_filter/',
  'net.ipv4.conf..rp_filter',
  'net/ipv4/conf/../../../kernel',
  'net.ipv4.conf.lo.forwarding\0../../../etc/passwd',
  'net.core.somaxconn\n',
  ' net.core.somaxconn',
  'net.core.somaxconn ',
  'net.core.' + 'z'.repeat(2000),
  'net.' + 'a.'.repeat(600) + 'b',
  'net/' + 'a/'.repeat(600) + 'b',
  'net.ipv4.conf.lo/../../ip_forward',
];

interface Case {
  key: string;
  via: 'host' | 'ns' | 'async' | 'list' | 'native';
}

function corpus(n: number, seed: number): Case[] {
  const rand = prng(seed) as () => number;
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)]!;
  const real = sysctl.list();
  const out: Case[] = [];
  const viaOf = (): Case['via'] => {
    const r = rand();
    return r < 0.45 ? 'host' : r < 0.7 ? 'ns' : r < 0.8 ? 'async' : r < 0.88 ? 'list' : 'native';
  };
  for (const k of TEMPLATES) for (const via of ['host', 'ns', 'native'] as const) out.push({ key: k, via });
  for (const k of TEMPLATES) out.push({ key: k.startsWith('net') ? k.slice(4) : k, via: 'native' });
  while (out.length < n) {
    const base = pick(real);
    const slashForm = rand() < 0.3;
    const parts = base.split('.');
    const r = rand();
    let key: string;
    if (r < 0.15) {
      key = slashForm ? parseKey(base).rel.replace(/^/, 'net/') : base; // valid, both forms
    } else if (r < 0.45) {
      const at = 1 + Math.floor(rand() * parts.length);
      parts.splice(at, rand() < 0.5 ? 0 : 1, pick(FRAGMENTS));
      key = parts.join(slashForm ? '/' : '.');
    } else if (r < 0.6) {
      const at = Math.floor(rand() * parts.length);
      parts[at] = parts[at] + pick(FRAGMENTS) + (rand() < 0.5 ? pick(FRAGMENTS) : '');
      key = parts.join(slashForm ? '/' : '.');
    } else if (r < 0.7) {
      const seps = ['.', '/', '//', '%2f', '\\', '..', '/../', '\u2215', '\uFF0E'];
      key = parts.map((p, i) => (i === 0 ? p : pick(seps) + p)).join('');
    } else if (r < 0.8) {
      key =
        pick([
          '/',
          '/proc/sys/',
          'kernel.',
          'vm.',
          'fs.',
          'NET.',
          'net..',
          'netx.',
          '../',
          './',
          '~/',
          'proc.self.root.',
          '',
        ]) + (rand() < 0.5 ? base : parts.slice(1).join('.'));
    } else if (r < 0.9) {
      // interface names with dots, slashes and worse, in both syntaxes
      const iface = pick([
        'eth0.100',
        'eth0/100',
        'lo',
        'a.b.c',
        '..',
        '.',
        'x/..',
        '..%2f..',
        '%2e%2e',
        'ｌｏ',
        'lo\0',
        'lo\n',
        'l o',
        'v'.repeat(16),
        'all',
        'default',
      ]);
      const fam = pick(['ipv4', 'ipv6', 'ipv4/../..', 'mpls']);
      key = slashForm
        ? `net/${fam}/conf/${iface}/rp_filter`
        : `net.${fam}.conf.${iface.replaceAll('.', '/')}.rp_filter`;
    } else {
      key = pick(TEMPLATES) + (rand() < 0.5 ? pick(FRAGMENTS) : '');
    }
    out.push({ key, via: viaOf() });
  }
  // The native layer gets only what it was built for: strings (the TS layer checks types).
  return out.map((c) =>
    c.via === 'native' && /^\/|^net[./]/.test(c.key) && !c.key.startsWith('/')
      ? { ...c, key: c.key.replace(/^net[./]?/, '') }
      : c,
  );
}

// ---------------------------------------------------------------- strace parsing
/** Decode a strace string body (octal, \xHH, \n… escapes) to bytes. */
function unescapeBytes(s: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') {
      bytes.push(...Buffer.from(c));
      continue;
    }
    const n = s[++i]!;
    if (/[0-7]/.test(n)) {
      let oct = n;
      while (oct.length < 3 && /[0-7]/.test(s[i + 1] ?? '')) oct += s[++i];
      bytes.push(parseInt(oct, 8));
    } else if (n === 'x') {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push({ n: 10, t: 9, r: 13, v: 11, f: 12, '"': 34, '\\': 92 }[n as 'n'] ?? n.charCodeAt(0));
  }
  return Buffer.from(bytes);
}

interface OpenCall {
  line: string;
  sc: string;
  dir: string; // path of the dirfd (AT_FDCWD: the cwd)
  path: Buffer;
  result: string; // '-1 ENOENT' or the opened file's path
  ok: boolean;
  tid?: string;
}

function parseOpen(line: string): OpenCall | undefined {
  const m = /^\d+\s+(open|openat|openat2)\((?:(AT_FDCWD|\d+)<((?:[^>\\]|\\.)*)>, )?"((?:[^"\\]|\\.)*)"(.*)$/.exec(line);
  if (!m) return undefined;
  const res = /\)\s*= (-1 \w+|\d+<((?:[^>\\]|\\.)*)>)/.exec(m[5]!);
  if (!res) return undefined;
  return {
    line,
    sc: m[1]!,
    dir: unescapeBytes(m[3] ?? '').toString(),
    path: unescapeBytes(m[4]!),
    result: res[2] !== undefined ? unescapeBytes(res[2]).toString() : res[1]!,
    ok: res[2] !== undefined,
  };
}

t.test(
  `${N_KEYS} generated keys: rejected before any open, or opened confined beneath /proc/sys/net (seed ${SEED})`,
  async (t) => {
    const cases = corpus(N_KEYS, SEED);
    const dir = fs.mkdtempSync('/tmp/netns-fuzz-');
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.writeFileSync(`${dir}/keys.json`, JSON.stringify(cases));
    const started = Date.now();
    const [cmd, args] = plainNode([
      new URL('./fixtures/fuzz-keys-child.mjs', import.meta.url).pathname,
      `${dir}/keys.json`,
      `${dir}/out.json`,
    ]);
    const r = spawnSync(
      'strace',
      ['-f', '-y', '-s', '65535', '-e', 'trace=open,openat,openat2', '-o', `${dir}/trace`, cmd, ...args],
      {
        encoding: 'utf8',
        env: childEnv(),
        maxBuffer: 64 << 20,
      },
    );
    t.equal(r.status, 0, `child ran (${Date.now() - started} ms under strace): ${r.stderr.slice(0, 2000)}`);
    const outcomes = JSON.parse(fs.readFileSync(`${dir}/out.json`, 'utf8')) as {
      i: number;
      ok?: boolean;
      name?: string;
      code?: string;
      value?: string;
      message?: string;
    }[];
    t.equal(outcomes.length, cases.length, 'an outcome for every key');

    // Cut the trace into one slice per key at the markers.
    const slices: OpenCall[][] = cases.map(() => []);
    let cur = -1;
    let unparsed = 0;
    const pending = new Map<string, string>(); // pid -> first half of an interrupted call
    const libraryTids = new Set<string>();
    const unparsedLines: string[] = [];
    for (let line of fs.readFileSync(`${dir}/trace`, 'utf8').split('\n')) {
      const pid = line.split(/\s/, 1)[0]!;
      if (/<unfinished \.\.\.>$/.test(line)) {
        pending.set(pid, line.replace(/\s*<unfinished \.\.\.>$/, ''));
        continue;
      }
      const resumed = /^\d+\s+<\.\.\. \w+ resumed>(.*)$/.exec(line);
      if (resumed) {
        line = (pending.get(pid) ?? '') + resumed[1];
        pending.delete(pid);
      }
      if (!/\bopen(at2?)?\(/.test(line)) continue;
      const call = parseOpen(line);
      if (!call) {
        unparsed++;
        unparsedLines.push(line);
        continue;
      }
      const mk = /^\/__netns_fuzz_mark__\/(\d+)$/.exec(call.path.toString());
      if (mk) {
        cur = Number(mk[1]);
        libraryTids.add(pid); // the JS thread
        continue;
      }
      if (call.sc === 'openat2') libraryTids.add(pid); // only the library uses openat2: its executor threads
      if (cur >= 0 && cur < cases.length) slices[cur]!.push({ ...call, tid: pid });
    }
    // Node's own threads (V8 platform workers reading /proc/sys/vm/overcommit_memory, module
    // loads) also open files meanwhile; the library runs only on the JS thread and its executor.
    // glibc's malloc opens /proc/sys/vm/overcommit_memory when it shrinks a heap
    // (check_may_shrink_heap), on whichever thread frees memory, the JS thread included (seen
    // with strace -k: under V8's Zone::DeleteAll). That exact open is the allocator's, not ours.
    // Node 24+ (V8 on Abseil): the first contended absl::Mutex, on any thread (the JS thread in
    // a GC's Join), asks absl::base_internal::NumCPUs() and NominalCPUFrequency(), which read
    // these files once (seen with strace -k: Mutex::LockSlow > NumCPUs >
    // std::thread::hardware_concurrency > get_nprocs; Mutex::LockSlow > Enqueue >
    // NominalCPUFrequency > ReadLongFromFile).
    const RUNTIME = new Set([
      '/proc/sys/vm/overcommit_memory',
      '/sys/devices/system/cpu/online',
      '/sys/devices/system/cpu/cpu0/tsc_freq_khz',
      '/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq',
    ]);
    const isRuntimeOpen = (c: OpenCall) =>
      c.sc === 'openat' && RUNTIME.has(c.path.toString()) && !/O_(WR|RDWR)/.test(c.line);
    const foreign = slices.flat().filter((c) => !libraryTids.has(c.tid!) || isRuntimeOpen(c));
    t.comment(
      `${foreign.length} opens by Node's own threads, malloc or Abseil ignored: ${[...new Set(foreign.map((c) => c.path.toString()))].slice(0, 5).join(', ')}`,
    );
    for (let i = 0; i < slices.length; i++)
      slices[i] = slices[i]!.filter((c) => libraryTids.has(c.tid!) && !isRuntimeOpen(c));
    t.same(unparsedLines.slice(0, 5), [], 'every open in the trace was understood');
    t.equal(unparsed + pending.size, 0);

    const bad: string[] = [];
    const note = (i: number, why: string) => {
      if (bad.length < 40)
        bad.push(`#${i} ${JSON.stringify(cases[i]!.key).slice(0, 120)} via ${cases[i]!.via}: ${why}`);
    };
    const stats = { rejected: 0, opened: 0, failedOpen: 0, traced: 0 };
    const beneath = (p: string) => p === '/proc/sys/net' || p.startsWith('/proc/sys/net/');
    cases.forEach((c, i) => {
      const o = outcomes[i]!;
      const calls = slices[i]!;
      stats.traced += calls.length;
      // Whatever happened, every open was confined.
      for (const call of calls) {
        if (call.sc === 'openat2') {
          if (call.dir !== '/proc/sys/net') note(i, `openat2 relative to ${call.dir}`);
          if (
            !/RESOLVE_BENEATH/.test(call.line) ||
            !/RESOLVE_NO_SYMLINKS/.test(call.line) ||
            !/RESOLVE_NO_MAGICLINKS/.test(call.line)
          )
            note(i, 'openat2 without RESOLVE_BENEATH|NO_SYMLINKS|NO_MAGICLINKS');
        } else if (call.sc === 'openat' && beneath(call.dir) && !call.path.toString().includes('/')) {
          // the walk: one name at a time beneath a directory it opened confined
        } else {
          note(i, `unexpected ${call.sc} of ${call.path.toString()} (dir ${call.dir})`);
        }
        if (call.ok && !beneath(call.result)) note(i, `opened ${call.result}`);
      }
      const typeErr = o.name === 'TypeError' || o.name === 'RangeError';
      if (typeErr) {
        stats.rejected++;
        if (calls.length) note(i, `rejected with ${o.name} but opened ${calls.length} file(s)`);
        if (c.via === 'native') note(i, 'the native layer does not validate: it cannot throw a TypeError');
        return;
      }
      let pk: { rel: string } | undefined;
      try {
        pk = c.via === 'native' ? { rel: c.key.split('\0')[0]! } : parseKey(c.key, { allowRoot: c.via === 'list' });
      } catch {
        note(i, `accepted by the library (${o.ok ? 'ok' : o.code}) but parseKey refuses it`);
        return;
      }
      if (o.ok) {
        stats.opened++;
        // The kernel resolves "." and "//" inside the confined walk; the file must be the one meant.
        const want = path.posix.normalize('/proc/sys/net/' + pk.rel).replace(/\/$/, '');
        const hit = calls.find((c) => c.ok);
        // list() of a write-only key (route.flush) names it without reading it: its open fails
        // with EACCES, and the file is there.
        const writeOnlyListed = c.via === 'list' && calls.some((x) => /EACCES/.test(x.line)) && fs.existsSync(want);
        if (!hit && !writeOnlyListed) note(i, 'a value without an open');
        else if (!hit) return;
        else if (hit.result !== want) note(i, `opened ${hit.result}, expected ${want}`);
        else if (c.via !== 'list' && !fs.statSync(want).isFile()) note(i, `${want} is not a file`);
      } else {
        stats.failedOpen++;
        if (c.via === 'native') {
          if (!/^errno\d+$/.test(o.code ?? '')) note(i, `native failure without errno: ${o.message}`);
        } else if (o.name !== 'NetnsError') note(i, `failed with ${o.name} ${o.message}`);
        if (calls.length === 0) note(i, `failed with ${o.code} without any open`);
      }
    });
    t.comment(
      `keys: ${stats.rejected} rejected before any open, ${stats.opened} read, ${stats.failedOpen} refused by a confined open; ${stats.traced} opens traced`,
    );
    t.same(bad, [], 'every key was rejected first or opened beneath /proc/sys/net only');
    t.ok(
      stats.rejected > N_KEYS / 4 && stats.opened > 100 && stats.failedOpen > 100,
      'the corpus exercised all three outcomes',
    );
    // The escapes that reached the native layer unvalidated were refused by the kernel.
    const escapes = cases
      .map((c, i) => [c, outcomes[i]!] as const)
      .filter(([c]) => c.via === 'native' && /(^|\/)\.\.(\/|$)|^\//.test(c.key))
      // A '..' that stays beneath (netfilter/../nf_conntrack_max) is /proc/sys/net's own file:
      // openat2's RESOLVE_BENEATH resolves it, and the check above made sure it was the file
      // meant. What must never be read is a path that leaves /proc/sys/net.
      .filter(([c]) => {
        const rel = c.key.split('\0')[0]!;
        return rel.startsWith('/') || !path.posix.normalize(`/proc/sys/net/${rel}`).startsWith('/proc/sys/net/');
      });
    t.ok(escapes.length > 10, `${escapes.length} raw paths that leave /proc/sys/net given to the native layer`);
    const read = escapes.filter(([, o]) => o.ok).map(([c]) => JSON.stringify(c.key));
    t.same(read, [], 'none of them was read');
  },
);

// ---------------------------------------------------------------- hostile values
const HOSTILE: unknown[] = [
  '9'.repeat(30),
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 2,
  2 ** 31,
  2 ** 32,
  -(2 ** 31) - 1,
  1e300,
  Infinity,
  -Infinity,
  NaN,
  -1,
  -5,
  0,
  2n ** 64n,
  -(2n ** 63n),
  '1\n2',
  '1\r',
  '1\0',
  '\n',
  '1\t2\t3\t4\t5',
  '1 2 3 4 5 6 7 8 9 10',
  Array.from({ length: 1000 }, (_, i) => i),
  [1, [2]],
  [],
  ['a', 'b'],
  'abc',
  '',
  ' ',
  '0x10',
  '1e3',
  '+1',
  '١',
  '1 ',
  ' 1',
  '12abc',
  // vectors whose later fields fail after the kernel stored the first ones
  [8192, 16384, 99999999999999],
  '4097\t8193\t-1',
  [2000, 99999999999999],
  [4096, 1, 2],
  '7 8',
  'x'.repeat(5000),
  'x'.repeat(4096),
  {},
  null,
  undefined,
  Symbol('s'),
  () => 1,
  true,
  false,
  1.5,
  -0,
  'reno\ncubic',
  'bbr ',
  'cubic\treno',
];
const VALUE_KEYS = [
  'net.ipv4.tcp_keepalive_time', // catalogue int
  'net.ipv4.ip_local_port_range', // vec2
  'net.ipv4.tcp_rmem', // vec3
  'net.ipv4.tcp_congestion_control', // string
  'net.ipv4.ip_forward', // switch
  'net.ipv4.tcp_reordering', // not in the catalogue: untyped
  'net.ipv4.ip_local_reserved_ports', // free text list
  'net.ipv4.conf.lo.forwarding',
  'net.core.somaxconn',
];

t.test('hostile values: refused by the library or by the kernel, and then the old value stays', async (t) => {
  using ns = NetNamespace.create();
  const file = `/proc/${process.pid}/fd/${ns.fd}`;
  const tally: Record<string, number> = {};
  const bad: string[] = [];
  const forms: [string, (k: string, v: unknown) => Promise<unknown>][] = [
    ['set', async (k, v) => ns.sysctl.set(k, v as number)],
    ['setAsync', (k, v) => ns.sysctl.setAsync(k, v as number)],
    ['setMany', async (k, v) => ns.sysctl.setMany([[k, v]]).values[parseKey(k).key]],
    [
      'handle',
      async (k, v) => {
        using h = ns.sysctl.open(k);
        return h.write(v as number);
      },
    ],
  ];
  for (const key of VALUE_KEYS) {
    for (const value of HOSTILE) {
      for (const [form, write] of forms) {
        const before = ns.sysctl.getRaw(key);
        let outcome: string;
        try {
          const got = await write(key, value);
          // Accepted by the kernel: what we report must be what it holds now.
          const now = ns.sysctl.get(key);
          outcome = 'accepted';
          if (JSON.stringify(got) !== JSON.stringify(now))
            bad.push(
              `${form} ${key}=${String(value).slice(0, 40)}: returned ${JSON.stringify(got)} but holds ${JSON.stringify(now)}`,
            );
          ns.sysctl.setMany([[key, before]]); // back to the old value for the next try
        } catch (e) {
          const err = e as Error & { code?: string };
          if (err instanceof TypeError || err instanceof RangeError) outcome = 'library';
          else if (err instanceof NetnsError && ['EINVAL', 'ENOENT', 'ERANGE'].includes(err.code))
            outcome = `kernel ${err.code}`;
          else {
            outcome = 'other';
            bad.push(`${form} ${key}=${String(value).slice(0, 40)}: ${err.name} ${err.code} ${err.message}`);
          }
          const after = ns.sysctl.getRaw(key);
          if (after !== before)
            bad.push(
              `${form} ${key}=${String(value).slice(0, 40)}: rejected (${outcome}) but the value changed ${JSON.stringify(before)} -> ${JSON.stringify(after)}`,
            );
        }
        tally[outcome] = (tally[outcome] ?? 0) + 1;
      }
    }
  }
  t.comment(`outcomes: ${JSON.stringify(tally)}`);
  t.same(bad, [], 'no rejected write changed anything; every accepted write reports what the kernel holds');
  t.ok(tally.library! > 100 && tally['kernel EINVAL']! > 10, 'both lines of defence were exercised');
  // Embedded newlines never reach the kernel (one write must carry one value).
  for (const v of ['1\n2', '7200\n', 'reno\ncubic'])
    t.throws(() => ns.sysctl.set('net.ipv4.tcp_reordering', v), RangeError);
  // The oracle agrees on the final state.
  t.equal(ns.sysctl.getRaw('net.ipv4.tcp_keepalive_time'), nsenterCat(file, '/proc/sys/net/ipv4/tcp_keepalive_time'));
  t.equal(fs.readlinkSync('/proc/thread-self/ns/net'), HOST_NS);
});

// ---------------------------------------------------------------- bad fds
const keep: NetNamespace[] = [];
t.test('handles from bad fds fail clearly', async (t) => {
  const closed = fs.openSync('/etc/hostname', 'r');
  fs.closeSync(closed);
  t.throws(
    () => NetNamespace.fromFd(closed),
    { name: 'NetnsError', code: 'EBADF', message: /not open/ },
    'a closed fd',
  );
  const reg = fs.openSync('/etc/hostname', 'r');
  t.teardown(() => fs.closeSync(reg));
  t.throws(
    () => NetNamespace.fromFd(reg),
    { code: 'EINVAL', message: /not a network namespace.*not a namespace at all/ },
    'a regular file',
  );
  // The socket's fd, found the public way: the one socket fd that appeared when it was bound
  // (a dgram socket's handle is private, and Node 26 no longer exposes it as _handle).
  const socketFds = (): string[] =>
    fs.readdirSync('/proc/self/fd').filter((f) => {
      try {
        return fs.readlinkSync(`/proc/self/fd/${f}`).startsWith('socket:');
      } catch {
        return false; // the directory's own fd, closed by now
      }
    });
  const socketsBefore = socketFds();
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  t.teardown(() => sock.close());
  const appeared = socketFds().filter((f) => !socketsBefore.includes(f));
  t.equal(appeared.length, 1, 'binding the socket opened one socket fd');
  const sfd = Number(appeared[0]);
  t.ok(sfd > 2, 'a socket fd');
  t.throws(() => NetNamespace.fromFd(sfd), { code: 'EINVAL', message: /not a namespace at all/ }, 'a socket');
  for (const kind of ['uts', 'ipc', 'mnt', 'pid', 'cgroup', 'user']) {
    const fd = fs.openSync(`/proc/self/ns/${kind}`, 'r');
    t.teardown(() => fs.closeSync(fd));
    t.throws(() => NetNamespace.fromFd(fd), { code: 'EINVAL', message: /is a \w+ namespace/ }, `a ${kind} namespace`);
  }
  const pidfd = native.pidfdOpen(process.pid);
  t.teardown(() => native.close(pidfd));
  t.throws(() => NetNamespace.fromFd(pidfd), { code: 'EINVAL' }, 'a pidfd');
  const opath = fs.openSync('/proc/self/ns/net', 0o10000000 /* O_PATH */);
  t.teardown(() => fs.closeSync(opath));
  t.throws(
    () => NetNamespace.fromFd(opath),
    { code: 'EINVAL', message: /O_PATH/ },
    'an O_PATH fd on a network namespace says so',
  );
  for (const v of [-1, 1.5, NaN, '3', null, undefined, 2 ** 40])
    t.throws(() => NetNamespace.fromFd(v as number), v === -1 || v === 2 ** 40 ? RangeError : TypeError);
  const fifo = `/tmp/netns-fifo-${process.pid}`;
  spawnSync('mkfifo', [fifo]);
  t.teardown(() => fs.rmSync(fifo, { force: true }));
  t.throws(() => NetNamespace.fromPath(fifo), { code: 'EINVAL' }, 'a FIFO fails at once (no blocking open)');
  t.throws(() => NetNamespace.fromPath('/proc'), { code: 'EINVAL' });
  t.throws(() => NetNamespace.fromPath('/nonexistent/x'), { code: 'ENOENT' });
  // An owned fd closed behind the library's back, or reused by another file: clean errors,
  // and the calling thread stays home.
  const ns = NetNamespace.create();
  fs.closeSync(ns.fd);
  t.throws(() => ns.sysctl.get('net.core.somaxconn'), { name: 'NetnsError', code: 'EBADF', syscall: 'setns' });
  await t.rejects(ns.sysctl.getAsync('net.core.somaxconn'), { name: 'NetnsError', code: 'EBADF' });
  const squatter = fs.openSync('/etc/hostname', 'r');
  t.teardown(() => fs.closeSync(squatter));
  if (squatter === ns.fd)
    t.throws(() => ns.sysctl.get('net.core.somaxconn'), { name: 'NetnsError', code: 'EINVAL', syscall: 'setns' });
  t.throws(() => ns.runSync(() => 1), NetnsError);
  t.equal(fs.readlinkSync('/proc/thread-self/ns/net'), HOST_NS, 'the calling thread is home');
  // The number is the squatter's now: never close this handle (kept reachable so that no
  // finalizer closes the number either).
  keep.push(ns);
});

t.test('a path through a key names nothing: list/getAll/get say ENOTDIR, "does not exist"', async (t) => {
  for (const f of [
    () => sysctl.list('net.core.somaxconn.bogus'),
    () => sysctl.getAll('net.core.somaxconn.bogus'),
    () => sysctl.get('net.core.somaxconn.bogus'),
  ])
    t.throws(f, { name: 'NetnsError', code: 'ENOTDIR', message: /does not exist/ });
  t.same(sysctl.list('net.core.somaxconn'), ['net.core.somaxconn'], 'a key as a prefix lists itself');
});
