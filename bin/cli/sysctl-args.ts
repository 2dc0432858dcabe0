// The command line of `netns sysctl`, parsed as procps-ng sysctl(8) parses its own: GNU
// getopt_long with the option string "bneNwfp::qoxaAXr:Vdh", argument permutation, unique
// prefixes of long options, "--" ending the options. -V, -h and a bad option act where they
// stand (later arguments are not looked at), as in procps. Pure: no I/O.
import type { TargetValues } from './targets.js';

export interface SysctlArgs {
  all: boolean;
  deprecated: boolean;
  dryRun: boolean;
  /** -b: values without a newline. */
  binary: boolean;
  /** -n (or -b): values without names. */
  valuesOnly: boolean;
  /** -N */
  namesOnly: boolean;
  ignore: boolean;
  quiet: boolean;
  write: boolean;
  /** -p, -f, --load */
  load: boolean;
  /** -pFILE, --load=FILE */
  loadFile?: string;
  system: boolean;
  pattern?: string;
  json: boolean;
  atomic: boolean;
  target: TargetValues;
  operands: string[];
  /**
   * What ends the parse early: 'version' (-V), 'help' (-h, -d), 'bad' (an unknown option or a
   * missing argument: the message is in `error`; procps then prints its usage on stdout and
   * exits 0), 'usage' (an error in a netns option: exit 2).
   */
  stop?: 'version' | 'help' | 'bad' | 'usage';
  error?: string;
}

type Arg = 'none' | 'required' | 'optional';

// procps' long options, then netns' own.
const LONG: [string, Arg, string][] = [
  ['all', 'none', 'a'],
  ['deprecated', 'none', 'deprecated'],
  ['dry-run', 'none', 'dry-run'],
  ['binary', 'none', 'b'],
  ['ignore', 'none', 'e'],
  ['names', 'none', 'N'],
  ['values', 'none', 'n'],
  ['load', 'optional', 'p'],
  ['quiet', 'none', 'q'],
  ['write', 'none', 'w'],
  ['system', 'none', 'system'],
  ['pattern', 'required', 'r'],
  ['help', 'none', 'h'],
  ['version', 'none', 'V'],
  ['pid', 'required', 'pid'],
  ['name', 'required', 'name'],
  ['path', 'required', 'path'],
  ['container', 'required', 'container'],
  ['runtime', 'required', 'runtime'],
  ['container-root', 'required', 'container-root'],
  ['docker-exec-root', 'required', 'docker-exec-root'],
  ['docker-data-root', 'required', 'docker-data-root'],
  ['json', 'none', 'json'],
  ['atomic', 'none', 'atomic'],
];

const SHORT: Record<string, Arg> = {
  b: 'none',
  n: 'none',
  e: 'none',
  N: 'none',
  w: 'none',
  f: 'none',
  p: 'optional',
  q: 'none',
  o: 'none',
  x: 'none',
  a: 'none',
  A: 'none',
  X: 'none',
  r: 'required',
  V: 'none',
  d: 'none',
  h: 'none',
};

function fresh(): SysctlArgs {
  return {
    all: false,
    deprecated: false,
    dryRun: false,
    binary: false,
    valuesOnly: false,
    namesOnly: false,
    ignore: false,
    quiet: false,
    write: false,
    load: false,
    system: false,
    json: false,
    atomic: false,
    target: {},
    operands: [],
  };
}

const TARGETS = new Set([
  'pid',
  'name',
  'path',
  'container',
  'runtime',
  'container-root',
  'docker-exec-root',
  'docker-data-root',
]);

type Flag =
  | 'all'
  | 'deprecated'
  | 'dryRun'
  | 'binary'
  | 'valuesOnly'
  | 'namesOnly'
  | 'ignore'
  | 'quiet'
  | 'write'
  | 'load'
  | 'system'
  | 'json'
  | 'atomic';

/** What each option turns on ('o' and 'x' do nothing: BSD compatibility). */
const FLAGS: Record<string, Flag[]> = {
  b: ['binary', 'valuesOnly'],
  n: ['valuesOnly'],
  e: ['ignore'],
  N: ['namesOnly'],
  w: ['write'],
  f: ['load'],
  p: ['load'],
  q: ['quiet'],
  o: [],
  x: [],
  a: ['all'],
  A: ['all'],
  X: ['all'],
  deprecated: ['deprecated'],
  'dry-run': ['dryRun'],
  system: ['system'],
  json: ['json'],
  atomic: ['atomic'],
};

/** Apply one option; returns false when the parse stops here. */
function apply(a: SysctlArgs, id: string, arg: string | undefined): boolean {
  if (id === 'V' || id === 'h' || id === 'd') {
    a.stop = id === 'V' ? 'version' : 'help';
    return false;
  }
  for (const f of FLAGS[id] ?? []) a[f] = true;
  if (id === 'p' && arg !== undefined) a.loadFile = arg;
  if (id === 'r') a.pattern = arg;
  if (TARGETS.has(id)) {
    // One target: `--name a --name b` would act on b only (a usage error, as --pid with --name is).
    if (a.target[id as keyof TargetValues] !== undefined) {
      bad(a, `--${id} given more than once: give it once`, true);
      return false;
    }
    a.target[id as keyof TargetValues] = arg;
  }
  return true;
}

function bad(a: SysctlArgs, message: string, usage = false): SysctlArgs {
  a.stop = usage ? 'usage' : 'bad';
  a.error = message;
  return a;
}

/** Parse the arguments after `netns sysctl`. */
export function parseSysctlArgs(argv: readonly string[]): SysctlArgs {
  const a = fresh();
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') {
      a.operands.push(...argv.slice(i + 1));
      break;
    }
    if (word.startsWith('--')) {
      const eq = word.indexOf('=');
      const name = word.slice(2, eq < 0 ? undefined : eq);
      const inline = eq < 0 ? undefined : word.slice(eq + 1);
      const exact = LONG.find(([n]) => n === name);
      const candidates = exact ? [exact] : LONG.filter(([n]) => n.startsWith(name));
      if (candidates.length === 0) return bad(a, `unrecognized option '${word}'`);
      if (candidates.length > 1)
        return bad(
          a,
          `option '--${name}' is ambiguous; possibilities:${candidates.map(([n]) => ` '--${n}'`).join('')}`,
        );
      const [long, kind, id] = candidates[0]!;
      const own = TARGETS.has(id);
      if (kind === 'none' && inline !== undefined) return bad(a, `option '--${long}' doesn't allow an argument`, own);
      let arg = inline;
      if (kind === 'required' && arg === undefined) {
        if (i + 1 >= argv.length)
          return bad(a, own ? `option '--${long}' argument missing` : `option '--${long}' requires an argument`, own);
        arg = argv[++i];
      }
      if (!apply(a, id, arg)) return a;
      continue;
    }
    if (word.startsWith('-') && word.length > 1) {
      for (let j = 1; j < word.length; j++) {
        const c = word[j]!;
        const kind = SHORT[c];
        if (kind === undefined) return bad(a, `invalid option -- '${c}'`);
        let arg: string | undefined;
        if (kind !== 'none' && j + 1 < word.length) {
          arg = word.slice(j + 1);
          j = word.length;
        } else if (kind === 'required') {
          if (i + 1 >= argv.length) return bad(a, `option requires an argument -- '${c}'`);
          arg = argv[++i];
        }
        if (!apply(a, c, arg)) return a;
      }
      continue;
    }
    a.operands.push(word); // GNU getopt permutes operands after the options
  }
  return a;
}
