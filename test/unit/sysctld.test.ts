// The sysctl.d(5) parser and key forms (bin/cli/sysctld.ts): pure, no root, no namespaces.
import t from 'tap';
import { globRegExp, isGlob, parseConf, pathForm, topLevel, type InvalidLine } from '../../bin/cli/sysctld.js';

t.test('parseConf: comments, blanks, trimming, FILE:LINE', async (t) => {
  const invalid: InvalidLine[] = [];
  const text = ['# comment', '; comment', '', '   ', 'net.ipv4.tcp_keepalive_time = 600', '  net.core.somaxconn=1024  ', 'a.b =  1 2\t3 '].join('\n');
  const lines = parseConf(text, 'f.conf', invalid);
  t.same(invalid, []);
  t.same(lines, [
    { key: 'net.ipv4.tcp_keepalive_time', value: '600', optional: false, where: 'f.conf:5' },
    { key: 'net.core.somaxconn', value: '1024', optional: false, where: 'f.conf:6' },
    { key: 'a.b', value: '1 2\t3', optional: false, where: 'f.conf:7' },
  ]);
});

t.test("parseConf: '-' prefix, exclusions, the first '=' splits", async (t) => {
  const invalid: InvalidLine[] = [];
  const lines = parseConf('-net.ipv4.nope = 1\n-net.ipv4.conf.lo.rp_filter\nnet.x = a=b\n- net.y = 2\n', 'g', invalid);
  t.same(lines, [
    { key: 'net.ipv4.nope', value: '1', optional: true, where: 'g:1' },
    { key: 'net.ipv4.conf.lo.rp_filter', value: undefined, optional: true, where: 'g:2' },
    { key: 'net.x', value: 'a=b', optional: false, where: 'g:3' },
    { key: 'net.y', value: '2', optional: true, where: 'g:4' },
  ]);
  t.same(invalid, []);
});

t.test('parseConf: lines without = and lone characters are invalid, with their place', async (t) => {
  const invalid: InvalidLine[] = [];
  const lines = parseConf('no equals here\nx\n#\n;\n= 5\nnet.ok = 1', 'h', invalid);
  t.same(lines.map((l) => l.key), ['net.ok']);
  t.same(invalid, [
    { where: 'h:1', line: 'no equals here' },
    { where: 'h:2', line: 'x' },
    { where: 'h:5', line: '= 5' },
  ]);
  t.same(parseConf('', 'e', invalid), [], 'empty file');
  t.same(parseConf('net.a = 1\r\n', 'crlf', []), [{ key: 'net.a', value: '1', optional: false, where: 'crlf:1' }], 'CR is trimmed as whitespace');
});

t.test('topLevel and pathForm: the first separator decides', async (t) => {
  t.equal(topLevel('net.ipv4.tcp_ecn'), 'net');
  t.equal(topLevel('net/ipv4/tcp_ecn'), 'net');
  t.equal(topLevel('kernel.hostname'), 'kernel');
  t.equal(topLevel('vm'), 'vm');
  t.equal(pathForm('net.ipv4.conf.eth0/100.rp_filter'), 'net/ipv4/conf/eth0.100/rp_filter', 'VLAN: dots and slashes swap');
  t.equal(pathForm('net/ipv4/conf/eth0.100/rp_filter'), 'net/ipv4/conf/eth0.100/rp_filter', 'slash form kept');
  t.equal(pathForm('net.core.somaxconn'), 'net/core/somaxconn');
  t.equal(pathForm('net'), 'net');
});

t.test('globRegExp: * ? [..] [!..] stay inside one component', async (t) => {
  const m = (g: string, p: string): boolean => globRegExp(pathForm(g)).test(pathForm(p));
  t.ok(m('net.ipv4.conf.*.rp_filter', 'net.ipv4.conf.lo.rp_filter'));
  t.notOk(m('net.ipv4.conf.*', 'net.ipv4.conf.lo.rp_filter'), '* does not cross a separator');
  t.ok(m('net.ipv4.tcp_?mem', 'net.ipv4.tcp_rmem'));
  t.notOk(m('net.ipv4.tcp_?mem', 'net.ipv4.tcp_mem'));
  t.ok(m('net.ipv4.tcp_[rw]mem', 'net.ipv4.tcp_wmem'));
  t.notOk(m('net.ipv4.tcp_[!rw]mem', 'net.ipv4.tcp_wmem'));
  t.ok(m('net.ipv4.tcp_[!rw]mem', 'net.ipv4.tcp_xmem'));
  t.ok(globRegExp('a[b').test('a[b'), 'an unclosed [ is literal');
  t.ok(globRegExp('a.b+c').test('a.b+c'), 'regex characters are literal');
  t.notOk(globRegExp('a.b').test('axb'));
  t.ok(isGlob('net.ipv4.conf.*.x') && isGlob('a?') && isGlob('a[b]'));
  t.notOk(isGlob('net.ipv4.conf.lo.rp_filter'));
});
