// What every part of `netns sysctl` works with: the target's Sysctl, the parsed options, output.
import { printable, type Sysctl } from 'netns';
import type { SysctlArgs } from '../../cli/sysctl-args.js';
import { compilePattern } from '../../cli/sysctld.js';
import { out } from '../../cli/output.js';

export interface Ctx {
  sysctl: Sysctl;
  /** --json: the `container` field naming the container acted on (--container), else undefined. */
  container?: Record<string, unknown> | undefined;
  args: SysctlArgs;
  /** -r: undefined without one; null when it does not compile (procps then matches nothing). */
  pattern: RegExp | null | undefined;
}

export function makeCtx(sysctl: Sysctl, args: SysctlArgs): Ctx {
  return { sysctl, args, pattern: args.pattern === undefined ? undefined : (compilePattern(args.pattern) ?? null) };
}

/** Whether -r lets `text` through. */
export function passes(ctx: Ctx, text: string): boolean {
  return ctx.pattern === undefined || ctx.pattern?.test(text) === true;
}

/** A pattern for line filtering (-p, command-line settings): one that never matches stands for null. */
export function linePattern(ctx: Ctx): RegExp | undefined {
  return ctx.pattern === null ? /(?!)/ : ctx.pattern;
}

/**
 * Whether stdout is a person's terminal. There, names and values are shown printable() (an
 * interface a tenant named with an escape sequence cannot drive the terminal); to a program
 * (a pipe, a file) the output is procps' own bytes, as scripts that parse `sysctl -a` expect.
 */
const TTY = process.stdout.isTTY === true;

/** A key for stdout: printable() on a terminal, exact to a program. */
export function keyOut(key: string): string {
  return TTY ? printable(key) : key;
}

/** A value for stdout: on a terminal each field printable(), the tabs between them kept. */
function valueOut(value: string): string {
  return TTY ? value.split('\t').map(printable).join('\t') : value;
}

/**
 * Print one key as sysctl(8) prints it: `KEY = VALUE`, or only the name (-N), only the value
 * (-n), the value without its newline (-b, raw bytes even on a terminal: it was asked for).
 */
export function printKey(ctx: Ctx, key: string, value: string): void {
  const a = ctx.args;
  if (a.namesOnly) out(`${keyOut(key)}\n`);
  else if (!a.valuesOnly) out(`${keyOut(key)} = ${valueOut(value)}\n`);
  else if (a.binary) out(value.replaceAll('\n', ''));
  else out(`${valueOut(value)}\n`);
}
