// The slices of Kubernetes objects the engine reads. Every field is optional because
// admission requests and manifests arrive unvalidated: the engine must cope with
// anything, so readers go through the guards in workload.ts rather than trusting these.

export interface OwnerReference {
  apiVersion?: string;
  kind?: string;
  name?: string;
  uid?: string;
  controller?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: unknown;
}

export interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  privileged?: boolean;
}

export interface PodSecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
}

export type Quantity = string | number;

export interface ResourceRequirements {
  requests?: Record<string, Quantity>;
  limits?: Record<string, Quantity>;
}

export interface Container {
  name?: string;
  image?: string;
  securityContext?: SecurityContext;
  resources?: ResourceRequirements;
  readinessProbe?: object;
  livenessProbe?: object;
  startupProbe?: object;
  /** Only on init containers: `Always` makes it a native sidecar. */
  restartPolicy?: string;
}

export interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
  ephemeralContainers?: Container[];
  securityContext?: PodSecurityContext;
  os?: { name?: string };
}

export interface LabelSelectorRequirement {
  key?: string;
  operator?: string;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface PodDisruptionBudget extends KubeObject {
  spec?: {
    selector?: LabelSelector;
    minAvailable?: number | string;
    maxUnavailable?: number | string;
  };
}

export interface HorizontalPodAutoscaler extends KubeObject {
  spec?: {
    scaleTargetRef?: { apiVersion?: string; kind?: string; name?: string };
    minReplicas?: number;
    maxReplicas?: number;
  };
}

export interface Namespace extends KubeObject {
  kind?: 'Namespace';
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
