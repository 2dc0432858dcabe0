// netns: network namespaces and /proc/sys/net for Node.js on Linux.
export { NetNamespace, NETNS_RUN_DIRS, type NamespaceInfo, type CreateOptions } from './netns.js';
export { NetnsError, type ErrorContext } from './errors.js';
export {
  Sysctl,
  SysctlHandle,
  sysctl,
  type SetManyEntries,
  type SetManyOptions,
  type SetManyReport,
  type SysctlSnapshot,
} from './sysctl.js';
export { parseKey, keyFromRel, checkInterfaceName, type KeyInput, type InterfaceKey, type ParsedKey } from './keys.js';
export {
  parseValue,
  formatValue,
  valuesEqual,
  shapeOf,
  catalogKeys,
  type SysctlValue,
  type SysctlCatalog,
  type CatalogKey,
  type AnyKey,
  type ValueOf,
  type InputOf,
  type Shape,
  type Switch,
} from './values.js';
export { setns, unshare, constants } from './raw.js';
export { cloneNetns, type CloneNetnsOptions, type CloneNetnsResult } from './clone.js';
export { spawnInNetns, type SpawnInNetnsOptions, type SpawnedInNetns, type NetnsChild } from './spawn.js';
export {
  compare,
  classify,
  explain,
  HOST_PROBE_SAFE,
  type SysctlClass,
  type CompareEntry,
  type Classification,
  type ClassifyOptions,
  type Evidence,
  type Explanation,
  type SideObservation,
  type ParentProbe,
  type HostProbe,
} from './classify.js';
export { KERNEL_RULES, findRule, type KernelRule, type RuleClass, type RuleContext, type RuleEvidence } from './kernel-rules.js';
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
