// A consumer in TypeScript's default setup: `tsc --strict default.ts` with no tsconfig, so
// target ES5 (private `#` names are an error there), module CommonJS and moduleResolution
// node10, which ignores `exports` (the subpaths resolve through `typesVersions`). The
// package's own .d.ts are checked too (skipLibCheck is off by default).
import { NetNamespace, NetnsError, sysctl, type SysctlValue } from 'netns';
import { findRule, defaultContext } from 'netns/explain';
import { parseConf } from 'netns/sysctld';
import { listContainers } from 'netns/containers';
import { rootlessSupport } from 'netns/rootless';

const v: SysctlValue = sysctl.get('net.core.somaxconn');
const ns = NetNamespace.current();
try {
  void ns.sysctl.getRaw('net.ipv4.tcp_keepalive_time');
} catch (e) {
  if (e instanceof NetnsError) void e.code;
} finally {
  ns.close();
}
void [v, findRule('ipv4/tcp_rmem', defaultContext()), parseConf('', 'x.conf'), listContainers(), rootlessSupport()];
