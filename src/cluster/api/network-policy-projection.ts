// The webhook's copy of the NetworkPolicies: network-policy-coverage asks only which pods of a
// namespace each one selects, so its rules (often long lists of peers and ports), labels,
// annotations and managedFields are not kept.
import { isRecord } from '../../engine/k8s.js';
import type { KubeObject, ObjectMeta } from '../../engine/k8s.js';
import type { ListerWatcher, WatchEvent } from './reflector.js';
import { selectorOf } from './workload-projection.js';

export const NETWORK_POLICY_RESOURCE = { resource: 'networkpolicies', kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1' } as const;

/** What is kept: the name and namespace, resourceVersion (where the watch resumes) and the podSelector. */
export interface ProjectedNetworkPolicy extends KubeObject {
  metadata: ObjectMeta & { resourceVersion?: string };
  /** A podSelector that is no object (which the API refuses) is kept as a marker that selects nothing. */
  spec: { podSelector: NonNullable<ReturnType<typeof selectorOf>> | typeof NOT_A_SELECTOR };
}

const NOT_A_SELECTOR = '(not a label selector)';

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/**
 * The projection of a listed or watched NetworkPolicy, or undefined without a name. The API
 * server always stores a podSelector (`{}` when none was written); one missing here is kept as
 * `{}` too, as the API reads it. Projecting a projection gives an equal one.
 */
export function projectNetworkPolicy(item: unknown): ProjectedNetworkPolicy | undefined {
  if (!isRecord(item) || !isRecord(item.metadata)) return undefined;
  const name = str(item.metadata.name);
  if (name === undefined || name === '') return undefined;
  const metadata: ProjectedNetworkPolicy['metadata'] = { name };
  const namespace = str(item.metadata.namespace);
  if (namespace !== undefined) metadata.namespace = namespace;
  const resourceVersion = str(item.metadata.resourceVersion);
  if (resourceVersion !== undefined) metadata.resourceVersion = resourceVersion;
  // As network-policy-coverage reads it: a missing or null spec or podSelector is `{}`.
  const spec = item.spec ?? {};
  const podSelector = selectorOf(NETWORK_POLICY_RESOURCE.kind, isRecord(spec) ? (spec.podSelector ?? {}) : undefined) ?? NOT_A_SELECTOR;
  return { apiVersion: NETWORK_POLICY_RESOURCE.apiVersion, kind: NETWORK_POLICY_RESOURCE.kind, metadata, spec: { podSelector } };
}

/** A ListerWatcher that hands the reflector projections, so neither its map nor the context holds whole NetworkPolicies. */
export function networkPolicySource(source: ListerWatcher): ListerWatcher {
  return {
    async list() {
      const page = await source.list();
      const items: ProjectedNetworkPolicy[] = [];
      for (const item of page.items) {
        const projected = projectNetworkPolicy(item);
        if (projected) items.push(projected);
      }
      return { items, resourceVersion: page.resourceVersion };
    },
    watch(resourceVersion, onEvent, onDone, options) {
      const project = (event: WatchEvent): WatchEvent => {
        if (event.type !== 'ADDED' && event.type !== 'MODIFIED' && event.type !== 'DELETED') return event;
        const projected = projectNetworkPolicy(event.object);
        return projected ? { type: event.type, object: projected } : event;
      };
      return source.watch(resourceVersion, (event) => onEvent(project(event)), onDone, options);
    },
  };
}
