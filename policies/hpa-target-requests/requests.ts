// Which requests the HPA controller divides by, as kube-controller-manager computes them
// (pkg/controller/podautoscaler/replica_calculator.go, calculateRequests): a Resource metric
// sums every regular container and native sidecar of the pod, and one container without the
// request fails the metric for all; a ContainerResource metric reads the named container only.
// When the pod sets pod-level requests, a Resource metric uses those instead.
import { isRecord } from '../../src/engine/index.js';
import type { ClusterContext, ContainerRef, Workload } from '../../src/engine/index.js';
import { requestSupply } from '../lib/request-supply.js';
import { quantitySet } from '../lib/quantity.js';
import type { MeasuredResource, UtilizationMetric } from './metrics.js';

/** A request the metric needs and the pods will not have. */
export type RequestGap =
  | { kind: 'container'; container: ContainerRef; path: string }
  | { kind: 'pod'; path: string }
  /** A ContainerResource metric names a container the pod does not run. */
  | { kind: 'no-such-container'; name: string; path: string };

function requestsOf(resources: unknown): { requests: Record<string, unknown>; limits: Record<string, unknown> } {
  const r = isRecord(resources) ? resources : {};
  return { requests: isRecord(r.requests) ? r.requests : {}, limits: isRecord(r.limits) ? r.limits : {} };
}

/** Where a request can come from besides the manifest: the namespace's LimitRange defaults. */
interface PodDefaults {
  namespace: string;
  context: ClusterContext;
}

/** Whether the pods will carry this request: written, copied from a limit, or a LimitRange default (never a zero). */
function requested(resources: unknown, resource: MeasuredResource, defaults: PodDefaults): boolean {
  return requestSupply(resources, resource, defaults.namespace, defaults.context) !== false;
}

/** The containers the controller sums: regular ones and init containers with restartPolicy Always. */
function measuredContainers(workload: Workload): ContainerRef[] {
  return workload.containers.filter((c) => c.list === 'containers' || c.sidecar);
}

/** Pod-level requests (KEP-2837), which replace the containers' for a Resource metric once any is set. */
function podLevelRequests(workload: Workload): Record<string, unknown> | undefined {
  const { requests } = requestsOf(workload.podSpec.resources);
  return quantitySet(requests.cpu) || quantitySet(requests.memory) ? requests : undefined;
}

/** The requests this metric lacks on this workload's pods; empty when the HPA can compute it. */
export function requestGaps(workload: Workload, metric: UtilizationMetric, context: ClusterContext): RequestGap[] {
  const defaults: PodDefaults = { namespace: workload.namespace, context };
  const containers = measuredContainers(workload);
  const { resource } = metric;
  if (metric.container !== undefined) {
    const named = containers.find((c) => c.name === metric.container);
    if (!named) return [{ kind: 'no-such-container', name: metric.container, path: `${workload.podSpecPath}.containers` }];
    return requested(named.container.resources, resource, defaults)
      ? []
      : [{ kind: 'container', container: named, path: requestPath(named, resource) }];
  }
  const pod = podLevelRequests(workload);
  if (pod) {
    // The pod's total: its own request, else the sum of the containers that set one.
    if (quantitySet(pod[resource]) || containers.some((c) => requested(c.container.resources, resource, defaults))) return [];
    return [{ kind: 'pod', path: `${workload.podSpecPath}.resources.requests.${resource}` }];
  }
  const gaps: RequestGap[] = [];
  for (const c of containers) {
    if (!requested(c.container.resources, resource, defaults))
      gaps.push({ kind: 'container', container: c, path: requestPath(c, resource) });
  }
  return gaps;
}

const requestPath = (c: ContainerRef, resource: MeasuredResource): string => `${c.path}.resources.requests.${resource}`;
