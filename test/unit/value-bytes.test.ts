// valueFromBytes (the handle's read path, no string made) gives what parseValue gives for the
// same text, for every shape the kernel prints and for the inputs its fast path must refuse.
import t from 'tap';
import { parseValue } from '../../lib/index.js';
import { parseText, valueFromBytes } from '../../lib/sysctl/values.js';

const bytes = (s: string): [Uint8Array, number] => {
  const b = Buffer.from(s, 'utf8');
  // trailing garbage beyond n must be ignored (the buffer is reused)
  const buf = new Uint8Array(b.length + 8).fill(0x37);
  buf.set(b);
  return [buf, b.length];
};

t.test('same as parseValue', async (t) => {
  const cases = [
    '4321\n',
    '0\n',
    '-1\n',
    '-0\n',
    '007\n',
    '4321',
    '\n',
    '',
    '4096\t131072\t6291456\n',
    '32768\t60999\n',
    '1 2\n',
    '1  \t 2\n',
    '-5\t-6\n',
    '999999999999999\n',
    '9999999999999999\n',
    '18446744073709551615\n',
    '9007199254740993\n',
    'cubic\n',
    'reno cubic\n',
    ' 1\n',
    '1 \n',
    '1\t\n',
    '1\n\n',
    '1\r\n',
    '-\n',
    '--1\n',
    '1-2\n',
    '1 x\n',
    'x 1\n',
    '00:11:22:33:44:55\n',
    'héllo\n',
    '1\u00a02\n',
    '12 34 56 78 90 12 34\n',
    '0x20\n',
  ];
  for (const c of cases) {
    const [buf, n] = bytes(c);
    t.same(valueFromBytes(buf, n), parseValue(c), JSON.stringify(c));
    t.equal(
      Object.is(valueFromBytes(buf, n), parseValue(c)) || typeof parseValue(c) === 'object',
      true,
      `${JSON.stringify(c)} (-0 kept)`,
    );
  }
});

t.test('random integer vectors agree with parseValue', async (t) => {
  let seed = 12345;
  const rnd = (n: number): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
  const alphabet = ['0', '1', '9', '-', ' ', '\t', '\n', 'a', '5'];
  let bad = 0;
  for (let i = 0; i < 3000; i++) {
    let s = '';
    for (let j = rnd(12); j >= 0; j--) s += alphabet[rnd(alphabet.length)];
    const [buf, n] = bytes(s);
    const a = valueFromBytes(buf, n),
      b = parseValue(s);
    if (JSON.stringify(a) !== JSON.stringify(b) || (typeof a === 'number' && !Object.is(a, b))) {
      bad++;
      t.fail(`${JSON.stringify(s)}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    }
  }
  t.equal(bad, 0);
});

// parseValue's own fast path (one integer, no trim or regular expression) against the general
// parser it stands in for: the same value (and -0 kept) for every string the alphabet makes.
t.test("parseValue's integer fast path agrees with parseText", async (t) => {
  const slow = (s: string): unknown => parseText(s.endsWith('\n') ? s.slice(0, -1) : s);
  let seed = 777;
  const rnd = (n: number): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
  const alphabet = ['0', '1', '9', '-', ' ', '\t', '\n', 'a', '5', '\r'];
  const cases = ['4321\n', '-0\n', '-0', '007', '999999999999999\n', '9999999999999999\n', '-', '\n', '', '1\n\n'];
  for (let i = 0; i < 3000; i++) {
    let s = '';
    for (let j = rnd(18); j >= 0; j--) s += alphabet[rnd(alphabet.length)];
    cases.push(s);
  }
  let bad = 0;
  for (const s of cases) {
    const a = parseValue(s),
      b = slow(s);
    if (JSON.stringify(a) !== JSON.stringify(b) || (typeof a === 'number' && !Object.is(a, b))) {
      bad++;
      t.fail(`${JSON.stringify(s)}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    }
  }
  t.equal(bad, 0, 'no string parsed differently');
});
