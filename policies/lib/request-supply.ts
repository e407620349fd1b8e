// Where a container's cpu or memory request will come from once its pod exists. resource-requests
// and hpa-target-requests both ask, and must agree: the HPA controller divides by the same request.
import type { ClusterContext } from '../../src/engine/index.js';
import { fieldsOf, isUnset } from '../../src/engine/index.js';
import { limitRangeDefault } from './limit-range.js';
import type { Defaulted } from './limit-range.js';
import { quantitySet } from './quantity.js';

/** Requested by the container itself (true), filled in by LimitRanges (Defaulted), or missing (false). */
export type RequestSupply = boolean | Defaulted;

/**
 * What the pod's request will be. A request written in the manifest is the request; absent,
 * the API server copies the limit into it when it creates the pod; with neither, the LimitRanger
 * sets the namespace's LimitRange defaultRequest. A key that is present, even as 0, is never
 * filled in, so a zero request stays missing (and leaves the HPA controller nothing to divide by).
 */
export function requestSupply(resources: unknown, resource: 'cpu' | 'memory', namespace: string, context: ClusterContext): RequestSupply {
  // fieldsOf, not `{}`: this runs twice per container, for 100,000 of them in the largest review.
  const r = fieldsOf<{ requests?: unknown; limits?: unknown }>(resources);
  const requests = fieldsOf<Record<string, unknown>>(r.requests);
  if (!isUnset(requests[resource])) return quantitySet(requests[resource]);
  const limits = fieldsOf<Record<string, unknown>>(r.limits);
  if (!isUnset(limits[resource])) return quantitySet(limits[resource]);
  return limitRangeDefault(context, namespace, 'requests', resource) ?? false;
}
