import { isRecord, selectorMatches } from '../../src/engine/index.js';
import type { ClusterContext, HorizontalPodAutoscaler, PodDisruptionBudget, Workload } from '../../src/engine/index.js';

/** Whether a PodDisruptionBudget covers pods with these labels; one with no selector covers none. */
export function pdbSelects(pdb: PodDisruptionBudget, labels: Readonly<Record<string, string>>): boolean {
  return isRecord(pdb.spec) && selectorMatches(pdb.spec.selector, labels);
}

function hpaField(hpa: HorizontalPodAutoscaler, field: 'minReplicas' | 'maxReplicas'): number | undefined {
  const value = isRecord(hpa.spec) ? hpa.spec[field] : undefined;
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** The HPA's floor: the API default for minReplicas is 1. */
export function hpaMinReplicas(hpa: HorizontalPodAutoscaler): number {
  return hpaField(hpa, 'minReplicas') ?? 1;
}

export function hpaMaxReplicas(hpa: HorizontalPodAutoscaler): number | undefined {
  return hpaField(hpa, 'maxReplicas');
}

export function hpasFor(workload: Workload, context: ClusterContext): readonly HorizontalPodAutoscaler[] {
  return context.hpasTargeting(workload.namespace, workload.kind, workload.name);
}

const PERCENT = /^(\d+)%$/;

/** The number in an IntOrString percentage such as `"25%"`, or undefined for anything else. */
export function percentOf(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const match = PERCENT.exec(value);
  return match ? Number(match[1]) : undefined;
}
