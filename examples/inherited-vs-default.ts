// npm run demo: which host sysctls a new network namespace inherits, and which it resets.
//
// The lesson (../../shared/seed, "容器中的网络参数") sets four keys on the host, starts a
// container, and finds that only tcp_congestion_control followed: the kernel copies it from
// the initial namespace while tcp_sk_init() resets the keepalive trio to compiled-in defaults.
// This program reproduces that with clone(CLONE_NEWNET) and NetNamespace.create(), shows the
// lesson's two remedies (nsenter -t PID -n, docker run --sysctl), and restores every host
// value it changed, side effects included: in a finally, and on Ctrl-C / SIGTERM. (Setting
// the host's default congestion control makes that algorithm allowed for every namespace:
// tcp_allowed_congestion_control gains it, and putting the default back does not take it
// away. So the demo picks an algorithm already allowed when there is one, and puts the allowed
// list back after restoring the default, which can itself add the original default to it.)
//
// Without root it runs in rootless mode and changes nothing on the host: it compares the
// host's current values with fresh namespaces owned by user namespaces of its own, explains
// them with the kernel's rules, repeats the experiment one level down (sets the four keys
// inside such a namespace and creates a namespace from there), and shows both remedies
// inside rootless namespaces. Without root and without unprivileged user namespaces it says
// what it needs and exits with status 2.
//
//   node dist/examples/inherited-vs-default.js [--json]
//
// NETNS_DEMO_PAUSE_AFTER_HOST_CHANGE=MS makes it print "netns-demo: host changed" on stderr
// and wait MS milliseconds right after changing the host (tests kill it there).
import * as fs from 'node:fs';
import * as os from 'node:os';
import { NetNamespace, NetnsError, cloneNetns, explain, spawnInNetns, sysctl } from 'netns';
import { findRule, type KernelRule, type RuleContext } from 'netns/explain';
import { rootlessSupport } from 'netns/rootless';

const CC = 'net.ipv4.tcp_congestion_control';
/** Global: what a new namespace may choose; setting the host's default adds to it. */
const ALLOWED = 'net.ipv4.tcp_allowed_congestion_control';
const TIME = 'net.ipv4.tcp_keepalive_time';
const INTVL = 'net.ipv4.tcp_keepalive_intvl';
const PROBES = 'net.ipv4.tcp_keepalive_probes';
const KEYS = [CC, TIME, INTVL, PROBES] as const;
type Key = (typeof KEYS)[number];
type Values = Record<Key, string>;
const KEEPALIVE = [TIME, INTVL, PROBES] as const;
/** The keepalive values the lesson sets (congestion control is chosen at run time). */
const LESSON_KEEPALIVE = { [TIME]: 600, [INTVL]: 10, [PROBES]: 6 };

const json = process.argv.includes('--json');
/** Human output; with --json only the final JSON document is printed. */
function say(line = ''): void {
  if (!json) console.log(line);
}

function procPath(key: string): string {
  return '/proc/sys/' + key.replaceAll('.', '/');
}

// ---- privileges ------------------------------------------------------------------------------

/**
 * Whether this process is in the initial user namespace (uid_map "0 0 4294967295"). Root in a
 * user namespace of its own (a rootless container, `unshare -r`) cannot change the host's
 * sysctls: the demo runs rootless there too.
 */
function inInitialUserNamespace(): boolean {
  try {
    return fs.readFileSync('/proc/self/uid_map', 'utf8').trim().split(/\s+/).join(' ') === '0 0 4294967295';
  } catch {
    return false;
  }
}

function needRootOrUserns(reason: string): number {
  const what =
    'This demo needs root (it sets four host sysctls the way the lesson does, briefly, and restores them) ' +
    'or unprivileged user namespaces (it then runs rootless and changes nothing on the host). ' +
    `Neither is available: ${reason}. Run it as root (\`sudo npm run demo\`), or allow user namespaces.`;
  if (json) console.log(JSON.stringify({ ok: false, error: 'needs-root-or-userns', message: what, reason }, null, 2));
  else console.error(`netns demo: ${what}`);
  return 2;
}

// ---- host changes and their restoration ------------------------------------------------------

const original = {} as Values;
/** What we wrote on the host, by key (only keys we actually changed). */
const wrote = new Map<Key, string>();
const restored: { key: Key; from: string; to: string; ok: boolean; note?: string }[] = [];
/** The allowed list as it was before any change, and what restoring it did. */
let originalAllowed: string | undefined;
const sideEffects: { key: string; from: string; to: string; ok: boolean; note?: string }[] = [];
let restoreDone = false;

/** Put back every host value we changed. Synchronous, idempotent, never throws. */
function restoreHost(): void {
  if (restoreDone) return;
  restoreDone = true;
  for (const [key, ours] of [...wrote].reverse()) {
    let now = '?';
    try {
      now = sysctl.getRaw(key);
      if (now !== ours) {
        restored.push({
          key,
          from: now,
          to: original[key],
          ok: false,
          note: 'changed by someone else meanwhile: left alone',
        });
        continue;
      }
      sysctl.set(key, original[key]);
      const back = sysctl.getRaw(key);
      restored.push({ key, from: ours, to: back, ok: back === original[key] });
    } catch (e) {
      restored.push({ key, from: now, to: original[key], ok: false, note: (e as Error).message });
    }
  }
  restoreAllowed();
}

/**
 * Put tcp_allowed_congestion_control back when setting (and restoring) the default made it
 * grow: only if it holds nothing but the original list and the algorithms we set, else someone
 * else changed it meanwhile and it is left alone.
 */
function restoreAllowed(): void {
  if (originalAllowed === undefined || !wrote.has(CC)) return;
  let now = '?';
  try {
    now = sysctl.getRaw(ALLOWED);
    if (now === originalAllowed) return;
    const ours = new Set([...words(originalAllowed), original[CC], wrote.get(CC)!]);
    if (!words(now).every((a) => ours.has(a))) {
      sideEffects.push({
        key: ALLOWED,
        from: now,
        to: originalAllowed,
        ok: false,
        note: 'changed by someone else meanwhile: left alone',
      });
      return;
    }
    sysctl.set(ALLOWED, originalAllowed);
    const back = sysctl.getRaw(ALLOWED);
    sideEffects.push({ key: ALLOWED, from: now, to: back, ok: back === originalAllowed });
  } catch (e) {
    sideEffects.push({ key: ALLOWED, from: now, to: originalAllowed, ok: false, note: (e as Error).message });
  }
}

function words(s: string): string[] {
  return s.split(/\s+/).filter(Boolean);
}

function printRestored(): void {
  const w = Math.max(...KEYS.map((k) => k.length));
  say(`Host restored: ${wrote.size} key(s) changed, ${restored.filter((r) => r.ok).length} restored.`);
  const inOrder = KEYS.flatMap((k) => restored.filter((r) => r.key === k));
  const change = (r: (typeof restored)[number]): string => `${r.from} -> ${r.to}`;
  const cw = Math.max(0, ...inOrder.map((r) => change(r).length));
  for (const r of inOrder)
    say(`   ${r.key.padEnd(w)}  ${change(r).padEnd(cw)}  ${r.ok ? '✔ restored' : '✘ ' + (r.note ?? 'NOT restored')}`);
  for (const r of sideEffects)
    say(
      `   ${r.key} (a side effect: the default was made allowed)  ${r.from} -> ${r.to}  ${r.ok ? '✔ restored' : '✘ ' + (r.note ?? 'NOT restored')}`,
    );
  const missed = [...restored, ...sideEffects].filter((r) => !r.ok);
  if (missed.length)
    say(`   restore by hand: ${missed.map((r) => `sysctl -w ${r.key}=${JSON.stringify(r.to)}`).join('; ')}`);
}

function onSignal(sig: NodeJS.Signals): void {
  restoreHost();
  if (!json) {
    say('');
    say(`Interrupted by ${sig}.`);
    printRestored();
  } else {
    console.log(
      JSON.stringify({ ok: false, interrupted: sig, changed: [...wrote.keys()], restored, sideEffects }, null, 2),
    );
  }
  process.exit(sig === 'SIGINT' ? 130 : 143);
}

// ---- the demo -------------------------------------------------------------------------------

/**
 * Another algorithm for the host's default: one already allowed when there is one (setting the
 * default makes it allowed for every namespace), else any available one (the allowed list is
 * put back afterwards either way).
 */
function pickAlgorithm(current: string): string {
  const allowed = pickAllowedAlgorithm(current);
  if (allowed !== undefined) return allowed;
  const available = words(sysctl.getRaw('net.ipv4.tcp_available_congestion_control'));
  for (const a of ['bbr', 'cubic', 'reno']) if (a !== current && available.includes(a)) return a;
  const other = available.find((a) => a !== current);
  if (!other) throw new Error(`only ${current} is available: cannot show congestion control following the host`);
  return other;
}

function readAll(read: (k: Key) => string): Values {
  const v = {} as Values;
  for (const k of KEYS) v[k] = read(k);
  return v;
}

function verdict(ns: string, host: string, baseline: string): string {
  if (ns === host) return 'inherited from host';
  if (ns === baseline) return 'reset to kernel default';
  return 'neither host nor default';
}

/** The stdout lines of a child (a ChildProcess or a RootlessChild), one at a time. */
function lines(child: { stdout: NodeJS.ReadableStream | null }): AsyncIterator<string> {
  let buf = '';
  const queue: string[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string | Buffer) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      queue.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
    wake?.();
  });
  child.stdout!.on('end', () => {
    ended = true;
    wake?.();
  });
  return {
    async next(): Promise<IteratorResult<string>> {
      while (queue.length === 0 && !ended) await new Promise<void>((r) => (wake = r));
      if (queue.length) return { value: queue.shift()!, done: false };
      return { value: undefined, done: true };
    },
  };
}

async function main(): Promise<number> {
  if (process.platform !== 'linux') {
    console.error('netns demo: Linux only');
    return 2;
  }
  if (process.geteuid?.() !== 0 || !inInitialUserNamespace()) {
    const support = rootlessSupport();
    if (!support.available) return needRootOrUserns(support.reason ?? 'user namespaces are not available');
    return runRootless();
  }
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, onSignal);
  process.on('exit', restoreHost); // last resort (an uncaught error): restore synchronously

  say('netns demo: which host sysctls does a new network namespace inherit?');
  say('(the lesson "容器中的网络参数": only tcp_congestion_control follows the host into a container)');
  say('');
  try {
    const here = NetNamespace.current();
    let initial: NetNamespace | undefined;
    try {
      initial = NetNamespace.fromPid(1);
    } catch {
      /* pid 1 not inspectable: assume we are on the host */
    }
    if (initial && !initial.equals(here))
      say(
        "Note: this process is not in pid 1's network namespace. New namespaces copy from the INITIAL namespace, not from here.\n",
      );
    here.close();
    initial?.close();

    // 1. The host's values, and what a new namespace gets while the host holds them.
    Object.assign(
      original,
      readAll((k) => sysctl.getRaw(k)),
    );
    originalAllowed = sysctl.getRaw(ALLOWED);
    const baseline = await cloneNetns({ read: KEYS });
    for (const e of Object.values(baseline.errors)) throw e;
    const w = Math.max(...KEYS.map((k) => k.length));
    say('1. Host values now (and in a namespace cloned before any change):');
    for (const k of KEYS) say(`   ${k.padEnd(w)}  ${original[k].padEnd(6)}  (new namespace: ${baseline.values[k]})`);
    say('');

    // 2. Change the host as the lesson does.
    const target: Values = {
      [CC]: pickAlgorithm(original[CC]),
      [TIME]: String(LESSON_KEEPALIVE[TIME]),
      [INTVL]: String(LESSON_KEEPALIVE[INTVL]),
      [PROBES]: String(LESSON_KEEPALIVE[PROBES]),
    };
    say('2. Setting them on the host as the lesson does (restored at the end, also on Ctrl-C / SIGTERM):');
    say(
      `   if this process is killed with SIGKILL, restore by hand: ${KEYS.map((k) => `sysctl -w ${k}=${original[k]}`).join('; ')}`,
    );
    for (const k of KEYS) {
      if (original[k] === target[k]) continue;
      wrote.set(k, target[k]); // before the write: a signal in between still restores it
      sysctl.set(k, target[k]);
      wrote.set(k, sysctl.getRaw(k));
    }
    const host = readAll((k) => sysctl.getRaw(k));
    const change = (k: Key): string => `${original[k]} -> ${host[k]}`;
    const cw = Math.max(...KEYS.map((k) => change(k).length));
    for (const k of KEYS) say(`   ${k.padEnd(w)}  ${change(k).padEnd(cw)}  (echo ${host[k]} > ${procPath(k)})`);
    say('');
    const pause = Number(process.env.NETNS_DEMO_PAUSE_AFTER_HOST_CHANGE ?? 0);
    if (pause > 0) {
      process.stderr.write('netns-demo: host changed\n');
      await new Promise((r) => setTimeout(r, pause));
    }

    // 3. Two new namespaces.
    const cloned = await cloneNetns({ read: KEYS });
    for (const e of Object.values(cloned.errors)) throw e;
    const created = NetNamespace.create();
    let createdValues: Values;
    try {
      createdValues = readAll((k) => created.sysctl.getRaw(k));
    } finally {
      created.close();
    }
    say('3. Two new network namespaces, made while the host holds the new values:');
    say(`   clone(CLONE_NEWNET | SIGCHLD): child pid ${cloned.pid}, net ${cloned.netnsId} (gone with the child)`);
    say(`   NetNamespace.create():         net ${created.id}`);
    say('');
    const rows = KEYS.map((k) => {
      const v1 = verdict(cloned.values[k]!, host[k], baseline.values[k]!);
      const v2 = verdict(createdValues[k], host[k], baseline.values[k]!);
      return {
        key: k,
        host: host[k],
        clone: cloned.values[k]!,
        create: createdValues[k],
        verdict: v1 === v2 ? v1 : `clone: ${v1}; create: ${v2}`,
      };
    });
    printTable(rows);
    say('');

    // 4. Remedy 1: from the host, into a running "container" by pid (nsenter -t PID -n).
    const container = spawnInNetns(
      'sh',
      [
        '-c',
        `
      show() { echo "$(cat ${procPath(TIME)}) $(cat ${procPath(INTVL)}) $(cat ${procPath(PROBES)})"; }
      show; read _go; show`,
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const it = lines(container.child);
    const before = (await it.next()).value as string;
    const pid = container.child.pid!;
    const target1 = NetNamespace.fromPid(pid);
    let nsenter;
    try {
      nsenter = target1.sysctl.setMany(LESSON_KEEPALIVE);
    } finally {
      target1.close();
    }
    container.child.stdin!.end('go\n');
    const after = (await it.next()).value as string;
    await container.exited;
    const want = KEEPALIVE.map((k) => String(LESSON_KEEPALIVE[k])).join(' ');
    say(`4. Remedy 1, as \`nsenter -t ${pid} -n sysctl -w …\`: change a running container's namespace by pid`);
    say(`   container (pid ${pid}) sees at start:  ${before}`);
    say(`   NetNamespace.fromPid(${pid}).sysctl.setMany(${JSON.stringify(LESSON_KEEPALIVE)})`);
    say(`   container now sees from inside:  ${after}  ${after === want ? '✔' : '✘ expected ' + want}`);
    say('');

    // 5. Remedy 2: start a command with the four values preset (docker run --sysctl).
    const presets = { ...LESSON_KEEPALIVE, [CC]: target[CC] };
    const { sees, ok: ok2, exit } = await catWithPresets(presets);
    say(`5. Remedy 2, as \`docker run --sysctl …\`: start a command with the values preset`);
    say(`   spawnInNetns('sh', ['-c', 'cat …'], { sysctl: ${JSON.stringify(presets)} })`);
    say(
      `   the command's own first read: ${KEYS.map((k) => sees[k]).join(' ')}  ${ok2 ? '✔' : '✘'} (exit ${exit.code})`,
    );
    say('');

    restoreHost();
    printRestored();
    if (json) {
      console.log(
        JSON.stringify(
          {
            ok: true,
            mode: 'root',
            original,
            baseline: { pid: baseline.pid, netnsId: baseline.netnsId, values: baseline.values },
            host,
            clone: { pid: cloned.pid, netnsId: cloned.netnsId, values: cloned.values },
            create: { netnsId: created.id, values: createdValues },
            table: rows,
            remedies: {
              nsenter: { pid, before: split3(before), set: nsenter.values, after: split3(after) },
              dockerSysctl: { presets, seen: sees, exitCode: exit.code },
            },
            changed: [...wrote.keys()],
            restored,
            sideEffects,
          },
          null,
          2,
        ),
      );
    }
    return [...restored, ...sideEffects].every((r) => r.ok) ? 0 : 1;
  } finally {
    restoreHost();
  }
}

/** One row of the table: a key, its host value, its value in the two new namespaces, why. */
interface Row {
  key: string;
  host: string;
  clone: string;
  create: string;
  verdict: string;
}

function printTable(rows: Row[]): void {
  const cols = ['key', 'host', 'clone', 'create', 'verdict'] as const;
  const head: Row = { key: 'key', host: 'host', clone: 'clone', create: 'create', verdict: 'verdict' };
  const width = Object.fromEntries(cols.map((c) => [c, Math.max(...[head, ...rows].map((r) => r[c].length))]));
  const fmt = (r: Row): string => '   ' + cols.map((c) => (c === 'verdict' ? r[c] : r[c].padEnd(width[c]!))).join('  ');
  say(fmt(head));
  say('   ' + cols.map((c) => '-'.repeat(width[c]!)).join('  '));
  for (const r of rows) say(fmt(r));
}

// ---- without root: rootless mode ---------------------------------------------------------------

/** The compiled-in keepalive constants of include/net/tcp.h, set by tcp_sk_init(). */
const KERNEL_DEFAULT: Partial<Values> = { [TIME]: '7200', [INTVL]: '75', [PROBES]: '9' };

function kernelContext(): RuleContext {
  const m = /^(\d+)\.(\d+)/.exec(os.release());
  let devconfInherit = 0;
  try {
    devconfInherit = Number(sysctl.getRaw('net.core.devconf_inherit_init_net'));
  } catch {
    /* absent before 5.1 */
  }
  return { kernel: m ? [Number(m[1]), Number(m[2])] : [0, 0], devconfInherit };
}

/** How a key is explained: explain() when it works here, else the kernel rule itself. */
interface Why {
  key: Key;
  by: 'explain' | 'kernel-rule';
  class: string;
  rule: string | null;
  where: string | null;
  sentence: string;
}

/**
 * explain() classifies by walking a fresh namespace with setns(), which needs CAP_SYS_ADMIN:
 * when it refuses, the kernel rules behind it (lib/explain/rules.ts) are used directly.
 */
function why(key: Key, ctx: RuleContext): { why: Why; explainError?: string } {
  try {
    const e = explain(key);
    const r = e.evidence.rule;
    return {
      why: {
        key,
        by: 'explain',
        class: e.class,
        rule: r?.id ?? null,
        where: r ? `${r.fn}() in ${r.file}` : null,
        sentence: e.sentence,
      },
    };
  } catch (err) {
    const rule: KernelRule | undefined = findRule(key.slice('net.'.length).replaceAll('.', '/'), ctx);
    const cls = rule ? (typeof rule.class === 'function' ? rule.class(ctx, key) : rule.class) : 'unknown';
    const { errno, syscall } = err as { errno?: unknown; syscall?: unknown };
    const name = Object.entries(os.constants.errno).find(
      ([, v]) => typeof errno === 'number' && v === Math.abs(errno),
    )?.[0];
    const code = err instanceof NetnsError ? err.code : (name ?? (err as Error)?.message);
    const from = typeof syscall === 'string' ? ` from ${syscall}` : '';
    return {
      why: {
        key,
        by: 'kernel-rule',
        class: cls,
        rule: rule?.id ?? null,
        where: rule ? `${rule.fn}() in ${rule.file}` : null,
        sentence: rule?.explanation ?? 'no kernel rule known for this key',
      },
      explainError: `${code}${from}`,
    };
  }
}

function rootlessVerdict(w: Why, value: string, host: string, key: Key): string {
  if (w.class === 'inherited' && value === host) return 'inherited from host';
  if (w.class === 'default' && value === KERNEL_DEFAULT[key]) return 'reset to kernel default';
  if (value === host) return 'same as host';
  return 'neither host nor default';
}

/** Congestion control algorithms a non-initial namespace may choose (tcp_allowed_congestion_control). */
function pickAllowedAlgorithm(current: string): string | undefined {
  const allowed = words(sysctl.getRaw(ALLOWED));
  return (
    ['bbr', 'cubic', 'reno'].find((a) => a !== current && allowed.includes(a)) ?? allowed.find((a) => a !== current)
  );
}

/** A refusal to make user namespaces at run time (seccomp, AppArmor...): what we need. */
function isUsernsRefusal(e: unknown): e is NetnsError {
  return (
    e instanceof NetnsError &&
    (e.syscall === 'clone' || (e.syscall === 'write' && /_map$|setgroups$/.test(e.path ?? '')))
  );
}

async function runRootless(): Promise<number> {
  try {
    return await rootless();
  } catch (e) {
    if (isUsernsRefusal(e)) return needRootOrUserns(e.message);
    throw e;
  }
}

async function rootless(): Promise<number> {
  const me = `uid ${process.geteuid?.()}`;
  say('netns demo: which host sysctls does a new network namespace inherit?');
  say('(the lesson "容器中的网络参数": only tcp_congestion_control follows the host into a container)');
  say('');
  say(`Rootless mode (${me}, not root on the host): nothing on the host is changed. The host's values are`);
  say('only read; every namespace below is owned by a user namespace of our own, in which we are root.');
  say('');

  // 1. The host's values, read only.
  const before = readAll((k) => sysctl.getRaw(k));
  const w = Math.max(...KEYS.map((k) => k.length));
  say('1. Host values now (read, not changed):');
  for (const k of KEYS) say(`   ${k.padEnd(w)}  ${before[k]}`);
  say('');

  // 2. Two new namespaces, both rootless.
  const cloned = await cloneNetns({ user: true, read: KEYS });
  for (const e of Object.values(cloned.errors)) throw e;
  const created = NetNamespace.create({ rootless: true });
  let createdValues: Values;
  let helper: { pid: number; uid: number; userNsId: string };
  try {
    createdValues = readAll((k) => created.sysctl.getRaw(k));
    helper = { pid: created.rootless!.pid, uid: created.rootless!.uid, userNsId: created.rootless!.userNsId };
  } finally {
    created.close();
  }
  const host = readAll((k) => sysctl.getRaw(k));
  const ctx = kernelContext();
  const whys = KEYS.map((k) => why(k, ctx));
  const explainError = whys.find((x) => x.explainError)?.explainError;
  const rows: Row[] = KEYS.map((k, i) => {
    const w1 = whys[i]!.why;
    const v1 = rootlessVerdict(w1, cloned.values[k]!, host[k], k);
    const v2 = rootlessVerdict(w1, createdValues[k], host[k], k);
    return {
      key: k,
      host: host[k],
      clone: cloned.values[k]!,
      create: createdValues[k],
      verdict: v1 === v2 ? v1 : `clone: ${v1}; create: ${v2}`,
    };
  });
  say('2. Two new network namespaces, each owned by a new user namespace (no root needed):');
  say(
    `   clone(CLONE_NEWUSER | CLONE_NEWNET | SIGCHLD): child pid ${cloned.pid}, net ${cloned.netnsId} (gone with the child)`,
  );
  say(
    `   NetNamespace.create({ rootless: true }):       net ${created.id}, helper pid ${helper.pid}, uid ${helper.uid} is 0 inside`,
  );
  say('');
  printTable(rows);
  say('');
  say(
    explainError
      ? `   Why: explain() needs root here (${explainError}), so these are the kernel rules it builds on (lib/explain/rules.ts):`
      : '   Why (explain()):',
  );
  for (const { why: x } of whys)
    say(`   ${x.key.padEnd(w)}  ${x.class}: ${x.where ?? ''}${x.where ? ': ' : ''}${x.sentence}`);
  const trioAtDefault = KEEPALIVE.every((k) => host[k] === KERNEL_DEFAULT[k]);
  if (trioAtDefault)
    say(
      '   The host\'s keepalive values are the kernel defaults right now, so this table alone cannot tell "reset" from "copied": step 3 can.',
    );
  say('');

  // 3. The lesson one level down: "the host" is a rootless namespace we may change.
  const algo = pickAllowedAlgorithm(host[CC]);
  const lessonValues: Values = {
    [CC]: algo ?? host[CC],
    [TIME]: String(LESSON_KEEPALIVE[TIME]),
    [INTVL]: String(LESSON_KEEPALIVE[INTVL]),
    [PROBES]: String(LESSON_KEEPALIVE[PROBES]),
  };
  const outer = NetNamespace.create({ rootless: true });
  let nested: {
    set: Values;
    child: Values | null;
    note?: string;
    rows: { key: Key; set: string; child: string; host: string; verdict: string }[];
  };
  try {
    outer.sysctl.setMany({ [CC]: lessonValues[CC], ...LESSON_KEEPALIVE });
    const set = readAll((k) => outer.sysctl.getRaw(k));
    let child: Values | null = null;
    let note: string | undefined;
    try {
      const c = outer.rootless!.spawn('unshare', ['-n', 'cat', ...KEYS.map(procPath)], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const it = lines(c);
      const seen: string[] = [];
      for (let r = await it.next(); !r.done; r = await it.next()) seen.push(r.value);
      const ex = await c.exited;
      if (ex.code === 0 && seen.length === KEYS.length) child = readSeen(seen);
      else note = `unshare -n exited with ${ex.code ?? ex.signal}`;
    } catch (e) {
      note = `cannot run unshare(1) inside: ${(e as Error).message}`;
    }
    const rowsN = KEYS.map((k) => {
      const cv = child?.[k] ?? '?';
      let verdict = '?';
      if (child) {
        if (cv === set[k]) verdict = 'copied from its creator';
        else if (cv === host[k] && cv !== KERNEL_DEFAULT[k])
          verdict = 'copied from the host (initial namespace), not its creator';
        else if (cv === KERNEL_DEFAULT[k]) verdict = 'reset to kernel default';
        else verdict = 'neither';
      }
      return { key: k, set: set[k], child: cv, host: host[k], verdict };
    });
    nested = { set, child, rows: rowsN };
    if (note) nested.note = note;
  } finally {
    outer.close();
  }
  say('3. The lesson one level down, still without touching the host: set the four keys inside a rootless');
  say('   namespace as the lesson does on the host, then create a namespace from inside it (`unshare -n`):');
  {
    const head = { key: 'key', set: 'set there', child: 'new ns made there', verdict: 'verdict' };
    const ws = {
      key: w,
      set: Math.max(head.set.length, ...nested.rows.map((r) => r.set.length)),
      child: Math.max(head.child.length, ...nested.rows.map((r) => r.child.length)),
    };
    const fmt = (r: { key: string; set: string; child: string; verdict: string }): string =>
      `   ${r.key.padEnd(ws.key)}  ${r.set.padEnd(ws.set)}  ${r.child.padEnd(ws.child)}  ${r.verdict}`;
    say(fmt(head));
    say(`   ${'-'.repeat(ws.key)}  ${'-'.repeat(ws.set)}  ${'-'.repeat(ws.child)}  ${'-'.repeat(head.verdict.length)}`);
    for (const r of nested.rows) say(fmt(r));
    if (nested.note) say(`   (${nested.note})`);
    else if (!algo)
      say('   (only one congestion control is allowed here: the first row cannot show where it comes from)');
    else
      say(
        '   tcp_sk_init() copies congestion control from the initial namespace (the real host), whoever creates the namespace.',
      );
  }
  say('');

  // 4. Remedy 1: a running "container", changed from outside while it runs. Its namespace is
  // made rootless explicitly: root of a user namespace of its own (a rootless container,
  // `unshare -r`) has CAP_SYS_ADMIN, so create() would pick an ordinary namespace that it can
  // enter but whose keys it cannot reach (it could not switch back home).
  const containerNs = NetNamespace.create({ rootless: true });
  const container = spawnInNetns(
    'sh',
    [
      '-c',
      `
    show() { echo "$(cat ${procPath(TIME)}) $(cat ${procPath(INTVL)}) $(cat ${procPath(PROBES)})"; }
    show; read _go; show`,
    ],
    { netns: containerNs, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  void container.exited.then(() => containerNs.close());
  const it = lines(container.child);
  const beforeC = (await it.next()).value as string;
  const pid = container.child.pid!;
  let byPid: { ok: boolean; error?: string; message?: string };
  try {
    const t = NetNamespace.fromPid(pid);
    try {
      t.sysctl.setMany(LESSON_KEEPALIVE);
      byPid = { ok: true };
    } finally {
      t.close();
    }
  } catch (e) {
    byPid = {
      ok: false,
      error: e instanceof NetnsError ? e.code : String((e as Error)?.message),
      message: (e as Error)?.message,
    };
  }
  let viaHandle: Record<string, unknown> | undefined;
  if (!byPid.ok) viaHandle = container.netns.sysctl.setMany(LESSON_KEEPALIVE).values;
  container.child.stdin!.end('go\n');
  const afterC = (await it.next()).value as string;
  await container.exited;
  const want = KEEPALIVE.map((k) => String(LESSON_KEEPALIVE[k])).join(' ');
  say(`4. Remedy 1, as \`nsenter -t ${pid} -n sysctl -w …\`: change a running container's namespace`);
  say(`   container (pid ${pid}, in a rootless namespace) sees at start:  ${beforeC}`);
  if (byPid.ok) {
    say(`   NetNamespace.fromPid(${pid}).sysctl.setMany(${JSON.stringify(LESSON_KEEPALIVE)})`);
  } else {
    say(
      `   NetNamespace.fromPid(${pid}).sysctl.setMany(…) is refused (${byPid.error}): without privileges a rootless namespace`,
    );
    say(
      '   cannot be entered by pid the nsenter way (setns needs CAP_SYS_ADMIN over the user namespaces owning both its namespace',
    );
    say(`   and ours, and Node, being multithreaded, cannot join the container's user namespace first; from a shell,`);
    say(`   \`nsenter -t ${pid} -U -n --preserve-credentials\` can).`);
    say(
      `   Through the handle that holds the namespace instead: ns.sysctl.setMany(${JSON.stringify(LESSON_KEEPALIVE)})`,
    );
  }
  say(`   container now sees from inside:  ${afterC}  ${afterC === want ? '✔' : '✘ expected ' + want}`);
  say('');

  // 5. Remedy 2: start a command with the four values preset (docker run --sysctl).
  const presets: Record<string, string | number> = { ...LESSON_KEEPALIVE, [CC]: lessonValues[CC] };
  const cmdNs = NetNamespace.create({ rootless: true });
  const { sees, ok: ok2, exit } = await catWithPresets(presets, cmdNs).finally(() => cmdNs.close());
  say(`5. Remedy 2, as \`docker run --sysctl …\`: start a command with the values preset`);
  say(
    `   spawnInNetns('sh', ['-c', 'cat …'], { netns: NetNamespace.create({ rootless: true }), sysctl: ${JSON.stringify(presets)} })`,
  );
  say('   (setMany first, then the helper holding the namespace starts the command, as uid 0 inside)');
  say(`   the command's own first read: ${KEYS.map((k) => sees[k]).join(' ')}  ${ok2 ? '✔' : '✘'} (exit ${exit.code})`);
  say('');

  // 6. The host, again.
  const after = readAll((k) => sysctl.getRaw(k));
  const unchanged = KEYS.every((k) => after[k] === before[k]);
  if (unchanged)
    say(
      'Host not changed: rootless mode wrote only inside namespaces of its own; the four keys read the same as at the start.',
    );
  else
    say(
      `Host values differ from the start (${KEYS.filter((k) => after[k] !== before[k]).join(', ')}): someone else changed them meanwhile; this demo wrote nothing on the host.`,
    );

  const ok =
    rows.every((r) => r.verdict === 'inherited from host' || r.verdict === 'reset to kernel default') &&
    afterC === want &&
    ok2 &&
    exit.code === 0;
  if (json) {
    console.log(
      JSON.stringify(
        {
          ok,
          mode: 'rootless',
          original: before,
          baseline: null,
          host,
          clone: { pid: cloned.pid, netnsId: cloned.netnsId, values: cloned.values, user: cloned.user },
          create: {
            netnsId: created.id,
            values: createdValues,
            helperPid: helper.pid,
            userNsId: helper.userNsId,
            uid: helper.uid,
          },
          table: rows,
          explanation: whys.map((x) => x.why),
          explainError: explainError ?? null,
          nested,
          remedies: {
            nsenter: { pid, before: split3(beforeC), byPid, set: viaHandle ?? LESSON_KEEPALIVE, after: split3(afterC) },
            dockerSysctl: { presets, seen: sees, exitCode: exit.code, rootless: cmdNs.rootless !== undefined },
          },
          changed: [],
          restored: [],
          hostAfter: after,
          hostUnchanged: unchanged,
        },
        null,
        2,
      ),
    );
  }
  return ok ? 0 : 1;
}

function split3(s: string): Record<string, string> {
  const [a, b, c] = s.split(' ');
  return { [TIME]: a ?? '', [INTVL]: b ?? '', [PROBES]: c ?? '' };
}

function readSeen(seen: string[]): Values {
  const v = {} as Values;
  for (const [i, k] of KEYS.entries()) v[k] = seen[i] ?? '';
  return v;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    restoreHost();
    console.error(`netns demo failed: ${(e as Error)?.stack ?? e}`);
    if (wrote.size) printRestored();
    process.exitCode = 1;
  },
);

/** Remedy 2: start `cat` of the four keys with `presets` set first; what the command itself read. */
async function catWithPresets(
  presets: Record<string, string | number>,
  netns?: NetNamespace,
): Promise<{
  sees: Record<string, string>;
  ok: boolean;
  exit: { code: number | null; signal: NodeJS.Signals | null };
}> {
  const cmd = spawnInNetns('sh', ['-c', `cat ${KEYS.map(procPath).join(' ')}`], {
    ...(netns ? { netns } : {}),
    sysctl: presets,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const seen: string[] = [];
  const it = lines(cmd.child);
  for (let r = await it.next(); !r.done; r = await it.next()) seen.push(r.value);
  const exit = await cmd.exited;
  const sees = readSeen(seen);
  return { sees, ok: KEYS.every((k) => sees[k] === String(presets[k])), exit };
}
