import type { ClusterContext, Violation, Workload, WorkloadPolicy } from '../../src/engine/index.js';
import { isRecord, nameOf } from '../../src/engine/index.js';
import { hpaMaxReplicas, hpaMinReplicas, hpasFor } from '../lib/disruption.js';
import { amountOf, field, resolveFenceposts, scaled, show } from './fenceposts.js';
import type { Amount } from './fenceposts.js';

const DEPLOYMENT_FIX =
  'spec:\n  strategy:\n    type: RollingUpdate\n    rollingUpdate: { maxSurge: 1, maxUnavailable: 0 }   # a new pod is ready before an old one stops';
const STATEFULSET_FIX = 'spec:\n  updateStrategy:\n    type: RollingUpdate   # one pod at a time, each ready before the next';

/** The API defaults of a Deployment's rollingUpdate (a StatefulSet's maxUnavailable defaults to 1). */
const DEFAULT_SURGE: Amount = { percent: 25 };
const DEFAULT_UNAVAILABLE: Amount = { percent: 25 };

/**
 * The fewest pods the workload runs while it counts as replicated, and how that reads: its own
 * replicas from two, or the floor an HPA that may scale it to two or more keeps (at least two).
 */
function replicated(workload: Workload, context: ClusterContext): { count: number; source: string } | undefined {
  let found: { count: number; source: string } | undefined;
  const replicas = workload.replicas ?? 1;
  if (replicas >= 2) found = { count: replicas, source: `all ${replicas} replicas` };
  for (const hpa of hpasFor(workload, context)) {
    const max = hpaMaxReplicas(hpa);
    if (max === undefined || max < 2) continue;
    const count = Math.min(max, Math.max(2, hpaMinReplicas(hpa)));
    if (!found || count < found.count) found = { count, source: `all ${count} replicas (HPA "${nameOf(hpa)}")` };
  }
  return found;
}

function invalidAmount(path: string, name: string, value: unknown, fix: string): Violation {
  return { path, message: `${name} ${show(value)} is not a count or a percentage: set ${fix}` };
}

function judgeDeployment(workload: Workload, spec: Record<string, unknown>, context: ClusterContext): Violation[] {
  const strategy = field(spec, 'strategy');
  if (strategy.present && !isRecord(strategy.value)) {
    return [{ path: 'spec.strategy', message: 'strategy is not a mapping: set type RollingUpdate with maxUnavailable: 0' }];
  }
  const type = field(strategy.value, 'type');
  const scale = replicated(workload, context);
  if (type.present && type.value === 'Recreate') {
    if (!scale) return [];
    return [{ path: 'spec.strategy.type', message: `Recreate stops ${scale.source} at once: set type RollingUpdate` }];
  }
  if (type.present && type.value !== 'RollingUpdate') {
    return [{ path: 'spec.strategy.type', message: `unknown strategy type ${show(type.value)} (case matters): set type RollingUpdate` }];
  }
  const rolling = field(strategy.value, 'rollingUpdate');
  if (rolling.present && !isRecord(rolling.value)) {
    return [{ path: 'spec.strategy.rollingUpdate', message: 'rollingUpdate is not a mapping: set { maxSurge: 1, maxUnavailable: 0 }' }];
  }
  const out: Violation[] = [];
  const surgeField = field(rolling.value, 'maxSurge');
  const unavailableField = field(rolling.value, 'maxUnavailable');
  const surge = surgeField.present ? amountOf(surgeField.value) : DEFAULT_SURGE;
  const unavailable = unavailableField.present ? amountOf(unavailableField.value) : DEFAULT_UNAVAILABLE;
  if (!surge) out.push(invalidAmount('spec.strategy.rollingUpdate.maxSurge', 'maxSurge', surgeField.value, 'maxSurge: 1'));
  if (!unavailable)
    out.push(invalidAmount('spec.strategy.rollingUpdate.maxUnavailable', 'maxUnavailable', unavailableField.value, 'maxUnavailable: 0'));
  if (!surge || !unavailable || !scale) return out;
  if (resolveFenceposts(surge, unavailable, scale.count).unavailable >= scale.count) {
    out.push({
      path: 'spec.strategy.rollingUpdate.maxUnavailable',
      message: `maxUnavailable ${show(unavailableField.value)} stops ${scale.source} at once: set maxUnavailable: 0`,
    });
  }
  return out;
}

function judgeStatefulSet(workload: Workload, spec: Record<string, unknown>, context: ClusterContext): Violation[] {
  const strategy = field(spec, 'updateStrategy');
  if (strategy.present && !isRecord(strategy.value)) {
    return [
      { path: 'spec.updateStrategy', message: 'updateStrategy is not a mapping: set type RollingUpdate', remediation: STATEFULSET_FIX },
    ];
  }
  const type = field(strategy.value, 'type');
  if (type.present && type.value === 'OnDelete') {
    // An operator that owns the StatefulSet deletes the pods itself, in the order it knows is safe.
    if (workload.controllerOwned) return [];
    return [
      {
        path: 'spec.updateStrategy.type',
        message: 'OnDelete updates only pods you delete: set updateStrategy type RollingUpdate',
        remediation: STATEFULSET_FIX,
      },
    ];
  }
  if (type.present && type.value !== 'RollingUpdate') {
    return [
      {
        path: 'spec.updateStrategy.type',
        message: `unknown updateStrategy type ${show(type.value)} (case matters): set type RollingUpdate`,
        remediation: STATEFULSET_FIX,
      },
    ];
  }
  const rolling = field(strategy.value, 'rollingUpdate');
  const unavailableField = field(rolling.value, 'maxUnavailable');
  if (!unavailableField.present) return [];
  const unavailable = amountOf(unavailableField.value);
  if (!unavailable)
    return [
      invalidAmount('spec.updateStrategy.rollingUpdate.maxUnavailable', 'maxUnavailable', unavailableField.value, 'maxUnavailable: 1'),
    ];
  const scale = replicated(workload, context);
  // The StatefulSet controller rounds down too, and never goes below one.
  if (scale && Math.max(1, scaled(unavailable, scale.count, false)) >= scale.count) {
    return [
      {
        path: 'spec.updateStrategy.rollingUpdate.maxUnavailable',
        message: `maxUnavailable ${show(unavailableField.value)} stops ${scale.source} at once: set maxUnavailable: 1`,
        remediation: 'spec:\n  updateStrategy:\n    type: RollingUpdate\n    rollingUpdate: { maxUnavailable: 1 }',
      },
    ];
  }
  return [];
}

const policy: WorkloadPolicy = {
  id: 'rolling-update',
  title: 'Rollouts keep replicated workloads serving',
  why:
    'A rollout replaces every pod. RollingUpdate with maxSurge: 1 and maxUnavailable: 0 starts a new pod and waits ' +
    'for it to be ready before stopping an old one, so the service keeps its capacity. Recreate stops every pod ' +
    'first, and a maxUnavailable that resolves to all replicas (percentages round down, as the controller rounds ' +
    'them) lets the rollout do the same: the service is down until the new pods are ready, and stays down if they ' +
    'never are. A StatefulSet with OnDelete never applies a changed template: pods keep the old one until someone ' +
    'deletes them. One replica is not judged: Recreate is then the right choice for a pod that must never run twice ' +
    '(a ReadWriteOnce volume, a singleton); an HPA that may scale to two or more makes a workload replicated.',
  fix: DEPLOYMENT_FIX,
  defaultAction: 'warn',
  kinds: ['Deployment', 'StatefulSet'],
  reads: [
    ['spec', 'strategy'],
    ['spec', 'updateStrategy'],
  ],
  target: 'workload',
  cel: { notExported: 'the surge and unavailability fenceposts depend on the replica count, which an HPA targeting the workload may set' },
  check(workload, context) {
    const spec = isRecord(workload.object.spec) ? workload.object.spec : {};
    return workload.kind === 'StatefulSet' ? judgeStatefulSet(workload, spec, context) : judgeDeployment(workload, spec, context);
  },
};

export default policy;
