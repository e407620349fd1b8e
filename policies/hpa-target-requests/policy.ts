import type { ClusterContext, KubeObject, ObjectPolicy, Violation, Workload } from '../../src/engine/index.js';
import { REPLICATED_KINDS, nameOf } from '../../src/engine/index.js';
import { HPA_READS, scaleTarget, utilizationMetrics } from './metrics.js';
import type { MeasuredResource, UtilizationMetric } from './metrics.js';
import { requestGaps } from './requests.js';
import type { RequestGap } from './requests.js';

const HPA = 'HorizontalPodAutoscaler';
const SAMPLE: Readonly<Record<MeasuredResource, string>> = { cpu: '100m', memory: '128Mi' };
const ABSOLUTE: Readonly<Record<MeasuredResource, string>> = { cpu: '500m', memory: '512Mi' };

const requestYaml = (resource: MeasuredResource, comment: string): string[] => [
  'resources:',
  '  requests:',
  `    ${resource}: ${SAMPLE[resource]}   # ${comment}`,
];

/** The finding on a workload that an HPA scales on a utilization its pods cannot report. */
function onWorkload(hpa: string, metric: UtilizationMetric, gap: RequestGap): Violation {
  const { resource } = metric;
  const comment = `HPA "${hpa}" scales on ${resource} utilization, a percentage of this request`;
  switch (gap.kind) {
    case 'container':
      return {
        path: gap.path,
        container: gap.container.name,
        message: `HPA "${hpa}" needs a ${resource} request: set it on container "${gap.container.name}"`,
        remediation: requestYaml(resource, comment).join('\n'),
      };
    case 'pod':
      return {
        path: gap.path,
        message: `HPA "${hpa}" needs a ${resource} request: set it in the pod-level requests`,
        remediation: requestYaml(resource, comment).join('\n'),
      };
    case 'no-such-container':
      return {
        path: gap.path,
        message: `HPA "${hpa}" measures container "${gap.name}", not in the pod: keep it or fix the HPA`,
        remediation: `containers:\n  - name: ${JSON.stringify(gap.name)}   # the container HPA "${hpa}" measures (${metric.path})`,
      };
  }
}

/** The finding on an HPA whose target's pods cannot report the utilization it scales on. */
function onHpa(target: Workload, metric: UtilizationMetric, gap: RequestGap): Violation {
  const { resource } = metric;
  const subject = `${target.kind} "${target.name}"`;
  const alternative = [
    '# or, in this HPA, an absolute target that needs no request:',
    `#   target: { type: AverageValue, averageValue: ${ABSOLUTE[resource]} }`,
  ];
  const implicit = metric.implicit ? [`# an HPA without metrics scales on cpu at 80% utilization (${metric.path})`] : [];
  switch (gap.kind) {
    case 'container':
      return {
        path: metric.path,
        container: gap.container.name,
        message: `${subject} needs a ${resource} request: set it on container "${gap.container.name}"`,
        remediation: [
          ...implicit,
          `# in ${subject}, container "${gap.container.name}" (${gap.container.path}):`,
          ...requestYaml(resource, 'utilization is a percentage of this request'),
          ...alternative,
        ].join('\n'),
      };
    case 'pod':
      return {
        path: metric.path,
        message: `${subject} needs a ${resource} request: set it in its pod-level requests`,
        remediation: [
          ...implicit,
          `# in ${subject}, ${target.podSpecPath}:`,
          ...requestYaml(resource, 'the pod total'),
          ...alternative,
        ].join('\n'),
      };
    case 'no-such-container': {
      const names = target.containers.filter((c) => c.list === 'containers' || c.sidecar).map((c) => c.name);
      return {
        path: metric.path.replace(/\.target\.type$|\.targetAverageUtilization$/, '.container'),
        message: `${subject} runs no container "${gap.name}": set containerResource.container`,
        remediation: `containerResource:\n  container: ${JSON.stringify(names[0] ?? gap.name)}   # ${subject} runs: ${names.join(', ') || 'no containers'}`,
      };
    }
  }
}

function checkHpa(hpa: KubeObject, namespace: string, context: ClusterContext): Violation[] {
  const ref = scaleTarget(hpa);
  if (!ref) return [];
  // Unknown until the workload exists: when it is written, it is judged against this HPA.
  const target = context.workloadsIn(namespace).find((w) => w.kind === ref.kind && w.name === ref.name);
  if (!target || target.controllerOwned) return [];
  const out: Violation[] = [];
  for (const metric of utilizationMetrics(hpa))
    for (const gap of requestGaps(target, metric, context)) out.push(onHpa(target, metric, gap));
  return out;
}

function checkWorkload(workload: Workload, context: ClusterContext): Violation[] {
  // A Deployment's ReplicaSet is scaled through the Deployment, which is what an HPA targets.
  if (workload.controllerOwned || !REPLICATED_KINDS.has(workload.kind)) return [];
  const out: Violation[] = [];
  const seen = new Set<string>();
  for (const hpa of context.hpasTargeting(workload.namespace, workload.kind, workload.name)) {
    for (const metric of utilizationMetrics(hpa)) {
      for (const gap of requestGaps(workload, metric, context)) {
        // Two HPAs (or two metrics) missing the same request make one finding: the first HPA names it.
        const key = gap.kind === 'no-such-container' ? `${gap.path}/${gap.name}` : gap.path;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push(onWorkload(nameOf(hpa), metric, gap));
      }
    }
  }
  return out;
}

const policy: ObjectPolicy = {
  id: 'hpa-target-requests',
  title: 'HPAs that scale on CPU or memory utilization target pods that request it',
  why:
    'A HorizontalPodAutoscaler computes CPU or memory utilization as a percentage of what the pods request. When a ' +
    'container of its target has no such request, the metric cannot be computed: kubectl get hpa shows <unknown>, ' +
    'the HPA reports FailedGetResourceMetric and does not scale on it, so the service gets no more replicas under ' +
    'load. One container without the request fails a Resource metric for the whole pod (native sidecars included); ' +
    'a ContainerResource metric needs it on the named container only. An HPA without metrics scales on CPU at 80%, ' +
    'so it needs CPU requests too; AverageValue targets are absolute and need none. A limit alone counts, since ' +
    'Kubernetes copies it into the missing request. Judged when the HPA is written (against its live target), when ' +
    'the workload is written (against the HPAs that target it) and offline when both are in the manifests. A ' +
    'LimitRange default request in the namespace counts, as the LimitRanger fills it in when the pods are created. ' +
    'It warns rather than denies: an HPA and its workload are often applied together in either order.',
  fix:
    '# on every container of the HPA target (or the one a ContainerResource metric names):\n' +
    'resources:\n  requests:\n    cpu: 100m       # utilization is a percentage of this request\n    memory: 128Mi',
  defaultAction: 'warn',
  kinds: [HPA, ...REPLICATED_KINDS],
  reads: HPA_READS,
  target: 'object',
  cel: { notExported: 'it compares the HPA with the workload it scales, another object' },
  check(object, subject, context) {
    if (object.kind === HPA) return checkHpa(object, subject.namespace, context);
    // Most workloads no HPA targets: asked first, the workload view (a ref per container) is built only for those.
    if (context.hpasTargeting(subject.namespace, String(object.kind), nameOf(object)).length === 0) return [];
    return subject.workload ? checkWorkload(subject.workload, context) : [];
  },
};

export default policy;
