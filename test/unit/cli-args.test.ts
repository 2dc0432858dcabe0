// CLI argument handling (bin/cli/args.ts, bin/cli/targets.ts): pure, no root, no namespaces.
import t from 'tap';
import { parseCommandLine, splitAssignment, splitAtPositional, type Command } from '../../bin/cli/args.js';
import { UsageError } from '../../bin/cli/errors.js';
import { checkTarget, hasTarget, targetWords, targetOptions } from '../../bin/cli/targets.js';
import { remedyCommand } from '../../lib/explain/remedies.js';
import { parseSysctlArgs } from '../../bin/cli/sysctl-args.js';

const cmd = (over: Partial<Command> = {}): Command => ({
  summary: 's',
  help: 'h',
  options: {
    ...targetOptions,
    json: { type: 'boolean' },
    set: { type: 'string', multiple: true },
    quiet: { type: 'boolean', short: 'q' },
  },
  run: () => 0,
  ...over,
});

t.test('parseCommandLine: options, positionals, --help', async (t) => {
  const p = parseCommandLine('x', cmd(), ['--name', 'lab', '-q', 'a', '--json', 'b']);
  t.same(p, { values: { name: 'lab', quiet: true, json: true }, positionals: ['a', 'b'] });
  t.same(parseCommandLine('x', cmd(), ['a', '--help']), { help: true });
  t.same(parseCommandLine('x', cmd(), ['-h']), { help: true });
  const multi = parseCommandLine('x', cmd(), ['--set', 'a=1', '--set', 'b=2']);
  t.same(!multi.help && multi.values.set, ['a=1', 'b=2']);
});

t.test('parseCommandLine: parse errors become UsageErrors naming the command', async (t) => {
  const caught = (f: () => unknown): unknown => {
    try {
      f();
    } catch (e) {
      return e;
    }
    return undefined;
  };
  const bogus = caught(() => parseCommandLine('x', cmd(), ['--bogus']));
  t.ok(bogus instanceof UsageError, 'a UsageError');
  t.equal((bogus as UsageError).command, 'x');
  t.match((bogus as UsageError).message, /Unknown option '--bogus'/);
  t.match((caught(() => parseCommandLine('x', cmd(), ['--pid'])) as Error).message, /argument missing/);
});

t.test('stopAtPositional: options end at the command (exec)', async (t) => {
  const c = cmd({ stopAtPositional: true });
  t.same(parseCommandLine('exec', c, ['--json', '--', 'sh', '-c', 'x --help']), {
    values: { json: true },
    positionals: ['sh', '-c', 'x --help'],
  });
  t.same(parseCommandLine('exec', c, ['--json', 'ls', '-l', '--bogus']), {
    values: { json: true },
    positionals: ['ls', '-l', '--bogus'],
  });
  t.same(splitAtPositional(['--name', 'n', 'cmd', '-x'], targetOptions as Command['options']), [
    ['--name', 'n'],
    ['cmd', '-x'],
  ]);
  t.same(splitAtPositional(['--name', 'n'], targetOptions as Command['options']), [['--name', 'n'], []]);
});

t.test('parse: a command may parse its own arguments', async (t) => {
  const c = cmd({ parse: (argv) => ({ values: { seen: argv.length }, positionals: argv }) });
  t.same(parseCommandLine('y', c, ['-abc', '--help']), { values: { seen: 2 }, positionals: ['-abc', '--help'] });
});

t.test('splitAssignment: the first = splits, whitespace trimmed', async (t) => {
  t.same(splitAssignment('a=1', 'c'), ['a', '1']);
  t.same(splitAssignment(' a = 1 2 ', 'c'), ['a', '1 2']);
  t.same(splitAssignment('a=b=c', 'c'), ['a', 'b=c']);
  t.same(splitAssignment('a=', 'c'), ['a', '']);
  t.throws(() => splitAssignment('a', 'c'), /expected KEY=VALUE/);
  t.throws(() => splitAssignment('=1', 'c'), /missing key/);
  t.throws(() => splitAssignment('-=1', 'c'), /missing key/);
});

t.test('targets: at most one, a pid is a positive integer, suggestions quote names', async (t) => {
  t.notOk(hasTarget({}));
  t.ok(hasTarget({ path: '/x' }));
  t.doesNotThrow(() => checkTarget({ pid: '42' }, 'c'));
  t.throws(() => checkTarget({ pid: '1', name: 'x' }, 'c'), /at most one of/);
  for (const bad of ['abc', '0', '-1', '1.5', ''])
    t.throws(() => checkTarget({ pid: bad }, 'c'), /--pid expects a process id/, `pid ${JSON.stringify(bad)}`);
  t.same(targetWords({ pid: '42' }), ['--pid', '42']);
  t.same(targetWords({ name: 'lab' }), ['--name', 'lab']);
  t.same(targetWords({ container: 'web', runtime: 'docker', 'container-root': '/r' }), [
    '--container',
    'web',
    '--runtime',
    'docker',
    '--container-root',
    '/r',
  ]);
  t.same(targetWords({}), []);
  const how = (v: Parameters<typeof targetWords>[0]): string =>
    remedyCommand({ class: 'default', key: 'net.x', value: '1', target: targetWords(v) });
  t.equal(how({ pid: '42' }), 'netns sysctl --pid 42 -w net.x=1');
  t.equal(how({ name: "it's" }), `netns sysctl --name 'it'\\''s' -w net.x=1`, 'the library quotes each word');
  t.equal(how({ path: '/run/netns/a b' }), "netns sysctl --path '/run/netns/a b' -w net.x=1");
});

t.test('parseSysctlArgs: short options, clusters, permutation, --', async (t) => {
  const a = parseSysctlArgs(['-nq', 'net.a', '-e', '--', '-net.b=1', '-w']);
  t.same([a.valuesOnly, a.quiet, a.ignore, a.write], [true, true, true, false]);
  t.same(a.operands, ['net.a', '-net.b=1', '-w']);
  t.same(parseSysctlArgs(['-b']).valuesOnly, true, '-b implies -n');
  const all = parseSysctlArgs(['-A', '-X', '-o', '-x', '-ar', 'pat']);
  t.same([all.all, all.pattern], [true, 'pat']);
  t.equal(parseSysctlArgs(['-rpat']).pattern, 'pat', 'argument attached');
  t.equal(parseSysctlArgs(['-a', '-r', '-n']).pattern, '-n', 'a required argument may start with -');
});

t.test('parseSysctlArgs: -p takes an attached file only; --load=FILE; -f', async (t) => {
  const p = parseSysctlArgs(['-p', 'a.conf']);
  t.same([p.load, p.loadFile, p.operands], [true, undefined, ['a.conf']]);
  t.same(parseSysctlArgs(['-pa.conf']).loadFile, 'a.conf');
  t.same(parseSysctlArgs(['--load=a.conf']).loadFile, 'a.conf');
  t.same(parseSysctlArgs(['--load', 'a.conf']).operands, ['a.conf']);
  t.same(parseSysctlArgs(['-f', 'a.conf']).load, true);
  t.same(parseSysctlArgs(['--system', '--dry-run', '--deprecated']), {
    ...parseSysctlArgs([]),
    system: true,
    dryRun: true,
    deprecated: true,
  });
});

t.test('parseSysctlArgs: long option prefixes and their errors, as getopt_long', async (t) => {
  t.equal(parseSysctlArgs(['--val']).valuesOnly, true, 'a unique prefix');
  t.equal(parseSysctlArgs(['--name', 'lab']).target.name, 'lab', 'an exact name wins over --names');
  t.equal(parseSysctlArgs(['--names']).namesOnly, true);
  t.match(parseSysctlArgs(['--d']), { stop: 'bad', error: /ambiguous.*--deprecated.*--dry-run/ });
  t.match(parseSysctlArgs(['--bogus', '-V']), { stop: 'bad', error: "unrecognized option '--bogus'" });
  t.match(parseSysctlArgs(['-z']), { stop: 'bad', error: "invalid option -- 'z'" });
  t.match(parseSysctlArgs(['-r']), { stop: 'bad', error: "option requires an argument -- 'r'" });
  t.match(parseSysctlArgs(['--pattern']), { stop: 'bad', error: "option '--pattern' requires an argument" });
  t.match(parseSysctlArgs(['--values=1']), { stop: 'bad', error: "option '--values' doesn't allow an argument" });
  t.match(
    parseSysctlArgs(['--pid']),
    { stop: 'usage', error: /argument missing/ },
    "netns' own options are usage errors",
  );
  t.same(parseSysctlArgs(['--pid=42', '--path', '/p']).target, { pid: '42', path: '/p' });
});

t.test('parseSysctlArgs: -V, -h, -d act where they stand', async (t) => {
  t.equal(parseSysctlArgs(['-V', '--bogus']).stop, 'version');
  t.equal(parseSysctlArgs(['-hV']).stop, 'help');
  t.equal(parseSysctlArgs(['-d']).stop, 'help');
  t.equal(parseSysctlArgs(['net.a', '--help']).stop, 'help');
  t.equal(parseSysctlArgs(['--json', '--atomic']).atomic, true);
});
