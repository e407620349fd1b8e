import type { ClusterContext, PdbPolicy, Violation, Workload } from '../../src/engine/index.js';
import { isRecord } from '../../src/engine/index.js';
import { hpaMinReplicas, hpasFor, pdbSelects, percentOf } from '../lib/disruption.js';

const FIX = 'spec:\n  maxUnavailable: 1   # one pod at a time may be evicted; drains proceed';

/**
 * The fewest replicas the workload may run: an HPA's minReplicas when one manages it (the
 * lowest of several), otherwise spec.replicas. Undefined for kinds without a replica count.
 */
function replicasThatMayRun(workload: Workload, context: ClusterContext): { replicas: number; hpa: boolean } | undefined {
  if (workload.replicas === undefined) return undefined;
  let floor: number | undefined;
  for (const hpa of hpasFor(workload, context)) floor = Math.min(floor ?? Infinity, hpaMinReplicas(hpa));
  return floor === undefined ? { replicas: workload.replicas, hpa: false } : { replicas: floor, hpa: true };
}

/** Pods that must stay up: a percentage of minAvailable rounds up, as the disruption controller does. */
function requiredPods(minAvailable: number | string, replicas: number): number | undefined {
  if (typeof minAvailable === 'number') return minAvailable;
  const percent = percentOf(minAvailable);
  return percent === undefined ? undefined : Math.ceil((percent * replicas) / 100);
}

const policy: PdbPolicy = {
  id: 'pdb-allows-disruption',
  title: 'PodDisruptionBudgets let node drains proceed',
  why:
    'A budget that allows no eviction (maxUnavailable 0, minAvailable 100%, or minAvailable at least the replica ' +
    'count) makes every node drain, cluster upgrade and scale-down wait forever for pods that will never be allowed ' +
    'to leave, until someone deletes them by hand. When an HPA manages the workload its minReplicas is the count ' +
    'that matters: the HPA may scale down to it, and a budget that holds all of those pods blocks drains right then.',
  fix: FIX,
  defaultAction: 'warn',
  kinds: ['PodDisruptionBudget'],
  reads: [['spec']],
  target: 'pdb',
  cel: {
    notExported: 'minAvailable is judged against the replicas (and HPA minReplicas) of the workloads the budget selects: other objects',
  },
  check(pdb, namespace, context) {
    const spec = pdb.spec;
    if (!isRecord(spec)) return [];
    const out: Violation[] = [];
    const { maxUnavailable, minAvailable } = spec;
    if (maxUnavailable === 0 || percentOf(maxUnavailable) === 0) {
      out.push({ path: 'spec.maxUnavailable', message: 'maxUnavailable 0 lets no pod be evicted, so node drains hang: set it to 1' });
    }
    const minPercent = percentOf(minAvailable);
    if (minPercent !== undefined && minPercent >= 100) {
      out.push({
        path: 'spec.minAvailable',
        message: `minAvailable ${String(minAvailable)} lets no pod be evicted, so drains hang: use maxUnavailable: 1`,
        remediation: `${FIX}\n  # and remove minAvailable: a budget sets one or the other`,
      });
      return out;
    }
    if (typeof minAvailable !== 'number' && minPercent === undefined) return out;
    for (const workload of context.workloadsIn(namespace)) {
      // An owned ReplicaSet duplicates its Deployment, which is checked itself.
      if (workload.controllerOwned || !pdbSelects(pdb, workload.podLabels)) continue;
      const running = replicasThatMayRun(workload, context);
      if (!running || running.replicas < 1) continue;
      const required = requiredPods(minAvailable as number | string, running.replicas);
      if (required === undefined || required < running.replicas) continue;
      const count = running.hpa ? `HPA minReplicas ${running.replicas}` : `${running.replicas} replica${running.replicas === 1 ? '' : 's'}`;
      out.push({
        path: 'spec.minAvailable',
        message: `minAvailable ${String(minAvailable)} holds all of ${workload.kind} "${workload.name}" (${count}): drains hang; use maxUnavailable: 1`,
        remediation: `${FIX}\n  # and remove minAvailable: a budget sets one or the other`,
      });
    }
    return out;
  },
};

export default policy;
