// What every part of `netns sysctl` works with: the target's Sysctl, the parsed options, output.
import type { Sysctl } from 'netns';
import type { SysctlArgs } from '../../cli/sysctl-args.js';
import { compilePattern } from '../../cli/sysctld.js';
import { out } from '../../cli/output.js';

export interface Ctx {
  sysctl: Sysctl;
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
 * Print one key as sysctl(8) prints it: `KEY = VALUE`, or only the name (-N), only the value
 * (-n), the value without its newline (-b).
 */
export function printKey(ctx: Ctx, key: string, value: string): void {
  const a = ctx.args;
  if (a.namesOnly) out(`${key}\n`);
  else if (!a.valuesOnly) out(`${key} = ${value}\n`);
  else if (a.binary) out(value.replaceAll('\n', ''));
  else out(`${value}\n`);
}
