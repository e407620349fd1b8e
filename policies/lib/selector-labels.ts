import { isRecord, stringMap } from '../../src/engine/index.js';
import type { Workload } from '../../src/engine/index.js';

/**
 * The labels a new PDB or NetworkPolicy should select: the workload's own selector when it has
 * plain labels (version labels of the template change with each release), else the pod labels.
 */
export function selectorLabels(workload: Workload): Record<string, string> {
  const spec = isRecord(workload.object.spec) ? workload.object.spec : {};
  // ReplicationController's selector is a plain map; the other kinds use matchLabels.
  const own =
    workload.kind === 'ReplicationController'
      ? stringMap(spec.selector)
      : stringMap(isRecord(spec.selector) ? spec.selector.matchLabels : undefined);
  return Object.keys(own).length > 0 ? own : { ...workload.podLabels };
}
