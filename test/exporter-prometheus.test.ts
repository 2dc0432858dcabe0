// netns-exporter as an operator runs it, scraped by a real Prometheus: both packages packed
// (`npm pack`) and installed in a fresh directory, `npx netns-exporter` started against real
// containerd containers (pods with the CRI plugin's annotations, a hostNetwork one) and the
// host; a Prometheus of the test's own (Debian's `prometheus`, config and data in a temporary
// directory, on loopback) scrapes it every second and evaluates the shipped alert rules. The
// test asks Prometheus (its HTTP API, PromQL) what it stored: one series per key per network
// namespace with the pod's labels, the host and its hostNetwork member, a deviation that
// appears after a value is changed in a container, every rule evaluating without error, and
// every query of the Grafana dashboard. Everything it starts is stopped in teardown.
// Needs root, containerd, runc, busybox-static, prometheus and promtool (.ci/run installs them).
import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { NetNamespace } from 'netns';
import { childEnv } from './helpers.js';
import { containerId, ctrRun, missing, startContainerd, tempDir } from './containers-env.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = path.join(root, 'packages/exporter');

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}
const why =
  missing(['containerd', 'ctr', 'runc']) ??
  (has('prometheus') && has('promtool')
    ? undefined
    : 'needs prometheus and promtool (apt-get install --no-install-recommends prometheus; .ci/run installs it)');

/** A port free on loopback now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Start a command in a process group of its own, stopped (the whole group) at teardown. */
function started(t: Test, cmd: string, args: string[], opts: { cwd?: string; log: string }): ChildProcess {
  const out = fs.openSync(opts.log, 'a');
  const child = spawn(cmd, args, { cwd: opts.cwd, env: childEnv(), stdio: ['ignore', out, out], detached: true });
  fs.closeSync(out);
  t.teardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    process.kill(-child.pid!, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([
      exited.then(() => true),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 10_000))),
    ]).finally(() => clearTimeout(timer));
    if (!stopped) process.kill(-child.pid!, 'SIGKILL');
  });
  return child;
}

/** Wait until `probe` gives a value (polling), or fail with what the logs say. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, logs: string[], ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const tail = logs.map((f) => `--- ${f}\n${fs.existsSync(f) ? fs.readFileSync(f, 'utf8').slice(-3000) : '(none)'}`);
  throw new Error(`timed out waiting for ${what}${last ? ` (last: ${String(last)})` : ''}\n${tail.join('\n')}`);
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

t.test(
  'a real Prometheus scrapes npx netns-exporter (packed) over real containers',
  { skip: why ?? false },
  async (t) => {
    const dir = tempDir(t, 'netns-exp-prom');
    const logs = { exporter: path.join(dir, 'exporter.log'), prometheus: path.join(dir, 'prometheus.log') };

    // The packages as published: packed, installed in a fresh directory (no scripts, no compiler;
    // the addon this checkout built stands in for the prebuilt binary a release carries).
    const packs = path.join(dir, 'packs');
    fs.mkdirSync(packs);
    for (const args of [[], ['--workspace=netns-exporter']]) {
      const r = spawnSync('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', packs, ...args], {
        cwd: root,
        encoding: 'utf8',
        env: childEnv(),
      });
      t.equal(r.status, 0, `npm pack ${args.join(' ')}: ${r.stderr}`);
    }
    const tarballs = fs.readdirSync(packs).map((f) => path.join(packs, f));
    t.equal(tarballs.length, 2, 'netns and netns-exporter tarballs');
    const app = path.join(dir, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), '{ "name": "ops", "private": true }\n');
    const inst = spawnSync(
      'npm',
      ['install', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs],
      { cwd: app, encoding: 'utf8', env: childEnv() },
    );
    t.equal(inst.status, 0, `npm install of the tarballs: ${inst.stderr}`);
    const pre = path.join(app, 'node_modules/netns/prebuilds', `${process.platform}-${process.arch}`);
    fs.mkdirSync(pre, { recursive: true });
    for (const f of ['netns.node', 'netns-rootless'])
      fs.copyFileSync(path.join(root, 'build/Release', f), path.join(pre, f));
    fs.chmodSync(path.join(pre, 'netns-rootless'), 0o755);

    // Pods as the CRI plugin makes them: a sandbox with its own network namespace and containers
    // joining it; a hostNetwork pod whose sandbox shares the host's (the test's) namespace.
    const cd = await startContainerd(t);
    const tag = `${process.pid}`;
    const pod = (name: string, podNs: string, type: 'sandbox' | 'container', container: string, sandbox: string) => ({
      'io.kubernetes.cri.container-type': type,
      ...(type === 'container' ? { 'io.kubernetes.cri.container-name': container } : {}),
      'io.kubernetes.cri.sandbox-id': sandbox,
      'io.kubernetes.cri.sandbox-name': name,
      'io.kubernetes.cri.sandbox-namespace': podNs,
      'io.kubernetes.cri.sandbox-uid': `uid-${name}`,
    });
    const web0 = `web-0-${tag}`,
      web1 = `web-1-${tag}`,
      agent = `agent-${tag}`;
    const sb0 = containerId('nexp-sb0');
    const s0 = ctrRun(cd, 'k8s.io', sb0, pod(web0, 'prod', 'sandbox', '', sb0));
    const a0 = ctrRun(cd, 'k8s.io', containerId('nexp-app0'), pod(web0, 'prod', 'container', 'app', sb0), s0.pid);
    const sb1 = containerId('nexp-sb1');
    const s1 = ctrRun(cd, 'k8s.io', sb1, pod(web1, 'prod', 'sandbox', '', sb1));
    // web-1 behaves as a hostile tenant: 300 interfaces (over the default bound of 256 interfaces)
    // and one named with a terminal escape sequence, a quote and a backslash.
    const hostile = 'x\x1b[31m"q\\';
    const batch = path.join(dir, 'bridges');
    fs.writeFileSync(batch, Array.from({ length: 300 }, (_, i) => `link add b${i} type ifb\n`).join(''));
    {
      using ns = NetNamespace.fromPid(s1.pid);
      ns.runSync(() => {
        for (const args of [
          ['-batch', batch],
          ['link', 'add', hostile, 'type', 'ifb'],
        ]) {
          const r = spawnSync('ip', args, { encoding: 'utf8' });
          if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
        }
        // rp_filter: conf.all 2, the interface's own 1: the kernel uses max(all, DEV) = 2 for it.
        fs.writeFileSync('/proc/sys/net/ipv4/conf/all/rp_filter', '2');
        fs.writeFileSync(`/proc/sys/net/ipv4/conf/${hostile}/rp_filter`, '1');
      });
    }
    const sbh = containerId('nexp-sbh');
    const h = ctrRun(cd, 'k8s.io', sbh, pod(agent, 'kube-system', 'sandbox', '', sbh), process.pid);
    const inode = (pid: number) => fs.readlinkSync(`/proc/${pid}/ns/net`).replace(/\D/g, '');
    const hostIno = inode(process.pid);
    t.equal(inode(h.pid), hostIno, "the hostNetwork pod shares the test's namespace");
    t.equal(inode(a0.pid), inode(s0.pid), "web-0's containers share one namespace");

    const expect = path.join(dir, 'expect.conf');
    fs.writeFileSync(expect, 'net.ipv4.tcp_keepalive_time = 7200\nnet.core.somaxconn = 4096\n');
    const exporter = started(
      t,
      'npx',
      [
        '--no-install',
        'netns-exporter',
        '--web.listen-address=127.0.0.1:0',
        `--sysctl.expect=${expect}`,
        ...['all', 'default', 'eth0', 'x*'].map((d) => `--sysctl.device=${d}`),
        '--containers.root=containerd=/run/containerd/runc',
      ],
      { cwd: app, log: logs.exporter },
    );
    const url = await until('the exporter to listen', async () => {
      if (exporter.exitCode !== null) throw new Error(`the exporter exited ${exporter.exitCode}`);
      return /listening on (http:\/\/\S+)/.exec(fs.readFileSync(logs.exporter, 'utf8'))?.[1];
    }, [logs.exporter]);
    t.match(url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/, 'bound to loopback');
    const target = new URL(url).host;

    // promtool: the shipped rules, and what the exporter writes.
    const rules = path.join(pkg, 'monitoring/alerts.yaml');
    const metricsText = await (await fetch(url)).text();
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: metricsText, encoding: 'utf8' });
    t.equal(lint.status, 0, `promtool check metrics: ${lint.stdout}${lint.stderr}`);

    const promPort = await freePort();
    const config = path.join(dir, 'prometheus.yml');
    fs.writeFileSync(
      config,
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        `rule_files: [${JSON.stringify(rules)}]`,
        'scrape_configs:',
        '  - job_name: netns',
        `    static_configs: [{ targets: [${JSON.stringify(target)}] }]`,
        '',
      ].join('\n'),
    );
    const check = spawnSync('promtool', ['check', 'config', config], { encoding: 'utf8' });
    t.equal(check.status, 0, `promtool check config: ${check.stdout}${check.stderr}`);
    started(
      t,
      'prometheus',
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        '--log.level=warn',
      ],
      { log: logs.prometheus },
    );
    const api = `http://127.0.0.1:${promPort}/api/v1`;
    const query = async (q: string): Promise<Sample[]> => {
      const r = await fetch(`${api}/query?query=${encodeURIComponent(q)}`);
      const body = (await r.json()) as {
        status: string;
        error?: string;
        data: { resultType: string; result: Sample[] };
      };
      if (body.status !== 'success') throw new Error(`${q}: ${body.error}`);
      return body.data.resultType === 'vector' ? body.data.result : [];
    };
    const some = (q: string) => async () => {
      const r = await query(q);
      return r.length > 0 ? r : undefined;
    };
    const all = [logs.exporter, logs.prometheus];
    await until('Prometheus to scrape the exporter', some(`up{job="netns"} == 1`), all);
    const ka = await until(
      "web-0's keepalive in Prometheus",
      some(`netns_sysctl_net_ipv4_tcp_keepalive_time{namespace="prod",pod="${web0}"}`),
      all,
    );
    t.equal(ka.length, 1, 'one series for the pod, although two containers share its namespace');
    t.same(
      ka[0]!.metric,
      {
        __name__: 'netns_sysctl_net_ipv4_tcp_keepalive_time',
        instance: target,
        job: 'netns',
        netns: inode(s0.pid),
        namespace: 'prod',
        pod: web0,
        uid: `uid-${web0}`,
        runtime: 'containerd',
        host_network: 'false',
      },
      "the pod's labels from the CRI annotations; no exported_ labels",
    );
    t.equal(ka[0]!.value[1], '7200', 'the value a new namespace has');
    t.same(
      (await query(`count by (netns) (netns_container_info{pod="${web0}"})`)).map((s) => s.value[1]),
      ['2'],
      'its two containers, one namespace',
    );
    t.same(
      (await query(`netns_sysctl_net_core_somaxconn{pod="${web1}"}`)).map((x) => x.metric.netns),
      [inode(s1.pid)],
      'the other pod, in its own namespace',
    );
    t.same(
      (await query(`netns_sysctl_net_ipv4_conf_rp_filter{pod="${web1}"}`)).map((s) => s.metric.device).sort(),
      ['all', 'default', hostile].sort(),
      "the tenant's interface named by the glob, its name exact in Prometheus; none of its 300 others",
    );
    t.same(
      (
        await query(
          `netns_sysctl_net_ipv4_conf_rp_filter_effective{pod="${web1}"} != netns_sysctl_net_ipv4_conf_rp_filter`,
        )
      ).map((s) => [s.metric.device, s.value[1]]),
      [[hostile, '2']],
      'the effective value where it is not the entry (max(all 2, DEV 1)), matched on the same labels',
    );
    t.same(
      (await query(`netns_sysctl_truncated{pod="${web1}"}`)).map((s) => s.value[1]),
      ['1'],
      'web-1 is reported truncated',
    );
    t.same(
      (await query(`netns_interfaces{pod="${web1}"}`)).map((s) => s.value[1]),
      ['302'],
      'with its count',
    );
    t.same(
      (await query(`netns_sysctl_truncated{pod="${web0}"}`)).map((s) => s.value[1]),
      ['0'],
    );
    const host = await query('netns_sysctl_net_core_somaxconn{host_network="true"}');
    t.same(
      host.map((s) => [s.metric.netns, s.value[1]]),
      [[hostIno, fs.readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim()]],
      "the host's namespace, exported too",
    );
    t.same(
      (await query(`netns_container_info{pod="${agent}"}`)).map((s) => [
        s.metric.netns,
        s.metric.host_network,
        s.metric.namespace,
      ]),
      [[hostIno, 'true', 'kube-system']],
      'the hostNetwork pod says it shares the host',
    );
    t.same(
      (await query(`netns_sysctl_mismatch{pod="${web0}"}`)).map((s) => [s.metric.name, s.value[1]]).sort(),
      [
        ['net.core.somaxconn', '0'],
        ['net.ipv4.tcp_keepalive_time', '0'],
      ],
      'a mismatch series per expected key, 0 while it matches',
    );
    t.same(
      (await query(`netns_sysctl_expected{pod="${web0}",name="net.ipv4.tcp_keepalive_time"}`)).map((s) => s.value[1]),
      ['7200'],
    );
    t.same(await query(`netns_sysctl_mismatch{pod="${web0}"} == 1`), [], 'no deviation yet');

    // A value changed inside web-0's namespace: the deviation appears, and the alert's expression has it.
    {
      using ns = NetNamespace.fromPid(a0.pid);
      ns.sysctl.set('net.ipv4.tcp_keepalive_time', 600);
    }
    const dev = await until(
      'the deviation in Prometheus',
      some(`netns_sysctl_mismatch{pod="${web0}",name="net.ipv4.tcp_keepalive_time"} == 1`),
      all,
    );
    t.equal(dev.length, 1, 'web-0 deviates');
    t.same(await query(`netns_sysctl_mismatch{pod="${web1}"} == 1`), [], 'web-1 does not');
    await until('the new value', some(`netns_sysctl_net_ipv4_tcp_keepalive_time{pod="${web0}"} == 600`), all);
    const alertRules = (
      parseYaml(fs.readFileSync(rules, 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] }
    ).groups.flatMap((g) => g.rules);
    const mm = alertRules.find((r) => r.alert === 'NetnsSysctlMismatch')!;
    t.same(
      (await query(mm.expr)).filter((s) => s.metric.pod === web0).map((s) => s.metric.name),
      ['net.ipv4.tcp_keepalive_time'],
      "NetnsSysctlMismatch's expression holds web-0",
    );
    for (const r of alertRules) await query(r.expr); // each parses and evaluates here
    const loaded = await until(
      'the rules evaluated',
      async () => {
        const body = (await (await fetch(`${api}/rules`)).json()) as {
          data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
        };
        const rs = body.data.groups.flatMap((g) => g.rules);
        return rs.length > 0 && rs.every((x) => x.health === 'ok') ? rs : undefined;
      },
      all,
    );
    t.same(
      loaded.map((r) => r.name).sort(),
      alertRules.map((r) => r.alert).sort(),
      'every rule loaded, evaluated, healthy',
    );

    // The Grafana dashboard: every query valid here; the per-pod panels and the tables have data.
    const dash = JSON.parse(fs.readFileSync(path.join(pkg, 'monitoring/dashboard.json'), 'utf8')) as {
      templating: { list: { name: string; type: string; query: string }[] };
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const fill = (q: string) => q.replace(/\$\{?(instance|namespace|pod)\}?/g, '.*');
    for (const v of dash.templating.list.filter((x) => x.type === 'query')) {
      const m = /^label_values\((.+),\s*(\w+)\)$/.exec(v.query);
      t.ok(m, `variable ${v.name}: label_values(SELECTOR, LABEL)`);
      const r = await fetch(`${api}/series?match[]=${encodeURIComponent(fill(m![1]!))}`);
      const series = ((await r.json()) as { data: Record<string, string>[] }).data;
      t.ok(
        series.some((s) => s[m![2]!] !== undefined),
        `variable ${v.name} has values`,
      );
    }
    const empty = new Set(['Host tuning not in pods']); // depends on how this host is tuned
    for (const p of dash.panels)
      for (const target of p.targets) {
        const r = await query(fill(target.expr));
        if (!empty.has(p.title)) t.ok(r.length > 0, `panel "${p.title}": ${target.expr}`);
      }
  },
);
