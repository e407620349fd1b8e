import type { WorkloadPolicy } from '../../src/engine/index.js';
import { REPLICATED_KINDS, nameOf } from '../../src/engine/index.js';
import { hpasFor } from '../lib/disruption.js';
import { MANIFEST_READS, manifestReplicas } from './manifest.js';

function remediation(kind: string, name: string, hpa: string): string {
  return [
    'spec:',
    `  # replicas: ...   # delete it: HPA "${hpa}" owns the count (its minReplicas and maxReplicas)`,
    '# With client-side kubectl apply, delete it from the last-applied annotation first, or that apply scales to 1:',
    `#   kubectl apply edit-last-applied ${kind.toLowerCase()}/${name}`,
  ].join('\n');
}

const policy: WorkloadPolicy = {
  id: 'hpa-managed-replicas',
  title: 'Workloads scaled by an HPA leave spec.replicas out of their manifest',
  why:
    'A HorizontalPodAutoscaler sets spec.replicas itself. When the manifest sets it too, every kubectl apply (and ' +
    'every Helm upgrade or GitOps sync) puts the manifest value back: a Deployment the HPA scaled to 12 under load ' +
    'drops to 3 until the HPA notices and scales up again, minutes of overload at the worst moment. Leave replicas ' +
    'out and let minReplicas and maxReplicas bound it. Removing it from a manifest applied with client-side kubectl ' +
    'apply scales the workload to 1 once (the API default), unless it is first removed from the last-applied ' +
    'annotation. At admission only what kubectl apply records can be judged: objects written by kubectl create, ' +
    'Helm or server-side apply carry the API default and are judged in CI by `practice-gate audit` on the manifests.',
  fix: 'spec:\n  # replicas: 3   # delete it: the HorizontalPodAutoscaler owns the count',
  defaultAction: 'warn',
  kinds: [...REPLICATED_KINDS],
  reads: MANIFEST_READS,
  target: 'workload',
  cel: { notExported: 'it depends on the HorizontalPodAutoscaler that targets the workload, another object' },
  check(workload, context) {
    // A controller-owned ReplicaSet belongs to a Deployment, which is what an HPA targets.
    if (workload.controllerOwned) return [];
    const hpas = hpasFor(workload, context);
    if (hpas.length === 0) return [];
    const replicas = manifestReplicas(workload.object);
    if (!replicas) return [];
    const hpa = nameOf(hpas[0] ?? {});
    const value = JSON.stringify(replicas.value) ?? String(replicas.value);
    return [
      {
        path: 'spec.replicas',
        message: `replicas: ${value} undoes HPA "${hpa}" on each apply: keep it out of the manifest`,
        remediation: remediation(workload.kind, workload.name, hpa),
      },
    ];
  },
};

export default policy;
