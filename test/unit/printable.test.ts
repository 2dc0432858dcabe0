// printable(): the one escape of names for a terminal; fsdecode/fsencode: names as exact
// strings. Checked against bash itself: $'…' of printable()'s output is the name's bytes.
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { fsdecode, fsencode, printable, terminalSafe } from '../../lib/index.js';
import { shellWord } from '../../lib/explain/remedies.js';

/** The bytes bash's $'…' makes of printable()'s output (its \\ and \xNN; nothing else is special). */
function bytesOfEscaped(s: string): Buffer {
  const out: Buffer[] = [];
  let lit = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== '\\') {
      lit += s[i];
      continue;
    }
    out.push(Buffer.from(lit, 'utf8'));
    lit = '';
    if (s[i + 1] === '\\') {
      out.push(Buffer.from('\\'));
      i++;
    } else if (s[i + 1] === 'x') {
      out.push(Buffer.from([parseInt(s.slice(i + 2, i + 4), 16)]));
      i += 3;
    } else throw new Error(`unexpected escape at ${i} in ${s}`);
  }
  out.push(Buffer.from(lit, 'utf8'));
  return Buffer.concat(out);
}

/** Nothing a terminal acts on, nothing a person cannot see, no lone surrogate. */
function isSafe(s: string): boolean {
  return !/[\0-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]/u.test(s);
}

t.test('printable: the convention', async (t) => {
  const cases: [string, string][] = [
    ['eth0', 'eth0'],
    ['gé', 'gé'],
    ['😀', '😀'],
    ['a\\b', 'a\\\\b'],
    ['e\x1b[31mX', 'e\\x1b[31mX'],
    ['\0\t\n\r', '\\x00\\x09\\x0a\\x0d'],
    ['f\x7fg', 'f\\x7fg'],
    ['c\u009bq', 'c\\xc2\\x9bq'],
    ['\u0085', '\\xc2\\x85'],
    ['b\udcffz', 'b\\xffz'],
    ['d\udc9bq', 'd\\x9bq'],
    ['x\u202ey', 'x\\xe2\\x80\\xaey'],
    ['\u2028\u2066\u061c', '\\xe2\\x80\\xa8\\xe2\\x81\\xa6\\xd8\\x9c'],
    ['lone \ud800 high', 'lone \\ud800 high'],
    ['lone \udc00 low', 'lone \\udc00 low'],
  ];
  for (const [raw, shown] of cases) t.equal(printable(raw), shown, shown); // (a raw U+2028 would break TAP)
  t.equal(printable('plain'), 'plain');
});

t.test('fsdecode/fsencode: every byte string, exactly', async (t) => {
  // Every 1- and 2-byte string, and random ones: encode(decode(b)) is b, and decoding is
  // injective (two byte strings never become one string).
  const seen = new Map<string, string>();
  const check = (b: Buffer): void => {
    const s = fsdecode(b);
    const back = fsencode(s);
    if (!back.equals(b)) t.fail(`${b.toString('hex')} came back as ${back.toString('hex')}`);
    const other = seen.get(s);
    if (other !== undefined && other !== b.toString('hex')) t.fail(`${b.toString('hex')} and ${other} alias`);
    seen.set(s, b.toString('hex'));
    // Valid UTF-8 decodes as Node decodes it.
    if (Buffer.from(b.toString('utf8'), 'utf8').equals(b)) {
      if (s !== b.toString('utf8')) t.fail(`${b.toString('hex')}: not Node's decoding`);
    }
  };
  for (let a = 0; a < 256; a++) {
    check(Buffer.from([a]));
    for (let b = 0; b < 256; b++) check(Buffer.from([a, b]));
  }
  let seed = 42;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 256;
  for (let i = 0; i < 20000; i++) check(Buffer.from(Array.from({ length: 1 + (i % 9) }, rnd)));
  for (const hex of ['eda080', 'f09f98', 'f4908080', 'c0af', 'e080af', 'f08082af', 'edbfbf', 'efbfbd'])
    check(Buffer.from(hex, 'hex'));
  t.equal(fsdecode(Buffer.from('62ff7a', 'hex')), 'b\udcffz');
  t.equal(
    fsdecode(Buffer.from('eda080', 'hex')),
    '\udced\udca0\udc80',
    'an encoded surrogate is three bytes that are not UTF-8',
  );
  t.equal(fsdecode(Buffer.from('efbfbd', 'hex')), '\ufffd', 'a real U+FFFD stays one');
  t.same(fsencode('a\ud800b'), Buffer.from('61efbfbd62', 'hex'), 'a lone surrogate not from bytes: as Node writes it');
  t.same(fsencode('\ud83d\ude00'), Buffer.from('😀'), 'a pair is a code point');
  t.pass(`${seen.size} byte strings`);
});

t.test('printable: unambiguous, safe, and $-quoted by bash back to the bytes', async (t) => {
  let seed = 7;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 256;
  const samples: Buffer[] = [];
  for (let i = 0; i < 5000; i++) samples.push(Buffer.from(Array.from({ length: 1 + (i % 15) }, rnd)));
  for (const hex of ['c29b', '9b', '7f', '5c', '5c7831', 'e280ae', '1b5b33316d']) samples.push(Buffer.from(hex, 'hex'));
  let bad = 0;
  for (const b of samples) {
    const p = printable(fsdecode(b));
    if (!isSafe(p) || !bytesOfEscaped(p).equals(b)) {
      bad++;
      t.fail(`${b.toString('hex')} -> ${JSON.stringify(p)}`);
    }
  }
  t.equal(bad, 0, `${samples.length} random names: safe, and give back their bytes`);
  // bash itself: its $'…' of shellWord() is the exact name (the oracle for what the remedies print).
  const names = samples.slice(0, 300).filter((b) => !b.includes(0)); // bash's strings end at NUL
  const script = names.map((b) => `printf '%s\\0' ${shellWord(fsdecode(b))}`).join('\n');
  const r = spawnSync('bash', ['-c', script], { maxBuffer: 1 << 20 });
  t.equal(r.status, 0, String(r.stderr));
  const got = r.stdout.toString('hex').split('00').slice(0, -1);
  // (Split on the NUL terminators: the names hold no NUL.)
  t.same(
    Buffer.concat(names.map((b) => Buffer.concat([b, Buffer.from([0])]))).toString('hex'),
    r.stdout.toString('hex'),
    `bash gives back ${got.length} names byte for byte`,
  );
});

t.test('terminalSafe: the guard leaves printable() text alone and escapes what was missed', async (t) => {
  const p = printable('e\x1b[31m\\x');
  t.equal(terminalSafe(p), p, 'idempotent on printable() output');
  t.equal(terminalSafe(`key ${p} and raw e\x1b[0m`), `key ${p} and raw e\\x1b[0m`);
  t.equal(terminalSafe('a\\b'), 'a\\b', 'backslashes are its escapes: left alone');
});

t.test('shellWord: plain, single-quoted, or $-quoted', async (t) => {
  t.equal(shellWord('net.ipv4.ip_forward=1'), 'net.ipv4.ip_forward=1');
  t.equal(shellWord("it's"), "'it'\\''s'");
  t.equal(shellWord('a\tb'), "'a\tb'", 'a tab (a vector value) stays in single quotes');
  t.equal(shellWord("e\x1b[31m'"), "$'e\\x1b[31m\\''");
  t.equal(shellWord('b\udcffz'), "$'b\\xffz'");
});
