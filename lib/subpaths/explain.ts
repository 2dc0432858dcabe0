// 'netns/explain': the data behind classify() and explain(): the kernel's rules, the kernel
// lines they were checked on, the host-probe allow-list, the Kubernetes safe set and the
// docker/Kubernetes remedies, and the evidence types; the effective-value rules per kernel line
// and the pure parts of the write diagnosis (mountinfo, credentials, the decision on facts).
// For tools; classify, explain, effectiveValue, diagnoseWrite and their result types are in the
// root export.
export { KERNEL_RULES, VERIFIED_LINES, findRule, defaultContext, kernelSupport } from '../explain/rules.js';
export type { KernelRule, KernelCheck, RuleClass, RuleContext, RuleEvidence } from '../explain/types.js';
export { HOST_PROBE_SAFE } from '../explain/probe.js';
export { K8S_SAFE_SYSCTLS, type SafeSysctl } from '../explain/k8s-sysctls.js';
export {
  remediesFor,
  remedyCommand,
  settablePerNamespace,
  settableFor,
  type Remedies,
  type RemedyCommandInput,
} from '../explain/remedies.js';
export type { SideObservation, ParentProbe, HostProbe } from '../explain/types.js';
export {
  EFFECTIVE_RULES,
  EFFECTIVE_LINES,
  effectiveRuleOf,
  type EffectiveRule,
  type EffectiveLine,
  type Combine,
  type KernelUse,
} from '../explain/effective-rules.js';
export { effectiveFrom, effectiveInputs, effectiveRule, effectiveLineFor, combineText } from '../explain/effective.js';
export {
  diagnoseWriteFrom,
  parseMountinfo,
  mountOf,
  parseStatus,
  type WriteFacts,
  type MountEntry,
  type ProcessCredentials,
} from '../explain/write-diagnosis.js';
export { provenanceOf, type ProvenanceFacts } from '../explain/provenance.js';
export { specSettings } from '../explain/target.js';
export type { SpecSetting } from '../explain/types.js';
