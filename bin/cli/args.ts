// Command-line arguments: the shape of a command, and parsing its options.
import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';
import { quote } from './output.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
}

export type Values = Record<string, unknown>;

/** Boolean options by name: `{ ...booleans('all', 'json') }`. */
export function booleans(...names: string[]): Record<string, OptionSpec> {
  return Object.fromEntries(names.map((n) => [n, { type: 'boolean' } as OptionSpec]));
}

/** One `netns COMMAND`: its help, its options and what it does. */
export interface Command {
  summary: string;
  help: string;
  options: Record<string, OptionSpec>;
  /** Options end at the first positional (the COMMAND of exec), as in `ip netns exec`. */
  stopAtPositional?: boolean;
  /**
   * Parse the arguments itself (sysctl(8)'s own option syntax); return the help request as
   * { help: true }. Without it, parseCommandLine() parses `options` strictly.
   */
  parse?(argv: string[]): Parsed;
  run(values: Values, positionals: string[]): number | Promise<number>;
}

export type Parsed = { help: true } | { help?: false; values: Values; positionals: string[] };

/**
 * Split arguments where the first positional (or `--`) starts: options before, the command
 * and its own arguments after. A lenient parseArgs pass finds the place; the options part
 * is then parsed strictly.
 */
export function splitAtPositional(args: string[], options: Record<string, OptionSpec>): [string[], string[]] {
  const { tokens } = parseArgs({ args, options, allowPositionals: true, strict: false, tokens: true });
  const first = tokens.find((t) => t.kind === 'positional' || t.kind === 'option-terminator');
  if (first === undefined) return [args, []];
  return [args.slice(0, first.index), args.slice(first.kind === 'option-terminator' ? first.index + 1 : first.index)];
}

/** Parse the arguments after COMMAND: --help/-h anywhere among the options asks for the help. */
export function parseCommandLine(name: string, cmd: Command, argv: string[]): Parsed {
  if (cmd.parse) return cmd.parse(argv);
  let optionArgs = argv;
  let trailing: string[] = [];
  if (cmd.stopAtPositional) [optionArgs, trailing] = splitAtPositional(argv, cmd.options);
  if (optionArgs.includes('--help') || optionArgs.includes('-h')) return { help: true };
  let parsed: { values: Values; positionals: string[]; tokens: { kind: string; name?: string }[] };
  try {
    parsed = parseArgs({
      args: optionArgs,
      options: cmd.options,
      allowPositionals: true,
      strict: true,
      tokens: true,
    }) as typeof parsed;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS'))
      throw new UsageError(err.message.split('. ')[0]!, name);
    throw e;
  }
  refuseRepeated(name, cmd.options, parsed.tokens);
  return { values: parsed.values, positionals: [...parsed.positionals, ...trailing] };
}

/**
 * An option that takes one value, given twice (`--name a --name b`), is a usage error: parseArgs
 * keeps the last, and a command would act on a target other than one the person named.
 */
export function refuseRepeated(
  command: string,
  options: Record<string, OptionSpec>,
  tokens: { kind: string; name?: string }[],
): void {
  const seen = new Set<string>();
  for (const tk of tokens) {
    if (tk.kind !== 'option' || tk.name === undefined) continue;
    const spec = options[tk.name];
    if (spec?.type !== 'string' || spec.multiple) continue;
    if (seen.has(tk.name)) throw new UsageError(`--${tk.name} given more than once: give it once`, command);
    seen.add(tk.name);
  }
}

/** Split "KEY=VALUE" as sysctl(8) does: at the first '=', whitespace around both trimmed. */
export function splitAssignment(arg: string, command: string): [string, string] {
  const i = arg.indexOf('=');
  if (i < 0) throw new UsageError(`expected KEY=VALUE, got ${quote(arg)}`, command);
  const key = arg.slice(0, i).trim();
  if (key === '' || key === '-') throw new UsageError(`missing key in ${quote(arg)}`, command);
  return [key, arg.slice(i + 1).trim()];
}
