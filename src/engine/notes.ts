import type { EngineConfig } from './config.js';
import type { ClusterContext } from './context.js';
import type { PolicyNote } from './policy.js';
import type { Workload } from './workload.js';

/** A policy's note on an object: what the cluster fills in that the object leaves out. */
export interface Note extends PolicyNote {
  policy: string;
}

/** The notes of the active workload policies that judge this kind, in registry order. */
export function policyNotes(config: EngineConfig, kind: string, workload: Workload, context: ClusterContext): Note[] {
  const out: Note[] = [];
  for (const { policy } of config.active) {
    if (policy.target !== 'workload' || !policy.notes || !policy.kinds.includes(kind)) continue;
    for (const note of policy.notes(workload, context)) out.push({ policy: policy.id, ...note });
  }
  return out;
}
