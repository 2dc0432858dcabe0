// A CommonJS TypeScript consumer (module/moduleResolution nodenext): `import x = require()` of
// the ES module package, which Node 20.19+ / 22.12+ / 24+ load with require(esm).
import netns = require('netns');
import explain = require('netns/explain');
import sysctld = require('netns/sysctld');
import containers = require('netns/containers');
import rootless = require('netns/rootless');

const value: netns.SysctlValue = netns.sysctl.get('net.core.somaxconn');
const ns = netns.NetNamespace.create();
ns.close();
const rules: readonly explain.KernelRule[] = explain.KERNEL_RULES;
const settings: sysctld.Setting[] = sysctld.parseConf('net.core.somaxconn = 1\n', 'x.conf').settings;
const found: containers.ContainerInfo[] = containers.listContainers();
const support: { available: boolean } = rootless.rootlessSupport();
// @ts-expect-error -- no such export
netns.nope();
// @ts-expect-error -- the rule table is in netns/explain, not in the root
void netns.KERNEL_RULES;
void [value, rules, settings, found, support];
