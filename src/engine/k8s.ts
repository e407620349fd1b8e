// The slices of Kubernetes objects the engine reads. Admission requests and manifests arrive
// unvalidated, so every field the object carries is `unknown`: a `runAsUser` may be the
// string "0", a `containers` list may be a map. The compiler then refuses a read that skips
// the check; readers go through isRecord, stringMap and the guards in fields.ts. The
// interfaces only name the fields the engine reads, so a misspelt name does not compile.

export interface OwnerReference {
  apiVersion?: unknown;
  kind?: unknown;
  name?: unknown;
  uid?: unknown;
  controller?: unknown;
}

export interface ObjectMeta {
  name?: unknown;
  generateName?: unknown;
  namespace?: unknown;
  uid?: unknown;
  labels?: unknown;
  annotations?: unknown;
  ownerReferences?: unknown;
}

export interface KubeObject {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: unknown;
  spec?: unknown;
}

export interface SecurityContext {
  runAsNonRoot?: unknown;
  runAsUser?: unknown;
  readOnlyRootFilesystem?: unknown;
  allowPrivilegeEscalation?: unknown;
  privileged?: unknown;
}

export interface PodSecurityContext {
  runAsNonRoot?: unknown;
  runAsUser?: unknown;
}

export interface ResourceRequirements {
  requests?: unknown;
  limits?: unknown;
}

export interface Container {
  name?: unknown;
  image?: unknown;
  securityContext?: unknown;
  resources?: unknown;
  ports?: unknown;
  readinessProbe?: unknown;
  livenessProbe?: unknown;
  startupProbe?: unknown;
  /** Only on init containers: `Always` makes it a native sidecar. */
  restartPolicy?: unknown;
}

export interface PodSpec {
  containers?: unknown;
  initContainers?: unknown;
  ephemeralContainers?: unknown;
  securityContext?: unknown;
  restartPolicy?: unknown;
  os?: unknown;
  /** Pod-level requests and limits (KEP-2837). */
  resources?: unknown;
  hostNetwork?: unknown;
}

export interface LabelSelector {
  matchLabels?: unknown;
  matchExpressions?: unknown;
}

/** Names for the kinds the context holds; their `spec` is read through PdbSpec and HpaSpec. */
export type PodDisruptionBudget = KubeObject;
export type HorizontalPodAutoscaler = KubeObject;
/** Read through NetworkPolicySpec; the webhook keeps only its name, namespace and podSelector. */
export type NetworkPolicy = KubeObject;

export interface NetworkPolicySpec {
  podSelector?: unknown;
}

export interface PdbSpec {
  selector?: unknown;
  minAvailable?: unknown;
  maxUnavailable?: unknown;
}

export interface HpaSpec {
  scaleTargetRef?: unknown;
  minReplicas?: unknown;
  maxReplicas?: unknown;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A string-to-string map from untrusted input, dropping entries that are not strings. It has
 * no prototype: a label named `constructor` or `__proto__` is a label like any other, and a
 * lookup of a missing one is undefined.
 */
export function stringMap(value: unknown): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  if (!isRecord(value)) return out;
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return out;
}

export function metaOf(object: KubeObject): ObjectMeta {
  return isRecord(object.metadata) ? object.metadata : {};
}

/** The object's kind, or '' when it names none as a string. */
export function kindOf(object: KubeObject): string {
  return typeof object.kind === 'string' ? object.kind : '';
}

/** metadata.namespace when it is a string (possibly empty), else undefined. */
export function namespaceOf(object: KubeObject): string | undefined {
  const namespace = metaOf(object).namespace;
  return typeof namespace === 'string' ? namespace : undefined;
}

export function nameOf(object: KubeObject): string {
  const meta = metaOf(object);
  if (typeof meta.name === 'string' && meta.name !== '') return meta.name;
  if (typeof meta.generateName === 'string') return meta.generateName;
  return '';
}

/** True when an ownerReference marks this object as managed by a controller. */
export function isControllerOwned(object: KubeObject): boolean {
  return controllerRef(object) !== undefined;
}

/** The ownerReference with `controller: true`, if any. */
export interface ControllerRef {
  kind: string;
  name: string;
  uid?: string;
}

export function controllerRef(object: KubeObject): ControllerRef | undefined {
  const refs = metaOf(object).ownerReferences;
  if (!Array.isArray(refs)) return undefined;
  const ref = refs.find((r) => isRecord(r) && r.controller === true);
  if (!isRecord(ref)) return undefined;
  const found: ControllerRef = { kind: typeof ref.kind === 'string' ? ref.kind : '', name: typeof ref.name === 'string' ? ref.name : '' };
  if (typeof ref.uid === 'string' && ref.uid !== '') found.uid = ref.uid;
  return found;
}
