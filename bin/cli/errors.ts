// Exit codes and the errors that map onto them.
import { NetnsError } from 'netns';

export const OK = 0;
export const FAILED = 1;
export const USAGE = 2;
export const INTERNAL = 255;

/** A command-line mistake: exit 2, with a pointer to the help. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
  }
}

/** An operation failed for a reason that is not a NetnsError (e.g. a file given to -p): exit 1. */
export class Failure extends Error {}

/** Library argument checks ("Expected X for Y but received Z") are about the user's key or value. */
export function isArgumentError(e: unknown): e is Error {
  return (e instanceof TypeError || e instanceof RangeError) && /^Expected /.test(e.message);
}

/** The one-line message for an error on a key or value, or undefined for an internal error. */
export function describe(e: unknown): string | undefined {
  if (e instanceof NetnsError) return e.message;
  if (isArgumentError(e)) return e.message;
  if (e instanceof Failure) return e.message;
  return undefined;
}

export function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

export function errorJson(e: unknown): { code: string; message: string } {
  const code = e instanceof NetnsError ? e.code : e instanceof Error ? e.name : 'Error';
  return { code, message: oneLine(describe(e) ?? String(e)) };
}
