// 'netns/explain': the data behind classify() and explain(): the kernel's rules, the kernel
// lines they were checked on, the host-probe allow-list, the Kubernetes safe set and the
// docker/Kubernetes remedies, and the evidence types. For tools; classify, explain and their
// result types are in the root export.
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
export { provenanceOf, type ProvenanceFacts } from '../explain/provenance.js';
