// netns: network namespaces and /proc/sys/net for Node.js on Linux.
export {
  NetNamespace,
  NETNS_RUN_DIRS,
  type NamespaceInfo,
  type NamespaceContainer,
  type ListOptions,
  type CreateOptions,
} from './namespace/handle.js';
export { NetnsError, type ErrorContext } from './errors.js';
export {
  Sysctl,
  SysctlHandle,
  SysctlSnapshotHandle,
  sysctl,
  type SetManyEntries,
  type CheckedEntries,
  type EntryInputOf,
  type SetManyOptions,
  type SetManyReport,
  type SysctlSnapshot,
} from './sysctl/sysctl.js';
export { parseKey, checkInterfaceName, type KeyInput, type InterfaceKey, type ParsedKey } from './sysctl/keys.js';
export { keyFromRel, deviceOf } from './keypath.js';
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
  type InputFor,
  type GenericInput,
  type CatalogKeyOf,
  type CatalogKeySlashed,
  type Shape,
  type Switch,
} from './sysctl/values.js';
export { setns, unshare, constants } from './namespace/raw.js';
export { cloneNetns, type CloneNetnsOptions, type CloneNetnsResult } from './process/clone.js';
export { spawnInNetns, type SpawnInNetnsOptions, type SpawnedInNetns, type NetnsChild } from './process/spawn.js';
export { compare, comparer, type CompareSide } from './explain/observe.js';
export { classify } from './explain/classify.js';
export { explain } from './explain/explain.js';
export { HOST_PROBE_SAFE } from './explain/probe.js';
export type {
  SysctlClass,
  CompareEntry,
  Classification,
  ClassifyOptions,
  Evidence,
  Explanation,
  SideObservation,
  ParentProbe,
  HostProbe,
} from './explain/types.js';
export { KERNEL_RULES, VERIFIED_LINES, defaultContext, findRule, kernelSupport } from './explain/rules.js';
export type { KernelCheck, KernelRule, RuleClass, RuleContext, RuleEvidence } from './explain/types.js';
export { K8S_SAFE_SYSCTLS, type SafeSysctl } from './explain/k8s-sysctls.js';
export { remediesFor, remedyCommand, settablePerNamespace, type Remedies, type RemedyCommandInput } from './explain/remedies.js';
export { RootlessHelper } from './rootless/helper.js';
export { RootlessChild, type RootlessExit } from './rootless/child.js';
export type { RootlessSpawnOptions, RootlessStdio } from './rootless/spawn.js';
export {
  rootlessSupport,
  userNamespaceSettings,
  hasCapSysAdmin,
} from './rootless/support.js';
export type { UserNamespaceSettings } from './userns.js';
export { listContainers, findContainer, containerName } from './container/find.js';
export { defaultRoots as defaultContainerRoots, CONTAINER_RUNTIMES } from './container/roots.js';
export type { ContainerInfo, ContainerOptions, ContainerRoot, ContainerRuntime, KubernetesNames } from './container/types.js';
/** The sysctl.d(5) parser procps-ng's sysctl(8) uses (lines, files, key forms, --system order). */
export * as sysctld from './sysctl/sysctld.js';
export {
  auditHost,
  auditNamespace,
  type AuditOptions,
  type AuditNamespaceOptions,
  type AuditOneSided,
  type AuditReport,
  type AuditTarget,
  type AuditDifference,
  type AuditDeviation,
} from './audit/audit.js';
