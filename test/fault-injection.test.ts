// Fault injection: what an adversarial run found (issue 18), kept found. fd exhaustion and
// recovery (prlimit on a child process), a stopped and a killed rootless helper under load,
// compound and single Promise operations interleaved, inputs that change between reads, and
// Promise forms given bad arguments. Public API only.
// Needs: root (namespaces, prlimit on a child, rootless helpers as root), unprivileged user
// namespaces for the rootless cases, util-linux prlimit, dist/ built (npm test does).
import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { NetNamespace, NetnsError, cloneNetns, sysctl } from '../lib/index.js';
import { checkThreadsAtEnd, childEnv, plainNode } from './helpers.js';
import { native } from '../lib/native/index.js';

checkThreadsAtEnd(t);

const fixture = fileURLToPath(new URL('./fixtures/fault-emfile.mjs', import.meta.url));
const A = 'net.ipv4.tcp_keepalive_time';
const B = 'net.ipv4.tcp_keepalive_intvl';
const C = 'net.ipv4.tcp_keepalive_probes';
/** How long the JS thread may be held by a Promise form's synchronous part (generous: CI is slow). */
const NO_BLOCK_MS = 300;

// biome-ignore lint/suspicious/noExplicitAny: JSON a child printed, read field by field with assertions
type Json = Record<string, any>;

function emfile(scenario: string): Json {
  const [cmd, args] = plainNode([fixture, scenario]);
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: childEnv(), timeout: 60_000 });
  const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as Json;
  } catch {
    throw new Error(
      `fixture ${scenario} printed no JSON (status ${r.status}, signal ${r.signal}): ${r.stdout}\n${r.stderr}`,
    );
  }
}

const hostValue = (key: string): number =>
  Number(fs.readFileSync(`/proc/sys/net/${key.slice(4).replaceAll('.', '/')}`, 'utf8'));

/** State letter of a process, or null once it is gone (reaped). */
function procState(pid: number): string | null {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ')[0]!;
  } catch {
    return null;
  }
}

async function gone(pid: number, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) if (procState(pid) === null) return true;
  return procState(pid) === null;
}

type Settled = { value?: unknown; error?: unknown };
const settle = (p: Promise<unknown>): Promise<Settled> =>
  p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
const codeOf = (s: Settled): string | undefined => (s.error as NetnsError | undefined)?.code;

/** A rootless namespace (as root: forced), and an oracle handle on the same namespace that switches in. */
function rootlessPair(t: Test): { ns: NetNamespace; oracle: NetNamespace; pid: number } {
  const ns = NetNamespace.create({ rootless: true });
  const pid = ns.rootless!.pid;
  const oracle = NetNamespace.fromFd(ns.fd);
  t.teardown(() => {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      /* gone */
    }
    ns.close();
    oracle.close();
  });
  return { ns, oracle, pid };
}

// ---- 1. fd exhaustion and recovery ----

t.test(
  'EMFILE at the first /proc/sys/net open is not cached: freeing fds recovers host, namespaces, sync and async',
  async (t) => {
    const r = emfile('first-open');
    t.ok(r.filled > 0, `the child filled its fd table (${r.filled} fds)`);
    for (const k of ['syncAtLimit', 'nsAtLimit'] as const) {
      t.match(r[k].threw, { netnsError: true, code: 'EMFILE' }, `${k}: a NetnsError EMFILE at the limit`);
    }
    t.match(
      r.asyncAtLimit,
      { async: true, rejected: { netnsError: true, code: 'EMFILE' } },
      'getAsync at the limit rejects with EMFILE',
    );
    const want = hostValue(A);
    t.same(r.sync, { value: want }, 'host sysctl.get works once fds are free');
    t.same(r.async, { async: true, value: want }, 'host sysctl.getAsync works once fds are free');
    t.same(r.nsSync, { value: 7200 }, 'a namespace opened before: get works');
    t.same(r.nsAsync, { async: true, value: 7200 }, 'a namespace opened before: getAsync works');
    t.same(
      r.newNs,
      { async: true, value: { rootless: false, sync: 7200, async: 7200 } },
      'a new namespace works, sync and async',
    );
  },
);

t.test('at EMFILE, sysctl.open() throws a NetnsError with a code, and works again after', async (t) => {
  const r = emfile('open');
  t.match(r.hostOpen.threw, { netnsError: true, code: 'EMFILE' }, 'host sysctl.open: NetnsError EMFILE');
  t.match(r.nsOpen.threw, { netnsError: true, code: 'EMFILE' }, 'ns.sysctl.open: NetnsError EMFILE, not a plain Error');
  t.same(r.hostAfter, { value: hostValue(A) }, 'host open + read after freeing fds');
  t.same(r.nsAfter, { value: 7200 }, 'namespace open + read after freeing fds');
});

t.test("at EMFILE, root's NetNamespace.create() reports EMFILE, not a rootless failure", async (t) => {
  const r = emfile('create');
  const e = r.createAtLimit.threw;
  t.match(e, { netnsError: true, code: 'EMFILE' }, 'a NetnsError EMFILE');
  t.notMatch(e?.message ?? '', /rootless/i, `the message says nothing about rootless mode: ${e?.message}`);
  t.same(r.createAfter, { value: { rootless: false, value: 7200 } }, 'after freeing fds: an ordinary namespace');
});

// ---- 2. a stopped and a killed rootless helper ----

t.test(
  'a stopped rootless helper: Promise forms do not block, time out, the helper is torn down, no late reply is misattributed',
  async (t) => {
    // A helper's reply timeout is 10 s; this helper's 2 s (NETNS_ROOTLESS_TIMEOUT_MS, read
    // when it starts), so that the test waits 2 s on it, not 10, on each Node line.
    const before = process.env.NETNS_ROOTLESS_TIMEOUT_MS;
    process.env.NETNS_ROOTLESS_TIMEOUT_MS = '2000';
    let pair: ReturnType<typeof rootlessPair>;
    try {
      pair = rootlessPair(t);
    } finally {
      if (before === undefined) delete process.env.NETNS_ROOTLESS_TIMEOUT_MS;
      else process.env.NETNS_ROOTLESS_TIMEOUT_MS = before;
    }
    const { ns, oracle, pid } = pair;
    process.env.NETNS_ROOTLESS_TIMEOUT_MS = '2s';
    try {
      t.throws(
        () => NetNamespace.create({ rootless: true }),
        RangeError,
        'a timeout that is not whole milliseconds: no helper',
      );
    } finally {
      if (before === undefined) delete process.env.NETNS_ROOTLESS_TIMEOUT_MS;
      else process.env.NETNS_ROOTLESS_TIMEOUT_MS = before;
    }
    t.equal(ns.sysctl.get(C), 9, 'the helper answers (C cached)');
    process.kill(pid, 'SIGSTOP');
    let ticks = 0;
    const iv = setInterval(() => ticks++, 10);
    t.teardown(() => clearInterval(iv));
    const t0 = performance.now();
    const pA = settle(ns.sysctl.getAsync(A)); // A is not cached: needs the helper
    const pS = settle(ns.sysctl.setAsync(B, 1234));
    const syncMs = performance.now() - t0;
    t.ok(
      syncMs < NO_BLOCK_MS,
      `getAsync/setAsync returned at once (${syncMs.toFixed(0)} ms): the JS thread is not blocked`,
    );
    const [rA, rS] = await Promise.all([pA, pS]);
    const waited = performance.now() - t0;
    t.ok(waited >= 1900, `the helper was given its 2 s before the timeout (${waited.toFixed(0)} ms)`);
    clearInterval(iv);
    t.ok(
      ticks >= Math.min(50, waited / 40),
      `the event loop kept running while they waited (${ticks} ticks in ${waited.toFixed(0)} ms)`,
    );
    t.equal(codeOf(rA), 'ETIMEDOUT', `the request to a stopped helper times out: ${String(rA.error ?? rA.value)}`);
    t.ok(rS.error instanceof NetnsError, `the call queued behind it rejects too: ${String(rS.error ?? rS.value)}`);
    t.ok(await gone(pid, 5000), `the helper was torn down (state now ${procState(pid)})`);
    try {
      process.kill(pid, 'SIGCONT'); // had it survived, its late replies would now arrive
    } catch {
      /* gone, as it should be */
    }
    await sleep(200);
    let gB: unknown;
    try {
      gB = ns.sysctl.get(B);
    } catch (e) {
      gB = e;
    }
    t.not(gB, oracle.sysctl.get(A), "get(B) never returns A's value");
    if (typeof gB === 'number') t.equal(gB, oracle.sysctl.get(B), "get(B) is B's value");
    else t.type(gB, NetnsError, `get(B) fails cleanly: ${String(gB)}`);
    let sB: unknown;
    try {
      sB = ns.sysctl.set(B, 1111);
    } catch (e) {
      sB = e;
    }
    t.equal(oracle.sysctl.get(A), 7200, 'set(B) never wrote A');
    if (typeof sB === 'number') t.equal(oracle.sysctl.get(B), 1111, 'set(B) wrote B');
    else t.type(sB, NetnsError, `set(B) fails cleanly: ${String(sB)}`);
  },
);

t.test('a rootless helper killed under load: pending calls reject, nothing blocks, the helper is reaped', async (t) => {
  const { ns, pid } = rootlessPair(t);
  t.equal(ns.sysctl.get(C), 9);
  process.kill(pid, 'SIGSTOP');
  // Killed from outside while the calls wait (a timer here could not fire if the thread were held).
  const killer = spawn('sh', ['-c', `sleep 1; kill -9 ${pid}`], { stdio: 'ignore' });
  t.teardown(() => killer.kill('SIGKILL'));
  const keys = [A, B, 'net.ipv4.tcp_fin_timeout', 'net.core.somaxconn', 'net.ipv4.tcp_syn_retries', 'net.ipv4.tcp_ecn'];
  const t0 = performance.now();
  const pending = [
    ...keys.map((k) => settle(ns.sysctl.getAsync(k))),
    settle(ns.sysctl.setAsync('net.ipv4.tcp_fin_timeout', 33)),
    settle(ns.sysctl.getAllAsync('net.ipv4.neigh')),
    settle(ns.sysctl.openAsync('net.ipv4.tcp_retries1')),
  ];
  const syncMs = performance.now() - t0;
  t.ok(syncMs < NO_BLOCK_MS, `${pending.length} Promise calls returned at once (${syncMs.toFixed(0)} ms)`);
  const res = await Promise.all(pending);
  t.ok(
    res.every((r) => r.error instanceof NetnsError),
    `every pending call rejected with a NetnsError: ${res.map((r) => codeOf(r) ?? 'resolved').join(', ')}`,
  );
  t.ok(await gone(pid, 3000), `the dead helper was reaped without close() (state ${procState(pid)})`);
  const t1 = performance.now();
  const later = await settle(ns.sysctl.getAsync('net.ipv4.tcp_retries2'));
  t.ok(later.error instanceof NetnsError, `a later call rejects: ${String(later.error)}`);
  t.ok(performance.now() - t1 < 2000, 'promptly');
  t.throws(() => ns.sysctl.get('net.ipv4.tcp_retries2'), NetnsError, 'and so does the sync form');
});

// ---- 3. compound and single Promise operations interleaved ----

for (const kind of ['ordinary', 'rootless'] as const) {
  const make = (t: Test): NetNamespace => {
    if (kind === 'rootless') return rootlessPair(t).ns;
    const ns = NetNamespace.create();
    t.teardown(() => ns.close());
    return ns;
  };

  t.test(`${kind}: setManyAsync then setAsync on the same key keep call order`, async (t) => {
    const ns = make(t);
    const order: string[] = [];
    const p1 = ns.sysctl.setManyAsync({ [A]: 600 }).then((r) => {
      order.push('setMany');
      return r;
    });
    const p2 = ns.sysctl.setAsync(A, 700).then((v) => {
      order.push('set');
      return v;
    });
    const [r1, r2] = await Promise.all([p1, p2]);
    t.same(r1.changed, [A]);
    t.equal(r2, 700);
    t.same(order, ['setMany', 'set'], 'settled in call order');
    t.equal(ns.sysctl.get(A), 700, 'the later write wins');
  });

  t.test(`${kind}: a failing setManyAsync's rollback does not undo a later setAsync`, async (t) => {
    const ns = make(t);
    const old = ns.sysctl.get('net.core.somaxconn');
    const p1 = settle(
      ns.sysctl.setManyAsync([
        ['net.core.somaxconn', 1111],
        [A, 99999999999999],
      ]),
    );
    const p2 = ns.sysctl.setAsync('net.core.somaxconn', 2222);
    const [r1, r2] = await Promise.all([p1, p2]);
    t.equal(codeOf(r1), 'EINVAL', 'the batch failed at its second key');
    t.same((r1.error as NetnsError).rolledBack, ['net.core.somaxconn'], 'and rolled back its first');
    t.equal(r2, 2222, 'setAsync reported 2222');
    t.equal(ns.sysctl.get('net.core.somaxconn'), 2222, `the value is 2222 (was ${old}), not the rollback's snapshot`);
  });

  t.test(`${kind}: getAllAsync on a single key (walk, then read) sees the value before a later setAsync`, async (t) => {
    const ns = make(t);
    const before = ns.sysctl.get('net.core.somaxconn');
    const p1 = ns.sysctl.getAllAsync('net.core.somaxconn');
    const p2 = ns.sysctl.setAsync('net.core.somaxconn', 777);
    const [snap] = await Promise.all([p1, p2]);
    t.same(snap.values, { 'net.core.somaxconn': before }, 'the read ran where it was called, before the write');
    t.equal(ns.sysctl.get('net.core.somaxconn'), 777);
  });

  t.test(
    `${kind}: getAllAsync of the whole tree sees the value before a later setAsync, and after an earlier one`,
    async (t) => {
      const ns = make(t);
      const before = ns.sysctl.get('net.core.somaxconn');
      const p0 = ns.sysctl.setAsync('net.core.somaxconn', 555);
      const p1 = ns.sysctl.getAllAsync();
      const p2 = ns.sysctl.setAsync('net.core.somaxconn', 777);
      const p3 = ns.sysctl.getAllAsync();
      const [, a, , b] = await Promise.all([p0, p1, p2, p3]);
      t.not(before, 555);
      t.equal(
        a.values['net.core.somaxconn'],
        555,
        'the first walk ran after the earlier write and before the later one',
      );
      t.equal(b.values['net.core.somaxconn'], 777, 'the second walk after the later write');
    },
  );
}

t.test(
  'a walk of the whole tree is one job: it does not hold back later Promise forms, a compound one does',
  async (t) => {
    const ns = NetNamespace.create();
    t.teardown(() => ns.close());
    const submitted: string[] = [];
    const orig = native.sysctlReadAsync;
    native.sysctlReadAsync = (...args: Parameters<typeof orig>) => {
      submitted.push('read');
      return orig(...args);
    };
    t.teardown(() => {
      native.sysctlReadAsync = orig;
    });
    const w = ns.sysctl.getAllAsync();
    const r = ns.sysctl.getAsync('net.core.somaxconn');
    t.same(submitted, ['read'], 'the read behind a walk of the whole tree is submitted at once');
    const [snap, v] = await Promise.all([w, r]);
    t.equal(v, snap.values['net.core.somaxconn'], 'and both saw the same value');
    // A walk of a prefix may need a second step (the prefix is a key): later calls wait for it.
    submitted.length = 0;
    const w2 = ns.sysctl.getAllAsync('net.core');
    const r2 = ns.sysctl.getAsync('net.core.somaxconn');
    t.same(submitted, [], 'the read behind a walk of a prefix waits');
    const [snap2, v2] = await Promise.all([w2, r2]);
    t.same(submitted, ['read'], 'and is submitted once the walk has ended');
    t.equal(v2, snap2.values['net.core.somaxconn']);
  },
);

/**
 * Foreign reads fail as if setns had refused entry, once `close()` has run and the read's fd
 * number has gone to a handle on the caller's own namespace (lower numbers freed meanwhile are
 * taken first); `later` fails them on the next turn instead of at submission. Reads without a
 * switch answer 1. `calls`: the fd each read was submitted with.
 */
function refusedAfterReuse(t: Test, close: () => void, later: boolean) {
  const orig = native.sysctlReadAsync;
  const calls: number[] = [];
  const opened: NetNamespace[] = [];
  t.teardown(() => {
    native.sysctlReadAsync = orig;
    for (const h of opened) h.close();
  });
  const refuse = (fd: number): Promise<never> => {
    close();
    while (opened.length < 16 && opened.at(-1)?.fd !== fd) opened.push(NetNamespace.current());
    const e = Object.assign(new Error('EPERM: operation not permitted, setns'), {
      nativeErrno: true,
      errno: 1,
      code: 'EPERM',
      syscall: 'setns',
    });
    return Promise.reject(e);
  };
  native.sysctlReadAsync = (fd: number) => {
    calls.push(fd);
    if (fd < 0) return Promise.resolve('1\n');
    return later ? new Promise((r) => setImmediate(r)).then(() => refuse(fd)) : refuse(fd);
  };
  return { calls, reused: () => opened.at(-1)?.fd };
}

t.test(
  "a refused entry is retried in the caller's namespace only if the handle was that namespace, not whatever its fd number is now",
  async (t) => {
    const ns = NetNamespace.create();
    t.teardown(() => ns.close());
    // While the job is queued the handle is closed and its fd number reused.
    const r = refusedAfterReuse(t, () => ns.close(), false);
    const s = await settle(ns.sysctl.getAsync('net.core.somaxconn'));
    t.equal(r.reused(), r.calls[0], "the closed handle's fd number now names the caller's namespace");
    t.equal(codeOf(s), 'EPERM', 'the refusal is reported');
    t.same(r.calls.length, 1, "and the read is not made again in the caller's namespace");
  },
);

t.test(
  'the same, for a Promise form that waited behind a compound one (its pinned dup is closed once submitted)',
  async (t) => {
    const [ns, other] = [NetNamespace.create(), NetNamespace.create()];
    t.teardown(() => void [ns.close(), other.close()]);
    const r = refusedAfterReuse(t, () => {}, true);
    const compound = other.sysctl.setManyAsync({ 'net.core.somaxconn': 1234 });
    const s = await settle(ns.sysctl.getAsync('net.core.somaxconn'));
    await compound;
    t.not(r.calls[0], ns.fd, "the read was given a pinned dup, not the handle's fd");
    t.equal(r.reused(), r.calls[0], "whose number now names the caller's namespace");
    t.equal(codeOf(s), 'EPERM', 'the refusal is reported');
    t.same(r.calls.length, 1, "and the read is not made again in the caller's namespace");
  },
);

// ---- 4. inputs that change between reads ----

/** A structured key whose `prop` answers `good` the first `n` times, then `bad`. */
function fickle(prop: 'family' | 'iface' | 'key', n: number, bad: string): Record<string, string> {
  const good: Record<string, string> = { family: 'ipv4', iface: 'lo', key: 'rp_filter' };
  const k: Record<string, string> = { ...good };
  let reads = 0;
  Object.defineProperty(k, prop, { enumerable: true, get: () => (reads++ < n ? good[prop]! : bad) });
  return k;
}

t.test('structured keys with getters that change their answer: validated once, used as validated', async (t) => {
  using ns = NetNamespace.create();
  const want = ns.sysctl.get('net.ipv4.conf.lo.rp_filter');
  const bad = { family: 'x/../../../kernel', iface: '../../../../kernel', key: '../../../../kernel/hostname' } as const;
  const escaped: string[] = [];
  for (const prop of ['family', 'iface', 'key'] as const) {
    for (let n = 1; n <= 7; n++) {
      for (const form of ['sync', 'async'] as const) {
        const k = fickle(prop, n, bad[prop]) as never;
        let r: Settled;
        try {
          r = form === 'sync' ? { value: ns.sysctl.get(k) } : await settle(ns.sysctl.getAsync(k));
        } catch (e) {
          r = { error: e };
        }
        const fine = r.value === want || r.error instanceof RangeError || r.error instanceof TypeError;
        if (!fine) escaped.push(`${prop} after ${n} reads (${form}): ${String(r.error ?? r.value)}`);
      }
    }
  }
  t.same(escaped, [], 'every case used the validated value or was refused before any open');
});

t.test('a Proxy key and Proxy options are each read once per call', async (t) => {
  using ns = NetNamespace.create();
  const counted = <T extends object>(target: T): { proxy: T; reads: Map<string, number> } => {
    const reads = new Map<string, number>();
    const proxy = new Proxy(target, {
      get(o, p, recv) {
        if (typeof p === 'string') reads.set(p, (reads.get(p) ?? 0) + 1);
        return Reflect.get(o, p, recv) as unknown;
      },
    });
    return { proxy, reads };
  };
  const many = (reads: Map<string, number>): string[] =>
    [...reads].filter(([, n]) => n > 1).map(([p, n]) => `${p} ×${n}`);
  for (const call of ['get', 'getAsync', 'set', 'open', 'list'] as const) {
    const { proxy, reads } = counted({ family: 'ipv4', iface: 'lo', key: 'rp_filter', section: 'conf' as const });
    if (call === 'get') ns.sysctl.get(proxy);
    else if (call === 'getAsync') await ns.sysctl.getAsync(proxy);
    else if (call === 'set') ns.sysctl.set(proxy, 0);
    else if (call === 'open') ns.sysctl.open(proxy).close();
    else ns.sysctl.list(proxy);
    t.same(many(reads), [], `${call}: every property of the key read once`);
  }
  {
    const { proxy, reads } = counted({ rootless: false });
    NetNamespace.create(proxy).close();
    t.same(many(reads), [], 'NetNamespace.create: every option read once');
  }
  {
    const { proxy, reads } = counted({ ignoreMissing: true });
    ns.sysctl.setMany({ 'net.ipv4.conf.lo.rp_filter': 0 }, proxy);
    t.same(many(reads), [], 'setMany: every option read once');
  }
});

// ---- 5. Promise forms report argument errors by rejecting ----

t.test('every Promise form rejects on bad arguments instead of throwing synchronously', async (t) => {
  using ns = NetNamespace.create();
  const { ns: rl } = rootlessPair(t);
  using h = ns.sysctl.open(A);
  const calls: [string, () => Promise<unknown>][] = [];
  for (const [label, s] of [
    ['host', sysctl],
    ['namespace', ns.sysctl],
    ['rootless', rl.sysctl],
  ] as const) {
    const bad = s as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    calls.push(
      [`${label} getAsync(42)`, () => bad.getAsync!(42)],
      [`${label} getAsync('../etc')`, () => bad.getAsync!('net/../etc')],
      [`${label} getRawAsync({})`, () => bad.getRawAsync!({})],
      [`${label} setAsync(key, {})`, () => bad.setAsync!(A, {})],
      [`${label} setAsync(null, 1)`, () => bad.setAsync!(null, 1)],
      [`${label} listAsync(42)`, () => bad.listAsync!(42)],
      [`${label} listAsync('kernel')`, () => bad.listAsync!('kernel.hostname')],
      [`${label} getAllAsync({})`, () => bad.getAllAsync!({})],
      [`${label} getAllAsync('net/../x')`, () => bad.getAllAsync!('net/../x')],
      [`${label} setManyAsync(null)`, () => bad.setManyAsync!(null)],
      [`${label} setManyAsync({'kernel.x': 1})`, () => bad.setManyAsync!({ 'kernel.x': 1 })],
      [`${label} setManyAsync(ok, 5)`, () => bad.setManyAsync!({ [A]: 7200 }, 5)],
      [`${label} openAsync([])`, () => bad.openAsync!([])],
    );
  }
  calls.push(
    ['handle.writeAsync({})', () => h.writeAsync({} as never)],
    ['cloneNetns(5)', () => cloneNetns(5 as never)],
  );
  for (const [label, fn] of calls) {
    let p: Promise<unknown>;
    try {
      p = fn();
    } catch (e) {
      t.fail(`${label} threw synchronously: ${String(e)}`);
      continue;
    }
    t.ok(p instanceof Promise, `${label} returned a Promise`);
    const r = await settle(p);
    t.ok(
      r.error instanceof TypeError || r.error instanceof RangeError,
      `${label} rejected with an argument error: ${String(r.error ?? r.value)}`,
    );
  }
});

// ---- 6. the same classes of bug, found elsewhere ----

t.test('a compound Promise operation called inside runSync runs wholly in that namespace', async (t) => {
  // The host `sysctl` object targets "where the calling thread is". Its later phases used to be
  // submitted after runSync had returned, so they ran on the host. The value written is the
  // host's own: even with the bug, the host does not change.
  const K = 'net.ipv4.tcp_fin_timeout';
  const host = sysctl.get(K) as number;
  using ns = NetNamespace.create();
  ns.sysctl.set(K, host + 1);
  let p!: Promise<unknown>;
  ns.runSync(() => {
    p = sysctl.setManyAsync({ [K]: host });
  });
  const r = (await p) as { changed: string[] };
  t.same(r.changed, [K]);
  t.equal(ns.sysctl.get(K), host, 'written in the namespace runSync was in');
  t.equal(sysctl.get(K), host, 'the host kept its value');
});

t.test('a Promise form held back by a compound one still runs where and on what it was called', async (t) => {
  using a = NetNamespace.create();
  using b = NetNamespace.create();
  b.sysctl.set(A, 1234);
  const compound = a.sysctl.getAllAsync('net.ipv4'); // holds later calls back until it ends
  let inside!: Promise<unknown>;
  b.runSync(() => {
    inside = sysctl.getAsync(A); // called inside b: must read b, however late it is submitted
  });
  const c = NetNamespace.fromFd(b.fd);
  const late = c.sysctl.getAsync(A);
  c.close(); // closed right after the call: the call keeps its own hold
  await compound;
  t.equal(await inside, 1234, 'read inside b');
  t.equal(await late, 1234, 'a handle closed after the call does not fail the call');
});

t.test('values, cloneNetns and rootless spawn read their inputs once', async (t) => {
  using ns = NetNamespace.create();
  const before = ns.sysctl.get('net.ipv4.ip_local_port_range');
  let lengthReads = 0;
  const growing = new Proxy([20000, 30000, 40000], {
    get: (o, p, r) => (p === 'length' ? (lengthReads++ < 1 ? 2 : 3) : Reflect.get(o, p, r)),
  });
  let r: Settled;
  try {
    r = { value: ns.sysctl.set('net.ipv4.ip_local_port_range', growing as unknown as [number, number]) };
  } catch (e) {
    r = { error: e };
  }
  t.ok(
    (Array.isArray(r.value) && r.value.join() === '20000,30000') || r.error instanceof RangeError,
    `an array whose length changes is written as checked: ${String(r.error ?? r.value)}`,
  );
  t.ok(
    [before, [20000, 30000]].some(
      (v) => JSON.stringify(v) === JSON.stringify(ns.sysctl.get('net.ipv4.ip_local_port_range')),
    ),
  );

  const reads = new Map<string, number>();
  const opts = new Proxy(
    { read: [A], user: false },
    {
      get: (o, p, rr) => {
        if (typeof p === 'string') reads.set(p, (reads.get(p) ?? 0) + 1);
        return Reflect.get(o, p, rr) as unknown;
      },
    },
  );
  const res = await cloneNetns(opts);
  t.equal(res.values[A], '7200');
  t.same(
    [...reads].filter(([, n]) => n > 1),
    [],
    'cloneNetns: every option read once',
  );

  const { ns: rl } = rootlessPair(t);
  let argReads = 0;
  const args = ['-c', 'exit 3'];
  Object.defineProperty(args, 1, { get: () => (argReads++ < 1 ? 'exit 3' : (42 as unknown as string)) });
  const child = rl.rootless!.spawn('sh', args, { stdio: 'ignore' });
  const exit = await child.exited;
  t.same(exit, { code: 3, signal: null }, 'rootless spawn ran the arguments it checked');
  t.equal(argReads, 1, 'each argument read once');
});
