// What one scan of the cluster found. Its own module because the scanner produces it and the
// reports and metrics read it: with the types in scanner.ts, the three imported each other.
import type { ContextIndex } from '../../engine/context.js';
import type { Evaluation } from '../../engine/evaluate.js';
import type { KubeObject } from '../../engine/k8s.js';

export interface JudgedObject {
  object: KubeObject;
  uid: string | undefined;
  evaluation: Evaluation;
}

export interface ScanResult {
  /** Judged objects: top-level workloads, bare Pods and ReplicaSets, PDBs. Controller-owned ones are left to their owner. */
  judged: JudgedObject[];
  /** Namespaces scanned (existing and not wholly exempt): each gets a report, even an empty one. */
  namespaces: Set<string>;
  /** Objects listed, of every kind. */
  listed: number;
  /** Objects skipped because their controller was judged. */
  ownedSkipped: number;
  /** The context the objects were judged in: everything listed. */
  context: ContextIndex;
  /** Kinds not listed because listing them is forbidden (only with skipForbidden). */
  forbidden: string[];
}
