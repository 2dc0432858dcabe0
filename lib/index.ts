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
export type { ContainerOptions, ContainerRuntime, DockerRoots } from './container/types.js';

// Errors.
export { NetnsError, type ErrorContext } from './errors.js';

// /proc/sys/net: get/set, key handles, snapshot handles; keys and typed values.
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
