// The webhook's copy of the replicated workloads: only the fields the pdb-* policies read (and
// the containers' CPU and memory requests, for hpa-target-requests: request-projection.ts), so
// that a cluster of tens of thousands of Deployments fits in the pod's memory limit. A whole
// Deployment (managedFields, pod spec, status) is tens of kilobytes in the heap; this is a
// few hundred bytes (docs/cluster.md has the measured figure).
import { isRecord, stringMap } from '../../engine/k8s.js';
import type { KubeObject, ObjectMeta, OwnerReference } from '../../engine/k8s.js';
import type { ListerWatcher, WatchEvent } from './reflector.js';
import { projectPodRequests } from './request-projection.js';
import type { ProjectedPodSpec } from './request-projection.js';

/** The replicated kinds whose replicas a PodDisruptionBudget may hold (REPLICATED_KINDS). */
export const WORKLOAD_RESOURCES = [
  { resource: 'deployments', kind: 'Deployment', apiVersion: 'apps/v1' },
  { resource: 'statefulsets', kind: 'StatefulSet', apiVersion: 'apps/v1' },
  { resource: 'replicasets', kind: 'ReplicaSet', apiVersion: 'apps/v1' },
  { resource: 'replicationcontrollers', kind: 'ReplicationController', apiVersion: 'v1' },
] as const;

interface SelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

/**
 * What is kept of a workload. metadata.resourceVersion stays because the reflector resumes its
 * watch from the last event's; uid and the controller ownerReference say whose it is.
 * The selector is the workload's own (a plain map for a ReplicationController); the template
 * labels are what a PDB's selector is matched against.
 */
export interface ProjectedWorkload extends KubeObject {
  metadata: ObjectMeta & { resourceVersion?: string };
  spec: {
    replicas?: number;
    selector?: Record<string, string> | { matchLabels?: Record<string, string>; matchExpressions?: SelectorRequirement[] };
    template: { metadata: { labels: Record<string, string> }; spec?: ProjectedPodSpec };
  };
}

/** What to do with one listed or watched workload. */
export interface Projection {
  /** False when not worth keeping: `object` then carries only the name, for removing an earlier copy. */
  store: boolean;
  object: ProjectedWorkload;
}

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

function controllerOf(refs: unknown): OwnerReference | undefined {
  if (!Array.isArray(refs)) return undefined;
  const ref: unknown = refs.find((r: unknown) => isRecord(r) && r.controller === true);
  if (!isRecord(ref)) return undefined;
  const out: OwnerReference = { controller: true };
  for (const field of ['apiVersion', 'kind', 'name', 'uid'] as const) {
    const value = str(ref[field]);
    if (value !== undefined) out[field] = value;
  }
  return out;
}

export function selectorOf(kind: string, selector: unknown): ProjectedWorkload['spec']['selector'] {
  if (!isRecord(selector)) return undefined;
  if (kind === 'ReplicationController') return stringMap(selector);
  const out: { matchLabels?: Record<string, string>; matchExpressions?: SelectorRequirement[] } = {};
  if (isRecord(selector.matchLabels)) out.matchLabels = stringMap(selector.matchLabels);
  if (Array.isArray(selector.matchExpressions)) {
    out.matchExpressions = selector.matchExpressions.filter(isRecord).map((e) => {
      const req: SelectorRequirement = { key: str(e.key) ?? '', operator: str(e.operator) ?? '' };
      if (Array.isArray(e.values)) req.values = e.values.filter((v: unknown): v is string => typeof v === 'string');
      return req;
    });
  }
  return out;
}

/**
 * The projection of a listed or watched object of `kind`, or undefined when it has no name.
 * A ReplicaSet with a controller (a Deployment's) is not stored: the policies judge the
 * Deployment instead, and a Deployment keeps up to eleven of them (revisionHistoryLimit 10).
 * Projecting a projection gives an equal one, so a source may project before the cache does.
 */
export function projectWorkload(kind: string, apiVersion: string, item: unknown): Projection | undefined {
  if (!isRecord(item) || !isRecord(item.metadata)) return undefined;
  const meta = item.metadata;
  const name = str(meta.name);
  if (name === undefined || name === '') return undefined;
  const metadata: ProjectedWorkload['metadata'] = { name };
  const namespace = str(meta.namespace);
  if (namespace !== undefined) metadata.namespace = namespace;
  const resourceVersion = str(meta.resourceVersion);
  if (resourceVersion !== undefined) metadata.resourceVersion = resourceVersion;
  const controller = controllerOf(meta.ownerReferences);
  if (kind === 'ReplicaSet' && controller) {
    return { store: false, object: { apiVersion, kind, metadata, spec: { template: { metadata: { labels: {} } } } } };
  }
  const uid = str(meta.uid);
  if (uid !== undefined) metadata.uid = uid;
  if (controller) metadata.ownerReferences = [controller];

  const spec = isRecord(item.spec) ? item.spec : {};
  const template = isRecord(spec.template) ? spec.template : {};
  const templateMeta = isRecord(template.metadata) ? template.metadata : {};
  const projected: ProjectedWorkload = {
    apiVersion,
    kind,
    metadata,
    spec: { template: { metadata: { labels: stringMap(templateMeta.labels) } } },
  };
  projected.spec.template.spec = projectPodRequests(template.spec);
  if (typeof spec.replicas === 'number') projected.spec.replicas = spec.replicas;
  const selector = selectorOf(kind, spec.selector);
  if (selector !== undefined) projected.spec.selector = selector;
  return { store: true, object: projected };
}

/** A list-page filter for `kind`: the projection of what is stored, undefined for the rest. */
export function workloadListProjection(kind: string, apiVersion: string): (item: unknown) => unknown {
  return (item) => {
    const projection = projectWorkload(kind, apiVersion, item);
    return projection?.store ? projection.object : undefined;
  };
}

/**
 * A ListerWatcher that hands the reflector projections instead of whole objects, so neither
 * the reflector's own map nor the context index holds more. A watched object that is not to be
 * stored (a ReplicaSet adopted by a Deployment) arrives as DELETED, which drops any earlier
 * copy and still moves the watch's resourceVersion on.
 */
export function projectingSource(source: ListerWatcher, kind: string, apiVersion: string): ListerWatcher {
  return {
    async list() {
      const page = await source.list();
      const items: ProjectedWorkload[] = [];
      for (const item of page.items) {
        const projection = projectWorkload(kind, apiVersion, item);
        if (projection?.store) items.push(projection.object);
      }
      return { items, resourceVersion: page.resourceVersion };
    },
    watch(resourceVersion, onEvent, onDone, options) {
      const project = (event: WatchEvent): WatchEvent => {
        if (event.type !== 'ADDED' && event.type !== 'MODIFIED' && event.type !== 'DELETED') return event;
        const projection = projectWorkload(kind, apiVersion, event.object);
        if (!projection) return event;
        return { type: projection.store ? event.type : 'DELETED', object: projection.object };
      };
      return source.watch(resourceVersion, (event) => onEvent(project(event)), onDone, options);
    },
  };
}
