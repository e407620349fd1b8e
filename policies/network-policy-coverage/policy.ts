import type { NetworkPolicy, Workload, WorkloadPolicy } from '../../src/engine/index.js';
import { WORKLOAD_KINDS, isRecord, selectorMatches } from '../../src/engine/index.js';
import { selectorLabels } from '../lib/selector-labels.js';

// Every kind that makes pods; a PodTemplate makes none by itself.
const KINDS = WORKLOAD_KINDS.filter((k) => k !== 'PodTemplate');

// The job controller stamps these with the Job's uid: a NetworkPolicy should not select by them.
const UID_LABELS = new Set(['controller-uid', 'batch.kubernetes.io/controller-uid']);

/** Ports the suggested policy opens, at most this many: a pod serving more lists them by hand. */
const MAX_PORTS = 8;

/**
 * Whether the NetworkPolicy selects pods with these labels. The API stores a missing or null
 * podSelector (and spec) as `{}`, which selects every pod of the namespace; a podSelector or spec
 * of the wrong type is refused by the API, so it selects nothing.
 */
export function networkPolicySelects(policy: NetworkPolicy, labels: Readonly<Record<string, string>>): boolean {
  const spec = policy.spec ?? {};
  if (!isRecord(spec)) return false;
  return selectorMatches(spec.podSelector ?? {}, labels);
}

/** Where the pod labels are: the pod template's metadata, or a Pod's own. */
function labelsPath(workload: Workload): string {
  return workload.podSpecPath === 'spec' ? 'metadata.labels' : `${workload.podSpecPath.replace(/\.spec$/, '')}.metadata.labels`;
}

function labelsToSelect(workload: Workload): Record<string, string> {
  if (workload.kind !== 'Job' && workload.kind !== 'CronJob') return selectorLabels(workload);
  return Object.fromEntries(Object.entries(workload.podLabels).filter(([name]) => !UID_LABELS.has(name)));
}

/** The containerPorts the pod serves, from the whole pod spec (the policy may be handed a slice of its containers). */
function servedPorts(workload: Workload): Array<number | string> {
  const ports = new Set<number | string>();
  for (const list of [workload.podSpec.containers, workload.podSpec.initContainers]) {
    if (!Array.isArray(list)) continue;
    for (const container of list) {
      if (!isRecord(container) || !Array.isArray(container.ports)) continue;
      for (const port of container.ports) {
        const value = isRecord(port) ? port.containerPort : undefined;
        if (typeof value === 'number' && Number.isInteger(value) && value > 0) ports.add(value);
        if (ports.size === MAX_PORTS) return [...ports];
      }
    }
  }
  return [...ports];
}

function networkPolicyFor(workload: Workload): string {
  const labels = labelsToSelect(workload);
  const ports = servedPorts(workload);
  const selector =
    Object.keys(labels).length > 0
      ? [`    matchLabels: ${JSON.stringify(labels)}`]
      : ['    {}   # its pods have no labels: this selects every pod of the namespace; label them'];
  const ingress =
    ports.length > 0
      ? [
          '  ingress:',
          '    - from:',
          '        - podSelector: {}   # every pod of this namespace: narrow it to the clients that call these pods',
          `      ports: [${ports.map((p) => `{ port: ${p} }`).join(', ')}]`,
        ]
      : ['  ingress: []   # it serves no port: nothing may connect to it'];
  return [
    'apiVersion: networking.k8s.io/v1',
    'kind: NetworkPolicy',
    'metadata:',
    `  name: ${JSON.stringify(workload.name)}`,
    `  namespace: ${JSON.stringify(workload.namespace)}`,
    'spec:',
    '  podSelector:',
    ...selector,
    '  policyTypes: [Ingress]',
    ...ingress,
  ].join('\n');
}

const policy: WorkloadPolicy = {
  id: 'network-policy-coverage',
  title: 'Workloads run only pods that some NetworkPolicy of their namespace selects',
  why:
    'A pod that no NetworkPolicy selects accepts connections from every pod of the cluster and may connect ' +
    'anywhere: one compromised pod reaches every database and internal API. Least privilege starts with a ' +
    "NetworkPolicy that selects the workload's pods and allows only the traffic they need; a namespace-wide " +
    'default deny (`podSelector: {}`) covers every pod at once. Any NetworkPolicy that selects the pods counts, ' +
    'whatever its policyTypes. Default audit: many clusters have no NetworkPolicy yet, and a warning on every ' +
    'apply there would be noise; it is recorded in reports until the admin raises it.',
  fix:
    'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: web\nspec:\n' +
    '  podSelector: { matchLabels: { app: web } }   # the pod template labels; {} selects every pod of the namespace\n' +
    '  policyTypes: [Ingress]\n' +
    '  ingress:                                      # only what web needs; [] refuses every connection\n' +
    '    - from: [{ podSelector: { matchLabels: { app: frontend } } }]\n      ports: [{ port: 8080 }]',
  defaultAction: 'audit',
  kinds: KINDS,
  reads: [['spec', 'selector']],
  target: 'workload',
  // Its one finding is about the pod: servedPorts reads every container, once, not once per slice of a large pod.
  podLevel: true,
  cel: {
    notExported:
      'whether a NetworkPolicy selects the pods depends on the NetworkPolicies in the cluster, which a ValidatingAdmissionPolicy cannot read',
  },
  // "No NetworkPolicy selects its pods" is only true of a context that holds the NetworkPolicies.
  needsCluster: true,
  check(workload, context) {
    // NetworkPolicies do not apply to pods on the node's network: a policy would be no fix.
    if (workload.podSpec.hostNetwork === true) return [];
    for (const networkPolicy of context.networkPoliciesIn(workload.namespace)) {
      if (networkPolicySelects(networkPolicy, workload.podLabels)) return [];
    }
    return [
      {
        path: labelsPath(workload),
        message: 'no NetworkPolicy selects its pods, so any pod can reach them: add one',
        remediation: networkPolicyFor(workload),
      },
    ];
  },
};

export default policy;
