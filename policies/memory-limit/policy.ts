import type { ClusterContext, ContainerRef, PolicyNote, Violation, WorkloadPolicy } from '../../src/engine/index.js';
import { COUNTED, WORKLOAD_KINDS, fieldsOf, isUnset, resourceContainers } from '../../src/engine/index.js';
import { defaultedMessage, limitRangeDefault } from '../lib/limit-range.js';
import type { Defaulted } from '../lib/limit-range.js';
import { quantitySet, quantitySetCel } from '../lib/quantity.js';

/**
 * The pod's memory limit: the one written in the manifest, or, with none, the namespace's
 * LimitRange default (or its max, which the API server turns into the default). A limit that is
 * present, even as 0, is never filled in.
 */
function memoryLimit(ref: ContainerRef, namespace: string, context: ClusterContext): boolean | Defaulted {
  const resources = fieldsOf<{ limits?: unknown }>(ref.container.resources);
  const limits = fieldsOf<Record<string, unknown>>(resources.limits);
  if (!isUnset(limits.memory)) return quantitySet(limits.memory);
  return limitRangeDefault(context, namespace, 'limits', 'memory') ?? false;
}

const policy: WorkloadPolicy = {
  id: 'memory-limit',
  title: 'Containers have a memory limit',
  why:
    'Memory cannot be throttled, only reclaimed. Without a limit a leaking container grows until the node runs ' +
    'out and the kernel kills whatever it picks, often a neighbour. With a limit only the leaking container is ' +
    "restarted. Setting it equal to the memory request makes the pod's behaviour predictable. A LimitRange of the " +
    'namespace whose Container default (or max) sets memory counts: the LimitRanger fills it in when the pod is created.',
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
  check(workload, context) {
    const out: Violation[] = [];
    // Past the cap (workload.counting) nothing is built per container.
    for (const ref of resourceContainers(workload)) {
      if (memoryLimit(ref, workload.namespace, context) !== false) continue;
      out.push(
        workload.counting
          ? COUNTED
          : {
              container: ref.name,
              path: `${ref.path}.resources.limits.memory`,
              message: `container "${ref.name}" has no memory limit: set resources.limits.memory to its request`,
            },
      );
    }
    return out;
  },
  notes(workload, context) {
    const out: PolicyNote[] = [];
    for (const ref of resourceContainers(workload)) {
      const limit = memoryLimit(ref, workload.namespace, context);
      if (typeof limit !== 'object') continue;
      out.push({
        container: ref.name,
        path: `${ref.path}.resources.limits.memory`,
        message: defaultedMessage(ref.name, 'limits.memory', limit, workload.namespace),
      });
    }
    return out;
  },
};

export default policy;
