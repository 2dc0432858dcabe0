// The kernel tier, as an unprivileged user (uid 65534): what a namespace owned by a user
// namespace hides on this kernel, as classify() reports it, and a rootless namespace used.
// The keys hidden there were measured by the root part of the tier (classify.ts), which runs
// first in the matrix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classify, NetNamespace, type Classification } from 'netns';
import { LINE, loadResult, saveResult } from './common.js';

const measured = loadResult<{ hidden: string[] }>('classify');
const notRoot = process.getuid?.() === 0 ? 'runs as an unprivileged user' : false;

test(`a rootless namespace on ${LINE}: create, set, get`, { skip: notRoot }, () => {
  using ns = NetNamespace.create();
  assert.ok(ns.rootless, 'rootless: this user lacks CAP_SYS_ADMIN');
  assert.equal(ns.sysctl.get('net.ipv4.tcp_keepalive_time'), 7200);
  assert.equal(ns.sysctl.set('net.ipv4.tcp_keepalive_time', 300), 300);
  assert.equal(ns.sysctl.get('net.ipv4.tcp_keepalive_time'), 300);
});

test(`classify() as an unprivileged user reports the keys hidden on ${LINE} as hidden, not host-only`, {
  skip: notRoot || (measured ? false : 'no measurement from the root part of the tier'),
}, () => {
  const list: Classification[] = classify();
  const by = new Map(list.map((c) => [c.key, c]));
  const wrong = measured!.hidden
    .filter((k) => String(by.get(k)?.class) !== 'hidden')
    .map((k) => `${k}: ${by.get(k)?.class ?? 'absent'}`);
  const byClass: Record<string, number> = {};
  for (const c of list) byClass[c.class] = (byClass[c.class] ?? 0) + 1;
  saveResult('rootless', { line: LINE, keys: list.length, hidden: measured!.hidden.length, byClass, wrong });
  assert.deepEqual(wrong, [], `${measured!.hidden.length} keys hidden here`);
  const stray = list.filter((c) => String(c.class) === 'hidden' && !measured!.hidden.includes(c.key)).map((c) => c.key);
  assert.deepEqual(stray, [], 'no other key is called hidden');
});
