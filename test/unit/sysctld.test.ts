// The sysctl.d(5) parser and key forms (lib/sysctl/sysctld.ts), as procps-ng reads them: pure,
// no root, no namespaces.
import t from 'tap';
import {
  compilePattern,
  globRegExp,
  isGlob,
  isNetKey,
  isTraversal,
  parseConf,
  parseSettingLine,
  pathForm,
  systemFiles,
  topLevel,
} from '../../lib/sysctl/sysctld.js';

t.test('parseConf: comments, blanks, trimming, FILE:LINE', async (t) => {
  const text = [
    '# comment',
    '; comment',
    '',
    '   ',
    'net.ipv4.tcp_keepalive_time = 600',
    '  net.core.somaxconn=1024  ',
    'a.b =  1 2\t3 ',
  ].join('\n');
  const { settings, invalid } = parseConf(text, 'f.conf');
  t.same(invalid, []);
  t.same(settings, [
    { key: 'net.ipv4.tcp_keepalive_time', value: '600', optional: false, where: 'f.conf:5' },
    { key: 'net.core.somaxconn', value: '1024', optional: false, where: 'f.conf:6' },
    { key: 'a.b', value: '1 2\t3', optional: false, where: 'f.conf:7' },
  ]);
});

t.test("parseConf: '-' prefix, exclusions, the first '=' splits", async (t) => {
  const { settings, invalid } = parseConf(
    '-net.ipv4.nope = 1\n-net.ipv4.conf.lo.rp_filter\nnet.x = a=b\n- net.y = 2\n',
    'g',
  );
  t.same(
    settings,
    [
      { key: 'net.ipv4.nope', value: '1', optional: true, where: 'g:1' },
      { key: 'net.ipv4.conf.lo.rp_filter', value: undefined, optional: false, where: 'g:2' },
      { key: 'net.x', value: 'a=b', optional: false, where: 'g:3' },
      { key: ' net.y', value: '2', optional: true, where: 'g:4' },
    ],
    "procps keeps the blank after '-' in the key",
  );
  t.same(invalid, []);
});

t.test('parseConf: lines without = are invalid; shorter than two bytes are nothing', async (t) => {
  const { settings, invalid } = parseConf('no equals here\nx\n#\n;\n= 5\nnet.ok = 1\ny', 'h');
  t.same(
    settings.map((l) => [l.key, l.value]),
    [
      ['', '5'],
      ['net.ok', '1'],
    ],
  );
  t.same(
    invalid,
    [
      { where: 'h:1', line: 'no equals here' },
      { where: 'h:2', line: 'x' },
    ],
    "'x' with its newline is two bytes: invalid; 'y' at the end without one is skipped",
  );
  t.same(parseConf('', 'e').settings, [], 'empty file');
  t.same(
    parseConf('net.a = 1\r\n', 'crlf').settings,
    [{ key: 'net.a', value: '1', optional: false, where: 'crlf:1' }],
    'CR is trimmed as whitespace',
  );
  t.same(parseConf('net.a =\n', 'v').settings[0]?.value, '', 'an empty value');
  t.same(parseConf('net.a = 1 # c\n', 'v').settings[0]?.value, '1 # c', 'no comments after a value');
});

t.test('parseSettingLine: -r filters the whole line, before the split', async (t) => {
  t.same(parseSettingLine('net.core.somaxconn=5', /somax/), {
    kind: 'setting',
    key: 'net.core.somaxconn',
    value: '5',
    optional: false,
  });
  t.same(parseSettingLine('net.core.somaxconn=5', /xx/), { kind: 'none' });
  t.same(parseSettingLine('net.core.somaxconn = 5\n', /= 5$/), { kind: 'none' }, '$ does not match before the newline');
  t.same(parseSettingLine('net.core.somaxconn = 5', /=/), {
    kind: 'setting',
    key: 'net.core.somaxconn',
    value: '5',
    optional: false,
  });
  t.same(parseSettingLine('net.core.somaxconn'), { kind: 'invalid' });
  t.same(parseSettingLine('#x=1'), { kind: 'none' });
  t.same(parseSettingLine('a'), { kind: 'none' }, 'shorter than two characters');
});

t.test('topLevel, isNetKey, isTraversal, pathForm: the first separator decides', async (t) => {
  t.equal(topLevel('net.ipv4.tcp_ecn'), 'net');
  t.equal(topLevel('net/ipv4/tcp_ecn'), 'net');
  t.equal(topLevel('kernel.hostname'), 'kernel');
  t.ok(isNetKey('net') && isNetKey(' net.core.x') && !isNetKey('kernel.hostname') && !isNetKey('network.x'));
  t.ok(isTraversal('/../../etc/passwd') && isTraversal('net/ipv4/../../kernel/hostname'));
  t.notOk(isTraversal('net.ipv4.conf.eth0/100.rp_filter'));
  t.equal(
    pathForm('net.ipv4.conf.eth0/100.rp_filter'),
    'net/ipv4/conf/eth0.100/rp_filter',
    'VLAN: dots and slashes swap',
  );
  t.equal(pathForm('net/ipv4/conf/eth0.100/rp_filter'), 'net/ipv4/conf/eth0.100/rp_filter', 'slash form kept');
  t.equal(pathForm('net.core.somaxconn'), 'net/core/somaxconn');
  t.equal(pathForm('net'), 'net');
});

t.test('globRegExp: * ? [..] [!..]; exclusions may cross /', async (t) => {
  const m = (g: string, p: string): boolean => globRegExp(pathForm(g)).test(pathForm(p));
  t.ok(m('net.ipv4.conf.*.rp_filter', 'net.ipv4.conf.lo.rp_filter'));
  t.notOk(m('net.ipv4.conf.*', 'net.ipv4.conf.lo.rp_filter'), '* does not cross a separator');
  t.ok(globRegExp('net/ipv4/conf/*', true).test('net/ipv4/conf/lo/rp_filter'), 'fnmatch without FNM_PATHNAME does');
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

t.test('systemFiles: procps order, first directory wins a name, sorted by name, sysctl.conf last', async (t) => {
  const dirs: Record<string, string[]> = {
    '/etc/sysctl.d': ['99-sysctl.conf', '50-a.conf', 'README', 'x.conf.bak'],
    '/run/sysctl.d': ['50-a.conf', '10-r.conf'],
    '/usr/lib/sysctl.d': ['50-a.conf', '20-b.conf', '.conf'],
    '/lib/sysctl.d': ['20-b.conf', '05-l.conf'],
  };
  const files = systemFiles(
    (d) => dirs[d],
    (p) => p === '/etc/sysctl.conf',
  );
  t.same(files, [
    '/usr/lib/sysctl.d/.conf', // five characters ending in .conf: procps takes it too
    '/lib/sysctl.d/05-l.conf',
    '/run/sysctl.d/10-r.conf',
    '/usr/lib/sysctl.d/20-b.conf',
    '/etc/sysctl.d/50-a.conf',
    '/etc/sysctl.d/99-sysctl.conf',
    '/etc/sysctl.conf',
  ]);
  t.same(
    systemFiles(
      () => undefined,
      () => false,
    ),
    [],
    'nothing anywhere',
  );
});

t.test('compilePattern: extended regular expressions, classes, invalid ones', async (t) => {
  t.ok(compilePattern('ipv[[:digit:]]\\.tcp')?.test('net.ipv4.tcp_ecn'));
  t.ok(compilePattern('(lo|all)\\.arp')?.test('net.ipv4.conf.lo.arp_accept'));
  t.equal(compilePattern('('), undefined, 'does not compile: procps matches nothing');
});
