// netns: network namespaces and /proc/sys/net for Node.js on Linux.
export { NetNamespace, NETNS_RUN_DIRS, type NamespaceInfo, type CreateOptions } from './netns.js';
export { NetnsError, type ErrorContext } from './errors.js';
export { Sysctl } from './sysctl.js';
export { setns, unshare, constants } from './raw.js';
export {
  RootlessHelper,
  RootlessChild,
  rootlessSupport,
  userNamespaceSettings,
  hasCapSysAdmin,
  type RootlessSpawnOptions,
  type RootlessStdio,
  type RootlessExit,
  type UserNamespaceSettings,
} from './rootless.js';
