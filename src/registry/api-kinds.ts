// Where the Kubernetes API serves each kind a policy may judge: the facts the webhook rules, the
// cluster audit's lists and the chart's RBAC are derived from (src/registry/derive.ts). A policy
// names kinds only; a kind missing here fails test/registry/derive.test.ts with what to add.

export interface ApiKind {
  kind: string;
  /** The API group, '' for the core group. */
  group: string;
  version: string;
  /** The resource name in URLs, webhook rules and RBAC. */
  plural: string;
  namespaced: boolean;
}

const kind = (kind: string, group: string, version: string, plural: string, namespaced = true): ApiKind => ({
  kind,
  group,
  version,
  plural,
  namespaced,
});

/** In the order lists and rules follow: owners before what they own, so a scan meets a Deployment before its Pods. */
export const API_KINDS: readonly ApiKind[] = [
  kind('Namespace', '', 'v1', 'namespaces', false),
  kind('PodDisruptionBudget', 'policy', 'v1', 'poddisruptionbudgets'),
  kind('HorizontalPodAutoscaler', 'autoscaling', 'v2', 'horizontalpodautoscalers'),
  kind('LimitRange', '', 'v1', 'limitranges'),
  kind('Deployment', 'apps', 'v1', 'deployments'),
  kind('StatefulSet', 'apps', 'v1', 'statefulsets'),
  kind('DaemonSet', 'apps', 'v1', 'daemonsets'),
  kind('ReplicaSet', 'apps', 'v1', 'replicasets'),
  kind('ReplicationController', '', 'v1', 'replicationcontrollers'),
  kind('Job', 'batch', 'v1', 'jobs'),
  kind('CronJob', 'batch', 'v1', 'cronjobs'),
  kind('Pod', '', 'v1', 'pods'),
  kind('PodTemplate', '', 'v1', 'podtemplates'),
  kind('Service', '', 'v1', 'services'),
  kind('ServiceAccount', '', 'v1', 'serviceaccounts'),
  kind('ConfigMap', '', 'v1', 'configmaps'),
  kind('PersistentVolumeClaim', '', 'v1', 'persistentvolumeclaims'),
  kind('Ingress', 'networking.k8s.io', 'v1', 'ingresses'),
  kind('NetworkPolicy', 'networking.k8s.io', 'v1', 'networkpolicies'),
  kind('Role', 'rbac.authorization.k8s.io', 'v1', 'roles'),
  kind('RoleBinding', 'rbac.authorization.k8s.io', 'v1', 'rolebindings'),
];

const BY_KIND: ReadonlyMap<string, ApiKind> = new Map(API_KINDS.map((k) => [k.kind, k]));

export function apiKind(name: string): ApiKind {
  const found = BY_KIND.get(name);
  if (!found)
    throw new Error(`a policy judges ${name}, which src/registry/api-kinds.ts does not know: add its API group, version and plural there`);
  return found;
}

export function apiVersionOf(k: ApiKind): string {
  return k.group === '' ? k.version : `${k.group}/${k.version}`;
}
