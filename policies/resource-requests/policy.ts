import type { PolicyNote, Violation, WorkloadPolicy } from '../../src/engine/index.js';
import { COUNTED, WORKLOAD_KINDS, resourceContainers } from '../../src/engine/index.js';
import { defaultedMessage, limitRangeNames } from '../lib/limit-range.js';
import { quantitySetCel } from '../lib/quantity.js';
import { requestSupply } from '../lib/request-supply.js';

const SAMPLE: Readonly<Record<'cpu' | 'memory', string>> = { cpu: '100m', memory: '128Mi' };
const RESOURCES = ['cpu', 'memory'] as const;
type Resource = (typeof RESOURCES)[number];

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
    // Past the cap (workload.counting) nothing is built per container, not even its path.
    for (const ref of resourceContainers(workload)) {
      const cpu = requestSupply(ref.container.resources, 'cpu', workload.namespace, context);
      const memory = requestSupply(ref.container.resources, 'memory', workload.namespace, context);
      if (cpu !== false && memory !== false) continue;
      if (workload.counting) {
        out.push(COUNTED);
        continue;
      }
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
    for (const ref of resourceContainers(workload)) {
      for (const resource of RESOURCES) {
        const defaulted = requestSupply(ref.container.resources, resource, workload.namespace, context);
        if (typeof defaulted !== 'object') continue;
        out.push({
          container: ref.name,
          path: `${ref.path}.resources.requests.${resource}`,
          message: defaultedMessage(ref.name, `requests.${resource}`, defaulted, workload.namespace),
        });
      }
    }
    return out;
  },
};

export default policy;
