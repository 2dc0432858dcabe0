// State files are input from strangers (issue 25 item 3): the one reader of container state
// (lib/container/statefile.ts) against hostile files in roots of the test's own -- a sparse
// 1 GiB state.json, 100,000 '[', fields of the wrong type, a link to /etc/shadow, a FIFO, a
// link to /dev/zero, names holding escape sequences and bytes that are not UTF-8 -- each
// skipped with a report while the good containers beside them are still listed; and whose a
// record is (trust, owner): the caller's, root's, or another user's (chown to nobody, as root).
// No root needed, but for the parts that chown or mknod (skipped with the reason otherwise).
import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fsencode, printable } from '../../lib/index.js';
import { procStartTime, readRoot, StateScan } from '../../lib/container/read.js';
import { findContainer, listContainers, trustNote } from '../../lib/container/find.js';
import {
  checkFields,
  JSON_DEPTH_LIMIT,
  jsonDepthOver,
  readJsonFile,
  STATE_FILE_LIMIT,
  StateDir,
} from '../../lib/container/statefile.js';
import type { ContainerStateError } from '../../lib/container/types.js';

const isRoot = process.geteuid?.() === 0;
const NOBODY = 65534;
const me = process.pid;
const myStart = procStartTime(me)!;

const tmp = (t: Test): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'netns-tc-state-'));
  t.teardown(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
};

function runcState(id: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    id,
    init_process_pid: me,
    init_process_start: myStart,
    created: '2026-01-02T03:04:05Z',
    config: { labels: [] },
    ...extra,
  });
}

/** Write `text` to `file` (its name as bytes: fsencode), making its directories. */
function put(file: string, text: string): void {
  fs.mkdirSync(fsencode(path.dirname(file)), { recursive: true });
  fs.writeFileSync(fsencode(file), text);
}

function fdCount(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

/** listContainers with its reports. */
function scan(root: string): { ids: string[]; skipped: ContainerStateError[] } {
  const skipped: ContainerStateError[] = [];
  const ids = listContainers({ root, onError: (e) => skipped.push(e) }).map((c) => c.id);
  return { ids, skipped };
}

t.test('jsonDepthOver: one pass, brackets in strings and escaped quotes skipped', async (t) => {
  t.equal(jsonDepthOver('[[[]]]', 3), -1);
  t.equal(jsonDepthOver('[[[[]]]]', 3), 3, 'the offset of the first bracket too deep');
  t.equal(jsonDepthOver('{"a":"[[[[[[\\"[[[["}', 2), -1, 'brackets inside a string, after an escaped quote');
  t.equal(jsonDepthOver('['.repeat(100_000), JSON_DEPTH_LIMIT), JSON_DEPTH_LIMIT);
  t.equal(jsonDepthOver(`${'['.repeat(64)}${']'.repeat(64)}`, 64), -1, 'exactly the limit is fine');
});

t.test('checkFields: a string that is a number, a number that is an object, missing and optional fields', async (t) => {
  const spec = { id: 'string', n: 'count', s: 'string?', l: 'strings?', m: 'string-map?', o: { x: 'count' } } as const;
  t.equal(checkFields({ id: 'a', n: 3 }, spec), undefined);
  t.equal(checkFields({ id: 'a', n: '42' }, spec), undefined, 'a count as digits');
  t.equal(checkFields({ id: 'a', n: 3, s: '' }, spec), undefined, 'an optional string may be empty');
  t.equal(checkFields({ id: 'a', n: 3, s: null }, spec), undefined, 'null is absent for an optional field');
  t.equal(checkFields({ id: 5, n: 3 }, spec), 'id is 5, expected a string');
  t.equal(checkFields({ id: 'a', n: {} }, spec), 'n is an object, expected a positive integer');
  t.equal(checkFields({ id: 'a', n: -1 }, spec), 'n is -1, expected a positive integer');
  t.equal(checkFields({ id: 'a', n: 2 ** 60 }, spec), `n is ${2 ** 60}, expected a positive integer`);
  t.equal(checkFields({ id: 'a', n: '1e3' }, spec), 'n is a string, expected a positive integer');
  t.equal(checkFields({ n: 1 }, spec), 'id is missing, expected a string');
  t.equal(checkFields({ id: 'a', n: 1, l: ['x', 1] }, spec), 'l is an array, expected an array of strings');
  t.equal(checkFields({ id: 'a', n: 1, m: { k: [] } }, spec), 'm is an object, expected an object of strings');
  t.equal(checkFields({ id: 'a', n: 1, o: { x: 'y' } }, spec), 'o.x is a string, expected a positive integer');
  t.equal(checkFields({ id: 'a', n: 1, o: [1] }, spec), 'o is an array, expected an object');
  t.equal(checkFields('x', spec), 'the file is a string, expected an object');
  t.equal(checkFields({ id: 'a', n: 1, ['__proto__']: 5 }, spec), undefined, 'fields not in the spec are not read');
});

t.test('hostile state files in one root: each skipped with a report, the good ones still listed', async (t) => {
  const d = tmp(t);
  const root = path.join(d, 'root');
  put(path.join(root, 'good1/state.json'), runcState('good1'));
  put(path.join(root, 'k8s.io/good2/state.json'), runcState('good2'));
  // A sparse 1 GiB file: no disk used, and never read (fstat says how big it is).
  put(path.join(root, 'huge/state.json'), runcState('huge'));
  fs.truncateSync(path.join(root, 'huge/state.json'), 1 << 30);
  // 100,000 '[': refused before JSON.parse sees it.
  put(path.join(root, 'deep/state.json'), '['.repeat(100_000));
  put(path.join(root, 'deepobj/state.json'), `{"id":"deepobj","x":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`);
  // Wrong types: a string field that is a number, a number field that is an object.
  put(path.join(root, 'types1/state.json'), runcState('types1', { id: 12345 }));
  put(path.join(root, 'types2/state.json'), runcState('types2', { init_process_pid: { pid: 1 } }));
  put(path.join(root, 'types3/state.json'), runcState('types3', { config: { labels: 'bundle=/etc' } }));
  put(path.join(root, 'types4/status'), JSON.stringify({ pid: 'me', 'process-start-time': 1 }));
  put(path.join(root, 'array/state.json'), '[1,2,3]');
  put(path.join(root, 'other-id/state.json'), runcState('good1'));
  // A link to /etc/shadow, and to /dev/zero: O_NOFOLLOW.
  fs.mkdirSync(path.join(root, 'shadow'));
  fs.symlinkSync('/etc/shadow', path.join(root, 'shadow/state.json'));
  fs.mkdirSync(path.join(root, 'zero'));
  fs.symlinkSync('/dev/zero', path.join(root, 'zero/state.json'));
  // A FIFO: opened O_NONBLOCK, refused by fstat; never read (it would block forever).
  fs.mkdirSync(path.join(root, 'fifo'));
  t.equal(spawnSync('mkfifo', [path.join(root, 'fifo/state.json')]).status, 0, 'mkfifo');
  // A state.json that is a directory; a container directory that is a link (not followed).
  fs.mkdirSync(path.join(root, 'dir/state.json'), { recursive: true });
  fs.symlinkSync(path.join(root, 'good1'), path.join(root, 'linked'));
  // Not JSON, holding a secret: the report never quotes the file.
  put(path.join(root, 'secret/state.json'), 'root:$6$SECRETHASH:19000:0:99999:7:::\n');
  // Names holding an escape sequence and a byte that is not UTF-8.
  const esc = 'e\x1b[31mX\x1b]0;pwned\x07';
  put(path.join(root, esc, 'state.json'), runcState(esc));
  put(path.join(root, `${esc}bad`, 'state.json'), '{"id":');
  const raw = 'r\udcffz'; // the byte 0xff
  put(path.join(root, raw, 'state.json'), runcState(raw));
  put(path.join(root, `${raw}2`, 'state.json'), runcState(raw));

  const fds = fdCount();
  const heap = process.memoryUsage().rss;
  const started = process.hrtime.bigint();
  const { ids, skipped } = scan(root);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  t.equal(fdCount(), fds, 'no fd left open');
  t.ok(process.memoryUsage().rss - heap < 200 << 20, 'the 1 GiB file was not read');
  t.comment(`scan of ${ids.length + skipped.length} entries: ${ms.toFixed(1)} ms`);
  t.same(ids.sort(), [esc, 'good1', 'good2', raw].sort(), 'the good containers, hostile names included, exact');

  const by = new Map(skipped.map((e) => [path.relative(root, e.path), e]));
  const want: [string, string, string][] = [
    ['huge/state.json', 'EFBIG', 'too-large'],
    ['deep/state.json', 'EINVAL', 'too-deep'],
    ['deepobj/state.json', 'EINVAL', 'too-deep'],
    ['types1/state.json', 'EINVAL', 'bad-field'],
    ['types2/state.json', 'EINVAL', 'bad-field'],
    ['types3/state.json', 'EINVAL', 'bad-field'],
    ['types4/status', 'EINVAL', 'bad-field'],
    ['array/state.json', 'EINVAL', 'bad-field'],
    ['other-id/state.json', 'EINVAL', 'id-mismatch'],
    ['shadow/state.json', 'ELOOP', 'symlink'],
    ['zero/state.json', 'ELOOP', 'symlink'],
    ['fifo/state.json', 'EINVAL', 'not-a-file'],
    ['dir/state.json', 'EINVAL', 'not-a-file'],
    ['linked', 'ELOOP', 'symlink'],
    ['secret/state.json', 'EINVAL', 'not-json'],
    [`${esc}bad/state.json`, 'EINVAL', 'not-json'],
    [`${raw}2/state.json`, 'EINVAL', 'id-mismatch'],
  ];
  for (const [rel, code, reason] of want) {
    const e = by.get(rel);
    t.match(e, { code, reason, skipped: 'container' }, `${printable(rel)}: ${code} ${reason}`);
  }
  t.equal(skipped.length, want.length, 'nothing else reported');
  t.match(by.get('types1/state.json')?.message, /^EINVAL: id is 12345, expected a string: '.*types1\/state.json'$/);
  t.match(by.get('types2/state.json')?.message, /init_process_pid is an object, expected a positive integer/);
  t.match(by.get('huge/state.json')?.message, /^EFBIG: 1073741824 bytes, more than the \d+ read/);
  t.match(by.get('fifo/state.json')?.message, /not a regular file \(a FIFO\)/);
  t.notMatch(by.get('secret/state.json')?.message, /SECRET|root:/, 'the parser never quotes the file');
  // The hostile names: exact in `path`, escaped in `message`.
  const bad = by.get(`${esc}bad/state.json`)!;
  t.ok(bad.path.includes(esc), 'exact path');
  t.ok(bad.message.includes(printable(esc)), 'escaped in the message');
  t.notMatch(bad.message, /[\x00-\x1f\x7f-\x9f]/, 'no control character in the message');
  t.ok(by.get(`${raw}2/state.json`)!.path.includes(raw), 'a name that is not UTF-8 exact, as fsdecode gives it');
  t.match(by.get(`${raw}2/state.json`)!.message, /r\\xffz2/);

  // Found again by the exact hostile id (what opening a container reads).
  t.equal(findContainer(raw, { root }).id, raw);
  t.equal(findContainer(esc, { root }).id, esc);
  t.throws(
    () => findContainer('huge', { root }),
    { code: 'ENOENT', message: /17 bad state files were skipped \(netns list names them\)/ },
    'a query that is not found says that state files were skipped',
  );
  t.throws(() => listContainers({ root, onError: 'x' as never }), TypeError);
});

t.test(
  'the limits: a state file at the size limit is read, one byte more is not; a FIFO bundle does not block',
  async (t) => {
    const d = tmp(t);
    const file = path.join(d, 'f.json');
    const body = runcState('x');
    fs.writeFileSync(file, body + ' '.repeat(STATE_FILE_LIMIT - body.length));
    const ok = readJsonFile(file);
    t.ok(ok && 'json' in ok, 'exactly the limit');
    fs.appendFileSync(file, ' ');
    t.match(readJsonFile(file), { code: 'EFBIG', reason: 'too-large' });
    t.equal(readJsonFile(path.join(d, 'nope.json')), undefined, 'no such file: nothing to report');
    t.equal(readJsonFile(path.join(d, 'no/such/dir/f.json')), undefined);
    fs.symlinkSync(d, path.join(d, 'link'));
    t.match(readJsonFile(path.join(d, 'link', 'f.json')), { code: 'EFBIG' }, "the caller's own path may hold a link");
    // A bundle (named by a state file) whose config.json is a FIFO, a link, or has bad annotations.
    const root = path.join(d, 'root');
    const b = (n: string): string => path.join(d, `bundle-${n}`);
    fs.mkdirSync(b('fifo'));
    spawnSync('mkfifo', [path.join(b('fifo'), 'config.json')]);
    fs.mkdirSync(b('link'));
    fs.symlinkSync('/etc/shadow', path.join(b('link'), 'config.json'));
    put(path.join(b('types'), 'config.json'), JSON.stringify({ annotations: { 'nerdctl/name': 5 } }));
    put(path.join(b('good'), 'config.json'), JSON.stringify({ annotations: { 'nerdctl/name': 'web' } }));
    for (const n of ['fifo', 'link', 'types', 'good'])
      put(path.join(root, n, 'state.json'), runcState(n, { config: { labels: [`bundle=${b(n)}`] } }));
    const { ids, skipped } = scan(root);
    t.same(ids.sort(), ['fifo', 'good', 'link', 'types'], 'the containers are listed without the bad bundles');
    t.same(skipped.map((e) => [path.basename(path.dirname(e.path)), e.reason, e.skipped]).sort(), [
      ['bundle-fifo', 'not-a-file', 'file'],
      ['bundle-link', 'symlink', 'file'],
      ['bundle-types', 'bad-field', 'file'],
    ]);
    t.equal(listContainers({ root }).find((c) => c.id === 'good')?.name, 'web');
    t.equal(listContainers({ root }).find((c) => c.id === 'types')?.name, undefined);
  },
);

t.test('StateDir: a walk from / through fds, closed once; links in the path refused', async (t) => {
  const d = tmp(t);
  fs.mkdirSync(path.join(d, 'a/b'), { recursive: true });
  const fds = fdCount();
  const dir = StateDir.open(path.join(d, 'a'));
  t.ok(dir instanceof StateDir);
  const s = dir as StateDir;
  t.equal(fdCount(), fds + 1, 'one fd held');
  t.same(s.subdirs(), ['b']);
  fs.symlinkSync(path.join(d, 'a/b'), path.join(d, 'a/c'));
  t.match(s.sub('c'), { code: 'ELOOP', reason: 'symlink' }, 'a subdirectory that is a link is not followed');
  t.same(s.subdirs(), ['b', 'c'], 'listed, to be reported');
  s.close();
  s.close();
  t.equal(fdCount(), fds, 'closed, idempotent');
  t.throws(() => s.readJson('x'), /after close/);
  t.equal(StateDir.open(path.join(d, 'nope')), undefined);
});

t.test("trust: root's, the caller's own, a directory others may write, another user's", async (t) => {
  const d = tmp(t);
  const root = path.join(d, 'root');
  put(path.join(root, 'mine/state.json'), runcState('mine'));
  const mine = listContainers({ root })[0]!;
  t.equal(mine.owner, process.geteuid!());
  t.equal(mine.trust, isRoot ? 'root' : 'self', isRoot ? "root's temp dir under sticky /tmp: trusted" : 'your own');
  t.equal(trustNote(mine), '');
  // A directory on the way that anyone may write (not sticky): anyone could have put the file there.
  const open = path.join(d, 'open');
  put(path.join(open, 'r/ww/state.json'), runcState('ww'));
  fs.chmodSync(path.join(open, 'r'), 0o777);
  const ww = listContainers({ root: path.join(open, 'r') })[0]!;
  t.equal(ww.trust, 'untrusted', 'a world-writable directory');
  t.equal(ww.untrustedPath, path.join(open, 'r'));
  // Sticky and world-writable (like /tmp): its entries are judged by their owners.
  fs.chmodSync(path.join(open, 'r'), 0o1777);
  t.equal(listContainers({ root: path.join(open, 'r') })[0]!.trust, mine.trust, 'a sticky one is not a reason');
  // A state file others may write.
  fs.chmodSync(path.join(open, 'r/ww/state.json'), 0o666);
  t.equal(listContainers({ root: path.join(open, 'r') })[0]!.trust, 'untrusted', 'a world-writable file');
  if (!isRoot) return t.comment("another user's root needs chown (skipped: not root)");

  // A rootless runtime's root: the directory and its files are nobody's.
  const user = path.join(d, 'run-user');
  put(path.join(user, 'runc/theirs/state.json'), runcState('theirs'));
  put(path.join(user, 'bundle/config.json'), JSON.stringify({ annotations: { 'nerdctl/name': 'claimed' } }));
  put(path.join(user, 'runc/named/state.json'), runcState('named', { config: { labels: [`bundle=${user}/bundle`] } }));
  put(path.join(user, 'runc/bad/state.json'), '['.repeat(1000));
  for (const f of [
    '',
    'runc',
    'runc/theirs',
    'runc/theirs/state.json',
    'bundle',
    'bundle/config.json',
    'runc/named',
    'runc/named/state.json',
    'runc/bad',
    'runc/bad/state.json',
  ])
    fs.chownSync(path.join(user, f), NOBODY, NOBODY);
  const skipped: ContainerStateError[] = [];
  const all = listContainers({ root: path.join(user, 'runc'), onError: (e) => skipped.push(e) });
  const theirs = all.find((c) => c.id === 'theirs')!;
  t.match(theirs, { trust: 'untrusted', owner: NOBODY, untrustedPath: user, running: false });
  t.equal(trustNote(theirs), `[untrusted: uid ${NOBODY}]`);
  t.match(
    all.find((c) => c.id === 'named'),
    { trust: 'untrusted', name: 'claimed' },
    'its claimed name, marked',
  );
  t.match(skipped, [{ reason: 'too-deep', trust: 'untrusted', owner: NOBODY, skipped: 'container' }]);

  // A root-owned state file whose bundle is another user's: the record is only as good as that.
  put(path.join(d, 'rootroot/rb/state.json'), runcState('rb', { config: { labels: [`bundle=${user}/bundle`] } }));
  const rb = listContainers({ root: path.join(d, 'rootroot') })[0]!;
  t.match(rb, { trust: 'untrusted', owner: 0, name: 'claimed', untrustedPath: user });
  t.match(trustNote(rb), /^\[untrusted: .*run-user\]$/);

  // A user's state file naming a bundle of root's: not read into that user's record.
  put(path.join(d, 'rootbundle/config.json'), JSON.stringify({ annotations: { 'nerdctl/name': 'roots' } }));
  put(path.join(user, 'runc/steal/state.json'), runcState('steal', { config: { labels: [`bundle=${d}/rootbundle`] } }));
  fs.chownSync(path.join(user, 'runc/steal'), NOBODY, NOBODY);
  fs.chownSync(path.join(user, 'runc/steal/state.json'), NOBODY, NOBODY);
  const s2: ContainerStateError[] = [];
  const steal = listContainers({ root: path.join(user, 'runc'), onError: (e) => s2.push(e) }).find(
    (c) => c.id === 'steal',
  )!;
  t.equal(steal.name, undefined, "root's annotations are not the user's to claim");
  t.match(s2, [{ reason: 'too-deep' }, { reason: 'foreign-owner', code: 'EPERM', skipped: 'file' }].sort());

  // A character device (not a link to one) as a state file.
  fs.mkdirSync(path.join(d, 'dev/cdev'), { recursive: true });
  const mk = spawnSync('mknod', [path.join(d, 'dev/cdev/state.json'), 'c', '1', '5']);
  if (mk.status === 0) {
    const s3: ContainerStateError[] = [];
    t.same(readRoot({ runtime: 'runc', dir: path.join(d, 'dev') }, new StateScan((e) => s3.push(e))), []);
    t.match(s3, [{ reason: 'not-a-file', message: /a character device/ }], '/dev/zero as a node: never read');
  } else t.comment(`mknod: ${mk.stderr} (skipped)`);
});
