// A CommonJS TypeScript consumer (module/moduleResolution nodenext): `import x = require()` of
// the ES module package, which Node 20.19+ / 22.12+ / 24+ load with require(esm).
import netns = require('netns');

const value: netns.SysctlValue = netns.sysctl.get('net.core.somaxconn');
const ns = netns.NetNamespace.create();
ns.close();
// @ts-expect-error -- no such export
netns.nope();
void value;
