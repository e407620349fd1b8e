import type { Violation, WorkloadPolicy } from '../../src/engine/index.js';
import { WORKLOAD_KINDS, isRecord, resourceContainers } from '../../src/engine/index.js';
import { quantitySet, quantitySetCel } from '../lib/quantity.js';

const policy: WorkloadPolicy = {
  id: 'memory-limit',
  title: 'Containers have a memory limit',
  why:
    'Memory cannot be throttled, only reclaimed. Without a limit a leaking container grows until the node runs ' +
    'out and the kernel kills whatever it picks, often a neighbour. With a limit only the leaking container is ' +
    "restarted. Setting it equal to the memory request makes the pod's behaviour predictable.",
  fix: 'resources:\n  requests:\n    memory: 256Mi\n  limits:\n    memory: 256Mi   # the most it may ever use',
  defaultAction: 'warn',
  kinds: WORKLOAD_KINDS,
  target: 'workload',
  cel: {
    forEach: 'containers',
    validations: [
      {
        expression: quantitySetCel('container.?resources.?limits.?memory.orValue(null)'),
        message: 'a container has no memory limit: set resources.limits.memory to its request',
      },
    ],
  },
  check(workload) {
    const out: Violation[] = [];
    for (const ref of resourceContainers(workload)) {
      const resources = isRecord(ref.container.resources) ? ref.container.resources : {};
      const limits = isRecord(resources.limits) ? resources.limits : {};
      if (quantitySet(limits.memory)) continue;
      out.push({
        container: ref.name,
        path: `${ref.path}.resources.limits.memory`,
        message: `container "${ref.name}" has no memory limit: set resources.limits.memory to its request`,
      });
    }
    return out;
  },
};

export default policy;
