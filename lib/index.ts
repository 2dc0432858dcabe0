// netns: network namespaces and /proc/sys/net for Node.js on Linux.
//
// The root export ('netns'): what a user of the lesson needs. The rule tables and Kubernetes
// data, the sysctl.d(5) parser, the container-state readers and the rootless internals are
// subpath exports, each a list of re-exports in lib/subpaths/ (package.json `exports` maps
// them): 'netns/explain', 'netns/sysctld', 'netns/containers', 'netns/rootless'.

// Namespaces: handles, and the ways to get one.
export {
  NetNamespace,
  NETNS_RUN_DIRS,
  type NamespaceInfo,
  type NamespaceContainer,
  type ListOptions,
  type CreateOptions,
} from './namespace/handle.js';
export type {
  ContainerOptions,
  ContainerRuntime,
  ContainerStateError,
  ContainerTrust,
  DockerRoots,
} from './container/types.js';

// Errors.
export { NetnsError, type ErrorContext } from './errors.js';

// /proc/sys/net: get/set, key handles, snapshot handles; keys and typed values.
export {
  Sysctl,
  SysctlHandle,
  SysctlSnapshotHandle,
  sysctl,
  undoEntries,
  type SetManyEntries,
  type CheckedEntries,
  type EntryInputOf,
  type SetManyOptions,
  type SetManyReport,
  type SysctlSnapshot,
  type WalkLimits,
  type Truncation,
} from './sysctl/sysctl.js';
export { parseKey, type KeyInput, type InterfaceKey, type ParsedKey } from './sysctl/keys.js';
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

// Names are bytes: exact strings for them (fsdecode/fsencode), and the one escape for a person's
// terminal of everything a tenant or a file names (printable).
export { fsdecode, fsencode } from './native/bytes.js';
export { printable, terminalSafe } from './printable.js';

// Raw system calls on the calling thread.
export { setns, unshare, constants } from './namespace/raw.js';

// Processes born in a namespace.
export { cloneNetns, type CloneNetnsOptions, type CloneNetnsResult } from './process/clone.js';
export { spawnInNetns, type SpawnInNetnsOptions, type SpawnedInNetns, type NetnsChild } from './process/spawn.js';

// What a namespace inherited, and why.
export { compare, comparer, type CompareSide } from './explain/observe.js';
export { classify } from './explain/classify.js';
export { explain } from './explain/explain.js';
export type {
  SysctlClass,
  CompareEntry,
  CompareStatus,
  Classification,
  ClassifyOptions,
  Evidence,
  Explanation,
  Provenance,
  ProvenanceKind,
  SpecSetting,
} from './explain/types.js';
export type {
  ExplainTargetOptions,
  TargetExplanation,
  TargetKeyExplanation,
  TargetContainer,
} from './explain/target.js';
export type { Settable, SettableReason } from './explain/remedies.js';

// What the kernel uses for a device's key, and why a write fails inside a container.
export {
  effectiveValue,
  type EffectiveValue,
  type EffectiveOptions,
  type EffectiveRuleEvidence,
} from './explain/effective.js';
export {
  diagnoseWrite,
  diagnoseWrites,
  type WriteDiagnosis,
  type WriteObstacle,
  type WriteObstacleCode,
  type WriteTarget,
  type DiagnoseWriteOptions,
} from './explain/write-diagnosis.js';

// Every container's namespace against the host and a sysctl.d file.
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

// A sysctl policy brought to every container's namespace: once, as they start, or one namespace.
export {
  applyPolicy,
  applyToNamespace,
  type ApplyOptions,
  type ApplyNamespaceOptions,
  type ApplyReport,
  type ApplyTarget,
  type NamespaceApply,
  type PolicyChange,
  type PolicyRefusal,
  type PolicySpecKept,
  type PolicyDeviation,
} from './remedy/apply.js';
export { watchPolicy, type WatchOptions, type PolicyWatcher } from './remedy/watch.js';
export { loadPolicy, IFNAME, type Policy, type PolicySource, type PolicyWrite } from './sysctl/policy.js';
export type { ContainerSelector } from './container/select.js';
