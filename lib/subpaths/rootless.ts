// 'netns/rootless': rootless mode's parts. NetNamespace.create({ rootless: true }) in the root
// export is the way in; here are the helper process behind such a namespace (`ns.rootless`),
// the commands it starts, and the checks of whether this process can use it.
export { RootlessHelper } from '../rootless/helper.js';
export { RootlessChild, type RootlessExit } from '../rootless/child.js';
export type { RootlessSpawnOptions, RootlessStdio } from '../rootless/spawn.js';
export { rootlessSupport, userNamespaceSettings, hasCapSysAdmin } from '../rootless/support.js';
export type { UserNamespaceSettings } from '../userns.js';
