// Which findings of an UPDATE were already there before it. A finding is the same when it is
// the same policy, on the same container (by name: reordering containers moves nothing, renaming
// one makes it a new container) at the same field path within that container.
import type { Evaluation, Finding } from './evaluate.js';

const CONTAINER_INDEX = /\b(containers|initContainers|ephemeralContainers)\[\d+\]/;

/** The identity of a finding across two versions of an object. */
export function findingKey(finding: Finding): string {
  const path =
    finding.container === undefined
      ? finding.path
      : finding.path.replace(CONTAINER_INDEX, (_, list: string) => `${list}[${JSON.stringify(finding.container)}]`);
  return `${finding.policy}\u0000${finding.container ?? ''}\u0000${path}`;
}

/** The keys of every finding of the old object's evaluation. */
export function findingKeys(evaluation: Evaluation | undefined): ReadonlySet<string> {
  return new Set(evaluation?.findings.map(findingKey) ?? []);
}
