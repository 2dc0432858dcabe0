// Effective values (lib/explain/effective.ts) from made-up values: pure, no root, no namespaces.
// The rules themselves (lib/explain/effective-rules.ts) are checked against packets in
// test/effective.test.ts; here every combination and the per-line differences.
import t from 'tap';
import * as fs from 'node:fs';
import {
  effectiveFrom,
  effectiveInputs,
  effectiveInputKeys,
  effectiveLineFor,
  effectiveRule,
  type EffectiveValue,
} from '../../lib/explain/effective.js';
import { EFFECTIVE_RULES, effectiveRuleOf } from '../../lib/explain/effective-rules.js';

const K612: [number, number] = [6, 12];
/** The effective value of `key` given dotted key -> value. */
const eff = (key: string, values: Record<string, string>, kernel = K612): EffectiveValue =>
  effectiveFrom(key, (k) => values[k], { kernel });
const v4 = (name: string, all: string, dev: string, extra: Record<string, string> = {}): EffectiveValue =>
  eff(`net.ipv4.conf.eth0.${name}`, {
    [`net.ipv4.conf.all.${name}`]: all,
    [`net.ipv4.conf.eth0.${name}`]: dev,
    ...extra,
  });

t.test('ipv4: max, or, and, as include/linux/inetdevice.h combines them', async (t) => {
  const rp = v4('rp_filter', '2', '1');
  t.equal(rp.effective, '2');
  t.equal(rp.text, 'effective 2 = max(all 2, eth0 1): loose', 'the one-line account');
  t.equal(rp.differs, true, 'eth0 shows 1, the kernel uses 2');
  t.equal(rp.rule?.combine, 'max');
  t.equal(v4('rp_filter', '0', '1').meaning, 'strict');
  t.equal(v4('arp_ignore', '1', '0').effective, '1');
  t.equal(v4('log_martians', '1', '0').text, 'effective 1 = or(all 1, eth0 0): on');
  t.equal(v4('log_martians', '0', '0').effective, '0');
  t.equal(v4('accept_source_route', '1', '0').effective, '0', 'and: both must be set');
  t.equal(v4('accept_source_route', '1', '1').effective, '1');
  t.equal(v4('medium_id', '5', '2').effective, '2', 'device only');
  t.equal(v4('forwarding', '1', '0').text.startsWith('effective 0 = eth0 0 (conf.all is not read)'), true);
  t.equal(v4('bootp_relay', '1', '1').effective, null, 'nothing reads bootp_relay');
  t.match(v4('bootp_relay', '1', '1').text, /no effect/);
});

t.test('ipv4 special cases: accept_redirects by forwarding, force_igmp_version', async (t) => {
  const fwd = (f: string) => ({ 'net.ipv4.conf.eth0.forwarding': f });
  t.equal(v4('accept_redirects', '1', '0', fwd('0')).effective, '1', 'a host: or');
  t.equal(v4('accept_redirects', '1', '0', fwd('1')).effective, '0', 'a router: and');
  t.match(v4('accept_redirects', '1', '0', fwd('1')).text, /and\(all 1, eth0 0\) \(eth0 forwards\)/);
  t.same(effectiveInputs('net.ipv4.conf.eth0.accept_redirects', { kernel: K612 }), [
    'ipv4/conf/eth0/accept_redirects',
    'ipv4/conf/all/accept_redirects',
    'ipv4/conf/eth0/forwarding',
  ]);
  t.equal(v4('accept_redirects', '1', '0').effective, null, "unknown without the device's forwarding");
  t.equal(v4('force_igmp_version', '0', '2').effective, '2');
  t.equal(v4('force_igmp_version', '2', '1').effective, '1', 'v1 wins');
  t.equal(v4('force_igmp_version', '3', '0').meaning, 'IGMPv3 unless an IGMPv1/v2 querier is heard');
});

t.test('the rule of each kernel line: 5.10 differs from 6.1 and 6.12', async (t) => {
  const vals = { 'net.ipv4.conf.all.arp_accept': '2', 'net.ipv4.conf.eth0.arp_accept': '1' };
  t.equal(eff('net.ipv4.conf.eth0.arp_accept', vals, [6, 1]).effective, '2', '6.1: max');
  t.equal(eff('net.ipv4.conf.eth0.arp_accept', vals, [5, 10]).effective, '1', '5.10: or');
  const pv = { 'net.ipv4.conf.all.proxy_arp_pvlan': '1', 'net.ipv4.conf.eth0.proxy_arp_pvlan': '0' };
  t.equal(eff('net.ipv4.conf.eth0.proxy_arp_pvlan', pv, [5, 10]).effective, '0', '5.10: the device alone');
  t.equal(eff('net.ipv4.conf.eth0.proxy_arp_pvlan', pv, [6, 12]).effective, '1', '6.12: or');
  const ev = eff(
    'net.ipv4.conf.eth0.arp_evict_nocarrier',
    {
      'net.ipv4.conf.all.arp_evict_nocarrier': '1',
      'net.ipv4.conf.eth0.arp_evict_nocarrier': '1',
    },
    [5, 10],
  );
  t.equal(ev.rule, null, 'no arp_evict_nocarrier on 5.10');
  t.equal(effectiveLineFor([6, 18]), '6.12', 'newer kernels use the newest checked line');
  t.equal(effectiveLineFor([6, 5]), '6.1');
  t.equal(effectiveLineFor([4, 19]), '5.10', 'older ones the oldest');
  const r = effectiveRule('net.ipv4.conf.eth0.rp_filter', { kernel: [6, 18] });
  t.equal(r?.kernel.checkedOnRunning, false);
  t.match(r?.kernel.note, /not read for 6\.18: the 6\.12 rule, and its effect observed on 6\.18/);
  t.equal(effectiveRule('net.ipv4.conf.eth0.rp_filter', { kernel: [6, 1] })?.kernel.checkedOnRunning, true);
  t.match(
    effectiveRule('net.ipv4.conf.eth0.rp_filter', { kernel: [5, 10] })?.kernel.note,
    /read in the 5\.10 source, and its effect confirmed by packets in the kernel matrix/,
  );
  t.match(effectiveRule('net.ipv4.conf.eth0.arp_accept', { kernel: [5, 10] })?.observed, /with or on 5\.10/);
  t.equal(
    effectiveRule('net.ipv4.conf.eth0.accept_local', { kernel: [6, 1] })?.kernel.note,
    'read in the 6.1 source',
    'no packets for accept_local',
  );
  t.same(
    r?.lines.map((l) => l.combine),
    ['max', 'max', 'max'],
  );
});

t.test('ipv6: mostly the device alone; min, max, or, and, all-first, forwarding', async (t) => {
  const v6 = (name: string, all: string, dev: string, extra: Record<string, string> = {}) =>
    eff(`net.ipv6.conf.eth0.${name}`, {
      [`net.ipv6.conf.all.${name}`]: all,
      [`net.ipv6.conf.eth0.${name}`]: dev,
      ...extra,
    });
  t.equal(v6('mtu', '1280', '1500').effective, '1500', 'device only');
  t.match(v6('mtu', '1280', '1500').text, /conf\.all is not read/);
  t.equal(v6('accept_source_route', '0', '-1').effective, '-1', 'min');
  t.equal(v6('accept_dad', '2', '0').effective, '2', 'max');
  t.equal(v6('ndisc_notify', '1', '0').effective, '1', 'or');
  t.equal(v6('ndisc_evict_nocarrier', '1', '0').effective, '0', 'and');
  t.equal(v6('keep_addr_on_down', '-1', '1').effective, '-1', 'all when not 0');
  t.equal(v6('keep_addr_on_down', '0', '1').effective, '1', 'else the device');
  t.equal(v6('forwarding', '1', '0').effective, '1', 'conf.all forwards');
  t.equal(v6('forwarding', '0', '1').effective, '0');
  t.equal(
    v6('forwarding', '0', '0', { 'net.ipv6.conf.eth0.force_forwarding': '1' }).effective,
    '1',
    'force_forwarding (6.17+) where the namespace has it',
  );
  const fwd = { 'net.ipv6.conf.eth0.forwarding': '1' };
  t.equal(v6('accept_ra', '1', '1', fwd).effective, '0', 'a forwarding device ignores RAs unless accept_ra = 2');
  t.equal(v6('accept_ra', '1', '2', fwd).effective, '1');
  t.equal(v6('accept_redirects', '1', '1', fwd).effective, '0');
  t.equal(v6('proxy_ndp', '1', '0', fwd).effective, '1');
  t.equal(v6('proxy_ndp', '1', '0', { 'net.ipv6.conf.eth0.forwarding': '0' }).effective, '0');
  const secret = eff('net.ipv6.conf.eth0.stable_secret', { 'net.ipv6.conf.default.stable_secret': 'fe80::1' });
  t.equal(secret.effective, 'fe80::1', "conf.default's secret when the device has none");
  t.equal(v6('no_such_entry', '1', '1').rule, null, 'an entry of no checked line: no rule');
  t.match(v6('no_such_entry', '1', '1').text, /no rule known/);
});

t.test('conf.all and conf.default are no device value', async (t) => {
  const all = eff('net.ipv4.conf.all.rp_filter', { 'net.ipv4.conf.all.rp_filter': '1' });
  t.equal(all.scope, 'all');
  t.equal(all.effective, null);
  t.match(all.text, /max\(all, DEV\)/);
  const dflt = eff('net.ipv4.conf.default.log_martians', {});
  t.equal(dflt.scope, 'default');
  t.match(dflt.text, /never set/);
  t.match(eff('net.ipv6.conf.default.mtu', {}).text, /created later/);
});

t.test('unreadable inputs, other keys, devices with dots', async (t) => {
  t.equal(eff('net.ipv4.conf.eth0.rp_filter', { 'net.ipv4.conf.eth0.rp_filter': '1' }).effective, null);
  t.match(
    eff('net.ipv4.conf.eth0.rp_filter', { 'net.ipv4.conf.eth0.rp_filter': '1' }).text,
    /conf\.all could not be read/,
  );
  t.throws(() => eff('net.ipv4.tcp_rmem', {}), RangeError, 'not a conf key');
  t.throws(() => effectiveFrom('net.ipv4.conf.eth0.rp_filter', 'x' as never), TypeError);
  const dotted = eff('net.ipv4.conf.eth0/100.rp_filter', {
    'net.ipv4.conf.eth0/100.rp_filter': '0',
    'net.ipv4.conf.all.rp_filter': '1',
  });
  t.equal(dotted.device, 'eth0.100');
  t.equal(dotted.text, 'effective 1 = max(all 1, eth0.100 0): strict');
  t.same(effectiveInputs('net.core.somaxconn'), [], 'not a conf key: nothing to read');
});

t.test('the table: every IPv4 entry of 6.12, one rule each, cited', async (t) => {
  const v4names = EFFECTIVE_RULES.filter((r) => r.family === 'ipv4').map((r) => r.name);
  t.equal(v4names.length, 33, '33 entries of devinet_sysctl');
  t.equal(new Set(EFFECTIVE_RULES.map((r) => r.id)).size, EFFECTIVE_RULES.length, 'one rule per entry');
  const count = (c: string) => EFFECTIVE_RULES.filter((r) => r.family === 'ipv4' && r.lines['6.12'] === c).length;
  t.same(
    { max: count('max'), or: count('or'), and: count('and') },
    { max: 5, or: 16, and: 4 },
    'on 6.12: 5 max, 16 or, 4 and (plus bootp_relay, whose macro nothing calls)',
  );
  for (const r of EFFECTIVE_RULES) {
    if (r.lines['6.12'] === 'unused' || (r.family === 'ipv6' && r.uses.length === 0)) continue;
    t.ok(r.uses.length > 0 && r.file !== '' && r.reads !== '', `${r.id} cites its readers`);
  }
  t.ok(effectiveRuleOf('ipv6', 'mtu'), 'IPv6 entries without a devconf_all reader have a device-only rule');
  t.equal(effectiveRuleOf('ipv6', 'ra_honor_pio_life')?.lines['6.1'], undefined, 'not on 6.1');
});

t.test('docs/api.md states the same rules per line as EFFECTIVE_RULES', async (t) => {
  const md = fs.readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
  for (const family of ['ipv4', 'ipv6'] as const) {
    const table = md.split(`| ${family} entry | 5.10 | 6.1 | 6.12 | read by |`)[1]?.split('\n\n')[0] ?? '';
    const rows = [...table.matchAll(/^\| `([a-z0-9_]+)` \| ([^|]+) \| ([^|]+) \| ([^|]+) \|/gm)];
    const listed = EFFECTIVE_RULES.filter((r) => r.family === family && (family === 'ipv4' || r.uses.length > 0));
    t.equal(rows.length, listed.length, `${family}: one row per rule with readers`);
    for (const [, name, a, b, c] of rows) {
      const r = effectiveRuleOf(family, name!);
      t.same(
        [a, b, c].map((x) => x!.trim()),
        (['5.10', '6.1', '6.12'] as const).map((l) => r?.lines[l] ?? '—'),
        `${family} ${name}`,
      );
    }
  }
});

t.test("a tenant's device name is shown printable() in the text, exact in the data", async (t) => {
  const dev = 'e\x1b]0;x\x07\\';
  const key = `net.ipv4.conf.${dev}.rp_filter`;
  const e = effectiveFrom(key, (k) => ({ [key]: '1', 'net.ipv4.conf.all.rp_filter': '2' })[k], { kernel: K612 });
  t.equal(e.device, dev, 'the data field is exact');
  t.ok(Object.hasOwn(e.inputs, key), 'inputs keyed by the exact key');
  t.equal(e.text, 'effective 2 = max(all 2, e\\x1b]0;x\\x07\\\\ 1): loose');
  t.notMatch(e.text, /[\x00-\x1f]/);
});

t.test('effectiveInputKeys: the inputs of effectiveInputs in dot form, for every rule, device and line', async (t) => {
  const { keyFromRel } = await import('../../lib/keypath.js');
  let n = 0;
  for (const line of ['5.10', '6.1', '6.12', '6.18', '4.19'])
    for (const r of EFFECTIVE_RULES)
      for (const dev of ['eth0', 'eth0/100', 'all', 'default', 'a-b_c']) {
        const [family, name] = r.id.split('.') as [string, string];
        const key = `net.${family}.conf.${dev}.${name}`;
        const kernel = line.split('.').map(Number) as [number, number];
        t.same(
          effectiveInputKeys(key, { kernel }),
          effectiveInputs(key, { kernel }).map(keyFromRel),
          `${key} on ${line}`,
        );
        n++;
      }
  t.same(effectiveInputKeys('net.core.somaxconn'), [], 'not a conf key');
  t.same(effectiveInputKeys('net.ipv4.neigh.eth0.app_solicit'), [], 'a neighbour entry');
  t.same(effectiveInputKeys('net/ipv4/conf/eth0/rp_filter'), [], 'a path: dot form only');
  t.ok(n > 50, `${n} keys compared`);
});

t.test('rule evidence is made once per rule and kernel line, frozen, and shared', async (t) => {
  const a = v4('rp_filter', '2', '1').rule!;
  const b = eff('net.ipv4.conf.eth1.rp_filter', {
    'net.ipv4.conf.all.rp_filter': '0',
    'net.ipv4.conf.eth1.rp_filter': '1',
  }).rule!;
  t.equal(a, b, 'two devices, one rule: the same object');
  t.ok(
    Object.isFrozen(a) && Object.isFrozen(a.kernel) && Object.isFrozen(a.lines),
    'frozen, with its kernel and lines',
  );
  t.ok(
    a.lines.every((l) => Object.isFrozen(l)),
    'and each line',
  );
  t.throws(() => {
    (a as { id: string }).id = 'x';
  }, TypeError);
  t.not(eff('net.ipv4.conf.eth0.rp_filter', {}, [5, 10]).rule, a, 'another kernel line: another object');
});
