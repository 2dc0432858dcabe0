// Key <-> path (lib/keypath.ts): the one conversion, as procps' sysctl(8) and sysctl.d(5) do it.
// The first separator decides the form; in the dot form dots and slashes swap. Pure.
import t from 'tap';
import { deviceOf, keyFromRel, pathForm, withDevice } from '../../lib/keypath.js';
import { parseKey } from '../../lib/sysctl/keys.js';
import * as sysctld from '../../lib/sysctl/sysctld.js';

t.test('pathForm: the first separator decides', async (t) => {
  t.equal(
    pathForm('net.ipv4.conf.eth0/100.rp_filter'),
    'net/ipv4/conf/eth0.100/rp_filter',
    'dot first: dots and slashes swap',
  );
  t.equal(pathForm('net/ipv4/conf/eth0.100/rp_filter'), 'net/ipv4/conf/eth0.100/rp_filter', 'slash first: kept');
  t.equal(pathForm('net.core.somaxconn'), 'net/core/somaxconn');
  t.equal(pathForm('kernel.hostname'), 'kernel/hostname', 'any top level, as procps');
  t.equal(pathForm('net'), 'net');
  t.equal(pathForm('a/b.c.d'), 'a/b.c.d', 'a slash before the first dot: the dots are file-name characters');
  t.equal(pathForm('net.ipv4.conf.*.rp_filter'), 'net/ipv4/conf/*/rp_filter', 'globs convert like keys');
  t.equal(sysctld.pathForm, pathForm, 'sysctl.d matching uses the same function');
});

t.test('keyFromRel: a path below /proc/sys/net in dot form, the inverse of pathForm', async (t) => {
  t.equal(keyFromRel('ipv4/conf/eth0.100/rp_filter'), 'net.ipv4.conf.eth0/100.rp_filter');
  t.equal(keyFromRel('core/somaxconn'), 'net.core.somaxconn');
  t.equal(keyFromRel('a.b'), 'net.a/b', 'a dot in a one-component path');
  t.equal(keyFromRel(''), 'net');
  for (const rel of ['ipv4/conf/eth0.100/rp_filter', 'ipv6/neigh/v.1.2/retrans_time_ms', 'core/somaxconn', 'x.y/z.w']) {
    const key = keyFromRel(rel);
    t.equal(pathForm(key), `net/${rel}`, `${rel}: round trip`);
    t.equal(keyFromRel(rel), key, `${rel}: cached answer is the same`);
    t.same([parseKey(key).key, parseKey(key).rel], [key, rel], `${rel}: parseKey agrees`);
  }
});

t.test('deviceOf: the interface of a per-interface key, in any form', async (t) => {
  t.equal(deviceOf('ipv4/conf/eth0/rp_filter'), 'eth0', 'a path below /proc/sys/net');
  t.equal(deviceOf('ipv6/neigh/lo/retrans_time_ms'), 'lo');
  t.equal(deviceOf('net.ipv4.conf.eth0/100.rp_filter'), 'eth0.100', 'dot form: the file name');
  t.equal(deviceOf('net/ipv4/conf/eth0.100/rp_filter'), 'eth0.100', 'slash form');
  t.equal(deviceOf('ipv4/conf/all/rp_filter'), undefined, 'all');
  t.equal(deviceOf('net.ipv6.conf.default.forwarding'), undefined, 'default');
  t.equal(deviceOf('net.ipv4.tcp_rmem'), undefined, 'not per interface');
  t.equal(deviceOf('net.ipv4.conf.eth0'), undefined, 'the directory, not a key of it');
});

t.test('withDevice: another interface in the same key, in the same form', async (t) => {
  t.equal(withDevice('net.ipv4.conf.eth0/100.rp_filter', 'eth0.100', 'default'), 'net.ipv4.conf.default.rp_filter');
  t.equal(
    withDevice('net.ipv4.conf.eth0.rp_filter', 'eth0', 'v.1'),
    'net.ipv4.conf.v/1.rp_filter',
    'a dot in the new name: a slash in the dot form',
  );
  t.equal(
    withDevice('net/ipv6/neigh/eth0/retrans_time_ms', 'eth0', 'IFNAME'),
    'net/ipv6/neigh/IFNAME/retrans_time_ms',
    'slash form stays slash form',
  );
  t.equal(
    withDevice('ipv4/conf/eth0.100/rp_filter', 'eth0.100', '<if>'),
    'ipv4/conf/<if>/rp_filter',
    'a path below /proc/sys/net',
  );
  t.equal(
    withDevice('net.ipv4.conf.conf.conf', 'conf', 'DEV'),
    'net.ipv4.conf.DEV.conf',
    'only the interface component',
  );
  t.equal(withDevice('net.ipv4.tcp_rmem', 'eth0', 'x'), 'net.ipv4.tcp_rmem', 'not per interface: unchanged');
  t.equal(
    withDevice('net.ipv4.conf.eth1.rp_filter', 'eth0', 'x'),
    'net.ipv4.conf.eth1.rp_filter',
    'another interface: unchanged',
  );
});

t.test('deviceOf and withDevice: the dot form (read without making the path) agrees with the path form', async (t) => {
  const keys = `net.ipv4.conf.eth0.rp_filter net.ipv4.conf.eth0/100.rp_filter net.ipv6.neigh.ve-x/1/2.retrans_time
    net.ipv4.conf.all.rp_filter net.ipv4.conf.default.rp_filter net.ipv4.conf.eth0 net.ipv4.tcp_rmem
    net.ipv6.conf.lo.mtu net.core.somaxconn`.split(/\s+/);
  for (const key of keys) {
    const path = pathForm(key);
    t.equal(deviceOf(key), deviceOf(path), `deviceOf(${key})`);
    const dev = deviceOf(key);
    if (dev === undefined) continue;
    for (const other of ['default', '\0', 'x.y'])
      t.equal(
        withDevice(key, dev, other),
        keyFromRel(withDevice(path, dev, other).slice(4)),
        `withDevice(${key}, ${other})`,
      );
    t.equal(withDevice(key, `${dev}z`, 'default'), key, 'another device: unchanged');
  }
});
