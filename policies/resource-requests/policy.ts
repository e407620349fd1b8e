import type { Violation, WorkloadPolicy } from '../../src/engine/index.js';
import { WORKLOAD_KINDS, isRecord, isUnset, resourceContainers } from '../../src/engine/index.js';
import { quantitySet, quantitySetCel } from '../lib/quantity.js';

const SAMPLE: Readonly<Record<'cpu' | 'memory', string>> = { cpu: '100m', memory: '128Mi' };

/**
 * A request is set when present, or absent with a limit beside it: the API server copies
 * the limit into the missing request when it creates the pod.
 */
function requested(requests: Record<string, unknown>, limits: Record<string, unknown>, resource: 'cpu' | 'memory'): boolean {
  if (!isUnset(requests[resource])) return quantitySet(requests[resource]);
  return quantitySet(limits[resource]);
}

/** requested() in CEL, for `practice-gate vap`. */
function requestedCel(resource: 'cpu' | 'memory'): string {
  const request = `container.?resources.?requests.?${resource}.orValue(null)`;
  return `(${request} != null ? ${quantitySetCel(request)} : ${quantitySetCel(`container.?resources.?limits.?${resource}.orValue(null)`)})`;
}

const policy: WorkloadPolicy = {
  id: 'resource-requests',
  title: 'Containers request CPU and memory',
  why:
    'The scheduler places pods by their requests. A container without them is packed onto nodes as if it needed ' +
    'nothing, starves its neighbours under load and is the first one evicted when the node runs short. ' +
    'A limit alone counts: Kubernetes copies it into the missing request.',
  fix: 'resources:\n  requests:\n    cpu: 100m      # what it uses under normal load\n    memory: 128Mi',
  defaultAction: 'deny',
  kinds: WORKLOAD_KINDS,
  target: 'workload',
  cel: {
    forEach: 'containers',
    validations: [
      {
        expression: `${requestedCel('cpu')} && ${requestedCel('memory')}`,
        message: 'a container has no CPU or memory request: set resources.requests.cpu and .memory',
      },
    ],
  },
  check(workload) {
    const out: Violation[] = [];
    for (const ref of resourceContainers(workload)) {
      const resources = isRecord(ref.container.resources) ? ref.container.resources : {};
      const requests = isRecord(resources.requests) ? resources.requests : {};
      const limits = isRecord(resources.limits) ? resources.limits : {};
      const cpu = requested(requests, limits, 'cpu');
      const memory = requested(requests, limits, 'memory');
      if (cpu && memory) continue;
      const path = `${ref.path}.resources.requests`;
      if (!cpu && !memory) {
        out.push({
          container: ref.name,
          path,
          message: `container "${ref.name}" has no requests: set resources.requests.cpu and .memory`,
        });
        continue;
      }
      const missing = cpu ? 'memory' : 'cpu';
      out.push({
        container: ref.name,
        path: `${path}.${missing}`,
        message: `container "${ref.name}" has no ${missing} request: set resources.requests.${missing}`,
        remediation: `resources:\n  requests:\n    ${missing}: ${SAMPLE[missing]}   # what it uses under normal load`,
      });
    }
    return out;
  },
};

export default policy;
