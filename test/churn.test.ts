// Concurrency and churn (issue 25 item 6): real runc containers started and removed at a few
// per second by another process (test/fixtures/churn-driver.mjs) while this one audits the host
// (auditHost, as `netns diff --all` and the exporter's scrape do), walks every container's
// namespace with Promise forms meanwhile, keeps a snapshot handle refreshing, and scrapes with
// netns-exporter's Collector over a discovery of the same runc root. Each container's namespace
// carries a marker value of its own (its OCI config's linux.sysctl), so every value read is
// checked to come from the namespace it is reported for. No crash, no error but per target
// (and only of a container going away), no fd growth, bounded memory.
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NetNamespace, NetnsError, auditHost, type AuditReport, type SysctlSnapshotHandle } from '../lib/index.js';
import { busyboxRootfs, missing, run, tempDir, tryRun } from './containers-env.js';
import { checkThreadsAtEnd, childEnv, plainNode } from './helpers.js';
import { Collector, ContainerDiscovery, type Target } from '../packages/exporter/src/index.js';

/**
 * The process's anonymous memory outside V8's heap, in bytes: RssAnon (/proc/self/status) less
 * the heap's resident pages (total_physical_size). What a native leak (the addon's, libuv's,
 * malloc's) would grow; neither V8 sizing its heap up nor the binary's pages paged in count.
 */
function nonV8(): number {
  const kb = /^RssAnon:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1];
  return Number(kb) * 1024 - v8.getHeapStatistics().total_physical_size;
}

/** The process's open fds and what each one is (readlink of /proc/self/fd/N). */
function fdLinks(): Map<string, string> {
  const m = new Map<string, string>();
  for (const fd of fs.readdirSync('/proc/self/fd'))
    try {
      m.set(fd, fs.readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      /* the directory's own fd, closed since */
    }
  return m;
}

// Needs: root, runc, a static busybox (apt-get install runc busybox-static). Changes nothing on
// the host: every container has a network namespace of its own and no network.
const skip = missing(['runc']);
if (!skip) checkThreadsAtEnd(t);
const driver = fileURLToPath(new URL('fixtures/churn-driver.mjs', import.meta.url));
const CLI = fileURLToPath(new URL('../dist/bin/netns.js', import.meta.url));
const KEY = 'net.ipv4.tcp_keepalive_time';
const BASE = 20_000;
const RATE = 3; // containers started (and removed) per second
const ALIVE = 5;
/** How long the churn runs: NETNS_CHURN_SECONDS (CI's later Node lines run it shorter, .ci/run). */
const SECONDS = ((v = process.env.NETNS_CHURN_SECONDS ?? '20'): number => {
  if (!/^\d+$/.test(v) || Number(v) < 5) throw new Error(`NETNS_CHURN_SECONDS=${v}: expected a whole number >= 5`);
  return Number(v);
})();

const gc = (): (() => void) => {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
};

t.test(
  'containers come and go while audits, walks and a snapshot run: every value from its own namespace',
  { skip },
  async (t) => {
    const dir = tempDir(t, 'netns-churn');
    const root = path.join(dir, 'root');
    fs.mkdirSync(root);
    const rootfs = busyboxRootfs(dir);
    run('runc', ['spec', '--bundle', dir]);
    const spec = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    spec.process.terminal = false;
    spec.process.args = ['/bin/busybox', 'sleep', '600'];
    if (!spec.linux.namespaces.some((n: { type: string }) => n.type === 'network'))
      spec.linux.namespaces.push({ type: 'network' });
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec));
    const prefix = `churn-${process.pid}`;
    const markerOf = (id: string): string | undefined =>
      id.startsWith(`${prefix}-`) ? String(BASE + Number(id.slice(prefix.length + 1))) : undefined;
    // Whatever the driver left (it removes its own; this is the net if it was killed).
    t.teardown(() => {
      for (const id of tryRun('runc', ['--root', root, 'list', '-q']).stdout.split('\n').filter(Boolean)) {
        tryRun('runc', ['--root', root, 'kill', id, 'KILL']);
        tryRun('runc', ['--root', root, 'delete', '-f', id]);
      }
    });

    // Warm-up in the test's own namespace: what the library opens once per process (the
    // /proc/sys/net root fd, the executor thread's) is open before the count.
    {
      using self = NetNamespace.current();
      self.sysctl.getAll('net.core');
      await self.sysctl.getAllAsync('net.core');
      self.sysctl.snapshot('net.core').close();
      auditHost({ containers: { root }, classify: false });
    }
    // The same for the exporter, which runs on the package build of netns (a module instance of
    // its own): a scrape of the empty root, then closed.
    {
      const c = new Collector({ source: new ContainerDiscovery({ roots: [{ runtime: 'runc', dir: root }] }) });
      await c.collect();
      c.close();
    }
    const nsDev = (() => {
      using self = NetNamespace.current();
      return self.id.slice(0, self.id.indexOf(':'));
    })();
    gc()();
    const fdsBefore = fdLinks();
    const heapBefore = process.memoryUsage().heapUsed;

    const [cmd, args] = plainNode([
      driver,
      root,
      rootfs,
      dir,
      prefix,
      String(RATE),
      String(ALIVE),
      String(SECONDS),
      String(BASE),
    ]);
    const child = spawn(cmd, args, { env: childEnv(), stdio: ['ignore', 'pipe', 'inherit'] });
    t.teardown(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    });
    const started = new Set<string>();
    /** When the driver began to stop each container (before its kill), and when it had removed it. */
    const stoppingAt = new Map<string, number>();
    const removedAt = new Map<string, number>();
    let done: { started: number; removed: number; failed: number } | undefined;
    const runFailures: string[] = [];
    let buf = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const e = JSON.parse(buf.slice(0, i));
        buf = buf.slice(i + 1);
        if (e.done) done = e;
        else if (e.started) started.add(e.started);
        else if (e.stopping) stoppingAt.set(e.stopping, e.at);
        else if (e.removed) {
          started.delete(e.removed);
          removedAt.set(e.removed, e.at);
        } else if (e.failed) runFailures.push(`${e.failed} ${e.op}: ${e.stderr}`);
      }
    });
    const exited = new Promise<void>((r) => child.on('close', () => r())); // exited, its stdout closed

    const wrong: string[] = [];
    const errors = new Map<string, number>();
    const count = (code: string): void => {
      errors.set(code, (errors.get(code) ?? 0) + 1);
    };
    // Every namespace a container of ours was found in, by whichever path found it: one each,
    // for life (a namespace's inode may be reused after it is freed; a container's is never
    // another's while it runs).
    const nsOf = new Map<string, Set<string>>();
    const seenIn = (id: string, ns: string): void => {
      const s = nsOf.get(id);
      if (s) s.add(ns);
      else nsOf.set(id, new Set([ns]));
    };
    /** A listing: each of our containers in one namespace, never two of ours in one. */
    const checkListing = (what: string, list: { id: string; containers: { id: string }[] }[]): number => {
      let n = 0;
      for (const e of list) {
        const ours = e.containers.filter((c) => markerOf(c.id) !== undefined);
        if (ours.length > 1) wrong.push(`${what}: ${ours.map((c) => c.id).join(', ')} in one namespace ${e.id}`);
        for (const c of ours) seenIn(c.id, e.id);
        n += ours.length;
      }
      return n;
    };
    const counts = { audits: 0, targets: 0, walks: 0, snapshots: 0, lists: 0, cliDiffs: 0, cliLists: 0 };
    let snap: { id: string; h: SysctlSnapshotHandle; uses: number } | undefined;
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

    // The CLI in a process of its own, audits and listings one after another, concurrent with
    // this process's own: `netns diff --all --json` (classified) and `netns list --json`.
    const cliEnv = childEnv({ NETNS_CONTAINER_ROOTS: `runc=${root}` });
    const cliFailures: string[] = [];
    const cli = (args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> =>
      new Promise((resolve) => {
        const [c, a] = plainNode([CLI, ...args]);
        const p = spawn(c, a, { env: cliEnv, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
        p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        p.on('close', (status) => resolve({ status, stdout, stderr }));
      });
    const cliLoop = (async () => {
      for (let i = 0; done === undefined; i++) {
        const args = i % 2 === 0 ? ['diff', '--all', '--json'] : ['list', '--json'];
        const r = await cli(args);
        if (r.status !== 0) {
          cliFailures.push(`netns ${args.join(' ')}: exit ${r.status}: ${r.stderr.trim()}`);
          continue;
        }
        await sleep(200); // leave the 2 cores of a CI machine to the churn too
        if (i % 2 === 1) {
          checkListing('netns list', JSON.parse(r.stdout));
          counts.cliLists++;
          continue;
        }
        const report = JSON.parse(r.stdout) as AuditReport;
        for (const tg of report.targets)
          for (const c of tg.containers) {
            const want = markerOf(c.id);
            if (want === undefined) continue;
            if (tg.error) {
              count(`cli-audit ${tg.error.code}`);
              if (!tg.error.message.includes(c.id))
                wrong.push(`netns diff --all: ${c.id}'s error: ${tg.error.message}`);
              continue;
            }
            const v = tg.differences.find((d) => d.key === KEY)?.value;
            if (v !== want) wrong.push(`netns diff --all: ${c.id} in ${tg.namespace}: ${v}, expected ${want}`);
            else seenIn(c.id, tg.namespace);
            counts.cliDiffs++;
          }
      }
    })();

    // netns-exporter's scrapes, one after another in this process, concurrent with everything
    // else: a Collector (its default keys, the marker's among them) over a discovery of the
    // test's runc root. netns_container_info names the containers in each namespace (netns: its
    // inode); the marker's series of that namespace must carry their marker, and the mismatch
    // with their own spec be 0. A target without its series, and every scrape error, must be
    // of a container going away: checked at the end, against the times the driver gave.
    const scraped = { scrapes: 0, series: 0, mismatches: 0, leftOut: 0, collectorErrors: 0, discoveryErrors: 0 };
    const discovery = new ContainerDiscovery({ roots: [{ runtime: 'runc', dir: root }] });
    let targets: Target[] = [];
    /** What only a container going away explains: `ids` all going by `at` ('all'), or any ('some'), or `need` of them gone in [since, at]. */
    const toExplain: {
      what: string;
      at: number;
      ids: string[];
      rule: 'all' | 'some' | 'gone';
      need?: number;
      since?: number;
    }[] = [];
    const collector = new Collector({
      source: {
        get errors() {
          return discovery.errors;
        },
        scan: async () => {
          const since = Date.now();
          const got = await discovery.scan();
          if (got) {
            targets = got;
            if (discovery.errors > 0) {
              scraped.discoveryErrors += discovery.errors;
              // Containers it could not open: as many of ours must have been going away, and not in what it found.
              const present = new Set(got.flatMap((tg) => tg.members.map((m) => m.id)));
              const ids = [...started, ...stoppingAt.keys()].filter((id) => !present.has(id));
              toExplain.push({
                what: `discovery: ${discovery.errors} errors`,
                at: Date.now(),
                ids,
                rule: 'gone',
                need: discovery.errors,
                since,
              });
            }
          }
          return got;
        },
        close: () => discovery.close(),
      },
    });
    t.teardown(() => collector.close());
    const FAMILY = 'netns_sysctl_net_ipv4_tcp_keepalive_time';
    const hostValue = fs.readFileSync('/proc/sys/net/ipv4/tcp_keepalive_time', 'utf8').trim();
    /** The samples of one family: labels (ours need no unescaping) and value. */
    const seriesOf = (text: string, name: string): { labels: Record<string, string>; value: string }[] =>
      [...text.matchAll(new RegExp(`^${name}\\{(.*)\\} (\\S+)$`, 'gm'))].map((m) => ({
        labels: Object.fromEntries([...m[1]!.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!])),
        value: m[2]!,
      }));
    const scrapeFailures: string[] = [];
    const checkScrape = (text: string, at: number): void => {
      const inNs = new Map<string, string[]>(); // netns inode -> our containers in it
      for (const s of seriesOf(text, 'netns_container_info')) {
        const id = s.labels.container_id!;
        if (markerOf(id) === undefined) continue;
        inNs.set(s.labels.netns!, [...(inNs.get(s.labels.netns!) ?? []), id]);
        seenIn(id, `${nsDev}:${s.labels.netns}`);
      }
      for (const [ino, ids] of inNs)
        if (ids.length > 1) wrong.push(`exporter: ${ids.join(', ')} in one namespace ${ino}`);
      const perNs = new Map<string, number>();
      for (const s of seriesOf(text, FAMILY)) {
        const ino = s.labels.netns!;
        perNs.set(ino, (perNs.get(ino) ?? 0) + 1);
        if (s.labels.host_network === 'true') {
          if (s.value !== hostValue) wrong.push(`exporter: the host's ${KEY}: ${s.value}, expected ${hostValue}`);
          continue;
        }
        const ids = inNs.get(ino) ?? [];
        const named = s.labels.container!;
        if (markerOf(named) !== undefined && !ids.includes(named))
          wrong.push(
            `exporter: a series labelled ${named} in namespace ${ino}, which holds ${ids.join(', ') || 'none of ours'}`,
          );
        for (const id of ids) {
          if (s.value !== markerOf(id)) wrong.push(`exporter: ${id} in ${ino}: ${s.value}, expected ${markerOf(id)}`);
          scraped.series++;
        }
      }
      for (const [ino, n] of perNs) if (n > 1) wrong.push(`exporter: ${n} series of ${KEY} for namespace ${ino}`);
      for (const s of seriesOf(text, 'netns_sysctl_mismatch'))
        if (s.labels.name === KEY && s.labels.source === 'spec' && markerOf(s.labels.container!) !== undefined) {
          scraped.mismatches++;
          if (s.value !== '0')
            wrong.push(`exporter: ${s.labels.container} in ${s.labels.netns}: ${KEY} differs from its spec`);
        }
      // A target of the scrape without the series: its containers were all going away.
      for (const tg of targets)
        if (!perNs.has(tg.labels.netns)) {
          if (tg.labels.host_network === 'true') wrong.push("exporter: the host's series missing");
          else {
            scraped.leftOut++;
            toExplain.push({
              what: `exporter: target ${tg.labels.netns} left out`,
              at,
              ids: tg.members.map((m) => m.id),
              rule: 'all',
            });
          }
        }
      // Its own errors (the discovery's are checked where it read): a container of the scrape's going away.
      const total = Number(/^netns_scrape_errors (\d+)$/m.exec(text)?.[1]);
      const own = total - discovery.errors;
      if (!(own >= 0)) wrong.push(`exporter: netns_scrape_errors ${total}, the discovery's ${discovery.errors}`);
      else if (own > 0) {
        scraped.collectorErrors += own;
        toExplain.push({
          what: `exporter: ${own} errors`,
          at,
          ids: targets.flatMap((tg) => tg.members.map((m) => m.id)),
          rule: 'some',
        });
      }
    };
    const scrapeLoop = (async () => {
      while (done === undefined) {
        try {
          const text = await collector.collect();
          scraped.scrapes++;
          checkScrape(text, Date.now());
        } catch (e) {
          scrapeFailures.push(e instanceof Error ? (e.stack ?? e.message) : String(e));
        }
        await sleep(100);
      }
    })();

    let steady: { heap: number; rss: number; native: number } | undefined;
    const collect = gc();
    while (done === undefined) {
      // Promise walks of every container the driver has started (and maybe removed meanwhile),
      // submitted first: the executor runs them while the JS thread audits below.
      const walks = [...started].map(async (id) => {
        let ns: NetNamespace;
        try {
          ns = NetNamespace.fromContainer(id, { root });
        } catch (e) {
          if (!(e instanceof NetnsError)) throw e;
          count(`open ${e.code}`);
          return;
        }
        try {
          const s = await ns.sysctl.getAllAsync('net.ipv4', { maxInterfaces: 8 });
          counts.walks++;
          if (s.raw[KEY] !== markerOf(id)) wrong.push(`walk of ${id}: ${s.raw[KEY]}, expected ${markerOf(id)}`);
          else seenIn(id, ns.id);
        } catch (e) {
          if (!(e instanceof NetnsError)) throw e;
          count(`walk ${e.code}`);
        } finally {
          ns.close();
        }
      });
      // The audit (every third one classified, as `netns diff --all` does; the others as an
      // exporter's scrape would: unclassified, with values), and a listing.
      const report = auditHost({ containers: { root }, classify: counts.audits % 3 === 0, values: [KEY] });
      counts.audits++;
      for (const tg of report.targets)
        for (const c of tg.containers) {
          const want = markerOf(c.id);
          if (want === undefined) continue; // not ours
          if (tg.error) {
            // The error is this target's, and says which container it was.
            count(`audit ${tg.error.code}`);
            if (!tg.error.message.includes(c.id)) wrong.push(`audit: ${c.id}'s error: ${tg.error.message}`);
            continue;
          }
          counts.targets++;
          if (tg.values?.[KEY] !== want)
            wrong.push(`audit of ${c.id} in ${tg.namespace}: ${tg.values?.[KEY]}, expected ${want}`);
          else seenIn(c.id, tg.namespace);
          // Compared with its own spec (which set the marker): no drift, unless read from another's.
          if (tg.drift.length > 0)
            wrong.push(`audit of ${c.id}: drift ${JSON.stringify(tg.drift.map((d) => [d.key, d.value]))}`);
        }
      checkListing('NetNamespace.list', NetNamespace.list({ containers: { root } }));
      counts.lists++;
      // A snapshot handle on one container: it keeps its namespace alive after the container
      // is gone, and keeps reading that namespace's values.
      if (snap === undefined) {
        const id = [...started].at(-1); // the newest: the likeliest to be there still
        if (id !== undefined)
          try {
            using ns = NetNamespace.fromContainer(id, { root });
            snap = { id, h: ns.sysctl.snapshot('net.ipv4', { maxInterfaces: 4 }), uses: 0 };
          } catch (e) {
            if (!(e instanceof NetnsError)) throw e;
            count(`snapshot ${e.code}`);
          }
      }
      if (snap) {
        const v = snap.h.refresh().raw[KEY];
        counts.snapshots++;
        if (v !== markerOf(snap.id)) wrong.push(`snapshot of ${snap.id}: ${v}, expected ${markerOf(snap.id)}`);
        if (++snap.uses >= 10) {
          snap.h.close();
          snap = undefined;
        }
      }
      await Promise.all(walks);
      if (counts.audits === 10) {
        // The steady state: every path has run a few times with containers coming and going.
        collect();
        steady = { heap: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss, native: nonV8() };
      }
      await sleep(50);
    }
    await exited;
    await cliLoop;
    await scrapeLoop;
    collector.close(); // its snapshots and the discovery's handles: before the fds are counted
    snap?.h.close();
    t.same(wrong, [], 'every value and every container came from the namespace it is reported for');
    t.same(
      [...nsOf].filter(([, s]) => s.size > 1).map(([id, s]) => `${id}: ${[...s].join(', ')}`),
      [],
      `each of ${nsOf.size} containers found in one namespace by every path (audit, walk, list, CLI)`,
    );
    t.same(runFailures, [], 'runc started every container');
    t.same(cliFailures, [], 'every CLI run exited 0');
    // The driver asks for RATE a second; runc on a loaded 2-core machine gives fewer.
    t.ok(done.started >= SECONDS, `${done.started} containers started and ${done.removed} removed in ${SECONDS} s`);
    t.equal(done.started, done.removed, 'the driver removed every container');
    t.ok(counts.audits >= 5, `${counts.audits} audits (and as many listings)`);
    t.ok(counts.targets >= 20, `${counts.targets} audit targets checked`);
    t.ok(counts.walks >= 20, `${counts.walks} Promise walks checked`);
    t.ok(counts.snapshots >= 5, `${counts.snapshots} snapshot refreshes`);
    t.ok(counts.cliDiffs >= 5, `${counts.cliDiffs} CLI audit targets checked, ${counts.cliLists} CLI listings`);
    t.same(scrapeFailures, [], 'no exporter scrape threw');
    t.ok(scraped.scrapes >= 10, `${scraped.scrapes} exporter scrapes`);
    t.ok(
      scraped.series >= 20 && scraped.mismatches >= 20,
      `${scraped.series} exporter series of ${KEY} checked against their containers' markers, ${scraped.mismatches} mismatches with their own specs`,
    );
    const going = (id: string, at: number): boolean => (stoppingAt.get(id) ?? Number.POSITIVE_INFINITY) <= at;
    t.same(
      toExplain.filter((x) => {
        if (x.rule === 'all') return !x.ids.every((id) => going(id, x.at));
        if (x.rule === 'some') return !x.ids.some((id) => going(id, x.at));
        const gone = x.ids.filter(
          (id) => going(id, x.at) && (removedAt.get(id) ?? Number.POSITIVE_INFINITY) >= x.since!,
        );
        return gone.length < x.need!;
      }),
      [],
      `every exporter error and target left out is of a container going away (${toExplain.length}: ${scraped.leftOut} targets left out, ${scraped.collectorErrors} collector errors, ${scraped.discoveryErrors} discovery errors)`,
    );
    t.comment(
      `errors per target (containers gone between listing and reading): ${JSON.stringify(Object.fromEntries(errors))}`,
    );
    const expected = /^(open|walk|audit|cli-audit|snapshot) (ENOENT|ESRCH)$/;
    t.same(
      [...errors.keys()].filter((k) => !expected.test(k)),
      [],
      'every error is a per-target one of a container that went away',
    );

    collect();
    collect();
    const fdsAfter = fdLinks();
    t.same(
      [...fdsAfter].filter(([fd, link]) => fdsBefore.get(fd) !== link),
      [],
      `no fd left open (${fdsBefore.size} before, ${fdsAfter.size} after)`,
    );
    const MiB = 1024 * 1024;
    const mem = process.memoryUsage();
    const heapGrew = mem.heapUsed - steady!.heap;
    const rssGrew = mem.rss - steady!.rss;
    const nativeGrew = nonV8() - steady!.native;
    t.comment(
      `memory: heap ${(mem.heapUsed / MiB).toFixed(1)} MiB, RSS ${(mem.rss / MiB).toFixed(1)} MiB at the end; since the steady state (10 audits in): heap ${(heapGrew / MiB).toFixed(2)} MiB, RSS ${(rssGrew / MiB).toFixed(2)} MiB, anonymous memory outside V8's heap ${(nativeGrew / MiB).toFixed(2)} MiB; since the start: heap ${((mem.heapUsed - heapBefore) / MiB).toFixed(2)} MiB`,
    );
    t.ok(
      heapGrew < 4 * MiB,
      `JS heap after GC: ${(heapGrew / MiB).toFixed(2)} MiB since the steady state (bound: 4 MiB)`,
    );
    // RSS as a whole is not a leak measure here: it grew 6-32 MiB on Node 20 and 22 and 140 MiB
    // once on Node 24 with the JS heap flat. Traced per audit on Node 24 (RssAnon, V8's
    // getHeapStatistics()), the growth is V8 sizing its heap up under the churn's allocation
    // rate: heapTotal 142 -> 249 MiB and its resident pages 118 -> 231 MiB while heapUsed after GC
    // stays flat, and the anonymous memory outside V8's heap stays within 110-217 MiB (it swings
    // as V8 gives pages back) without a trend. So the bound is on that part; the heap above and
    // the fds are the tight checks, and ASan's leak check covers the addon (npm run test:asan).
    t.ok(
      nativeGrew < 128 * MiB,
      `anonymous memory outside V8's heap: ${(nativeGrew / MiB).toFixed(2)} MiB since the steady state (bound: 128 MiB)`,
    );
  },
);
