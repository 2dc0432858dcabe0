// A strict TypeScript consumer of the published types (scripts/test-consumers.mjs copies it into
// each setup: ESM with node16, nodenext and bundler resolution, CommonJS with nodenext). Only
// type-checked: it uses the API the way the README does, and each @ts-expect-error must fail.
import { NetNamespace, NetnsError, spawnInNetns, sysctl, type CreateOptions, type SysctlValue } from 'netns';
import { KERNEL_RULES, findRule, defaultContext, type KernelRule } from 'netns/explain';
import { parseConf, type Setting } from 'netns/sysctld';
import { listContainers, type ContainerInfo } from 'netns/containers';
import { RootlessChild, rootlessSupport, type RootlessHelper } from 'netns/rootless';

const somaxconn: SysctlValue = sysctl.get('net.core.somaxconn');
const options: CreateOptions = { rootless: false };
const ns = NetNamespace.create(options);
try {
  ns.sysctl.set('net.ipv4.tcp_keepalive_time', 600);
  const snapshot = ns.sysctl.getAll('net.ipv4');
  const keys: string[] = Object.keys(snapshot.values);
  const started = spawnInNetns('true', [], { netns: ns, sysctl: { 'net.core.somaxconn': 1024 } });
  void started.exited.then((r) => (r.code ?? 0) + keys.length + Number(somaxconn));
  const helper: RootlessHelper | undefined = ns.rootless;
  if (started.child instanceof RootlessChild) void started.child.exited;
  void helper;
} catch (e) {
  if (e instanceof NetnsError) {
    const code: string = e.code;
    const errno: number = e.errno;
    void [code, errno];
  }
} finally {
  ns.close();
}
void sysctl.getAsync('net.core.somaxconn').then((v) => String(v));

// The subpath exports.
const rule: KernelRule | undefined = findRule('ipv4/tcp_keepalive_time', defaultContext());
const settings: Setting[] = parseConf('net.core.somaxconn = 1024\n', 'x.conf').settings;
const containers: ContainerInfo[] = listContainers();
void [rule, KERNEL_RULES.length, settings, containers, rootlessSupport().available];

// exactOptionalPropertyTypes: an optional property does not take an explicit undefined.
// @ts-expect-error -- rootless?: boolean, not boolean | undefined
const explicitUndefined: CreateOptions = { rootless: undefined };
// @ts-expect-error -- no such method
sysctl.nope();
void explicitUndefined;
// @ts-expect-error -- handles come from the static constructors (the constructor is private)
new NetNamespace();
// @ts-expect-error -- `backend` is @internal: not in the .d.ts
void ns.sysctl.backend;
