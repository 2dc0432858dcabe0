// The kernel tier, as root, in the VM: a real runc container (busybox, a network namespace of
// its own, one sysctl in its config as `docker run --sysctl` puts it there), opened by
// fromContainer() from runc's state, and its namespace's values read. The host's own
// container tests are the regular suite's (test/container-open.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { NetNamespace, explain } from 'netns';
import { IN_VM, run } from './common.js';

const skip = IN_VM
  ? spawnSync('sh', ['-c', 'command -v runc']).status === 0
    ? false
    : 'needs runc (apt-get install runc)'
  : "runs in the matrix's VMs (the host has test/container-open.test.ts)";

test("a runc container: fromContainer() finds it in runc's state, and the sysctl its config set is in its namespace", {
  skip,
}, () => {
  const dir = fs.mkdtempSync('/tmp/kt-runc-');
  const id = `kt-${process.pid}`;
  for (const d of ['rootfs/bin', 'rootfs/proc', 'rootfs/dev', 'rootfs/sys', 'rootfs/tmp'])
    fs.mkdirSync(`${dir}/${d}`, { recursive: true });
  fs.copyFileSync('/bin/busybox', `${dir}/rootfs/bin/busybox`);
  fs.chmodSync(`${dir}/rootfs/bin/busybox`, 0o755);
  run('runc', ['spec', '--bundle', dir]);
  const spec = JSON.parse(fs.readFileSync(`${dir}/config.json`, 'utf8'));
  spec.process.terminal = false;
  spec.process.args = ['/bin/busybox', 'sleep', '600'];
  if (!spec.linux.namespaces.some((n: { type: string }) => n.type === 'network'))
    spec.linux.namespaces.push({ type: 'network' });
  spec.linux.sysctl = { 'net.ipv4.tcp_keepalive_time': '600' };
  fs.writeFileSync(`${dir}/config.json`, JSON.stringify(spec));
  const err = fs.openSync(`${dir}/runc.err`, 'w');
  try {
    // Detached: the container's init keeps its stdio, so none of ours (a pipe would stay open).
    const r = spawnSync('runc', ['run', '-d', '--bundle', dir, id], {
      stdio: ['ignore', 'ignore', err],
      timeout: 120_000,
    });
    assert.equal(r.status, 0, fs.readFileSync(`${dir}/runc.err`, 'utf8'));
    const { pid } = JSON.parse(run('runc', ['state', id])) as { pid: number };
    using ns = NetNamespace.fromContainer(id);
    assert.equal(ns.ino, fs.statSync(`/proc/${pid}/ns/net`).ino, "the container init's namespace");
    assert.equal(ns.sysctl.get('net.ipv4.tcp_keepalive_time'), 600, 'runc applied linux.sysctl');
    assert.equal(ns.sysctl.get('net.ipv4.tcp_keepalive_intvl'), 75, 'the rest is the kernel default');
    assert.equal(explain('net.ipv4.tcp_keepalive_time').class, 'default');
  } finally {
    fs.closeSync(err);
    spawnSync('runc', ['kill', id, 'KILL']);
    for (let i = 0; i < 50 && spawnSync('runc', ['delete', '-f', id]).status !== 0; i++) spawnSync('sleep', ['0.2']);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
