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
export { spawnInNetns, type SpawnInNetnsOptions, type SpawnedInNetns } from './spawn.js';
