// The Prometheus exporter example (examples/exporter), started as a user would, against real
// runc containers the test starts, and scraped over loopback: per-container values, labels,
// deviations from an expected file; it binds 127.0.0.1 by default. And its DaemonSet asks for
// no more privilege than it needs.
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NetNamespace } from '../lib/index.js';
import { childEnv, plainNode } from './helpers.js';
import { containerId, missing, runcBundle, runcExec, runcRun, tempDir } from './containers-env.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const EXPORTER = path.join(root, 'dist/examples/exporter/exporter.js');

t.test('daemonset.yaml: hostPID, only CAP_SYS_ADMIN and CAP_SYS_PTRACE, read-only root, not privileged', async (t) => {
  const y = fs.readFileSync(path.join(root, 'examples/exporter/daemonset.yaml'), 'utf8').replace(/#.*$/gm, '');
  t.match(y, /^\s+hostPID: true$/m);
  t.match(y, /^\s+privileged: false$/m);
  t.notMatch(y, /privileged: true/);
  t.notMatch(y, /hostNetwork: true/);
  t.match(y, /^\s+readOnlyRootFilesystem: true$/m);
  t.match(y, /^\s+drop: \[ALL\]$/m);
  t.match(y, /^\s+add: \[SYS_ADMIN, SYS_PTRACE\]$/m);
  t.equal((y.match(/add:/g) ?? []).length, 1, 'no other capability added');
  for (const m of y.matchAll(/mountPath: (\S+), readOnly: (\w+)/g)) t.equal(m[2], 'true', `${m[1]} mounted read-only`);
});

const why = missing(['runc']);
t.test(
  'exporter: scraped over loopback, real runc containers, values, labels and deviations',
  { skip: why ?? false },
  async (t) => {
    const a = runcRun(t, containerId('netns-exp-a'), runcBundle(tempDir(t, 'netns-exp-a')));
    const b = runcRun(t, containerId('netns-exp-b'), runcBundle(tempDir(t, 'netns-exp-b')));
    {
      using ns = NetNamespace.fromContainer(a.id);
      ns.sysctl.set('net.ipv4.tcp_keepalive_time', 600);
    }
    t.equal(runcExec(a, ['/bin/busybox', 'cat', '/proc/sys/net/ipv4/tcp_keepalive_time']).stdout.trim(), '600');
    const dir = tempDir(t, 'netns-exp');
    const expect = path.join(dir, 'expect.conf');
    fs.writeFileSync(expect, 'net.ipv4.tcp_keepalive_time = 7200\n');

    const [cmd, args] = plainNode([EXPORTER, '--listen', '127.0.0.1:0', '--expect', expect, '--runtime', 'runc']);
    const child = spawn(cmd, args, { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    t.teardown(() => {
      child.kill('SIGKILL');
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    // (The deadline is cleared once settled: a pending timer kept this test's process alive for
    // the whole 30 s after its last test.)
    let deadline: NodeJS.Timeout | undefined;
    const url = await new Promise<string>((resolve, reject) => {
      let outText = '';
      child.stdout.on('data', (d: Buffer) => {
        outText += d.toString();
        const m = /listening on (http:\/\/\S+)/.exec(outText);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`exporter exited ${code}: ${err}`)));
      deadline = setTimeout(() => reject(new Error(`exporter did not start: ${err}`)), 30_000);
    }).finally(() => clearTimeout(deadline));
    t.match(url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/, 'bound to 127.0.0.1');

    const res = await fetch(url);
    t.equal(res.status, 200);
    t.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    t.match(text, /^netns_audit_success 1$/m, err);
    const series = (name: string, id: string) =>
      text.split('\n').filter((l) => l.startsWith(`${name}{`) && l.includes(`container_id="${id}"`));
    const info = series('netns_container_info', a.id);
    t.equal(info.length, 1, 'one info series for the container');
    t.match(
      info[0],
      new RegExp(`runtime="runc".*netns="${fs.readlinkSync(`/proc/${a.pid}/ns/net`).replace(/\D/g, '')}"`),
    );
    t.match(
      series('netns_container_sysctl', a.id).find((l) => l.includes('key="net.ipv4.tcp_keepalive_time"')),
      / 600$/,
      'the value inside the container',
    );
    t.match(
      series('netns_container_sysctl', b.id).find((l) => l.includes('key="net.ipv4.tcp_keepalive_time"')),
      / 7200$/,
    );
    t.match(
      series('netns_container_sysctl', a.id).find((l) => l.includes('key="net.core.somaxconn"')),
      / \d+$/,
    );
    t.same(
      series('netns_container_sysctl_deviation', a.id).map((l) =>
        /key="([^"]+)",expected="([^"]+)"\} (\d+)$/.exec(l)?.slice(1),
      ),
      [['net.ipv4.tcp_keepalive_time', '7200', '1']],
      'the deviating container',
    );
    t.same(series('netns_container_sysctl_deviation', b.id), [], 'the other one is as expected');
    t.match(text, /^netns_containers_deviating [1-9]\d*$/m);
    t.match(text, /^netns_container_read_errors 0$/m);
    t.equal((await fetch(url.replace('/metrics', '/nope'))).status, 404);

    // A second scrape sees a change made in between.
    {
      using ns = NetNamespace.fromContainer(a.id);
      ns.sysctl.set('net.ipv4.tcp_keepalive_time', 7200);
    }
    const again = await (await fetch(url)).text();
    t.notOk(
      again
        .split('\n')
        .some((l) => l.startsWith('netns_container_sysctl_deviation{') && l.includes(`container_id="${a.id}"`)),
      'no deviation after the fix',
    );
  },
);
