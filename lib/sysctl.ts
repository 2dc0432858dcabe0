// Placeholder: typed /proc/sys/net access lands with the sysctl issue.
import type { SysctlBackend } from './backend.js';

export class Sysctl {
  constructor(
    /** @internal */ readonly backend: SysctlBackend,
    /** @internal */ readonly nsId: string | undefined,
  ) {}
}
