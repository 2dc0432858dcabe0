// The kernel tier, as root, in the VM: the effective-value rules confirmed by packets on this
// kernel line (the experiments of ./packets.ts, which the regular suite runs on the host's
// kernel in test/effective.test.ts). Each experiment uses namespaces of its own, deleted at its
// end; the answer effectiveValue() gives comes from the rule of this line (5.10 ors arp_accept,
// 6.1 and later take the max).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetNamespace, effectiveValue } from 'netns';
import { IN_VM, LINE } from './common.js';
import * as packets from './packets.js';

const skip = !IN_VM
  ? "runs in the matrix's VMs (the host runs test/effective.test.ts)"
  : packets.BUSYBOX === undefined
    ? 'needs busybox for ping, ping6 and arping'
    : false;

/** The library as the experiments use it: each call opens the named namespace and closes it. */
const lab = packets.labOf<NetNamespace>(
  (n) => NetNamespace.fromName(n),
  (ns, k, v) => ns.sysctl.set(k, v),
  effectiveValue,
);

const check = (rows: packets.Row[]): void => {
  assert.ok(rows.length > 0, 'observed something');
  const bad = rows.filter((r) => !r.ok);
  assert.deepEqual(
    bad.map((r) => `${r.name}: ${r.detail}`),
    [],
    `on ${LINE}: ${rows.map((r) => `${r.name}: ${r.detail}`).join(' | ')}`,
  );
};

test('rp_filter by packets: max(all, DEV)', { skip }, async () => check(await packets.rpFilter(lab)));
test('arp_ignore by packets: max(all, DEV)', { skip }, async () => check(await packets.arpIgnore(lab)));
test(`arp_accept by packets: ${LINE === '5.10' ? 'or' : 'max'}(all, DEV)`, { skip }, async () =>
  check(await packets.arpAccept(lab)),
);
const kmsg = skip ? undefined : packets.kmsgReader();
kmsg?.close();
test('log_martians by the kernel log: all || DEV', { skip: skip || (kmsg ? false : 'no /dev/kmsg') }, async () =>
  check(await packets.logMartians(lab)),
);
test('IPv4 forwarding by packets: the input device alone', { skip }, async () =>
  check(await packets.forwarding(lab, 'ipv4')),
);
test('IPv6 forwarding by packets: conf.all alone', { skip }, async () => check(await packets.forwarding(lab, 'ipv6')));
