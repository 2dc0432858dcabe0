// The kernel tier: get/set/getAll against procps sysctl(8) inside the VM's own namespaces,
// setMany's rollback, and `netns sysctl` against procps on a sample of cases. Root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetNamespace, type NetnsError } from 'netns';
import { ipNetns, NETNS_CLI, procpsAll, run, sameText } from './common.js';

test('getAll() in a namespace lists the keys procps sysctl -a lists there, with the same values', () => {
  const n = ipNetns();
  try {
    using ns = NetNamespace.fromName(n.name);
    ns.sysctl.set('net.ipv4.tcp_keepalive_time', 600);
    const ours = ns.sysctl.getAll();
    const theirs = procpsAll(n.name);
    const raw = new Map(Object.entries(ours.raw));
    const missing = [...theirs.keys()].filter((k) => !raw.has(k));
    const extra = [...raw.keys()].filter((k) => !theirs.has(k) && !(k in ours.unreadable));
    assert.deepEqual(
      { missing, extra },
      { missing: [], extra: [] },
      'the same keys (procps leaves out what it cannot read)',
    );
    const differ = [...theirs]
      .filter(([k, v]) => !sameText(raw.get(k), v))
      .map(([k, v]) => `${k}: ${JSON.stringify(raw.get(k))} vs ${JSON.stringify(v)}`);
    assert.deepEqual(differ, [], 'the same values');
    assert.equal(theirs.get('net.ipv4.tcp_keepalive_time'), '600');
    assert.ok(theirs.size > 300, `${theirs.size} keys`);
  } finally {
    n.remove();
  }
});

test('set() is what procps then reads inside; get() reads what procps wrote', () => {
  const n = ipNetns();
  try {
    using ns = NetNamespace.fromName(n.name);
    assert.equal(ns.sysctl.set('net.ipv4.ip_local_port_range', [20000, 30000]).join(' '), '20000 30000');
    assert.equal(
      run('ip', ['netns', 'exec', n.name, 'sysctl', '-n', 'net.ipv4.ip_local_port_range'])
        .trim()
        .split(/\s+/)
        .join(' '),
      '20000 30000',
    );
    run('ip', ['netns', 'exec', n.name, 'unshare', '-u', 'sysctl', '-qw', 'net.core.somaxconn=1234']);
    assert.equal(ns.sysctl.get('net.core.somaxconn'), 1234);
    using cur = NetNamespace.current();
    assert.notEqual(cur.sysctl.get('net.core.somaxconn'), 1234, "the VM's own value is untouched");
  } finally {
    n.remove();
  }
});

test('setMany(): a failing entry rolls back the ones already written', () => {
  using ns = NetNamespace.create();
  const before = [ns.sysctl.get('net.ipv4.tcp_keepalive_time'), ns.sysctl.get('net.core.somaxconn')];
  const e = (() => {
    try {
      ns.sysctl.setMany({
        'net.ipv4.tcp_keepalive_time': 600,
        'net.core.somaxconn': 1000,
        'net.ipv4.tcp_syn_retries': 1000,
      });
    } catch (err) {
      return err as NetnsError & { rolledBack?: string[] };
    }
    return undefined;
  })();
  assert.ok(e, 'tcp_syn_retries 1000 is refused by the kernel');
  assert.equal(e.code, 'EINVAL');
  assert.deepEqual([...(e.rolledBack ?? [])].sort(), ['net.core.somaxconn', 'net.ipv4.tcp_keepalive_time']);
  assert.deepEqual([ns.sysctl.get('net.ipv4.tcp_keepalive_time'), ns.sysctl.get('net.core.somaxconn')], before);
});

test('netns sysctl prints what procps sysctl prints, on a sample of cases', () => {
  const n = ipNetns();
  try {
    const cases: string[][] = [
      ['net.ipv4.tcp_keepalive_time', 'net.core.somaxconn'],
      ['-n', 'net.ipv4.tcp_rmem'],
      ['-N', '-r', 'keepalive', '-a'],
      ['-w', 'net.ipv4.tcp_keepalive_intvl=30', 'net.ipv4.ip_local_port_range=10000 20000'],
      ['net.ipv4.ip_local_port_range'],
      ['-e', 'net.ipv4.no_such_key'],
    ];
    for (const args of cases) {
      const theirs = run('ip', ['netns', 'exec', n.name, 'unshare', '-u', 'sysctl', ...args]);
      const ours = run(process.execPath, [NETNS_CLI, 'sysctl', '--name', n.name, ...args]);
      assert.equal(ours, theirs, `sysctl ${args.join(' ')}`);
    }
  } finally {
    n.remove();
  }
});
