import type { ClusterContext } from './context.js';
import type { KubeObject, PodDisruptionBudget } from './k8s.js';
import type { Workload } from './workload.js';

/** What happens to a finding: refuse the write, tell the user, only record it, or nothing. */
export type Action = 'deny' | 'warn' | 'audit' | 'off';
export const ACTIONS: readonly Action[] = ['deny', 'warn', 'audit', 'off'];

/** What a policy's check reports; the engine adds the policy id, action and exemption. */
export interface Violation {
  /** Exact field path from the object's root, e.g. `spec.template.spec.containers[0].image`. */
  path: string;
  /**
   * Written for the developer who hit it: what is wrong and the fix, whole. Aim for 120
   * characters with a short container name; kubectl's warning lines are fitted in
   * src/server/messages.ts, everything else (audit, denials) shows it as it is.
   */
  message: string;
  container?: string;
  /** A fix for this very finding; the policy's general `fix` is used when absent. */
  remediation?: string;
}

/**
 * What a check returns for a container's violation when `workload.counting` is set: the engine
 * only counts it (the listing cap is reached), so its text is not written. A pod with 100,000
 * failing containers would otherwise have about a million paths and messages built to be dropped.
 * Only for violations that name a container: one about the pod is written out as always.
 */
export const COUNTED: Readonly<Violation> = Object.freeze({ path: '', message: '', container: '' });

/**
 * What the cluster supplies that the object leaves out, where a check would otherwise have
 * reported it (a request a LimitRange fills in). Not a finding: the offline audit lists it so
 * that a pass says why.
 */
export interface PolicyNote {
  path: string;
  message: string;
  container?: string;
}

interface PolicyMeta {
  /** Stable kebab-case id: configs, annotations and reports refer to it. */
  id: string;
  title: string;
  /** The practice it enforces and what goes wrong without it. */
  why: string;
  /** A YAML snippet that fixes the common case. */
  fix: string;
  defaultAction: Exclude<Action, 'off'>;
  /**
   * Kinds the check runs on. What the engine judges, the webhook is sent, the cluster audit
   * lists and the chart's RBAC grants all follow from the kinds of the registered policies
   * (judgedKinds; src/registry/ for the API side).
   */
  kinds: readonly string[];
  /**
   * True when a finding says something is missing from the cluster (no PodDisruptionBudget
   * covers the pods): only a context that holds the cluster's objects can say so. A webhook
   * without a cluster connection does not run such a policy rather than state it blind.
   */
  needsCluster?: boolean;
  /**
   * Fields of the object the check reads beyond what the engine hands every policy (a
   * workload's pod spec, pod labels, replicas and owner; a PDB's name). An UPDATE that changes
   * none of these is not judged again (src/engine/inputs.ts); test/engine/inputs.test.ts
   * records every read and fails when a field is missing here.
   */
  reads?: readonly FieldPath[];
  /** Where an admin's own rule comes from (the config file); built-in policies have none. */
  source?: string;
  /**
   * The check in CEL, for `practice-gate vap` (docs/rules.md), when CEL can express it from the
   * object alone (test/rules/builtin-vap.test.ts holds it to the TypeScript check on the policy's
   * examples); otherwise why it is not exported, which `practice-gate vap` tells its user.
   */
  cel?: PolicyCel | { notExported: string };
}

/** A built-in policy's check in CEL, in the variables of a custom rule (`object`, `podSpec`, `container`). */
export interface PolicyCel {
  /** `containers`: each validation runs once per container and init container, as `container`. */
  forEach?: 'containers';
  validations: readonly { expression: string; message: string }[];
}

/** A field as a list of keys from the object's root: `['spec', 'concurrencyPolicy']`. */
export type FieldPath = readonly string[];

export interface WorkloadPolicy extends PolicyMeta {
  target: 'workload';
  /**
   * Judges each of `workload.containers` on its own: the engine may pass the list in slices
   * (src/engine/evaluate.ts), so a container's violations must not depend on the others, and a
   * violation without `container` must not depend on the list at all. On a slice marked
   * `counting`, return COUNTED for each container's violation (test/engine/counting.test.ts).
   */
  check(workload: Workload, context: ClusterContext): Violation[];
  /**
   * True when no violation names a container (the finding is about the pod or the object): the
   * engine then checks only the first slice of a large pod, and a check may read the whole pod
   * spec without that costing once per slice.
   */
  podLevel?: boolean;
  /** The notes for what check let pass because the context supplies it; run only when asked (EvaluateOptions.notes). */
  notes?(workload: Workload, context: ClusterContext): PolicyNote[];
}

export interface PdbPolicy extends PolicyMeta {
  target: 'pdb';
  check(pdb: PodDisruptionBudget, namespace: string, context: ClusterContext): Violation[];
}

/** What only the webhook knows of a write: the old object and the request (custom rules read them). */
export interface AdmissionFacts {
  /** The object before an UPDATE; null for a CREATE. */
  oldObject: unknown;
  /** The AdmissionRequest's fields a ValidatingAdmissionPolicy sees as `request`. */
  request: Readonly<Record<string, unknown>>;
}

/** What the engine knows of the object an ObjectPolicy judges. */
export interface ObjectSubject {
  namespace: string;
  /** The workload view, for workload kinds. */
  workload: Workload | undefined;
  /** Absent outside the webhook (manifests, cluster scans). */
  admission: AdmissionFacts | undefined;
}

/**
 * Judges the object as it is written: an admin's custom rule (src/rules/), or a built-in policy on
 * a kind that is neither a workload nor a PDB (a Service, an HPA).
 */
export interface ObjectPolicy extends PolicyMeta {
  target: 'object';
  check(object: KubeObject, subject: ObjectSubject, context: ClusterContext): Violation[];
}

export type Policy = WorkloadPolicy | PdbPolicy | ObjectPolicy;

/** The kinds a registry judges, each once, in the order the policies name them. */
export function judgedKinds(registry: readonly Policy[]): string[] {
  return [...new Set(registry.flatMap((p) => p.kinds))];
}
