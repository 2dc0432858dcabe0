// The smaller runnable examples, run as a user would (the main demo has test/demo.test.ts).
import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { childEnv, holdHostLock, plainNode, procSysNetSnapshot, snapshotDiff } from './helpers.js';

// Needs: root (they create namespaces); dist/examples built by `npm test`'s pretest.
const root = fileURLToPath(new URL('..', import.meta.url));
const example = (name: string, args: string[] = []) =>
  spawnSync(...plainNode([`${root}dist/examples/${name}.js`, ...args]), {
    encoding: 'utf8',
    env: childEnv(),
    cwd: root,
  });
const hostValue = (rel: string) => fs.readFileSync(`/proc/sys/net/${rel}`, 'utf8').trim();

// "Host untouched" means something only while nothing else changes the host: hold the lock
// every test that changes a host sysctl takes (the examples take a few seconds).
const release = await holdHostLock();
t.teardown(release);
// And not only the keys an example is about: the host's whole /proc/sys/net after each.
let hostBefore = procSysNetSnapshot();
function hostUntouched(t: Test): void {
  const now = procSysNetSnapshot();
  t.same(snapshotDiff(hostBefore, now), [], "the host's whole /proc/sys/net as before");
  hostBefore = now;
}

t.test('namespaces: lists, creates a named namespace, removes it', async (t) => {
  const r = example('namespaces');
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^Network namespaces on this host:\n {2}\d+:\d+ /m);
  const name = /Created "(netns-example-\d+)": id \d+:\d+/.exec(r.stdout)?.[1];
  t.ok(name, 'it says which name it created');
  t.match(r.stdout, /fromName\("netns-example-\d+"\) is the same namespace: true/);
  t.match(r.stdout, new RegExp(`Removed "${name}"\\.`));
  // Only its own name: other programs may add and remove names meanwhile.
  t.notOk(fs.existsSync(`/run/netns/${name}`) || fs.existsSync(`/var/run/netns/${name}`), `no ${name} left behind`);
  hostUntouched(t);
});

t.test("quickstart (the README's example): compares, explains, sets inside only", async (t) => {
  const host = ['ipv4/tcp_keepalive_time', 'ipv4/tcp_keepalive_intvl', 'ipv4/tcp_keepalive_probes'].map(hostValue);
  const r = example('quickstart');
  t.equal(r.status, 0, r.stderr);
  t.match(
    r.stdout,
    new RegExp(
      `^net\\.ipv4\\.tcp_congestion_control: host ${hostValue('ipv4/tcp_congestion_control')}, new namespace \\S+$`,
      'm',
    ),
  );
  t.match(
    r.stdout,
    /^net\.ipv4\.tcp_keepalive_time: host \d+, new namespace 7200$/m,
    'a new namespace has the kernel default',
  );
  t.match(r.stdout, /^default: net\.ipv4\.tcp_keepalive_time is reset to the kernel's built-in default/m, 'explained');
  t.match(r.stdout, /^600$/m, 'the command started inside read the value set there');
  t.same(
    ['ipv4/tcp_keepalive_time', 'ipv4/tcp_keepalive_intvl', 'ipv4/tcp_keepalive_probes'].map(hostValue),
    host,
    'host untouched',
  );
  hostUntouched(t);
});

t.test("nsenter-equivalent: changes a running process's namespace by pid, not the host", async (t) => {
  const host = hostValue('ipv4/tcp_keepalive_time');
  const r = example('nsenter-equivalent');
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /container: inside, before: 7200/);
  t.match(r.stdout, /container: inside, after: {2}600/);
  t.equal(hostValue('ipv4/tcp_keepalive_time'), host, 'host untouched');
  hostUntouched(t);
});

t.test('docker-sysctl-equivalent: presets seen by the command itself, exit status passes through', async (t) => {
  const host = hostValue('ipv4/tcp_keepalive_time');
  const r = example('docker-sysctl-equivalent', [
    '--sysctl',
    'net.ipv4.tcp_keepalive_time=601',
    '--',
    'sh',
    '-c',
    'cat /proc/sys/net/ipv4/tcp_keepalive_time; exit 3',
  ]);
  t.equal(r.status, 3, 'exit status of the command');
  t.equal(r.stdout.trim(), '601', 'the command read the preset itself');
  t.equal(hostValue('ipv4/tcp_keepalive_time'), host, 'host untouched');
  hostUntouched(t);
});
