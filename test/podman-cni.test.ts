// netns-cni end to end: a real rootful Podman (test/engines-env.ts, state in a temporary
// directory) with its CNI backend, whose network is a conflist of the test's own: Debian's
// bridge (host-local IPAM) then netns-cni, the tuning plugin's sysctl map and a sysctl.d file.
// Every podman command, and so every plugin it executes, runs in a network namespace of the
// test's own (nsenter --net): the bridge and the veth ends are made there, never on the host.
// What must hold: the container's namespace has the values when its process starts (its own
// first read sees them: no race), `podman run --sysctl` keys are left alone, a failing write
// fails the run with netns-cni's error and leaves nothing behind, and `podman rm` (CNI DEL)
// runs without error; the host's network and /proc/sys/net are as before.
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { NetNamespace } from '../lib/index.js';
import { ipNetnsAdd, procSysNetSnapshot, snapshotDiff, underHostLock } from './helpers.js';
import { hostNetwork, requireEngines, startPodman } from './engines-env.js';
import { DEBIAN_CNI, NETNS_CNI } from './cni-driver.js';
import { tempDir } from './containers-env.js';
import { removeAfterExit } from './leftovers.js';

requireEngines(t);
if (!fs.existsSync(path.join(DEBIAN_CNI, 'bridge'))) {
  t.plan(0, 'needs containernetworking-plugins (bridge, host-local) in /usr/lib/cni');
  process.exit(0);
}

const KEEPALIVE = 'net.ipv4.tcp_keepalive_time';
const INTVL = 'net.ipv4.tcp_keepalive_intvl';
const REL = '/proc/sys/net/ipv4/tcp_keepalive_time';
const netBefore = hostNetwork();
const sysBefore = await underHostLock(procSysNetSnapshot);

// The runtime's side: a namespace of the test's own, and the plugins (netns-cni beside Debian's).
const rtName = ipNetnsAdd(t, 'pcni');
removeAfterExit({ netns: rtName }); // if the process dies before its teardown
const rtNs = `/run/netns/${rtName}`;
const dir = tempDir(t, 'netns-podman-cni');
const plugins = path.join(dir, 'bin');
fs.mkdirSync(plugins);
fs.symlinkSync(NETNS_CNI, path.join(plugins, 'netns-cni'));
for (const p of fs.readdirSync(DEBIAN_CNI)) fs.symlinkSync(path.join(DEBIAN_CNI, p), path.join(plugins, p));
const conf = path.join(dir, 'containers.conf');
fs.writeFileSync(conf, `[network]\nnetwork_backend = "cni"\ncni_plugin_dirs = [${JSON.stringify(plugins)}]\n`);
const policyFile = path.join(dir, '90-pods.conf');
fs.writeFileSync(policyFile, `net.core.somaxconn = 1207\nnet.ipv4.conf.IFNAME.rp_filter = 2\n`);

const NET = `netns-cni-${process.pid}`;
const podman = await startPodman(t, {
  ownRuncRoot: true,
  netns: rtNs,
  network: NET,
  env: { CONTAINERS_CONF: conf },
});
const bridge = `ncni${process.pid % 100000}`;
function writeNetwork(extra: Record<string, unknown>): void {
  const list = {
    cniVersion: '1.0.0',
    name: NET,
    plugins: [
      {
        type: 'bridge',
        bridge,
        isGateway: true,
        ipMasq: false,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: '10.231.7.0/24' }]],
          dataDir: path.join(dir, 'ipam'),
        },
      },
      { type: 'netns-cni', dataDir: path.join(dir, 'netns-cni'), ...extra },
    ],
  };
  fs.mkdirSync(path.join(podman.dir, 'net'), { recursive: true });
  fs.writeFileSync(path.join(podman.dir, 'net', `${NET}.conflist`), JSON.stringify(list));
}
writeNetwork({ sysctl: { [KEEPALIVE]: '671', [INTVL]: '41' }, sysctlFiles: [policyFile] });

/**
 * `podman run --name NAME --network NET [OPTIONS...] IMAGE /bin/busybox ARGS...` in the
 * foreground (the ulimits and cgroup parent Podman needs here); OPTIONS are the leading
 * `--`-options of `args` with their values.
 */
function runOnce(name: string, args: string[]) {
  const opts: string[] = [];
  while (args[0]?.startsWith('--')) opts.push(...args.splice(0, 2));
  const limits = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];
  return podman.cli([
    'run',
    '--name',
    name,
    '--network',
    NET,
    ...limits,
    `--cgroup-parent=/${podman.cgroup}`,
    ...opts,
    podman.image,
    '/bin/busybox',
    ...args,
  ]);
}

const pidOf = (id: string): number => Number(podman.cli(['inspect', '--format', '{{.State.Pid}}', id]).stdout.trim());
function valueIn(pid: number, key: string): string {
  using ns = NetNamespace.fromPid(pid);
  return ns.sysctl.getRaw(key);
}

t.test('podman run on a CNI network with netns-cni: the values are there before the process starts', async (t) => {
  const ls = podman.cli(['network', 'ls', '--format', '{{.Name}} {{.Driver}}']);
  t.match(ls.stdout, new RegExp(`^${NET} bridge$`, 'm'), `podman sees the network: ${ls.stderr}`);
  // The container's first command reads the key: what it sees is what it started with.
  const name = `netns-pc-${process.pid}`;
  const r = runOnce(name, [
    '--sysctl',
    `${INTVL}=43`,
    'sh',
    '-c',
    `cat ${REL} /proc/sys/net/core/somaxconn /proc/sys/net/ipv4/conf/eth0/rp_filter /proc/sys/net/ipv4/tcp_keepalive_intvl`,
  ]);
  t.equal(r.status, 0, r.stderr);
  t.same(
    r.stdout.split('\n'),
    ['671', '1207', '2', '43', ''],
    "the container's first read: the plugin's values, run --sysctl's own",
  );
  t.equal(podman.cli(['rm', name]).status, 0, 'podman rm (CNI DEL) succeeds');

  // A long-running one: inspect it from outside, and its interface's address from the bridge.
  const id = podman.run(`netns-pd-${process.pid}`);
  const pid = pidOf(id);
  t.equal(valueIn(pid, KEEPALIVE), '671');
  t.equal(valueIn(pid, 'net.ipv4.conf.eth0.rp_filter'), '2', 'IFNAME: the interface bridge just made');
  t.equal(valueIn(pid, INTVL), '41');
  const addr = podman.cli(['inspect', '--format', `{{(index .NetworkSettings.Networks "${NET}").IPAddress}}`, id]);
  t.match(addr.stdout, /^10\.231\.7\.\d+\n$/, "the bridge plugin's result reached Podman through netns-cni");
  const link = spawnSync('ip', ['-n', path.basename(rtNs), '-o', 'link', 'show', bridge], { encoding: 'utf8' });
  t.match(link.stdout, new RegExp(`^\\d+: ${bridge}: `), "the bridge is in the runtime's namespace of the test's own");
  t.notOk(fs.existsSync(`/sys/class/net/${bridge}`), 'not on the host');
  t.equal(podman.cli(['rm', '-f', '-t', '0', id]).status, 0);
});

t.test('a write that fails fails podman run; nothing is left', async (t) => {
  writeNetwork({ sysctl: { [KEEPALIVE]: '672', 'net.ipv4.conf.IFNAME.mtu_that_is_not': '1' } });
  const name = `netns-pf-${process.pid}`;
  const r = runOnce(name, ['true']);
  t.not(r.status, 0, 'the run fails');
  t.match(r.stderr, /netns-cni/, `podman reports the plugin's error: ${r.stderr.trim().split('\n').pop()}`);
  podman.cli(['rm', '-f', name]);
  const ipam = path.join(dir, 'ipam', NET);
  const leases = fs.existsSync(ipam) ? fs.readdirSync(ipam).filter((f) => /^\d/.test(f)) : [];
  t.same(leases, [], 'no address is left leased');
  writeNetwork({ sysctl: { [KEEPALIVE]: '671' } });
});

t.test('stopped; the host as before', async (t) => {
  podman.stop();
  t.same(hostNetwork(), netBefore, "the host's interfaces, addresses, routes, rules and iptables");
  t.same(await underHostLock(() => snapshotDiff(sysBefore, procSysNetSnapshot())), [], "the host's /proc/sys/net");
});
