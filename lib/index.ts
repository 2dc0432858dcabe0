// netns: network namespaces and /proc/sys/net for Node.js on Linux.
export { NetNamespace, NETNS_RUN_DIRS, type NamespaceInfo, type CreateOptions } from './netns.js';
export { NetnsError, type ErrorContext } from './errors.js';
export { Sysctl } from './sysctl.js';
export { setns, unshare, constants } from './raw.js';
export { cloneNetns, type CloneNetnsOptions, type CloneNetnsResult } from './clone.js';
export { spawnInNetns, type SpawnInNetnsOptions, type SpawnedInNetns } from './spawn.js';
