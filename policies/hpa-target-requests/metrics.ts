// The metrics of an HPA that are a percentage of the pods' requests. The HPA controller divides
// what the pods use by what they request; with no request to divide by, the metric fails and
// `kubectl get hpa` shows <unknown>. Read from untrusted input: anything of the wrong shape is
// no such metric (the API server refuses it with its own message).
import { isRecord, isUnset } from '../../src/engine/index.js';
import type { FieldPath, KubeObject } from '../../src/engine/index.js';

/** The resources whose utilization the metrics API serves (metrics-server reports no others). */
export type MeasuredResource = 'cpu' | 'memory';

export interface UtilizationMetric {
  resource: MeasuredResource;
  /** A ContainerResource metric: only this container's request counts. */
  container?: string;
  /** Where the HPA asks for it. */
  path: string;
  /** The API's default: an HPA with no metrics scales on CPU at 80%. */
  implicit: boolean;
}

/** What the policy reads of an HPA: v2 (and v2beta*) metrics, v1's CPU target, and the target. */
export const HPA_READS: readonly FieldPath[] = [
  ['spec', 'metrics'],
  ['spec', 'targetCPUUtilizationPercentage'],
  ['spec', 'scaleTargetRef'],
];

const DEFAULT_CPU = (path: string): UtilizationMetric => ({ resource: 'cpu', path, implicit: true });

function measured(name: unknown): MeasuredResource | undefined {
  return name === 'cpu' || name === 'memory' ? name : undefined;
}

/** One metric of spec.metrics, or undefined when it is not a utilization of cpu or memory. */
function metricAt(metric: unknown, path: string): UtilizationMetric | undefined {
  if (!isRecord(metric)) return undefined;
  const field = metric.type === 'Resource' ? 'resource' : metric.type === 'ContainerResource' ? 'containerResource' : undefined;
  const source = field === undefined ? undefined : metric[field];
  if (field === undefined || !isRecord(source)) return undefined;
  const resource = measured(source.name);
  if (!resource) return undefined;
  let at: string;
  if (isRecord(source.target)) {
    // autoscaling/v2 and v2beta2: AverageValue and Value are absolute and need no request.
    if (source.target.type !== 'Utilization') return undefined;
    at = `${path}.${field}.target.type`;
  } else if (!isUnset(source.targetAverageUtilization)) {
    // autoscaling/v2beta1, still found in old manifests.
    at = `${path}.${field}.targetAverageUtilization`;
  } else return undefined;
  if (field === 'resource') return { resource, path: at, implicit: false };
  // A ContainerResource without a container name is refused by the API server: nothing to measure.
  return typeof source.container === 'string' && source.container !== ''
    ? { resource, container: source.container, path: at, implicit: false }
    : undefined;
}

/** The metrics of this HPA that need requests on its target's containers. */
export function utilizationMetrics(hpa: KubeObject): UtilizationMetric[] {
  const spec = isRecord(hpa.spec) ? hpa.spec : {};
  const v1 = hpa.apiVersion === 'autoscaling/v1' || (isUnset(spec.metrics) && !isUnset(spec.targetCPUUtilizationPercentage));
  if (v1) {
    const cpu = spec.targetCPUUtilizationPercentage;
    // autoscaling/v1 has only this one target; unset, the controller uses its default of 80%.
    return [
      isUnset(cpu)
        ? DEFAULT_CPU('spec.targetCPUUtilizationPercentage')
        : { resource: 'cpu', path: 'spec.targetCPUUtilizationPercentage', implicit: false },
    ];
  }
  const metrics = spec.metrics;
  // The API server defaults an empty list to CPU at 80%, as it does a missing one.
  if (isUnset(metrics) || (Array.isArray(metrics) && metrics.length === 0)) return [DEFAULT_CPU('spec.metrics')];
  if (!Array.isArray(metrics)) return [];
  const out: UtilizationMetric[] = [];
  metrics.forEach((metric: unknown, i) => {
    const found = metricAt(metric, `spec.metrics[${i}]`);
    if (found) out.push(found);
  });
  return out;
}

/** The workload an HPA scales, as its scaleTargetRef names it. */
export function scaleTarget(hpa: KubeObject): { kind: string; name: string } | undefined {
  const ref = isRecord(hpa.spec) && isRecord(hpa.spec.scaleTargetRef) ? hpa.spec.scaleTargetRef : undefined;
  if (!ref || typeof ref.kind !== 'string' || typeof ref.name !== 'string' || ref.name === '') return undefined;
  return { kind: ref.kind, name: ref.name };
}
