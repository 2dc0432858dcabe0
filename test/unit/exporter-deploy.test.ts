// What netns-exporter ships besides its code, checked against its code: the Kubernetes
// manifests (least privilege, and flags, ports, paths and mounts that agree with the flag
// table), the Containerfile (it cannot be built here, there is no container build engine: it is
// checked statically), the README's flag table, the alert rules (promtool check and test
// rules), the dashboard's metric names, and what `npm pack` puts in each tarball.
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { defaultContainerRoots } from 'netns/containers';
import { expectationsFrom } from 'netns/sysctld';
import {
  DEFAULT_INCLUDE,
  DEFAULT_PORT,
  FLAGS,
  effectiveFamily,
  familyName,
  parseFlags,
  splitKey,
} from '../../packages/exporter/src/index.js';

const pkgDir = fileURLToPath(new URL('../../packages/exporter/', import.meta.url));
const read = (f: string) => fs.readFileSync(path.join(pkgDir, f), 'utf8');
const pkg = JSON.parse(read('package.json')) as { name: string; bin: Record<string, string>; files: string[] };
const root = path.resolve(pkgDir, '../..');

// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form YAML
type Any = any;
const docs = parseAllDocuments(read('deploy/kubernetes.yaml')).map((d) => d.toJS() as Any);
const kind = (k: string): Any => {
  const d = docs.find((x) => x.kind === k);
  if (!d) throw new Error(`no ${k} in deploy/kubernetes.yaml`);
  return d;
};

t.test('DaemonSet: least privilege', async (t) => {
  const spec = kind('DaemonSet').spec.template.spec;
  t.equal(spec.hostPID, true, "hostPID: the containers' init processes");
  t.not(spec.hostNetwork, true, 'not hostNetwork');
  t.equal(spec.automountServiceAccountToken, false, 'no API token');
  t.equal(spec.securityContext.seccompProfile.type, 'RuntimeDefault');
  t.equal(spec.containers.length, 1);
  const sc = spec.containers[0].securityContext;
  t.equal(sc.privileged, false);
  t.equal(sc.allowPrivilegeEscalation, false);
  t.equal(sc.readOnlyRootFilesystem, true);
  t.same(sc.capabilities, { drop: ['ALL'], add: ['SYS_ADMIN', 'SYS_PTRACE'] }, 'only setns and ptrace-read');
  for (const m of spec.containers[0].volumeMounts) t.equal(m.readOnly, true, `${m.mountPath} read-only`);
  for (const v of spec.volumes.filter((x: Any) => x.hostPath))
    t.match(v.hostPath.path, /^\/run\//, `host path ${v.hostPath.path}: runtime state only`);
});

t.test('DaemonSet, Service, PodMonitor and ConfigMap agree with the flags', async (t) => {
  const ds = kind('DaemonSet');
  const c = ds.spec.template.spec.containers[0];
  const { config } = parseFlags(c.args); // every argument is a flag the exporter takes
  t.equal(config.discovery.hostPid, 1, '--host.pid=1: the node is the host');
  const port = c.ports.find((p: Any) => p.name === 'metrics');
  t.equal(port.containerPort, config.port, 'the container port is the listen port');
  t.equal(config.port, DEFAULT_PORT);
  t.equal(config.host, '::', 'listening on the pod address');
  for (const probe of [c.livenessProbe, c.readinessProbe]) {
    t.equal(probe.httpGet.port, 'metrics');
    t.match(probe.httpGet.path, /^\/-\/(healthy|ready)$/, 'a path the server answers');
  }
  // The expected file is in the mounted ConfigMap, under the key the flag names.
  const mounts: Any[] = c.volumeMounts;
  const volumes: Any[] = ds.spec.template.spec.volumes;
  t.equal(config.expectFiles.length, 1);
  const file = config.expectFiles[0]!;
  const m = mounts.find((x) => file.startsWith(`${x.mountPath}/`));
  t.ok(m, `${file} is under a mount`);
  const cmName = volumes.find((v) => v.name === m.name).configMap.name;
  const cm = kind('ConfigMap');
  t.equal(cm.metadata.name, cmName);
  const text = cm.data[path.basename(file)];
  t.type(text, 'string', 'the ConfigMap has the file');
  const parsed = expectationsFrom(text, file);
  t.ok(parsed.exact.size > 0, 'it expects keys');
  // Every default state directory the discovery reads is mounted (the per-user ones aside).
  for (const r of defaultContainerRoots().filter((x) => !x.dir.startsWith('/run/user/')))
    t.ok(
      mounts.some((x) => r.dir === x.mountPath || r.dir.startsWith(`${x.mountPath}/`)),
      `${r.runtime}'s ${r.dir} is mounted`,
    );
  const labels = ds.spec.template.metadata.labels;
  const svc = kind('Service');
  t.same(svc.spec.selector, labels, 'the Service selects the pods');
  t.same(
    svc.spec.ports.map((p: Any) => [p.port, p.targetPort]),
    [[config.port, 'metrics']],
  );
  const pm = kind('PodMonitor');
  t.same(pm.spec.selector.matchLabels, labels, 'the PodMonitor selects the pods');
  const ep = pm.spec.podMetricsEndpoints[0];
  t.equal(ep.port, 'metrics');
  t.equal(ep.path, config.telemetryPath);
  const drop = ep.relabelings.find((r: Any) => r.action === 'labeldrop');
  for (const l of ['namespace', 'pod', 'container'])
    t.match(l, new RegExp(`^${drop.regex}$`), `the target's own ${l} label is dropped (no exported_${l})`);
  for (const d of docs) t.equal(d.metadata.namespace ?? 'monitoring', 'monitoring');
});

t.test('Containerfile (checked statically: no container build engine here)', async (t) => {
  const text = read('deploy/Containerfile');
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'));
  const ins = lines.map((l) => {
    const m = /^([A-Z]+)\s+(.*)$/.exec(l.trim());
    if (!m) throw new Error(`not an instruction: ${l}`);
    return [m[1]!, m[2]!] as const;
  });
  const from = ins.filter(([i]) => i === 'FROM').map(([, a]) => a);
  t.equal(from.length, 2, 'a build stage and a runtime stage');
  t.match(from[0], / AS build$/);
  for (const [i, a] of ins.filter(([i]) => i === 'COPY' && !/--from/.test(i))) {
    if (a.startsWith('--from')) continue;
    const parts = a.split(/\s+/);
    for (const src of parts.slice(0, -1))
      t.ok(fs.existsSync(path.join(root, src)), `${i} ${src}: exists in the repository`);
  }
  const run = ins
    .filter(([i]) => i === 'RUN')
    .map(([, a]) => a)
    .join(' ');
  t.match(run, /npm ci/);
  t.match(run, new RegExp(`npm pack --workspace=${pkg.name}`), 'the exporter packed by its name');
  t.match(run, /npm install --global .*\/pkg\/\*\.tgz/, 'installed from the tarballs');
  t.equal(ins.find(([i]) => i === 'EXPOSE')?.[1], String(DEFAULT_PORT));
  t.equal(ins.find(([i]) => i === 'USER')?.[1], '0', 'root, with the capabilities the DaemonSet gives');
  const entry = JSON.parse(ins.find(([i]) => i === 'ENTRYPOINT')![1]) as string[];
  t.same(entry, Object.keys(pkg.bin), 'the entrypoint is the package bin');
  const cmd = JSON.parse(ins.find(([i]) => i === 'CMD')![1]) as string[];
  t.equal(parseFlags(cmd).config.port, DEFAULT_PORT, 'the default arguments are flags');
});

t.test("README: the flag table is the exporter's flags", async (t) => {
  const readme = read('README.md');
  const rows = [...readme.matchAll(/^\| `--([a-z.-]+)(?:=[^`]*)?` \|([^|]*)\|/gm)].map((m) => [m[1]!, m[2]!.trim()]);
  t.same(
    rows.map(([n]) => n),
    FLAGS.map((f) => f.name),
    'every flag once, in the order of --help',
  );
  for (const [name, def] of rows) {
    const f = FLAGS.find((x) => x.name === name)!;
    if (f.default !== undefined && f.multiple !== true) t.equal(def, `\`${f.default}\``, `--${name}'s default`);
  }
  for (const k of DEFAULT_INCLUDE) t.match(readme, k, `the default key ${k} is listed`);
});

t.test('the dashboard and the rules name families the exporter writes', async (t) => {
  const known = new Set([
    'netns_sysctl_mismatch',
    'netns_sysctl_expected',
    'netns_sysctl_info',
    'netns_sysctl_host_tuning_missing',
    'netns_sysctl_devices_skipped',
    'netns_sysctl_truncated',
    'netns_interfaces',
    'netns_container_info',
    'netns_namespaces',
    'netns_scrape_errors',
    'netns_scrape_duration_seconds',
    'netns_exporter_build_info',
    ...DEFAULT_INCLUDE.flatMap((k) => {
      const fk = splitKey(k.slice(4).replaceAll('.', '/')).familyKey;
      const e = effectiveFamily(fk);
      return e ? [familyName(fk), e.name] : [familyName(fk)];
    }),
  ]);
  const dash = read('monitoring/dashboard.json');
  const d = JSON.parse(dash);
  t.equal(d.uid, 'netns-sysctls');
  for (const p of d.panels) {
    t.ok(p.targets.length > 0, `${p.title} has queries`);
    t.equal(p.datasource.uid, `\${datasource}`, `${p.title} uses the data source variable`);
  }
  for (const text of [dash, read('monitoring/alerts.yaml')])
    for (const [name] of text.matchAll(/\bnetns_[a-z0-9_]*[a-z0-9]\b(?!_\*)/g))
      t.ok(known.has(name), `${name} is written by the exporter`);
});

const promtool = spawnSync('sh', ['-c', 'command -v promtool'], { stdio: 'ignore' }).status === 0;
t.test(
  'promtool check rules and test rules',
  { skip: promtool ? false : 'needs promtool (apt-get install --no-install-recommends prometheus)' },
  async (t) => {
    const cwd = path.join(pkgDir, 'monitoring');
    for (const args of [
      ['check', 'rules', 'alerts.yaml'],
      ['test', 'rules', 'alerts.test.yaml'],
    ]) {
      const r = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
      t.equal(r.status, 0, `promtool ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    }
  },
);

t.test('npm pack: the exporter carries its command, code and deployment; the library carries none of it', async (t) => {
  const files = (args: string[]): Map<string, number> => {
    const [p] = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts', ...args], {
        cwd: root,
        encoding: 'utf8',
      }),
    ) as { files: { path: string; mode: number }[] }[];
    return new Map(p!.files.map((f) => [f.path, f.mode]));
  };
  const exp = files(['--workspace=netns-exporter']);
  for (const f of [
    'package.json',
    'README.md',
    'bin/netns-exporter.js',
    'deploy/kubernetes.yaml',
    'deploy/Containerfile',
    'monitoring/alerts.yaml',
    'monitoring/alerts.test.yaml',
    'monitoring/dashboard.json',
  ])
    t.ok(exp.has(f), `netns-exporter has ${f}`);
  t.ok((exp.get('bin/netns-exporter.js')! & 0o111) !== 0, 'the command is executable');
  t.notOk(
    [...exp.keys()].some((f) => f.startsWith('src/') || f.includes('test/')),
    'no sources or tests',
  );
  const lib = files([]);
  t.notOk(
    [...lib.keys()].some((f) => f.startsWith('packages/')),
    'the library tarball has no workspace',
  );
  t.notOk(
    Object.keys(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).dependencies).includes(
      'prom-client',
    ),
    'the library stays free of prom-client',
  );
});
