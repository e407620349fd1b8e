import type { ClusterContext, Violation, Workload, WorkloadPolicy } from '../../src/engine/index.js';
import { REPLICATED_KINDS, nameOf } from '../../src/engine/index.js';
import { hpaMaxReplicas, hpasFor, pdbSelects } from '../lib/disruption.js';
import { selectorLabels } from '../lib/selector-labels.js';

// Every replicated kind keeps its pod template under spec.template; the labels there are what a PDB selects.
const LABELS_PATH = 'spec.template.metadata.labels';

/** The most replicas the workload may run and what says so, or undefined when it runs fewer than two. */
function scale(workload: Workload, context: ClusterContext): { replicas: number; source: string } | undefined {
  const replicas = workload.replicas ?? 1;
  if (replicas >= 2) return { replicas, source: `${replicas} replicas` };
  for (const hpa of hpasFor(workload, context)) {
    const max = hpaMaxReplicas(hpa);
    if (max !== undefined && max >= 2) return { replicas: max, source: `HPA "${nameOf(hpa)}" scales it to ${max}` };
  }
  return undefined;
}

function pdbFor(workload: Workload): string {
  return [
    'apiVersion: policy/v1',
    'kind: PodDisruptionBudget',
    'metadata:',
    `  name: ${JSON.stringify(workload.name)}`,
    `  namespace: ${JSON.stringify(workload.namespace)}`,
    'spec:',
    '  maxUnavailable: 1',
    '  selector:',
    `    matchLabels: ${JSON.stringify(selectorLabels(workload))}`,
  ].join('\n');
}

const policy: WorkloadPolicy = {
  id: 'pdb-coverage',
  title: 'Replicated workloads are covered by exactly one PodDisruptionBudget',
  why:
    'Node drains, upgrades and autoscaler scale-downs evict pods through the eviction API. Without a ' +
    'PodDisruptionBudget they may evict every replica at once and the service goes down although it runs ' +
    'several. With two budgets over the same pods the eviction API refuses to evict them at all and drains hang. ' +
    'A workload counts as replicated from two replicas, or when an HPA may scale it to two or more.',
  fix:
    'apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: web\nspec:\n  maxUnavailable: 1\n' +
    '  selector:\n    matchLabels: { app: web }   # the labels of the pod template',
  defaultAction: 'warn',
  kinds: [...REPLICATED_KINDS],
  reads: [['spec', 'selector']],
  target: 'workload',
  cel: {
    notExported:
      'whether a PodDisruptionBudget covers the pods depends on the PDBs in the cluster, which a ValidatingAdmissionPolicy cannot read',
  },
  // "No PodDisruptionBudget covers it" is only true of a context that holds the PDBs and HPAs.
  needsCluster: true,
  check(workload, context) {
    // A controller-owned ReplicaSet belongs to a Deployment, which is judged instead.
    if (workload.controllerOwned) return [];
    const replicated = scale(workload, context);
    if (!replicated) return [];
    const selecting: string[] = [];
    // The label index (when the context has one) keeps this near constant with thousands of PDBs.
    const candidates = context.pdbCandidates?.(workload.namespace, workload.podLabels) ?? context.pdbsIn(workload.namespace);
    for (const pdb of candidates) if (pdbSelects(pdb, workload.podLabels)) selecting.push(nameOf(pdb));
    if (selecting.length === 1) return [];
    const violation: Violation =
      selecting.length === 0
        ? {
            path: LABELS_PATH,
            message: `${replicated.source} but no PodDisruptionBudget covers it: add one for its pods`,
            remediation: pdbFor(workload),
          }
        : {
            path: LABELS_PATH,
            message: `PDBs ${selecting.map((n) => `"${n}"`).join(', ')} all select these pods, so every eviction is refused: keep one`,
            remediation: `# keep one of ${selecting.join(', ')}; delete the others or narrow their selectors`,
          };
    return [violation];
  },
};

export default policy;
