// The cluster contexts of the scale benchmark: N PodDisruptionBudgets, all in the reviewed
// workload's namespace or spread over many, one of which selects the workload's pods.
import { NAMESPACE, pdb } from './manifests.js';
import type { KubeJson } from './manifests.js';

/** `count` PDBs over `namespaces` namespaces (the first is the workloads' own); one selects app=api. */
export function pdbsFor(count: number, namespaces: number): KubeJson[] {
  const out: KubeJson[] = [pdb('api', { app: 'api' })];
  for (let i = 1; i < count; i++) {
    const ns = i % namespaces === 0 ? NAMESPACE : `team-${i % namespaces}`;
    out.push(pdb(`svc-${i}`, { app: `svc-${i}`, tier: 'backend' }, ns));
  }
  return out;
}
