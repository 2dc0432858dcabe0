// npm run demo: which host sysctls a new network namespace inherits, and which it resets.
//
// The lesson (../../shared/seed, "容器中的网络参数") sets four keys on the host, starts a
// container, and finds that only tcp_congestion_control followed: the kernel copies it from
// the initial namespace while tcp_sk_init() resets the keepalive trio to compiled-in defaults.
// This program reproduces that with clone(CLONE_NEWNET) and NetNamespace.create(), shows the
// lesson's two remedies (nsenter -t PID -n, docker run --sysctl), and restores every host
// value it changed: in a finally, and on Ctrl-C / SIGTERM.
//
//   node dist/examples/inherited-vs-default.js [--json]
//
// NETNS_DEMO_PAUSE_AFTER_HOST_CHANGE=MS makes it print "netns-demo: host changed" on stderr
// and wait MS milliseconds right after changing the host (tests kill it there).
import type { ChildProcess } from 'node:child_process';
import { NetNamespace, cloneNetns, spawnInNetns, sysctl } from 'netns';

const CC = 'net.ipv4.tcp_congestion_control';
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

// ---- without root -------------------------------------------------------------------------

/**
 * Hook for the rootless issue: return true once a rootless run (a user namespace of our
 * own, nothing on the host touched) is implemented, and do it in runRootless().
 */
function rootlessAvailable(): boolean {
  return false;
}
async function runRootless(): Promise<number> {
  throw new Error('rootless mode is not implemented yet');
}

function needRoot(): number {
  const what =
    'This demo sets four host sysctls the way the lesson does (and restores them), and creates ' +
    'network namespaces: it needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN). Run it as root, e.g. `sudo npm run demo`.';
  if (json) console.log(JSON.stringify({ ok: false, error: 'needs-root', message: what }, null, 2));
  else console.error(`netns demo: ${what}`);
  return 2;
}

// ---- host changes and their restoration ------------------------------------------------------

const original = {} as Values;
/** What we wrote on the host, by key (only keys we actually changed). */
const wrote = new Map<Key, string>();
const restored: { key: Key; from: string; to: string; ok: boolean; note?: string }[] = [];
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
        restored.push({ key, from: now, to: original[key], ok: false, note: 'changed by someone else meanwhile: left alone' });
        continue;
      }
      sysctl.set(key, original[key]);
      const back = sysctl.getRaw(key);
      restored.push({ key, from: ours, to: back, ok: back === original[key] });
    } catch (e) {
      restored.push({ key, from: now, to: original[key], ok: false, note: (e as Error).message });
    }
  }
}

function printRestored(): void {
  const w = Math.max(...KEYS.map((k) => k.length));
  say(`Host restored: ${wrote.size} key(s) changed, ${restored.filter((r) => r.ok).length} restored.`);
  const inOrder = KEYS.flatMap((k) => restored.filter((r) => r.key === k));
  const change = (r: (typeof restored)[number]): string => `${r.from} -> ${r.to}`;
  const cw = Math.max(0, ...inOrder.map((r) => change(r).length));
  for (const r of inOrder)
    say(`   ${r.key.padEnd(w)}  ${change(r).padEnd(cw)}  ${r.ok ? '✔ restored' : '✘ ' + (r.note ?? 'NOT restored')}`);
  const missed = restored.filter((r) => !r.ok);
  if (missed.length) say(`   restore by hand: ${missed.map((r) => `sysctl -w ${r.key}=${JSON.stringify(r.to)}`).join('; ')}`);
}

function onSignal(sig: NodeJS.Signals): void {
  restoreHost();
  if (!json) {
    say('');
    say(`Interrupted by ${sig}.`);
    printRestored();
  } else {
    console.log(JSON.stringify({ ok: false, interrupted: sig, changed: [...wrote.keys()], restored }, null, 2));
  }
  process.exit(sig === 'SIGINT' ? 130 : 143);
}

// ---- the demo -------------------------------------------------------------------------------

function pickAlgorithm(current: string): string {
  const available = sysctl.getRaw('net.ipv4.tcp_available_congestion_control').split(/\s+/);
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

/** The stdout lines of a child, one at a time. */
function lines(child: ChildProcess): AsyncIterator<string> {
  let buf = '';
  const queue: string[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => {
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
  if (process.geteuid?.() !== 0) {
    if (rootlessAvailable()) return runRootless();
    return needRoot();
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
      say('Note: this process is not in pid 1\'s network namespace. New namespaces copy from the INITIAL namespace, not from here.\n');
    here.close();
    initial?.close();

    // 1. The host's values, and what a new namespace gets while the host holds them.
    Object.assign(original, readAll((k) => sysctl.getRaw(k)));
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
    say(`   if this process is killed with SIGKILL, restore by hand: ${KEYS.map((k) => `sysctl -w ${k}=${original[k]}`).join('; ')}`);
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
    const cols = ['key', 'host', 'clone', 'create', 'verdict'] as const;
    const head = { key: 'key', host: 'host', clone: 'clone', create: 'create', verdict: 'verdict' };
    const width = Object.fromEntries(cols.map((c) => [c, Math.max(...[head, ...rows].map((r) => r[c].length))]));
    const fmt = (r: typeof head): string =>
      '   ' + cols.map((c) => (c === 'verdict' ? r[c] : r[c].padEnd(width[c]!))).join('  ');
    say(fmt(head));
    say('   ' + cols.map((c) => '-'.repeat(width[c]!)).join('  '));
    for (const r of rows) say(fmt(r));
    say('');

    // 4. Remedy 1: from the host, into a running "container" by pid (nsenter -t PID -n).
    const container = spawnInNetns('sh', ['-c', `
      show() { echo "$(cat ${procPath(TIME)}) $(cat ${procPath(INTVL)}) $(cat ${procPath(PROBES)})"; }
      show; read _go; show`], { stdio: ['pipe', 'pipe', 'inherit'] });
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
    const cmd = spawnInNetns('sh', ['-c', `cat ${KEYS.map(procPath).join(' ')}`], {
      sysctl: presets,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const seen: string[] = [];
    const it2 = lines(cmd.child);
    for (let r = await it2.next(); !r.done; r = await it2.next()) seen.push(r.value);
    const exit = await cmd.exited;
    const sees = readSeen(seen);
    const ok2 = KEYS.every((k) => sees[k] === String(presets[k]));
    say(`5. Remedy 2, as \`docker run --sysctl …\`: start a command with the values preset`);
    say(`   spawnInNetns('sh', ['-c', 'cat …'], { sysctl: ${JSON.stringify(presets)} })`);
    say(`   the command's own first read: ${KEYS.map((k) => sees[k]).join(' ')}  ${ok2 ? '✔' : '✘'} (exit ${exit.code})`);
    say('');

    restoreHost();
    printRestored();
    if (json) {
      console.log(
        JSON.stringify(
          {
            ok: true,
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
          },
          null,
          2,
        ),
      );
    }
    return restored.every((r) => r.ok) ? 0 : 1;
  } finally {
    restoreHost();
  }
}

function split3(s: string): Record<string, string> {
  const [a, b, c] = s.split(' ');
  return { [TIME]: a ?? '', [INTVL]: b ?? '', [PROBES]: c ?? '' };
}

function readSeen(seen: string[]): Values {
  const v = {} as Values;
  KEYS.forEach((k, i) => (v[k] = seen[i] ?? ''));
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
