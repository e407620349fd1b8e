import type { ClusterContext, ContainerRef, PolicyNote, Violation, Workload, WorkloadPolicy } from '../../src/engine/index.js';
import { WORKLOAD_KINDS, isRecord, isUnset, resourceContainers } from '../../src/engine/index.js';
import { defaultedMessage, limitRangeDefault, limitRangeNames } from '../lib/limit-range.js';
import type { Defaulted } from '../lib/limit-range.js';
import { quantitySet, quantitySetCel } from '../lib/quantity.js';

const SAMPLE: Readonly<Record<'cpu' | 'memory', string>> = { cpu: '100m', memory: '128Mi' };
const RESOURCES = ['cpu', 'memory'] as const;
type Resource = (typeof RESOURCES)[number];

/** Requested by the container itself (true), filled in by LimitRanges (Defaulted), or missing (false). */
type Supply = boolean | Defaulted;

/**
 * What the pod's request will be. A request written in the manifest is the request; absent,
 * the API server copies the limit into it when it creates the pod; with neither, the LimitRanger
 * sets the namespace's LimitRange defaultRequest. A key that is present, even as 0, is never
 * filled in, so a zero request stays missing.
 */
function supply(ref: ContainerRef, resource: Resource, namespace: string, context: ClusterContext): Supply {
  const resources = isRecord(ref.container.resources) ? ref.container.resources : {};
  const requests = isRecord(resources.requests) ? resources.requests : {};
  if (!isUnset(requests[resource])) return quantitySet(requests[resource]);
  const limits = isRecord(resources.limits) ? resources.limits : {};
  if (!isUnset(limits[resource])) return quantitySet(limits[resource]);
  return limitRangeDefault(context, namespace, 'requests', resource) ?? false;
}

function supplies(workload: Workload, context: ClusterContext) {
  return resourceContainers(workload).map((ref) => ({
    ref,
    cpu: supply(ref, 'cpu', workload.namespace, context),
    memory: supply(ref, 'memory', workload.namespace, context),
  }));
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
    'A limit alone counts: Kubernetes copies it into the missing request. So does a LimitRange of the namespace ' +
    'whose Container defaultRequest (or default) sets it: the LimitRanger fills it in when the pod is created.',
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
  check(workload, context) {
    const out: Violation[] = [];
    for (const { ref, cpu, memory } of supplies(workload, context)) {
      if (cpu !== false && memory !== false) continue;
      const path = `${ref.path}.resources.requests`;
      if (cpu === false && memory === false) {
        out.push({
          container: ref.name,
          path,
          message: `container "${ref.name}" has no requests: set resources.requests.cpu and .memory`,
        });
        continue;
      }
      const missing: Resource = cpu === false ? 'cpu' : 'memory';
      const other = missing === 'cpu' ? memory : cpu;
      const by =
        typeof other === 'object' ? ` (${limitRangeNames(other, workload.namespace)} sets ${missing === 'cpu' ? 'memory' : 'cpu'})` : '';
      out.push({
        container: ref.name,
        path: `${path}.${missing}`,
        message: `container "${ref.name}" has no ${missing} request: set resources.requests.${missing}${by}`,
        remediation: `resources:\n  requests:\n    ${missing}: ${SAMPLE[missing]}   # what it uses under normal load`,
      });
    }
    return out;
  },
  notes(workload, context) {
    const out: PolicyNote[] = [];
    for (const entry of supplies(workload, context)) {
      for (const resource of RESOURCES) {
        const defaulted = entry[resource];
        if (typeof defaulted !== 'object') continue;
        out.push({
          container: entry.ref.name,
          path: `${entry.ref.path}.resources.requests.${resource}`,
          message: defaultedMessage(entry.ref.name, `requests.${resource}`, defaulted, workload.namespace),
        });
      }
    }
    return out;
  },
};

export default policy;
