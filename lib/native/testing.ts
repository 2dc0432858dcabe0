// Test-only hooks of the addon, kept apart from the production contract (./binding.ts).
// Nothing in lib/ outside this file uses them.
import { native, type CloneReport } from './binding.js';

interface RawTestingHooks {
  testing: {
    failSwitchBack(n: number): void;
    forceOpenFallback(on: boolean): void;
    denyOpenat2(): void;
    forceNsTypeFallback(on: boolean): void;
    executorSpin(us: number): void;
  };
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
  /**
   * Open keys as on a kernel without openat2 (the component-by-component walk of
   * native/sysctl_core.h) when `on`; probe for openat2 again when not. Addon only.
   */
  forceOpenFallback(on: boolean): void {
    raw.testing.forceOpenFallback(on);
  },
  /**
   * Make openat2 fail with ENOSYS, as before Linux 5.6, for good: a seccomp filter on every
   * thread of this process, inherited by every child it makes (the clone child, the rootless
   * helper), so that each backend takes its own fallback. For a throwaway test process only.
   */
  denyOpenat2(): void {
    raw.testing.denyOpenat2();
  },
  /**
   * Answer NS_GET_NSTYPE with ENOSYS when `on`, as qemu-user does: nsInfo then reads the type
   * from the fd's /proc link (native/ns.cc). Addon only.
   */
  forceNsTypeFallback(on: boolean): void {
    raw.testing.forceNsTypeFallback(on);
  },
  /** The executor's spin after a batch, in µs (negative: back to the default), for the bench. */
  executorSpin(us: number): void {
    raw.testing.executorSpin(us);
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
