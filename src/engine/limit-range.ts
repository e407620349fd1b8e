// What a LimitRange adds to the containers of every pod created in its namespace. The LimitRanger
// admission plugin (plugin/pkg/admission/limitranger) fills in a container's missing requests and
// limits from the LimitRange's items of type Container, so a Deployment's template never shows
// them. The webhook keeps only this projection of each LimitRange (a few hundred bytes), and the
// offline audit builds the same from the LimitRanges among its documents.
import { isRecord, metaOf } from './k8s.js';
import type { KubeObject } from './k8s.js';

/** Resource name to quantity, as written (a YAML number such as `cpu: 1` kept as its text). */
export type ResourceQuantities = Readonly<Record<string, string>>;

/** One `type: Container` item, after the API server's defaulting of LimitRange items. */
export interface ContainerDefaultItem {
  type: 'Container';
  /** Limits set on a container that has none for the resource. */
  default: ResourceQuantities;
  /** Requests set on a container that has none for the resource. */
  defaultRequest: ResourceQuantities;
}

/** What is kept of a LimitRange. metadata.resourceVersion stays because the reflector resumes its watch from it. */
export interface ProjectedLimitRange extends KubeObject {
  apiVersion: 'v1';
  kind: 'LimitRange';
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  spec: { limits: ContainerDefaultItem[] };
}

/** A LimitRange's container defaults, merged over its items as the plugin merges them (a later item wins). */
export interface LimitRangeDefaults {
  namespace: string;
  name: string;
  limits: ResourceQuantities;
  requests: ResourceQuantities;
}

/** A quantity from untrusted input: a string, or a finite number as YAML gives `cpu: 1`; anything else is dropped. */
function quantities(value: unknown): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  if (!isRecord(value)) return out;
  for (const [name, quantity] of Object.entries(value)) {
    if (typeof quantity === 'string') out[name] = quantity;
    else if (typeof quantity === 'number' && Number.isFinite(quantity)) out[name] = String(quantity);
  }
  return out;
}

/**
 * An item of type Container as the API server stores it (SetDefaults_LimitRangeItem in
 * pkg/apis/core/v1/defaults.go): a missing default limit is the max, a missing default request
 * is the default limit, else the min. A LimitRange read from a manifest has not been through
 * that yet; one from the API server has, and applying it again changes nothing.
 */
function containerItem(item: Record<string, unknown>): ContainerDefaultItem {
  const max = quantities(item.max);
  const min = quantities(item.min);
  const limits = quantities(item.default);
  const requests = quantities(item.defaultRequest);
  for (const name in max) if (!(name in limits)) limits[name] = max[name] as string;
  for (const name in limits) if (!(name in requests)) requests[name] = limits[name] as string;
  for (const name in min) if (!(name in requests)) requests[name] = min[name] as string;
  return { type: 'Container', default: limits, defaultRequest: requests };
}

/**
 * The projection of a LimitRange, or undefined when it has no name. Only items of type Container
 * default anything (Pod and PersistentVolumeClaim items only bound); their min, max and ratio
 * are not kept: practice-gate judges whether a value is set, not whether it is in range.
 * Projecting a projection gives an equal one.
 */
export function projectLimitRange(object: unknown): ProjectedLimitRange | undefined {
  if (!isRecord(object) || !isRecord(object.metadata)) return undefined;
  const meta = object.metadata;
  if (typeof meta.name !== 'string' || meta.name === '') return undefined;
  const metadata: ProjectedLimitRange['metadata'] = { name: meta.name };
  if (typeof meta.namespace === 'string') metadata.namespace = meta.namespace;
  if (typeof meta.resourceVersion === 'string') metadata.resourceVersion = meta.resourceVersion;
  const spec = isRecord(object.spec) ? object.spec : {};
  const items = Array.isArray(spec.limits) ? spec.limits : [];
  const limits = items
    .filter((item: unknown): item is Record<string, unknown> => isRecord(item) && item.type === 'Container')
    .map(containerItem);
  return { apiVersion: 'v1', kind: 'LimitRange', metadata, spec: { limits } };
}

/**
 * What one LimitRange sets on a container (defaultContainerResourceRequirements): every Container
 * item's defaults, a later item's over an earlier one's for the same resource.
 */
export function limitRangeDefaults(object: KubeObject, namespace: string): LimitRangeDefaults | undefined {
  const projected = projectLimitRange(object);
  if (!projected) return undefined;
  const limits = Object.create(null) as Record<string, string>;
  const requests = Object.create(null) as Record<string, string>;
  for (const item of projected.spec.limits) {
    Object.assign(limits, item.default);
    Object.assign(requests, item.defaultRequest);
  }
  const own = metaOf(object).namespace;
  return { namespace: typeof own === 'string' && own !== '' ? own : namespace, name: projected.metadata.name, limits, requests };
}
