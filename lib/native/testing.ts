// Test-only hooks of the addon, kept apart from the production contract (./binding.ts).
// Nothing in lib/ outside this file uses them.
import { native, type CloneReport } from './binding.js';

interface RawTestingHooks {
  testing: { failSwitchBack(n: number): void };
  cloneNetns(
    rels: string[],
    values: (string | null)[],
    user: [uid: number, gid: number] | null,
    holdMs: number,
  ): Promise<CloneReport>;
}

const raw = native as unknown as RawTestingHooks;

export const testing = {
  /** Make the next `n` switch-backs report failure (the real switch is still done). */
  failSwitchBack(n: number): void {
    raw.testing.failSwitchBack(n);
  },
  /** native.cloneNetns whose child sleeps `holdMs` after the go, before its work. */
  cloneNetns(
    rels: string[],
    values: (string | null)[],
    user: [uid: number, gid: number] | null,
    holdMs: number,
  ): Promise<CloneReport> {
    return raw.cloneNetns(rels, values, user, holdMs);
  },
};
