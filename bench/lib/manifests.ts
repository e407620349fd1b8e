// Realistic workloads for the benchmarks: the objects teams actually ship (an API with an
// Envoy proxy and a log shipper, a Pod run by hand, a Deployment carrying ~100 KiB of
// configuration), compliant or not, and the AdmissionReview the API server would send.
export type KubeJson = Record<string, unknown>;

export const NAMESPACE = 'shop';

/** How one container keeps (or breaks) each practice; each field is one shared check. */
export interface Practices {
  /**
   * 'container': runAsNonRoot and uid 10001 on the container; 'pod': on the pod; 'uid': only runAsUser 10001;
   * 'low-uid': runAsNonRoot with uid 1000 (many images' user); 'root': runAsUser 0; 'none'.
   */
  nonRoot: 'container' | 'pod' | 'uid' | 'low-uid' | 'root' | 'none';
  readOnlyRoot: boolean;
  /** 'both': cpu+memory requests; 'limits': limits only (the API server copies them); 'cpu': cpu only; 'none'. */
  requests: 'both' | 'limits' | 'cpu' | 'none';
  memoryLimit: boolean;
  /** 'both', 'readiness' only, 'none'. */
  probes: 'both' | 'readiness' | 'none';
  /** 'pinned': name:1.2.3; 'digest'; 'latest'; 'untagged'. */
  image: 'pinned' | 'digest' | 'latest' | 'untagged';
  /** false: allowPrivilegeEscalation false; 'unset'; 'privileged'. */
  escalation: 'denied' | 'unset' | 'privileged';
}

export const COMPLIANT: Practices = {
  nonRoot: 'container',
  readOnlyRoot: true,
  requests: 'both',
  memoryLimit: true,
  probes: 'both',
  image: 'pinned',
  escalation: 'denied',
};

export const NOTHING: Practices = {
  nonRoot: 'none',
  readOnlyRoot: false,
  requests: 'none',
  memoryLimit: false,
  probes: 'none',
  image: 'latest',
  escalation: 'unset',
};

const DIGEST = 'sha256:9b2a28eb47540823042a2ba401386845089bb7b62a9637d55816132c4c3c36eb';

export function container(name: string, repo: string, version: string, port: number, p: Practices, env: object[] = []): KubeJson {
  const image = { pinned: `${repo}:${version}`, digest: `${repo}@${DIGEST}`, latest: `${repo}:latest`, untagged: repo }[p.image];
  const c: KubeJson = { name, image, ports: [{ containerPort: port, name: 'http' }] };
  if (env.length > 0) c.env = env;
  const sc: KubeJson = {};
  if (p.nonRoot === 'container') Object.assign(sc, { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001 });
  if (p.nonRoot === 'uid') Object.assign(sc, { runAsUser: 10001, runAsGroup: 10001 });
  if (p.nonRoot === 'low-uid') Object.assign(sc, { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000 });
  if (p.nonRoot === 'root') sc.runAsUser = 0;
  if (p.readOnlyRoot) sc.readOnlyRootFilesystem = true;
  if (p.escalation === 'denied') Object.assign(sc, { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
  if (p.escalation === 'privileged') sc.privileged = true;
  if (Object.keys(sc).length > 0) c.securityContext = sc;
  const requests = { both: { cpu: '250m', memory: '512Mi' }, cpu: { cpu: '250m' }, limits: undefined, none: undefined }[p.requests];
  const limits: KubeJson = {};
  if (p.memoryLimit) limits.memory = '1Gi';
  if (p.requests === 'limits') Object.assign(limits, { cpu: '500m', memory: '1Gi' });
  const resources: KubeJson = {};
  if (requests) resources.requests = requests;
  if (Object.keys(limits).length > 0) resources.limits = limits;
  if (Object.keys(resources).length > 0) c.resources = resources;
  if (p.probes !== 'none') c.readinessProbe = { httpGet: { path: '/ready', port }, periodSeconds: 5 };
  if (p.probes === 'both') c.livenessProbe = { httpGet: { path: '/live', port }, periodSeconds: 10 };
  return c;
}

function metadata(name: string, extra: KubeJson = {}): KubeJson {
  return {
    name,
    namespace: NAMESPACE,
    labels: { app: name, 'app.kubernetes.io/part-of': 'shop', tier: 'backend' },
    annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"apiVersion":"apps/v1","kind":"Deployment"}' },
    ...extra,
  };
}

function podSecurity(ps: Practices[]): KubeJson | undefined {
  return ps.some((p) => p.nonRoot === 'pod') ? { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001 } : undefined;
}

/** A Pod someone runs by hand, one container. */
export function pod(name: string, p: Practices): KubeJson {
  const spec: KubeJson = { containers: [container('worker', 'ghcr.io/example/worker', '2.3.1', 8080, p)] };
  const sc = podSecurity([p]);
  if (sc) spec.securityContext = sc;
  return { apiVersion: 'v1', kind: 'Pod', metadata: metadata(name), spec };
}

const SIDECARS = [
  ['envoy', 'envoyproxy/envoy', 'v1.31.2', 9901],
  ['fluent-bit', 'fluent/fluent-bit', '3.1.9', 2020],
] as const;

/**
 * An API with an Envoy proxy and a log shipper (3 containers), or `containers` of them:
 * the app first, then sidecars. `practices[i]` applies to container i (the last one repeats).
 */
export function deployment(
  name: string,
  practices: Practices[],
  options: { containers?: number; env?: object[]; replicas?: number } = {},
): KubeJson {
  const n = options.containers ?? 3;
  const ps = Array.from({ length: n }, (_, i) => practices[Math.min(i, practices.length - 1)]!);
  const containers = ps.map((p, i) => {
    if (i === 0) return container('app', 'ghcr.io/example/api', '1.4.2', 8080, p, options.env);
    const [cname, repo, version, port] = SIDECARS[(i - 1) % SIDECARS.length]!;
    return container(i <= SIDECARS.length ? cname : `${cname}-${i}`, repo, version, port + i, p);
  });
  const podSpec: KubeJson = { containers };
  const sc = podSecurity(ps);
  if (sc) podSpec.securityContext = sc;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(name),
    spec: {
      replicas: options.replicas ?? 3,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name, tier: 'backend' } }, spec: podSpec },
    },
  };
}

/** ~100 KiB of JSON: the same Deployment carrying a large configuration in env. */
export function bigDeployment(name: string, practices: Practices[]): KubeJson {
  const env = Array.from({ length: 850 }, (_, i) => ({
    name: `FEATURE_FLAG_${String(i).padStart(4, '0')}`,
    value: `enabled;owner=team-${i % 17};rollout=${'x'.repeat(64)}`,
  }));
  return deployment(name, practices, { env });
}

/** The Service in front of a workload's pods (kube-score checks probes only on pods behind one). */
export function service(name: string, port = 8080): KubeJson {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: NAMESPACE },
    spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: port }] },
  };
}

export function pdb(name: string, matchLabels: Record<string, string>, namespace = NAMESPACE): KubeJson {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name, namespace },
    spec: { maxUnavailable: 1, selector: { matchLabels } },
  };
}

export function review(object: KubeJson, uid = '0df28fbd-5f5f-11e8-bc74-36e6bb280816'): string {
  const kind = String(object.kind);
  const group = kind === 'Pod' || kind === 'PodDisruptionBudget' ? (kind === 'Pod' ? '' : 'policy') : 'apps';
  const resource = `${kind.toLowerCase()}s`;
  const meta = object.metadata as { name: string; namespace?: string };
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group, version: 'v1', kind },
      resource: { group, version: 'v1', resource },
      requestKind: { group, version: 'v1', kind },
      requestResource: { group, version: 'v1', resource },
      name: meta.name,
      namespace: meta.namespace ?? NAMESPACE,
      operation: 'CREATE',
      userInfo: { username: 'system:serviceaccount:ci:deployer', uid: 'b5c2', groups: ['system:serviceaccounts', 'system:authenticated'] },
      object,
      oldObject: null,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions', fieldManager: 'kubectl-client-side-apply' },
    },
  });
}

/** The webhook benchmarks' bodies: each shape compliant and not, as a busy cluster sends them. */
export function reviewMix(): Array<{ name: string; body: string }> {
  const sidecarsBad = [COMPLIANT, NOTHING, NOTHING];
  return [
    { name: 'Pod, compliant', body: review(pod('worker', COMPLIANT)) },
    { name: 'Pod, no practices', body: review(pod('worker', NOTHING)) },
    { name: 'Deployment 3 containers, compliant', body: review(deployment('api', [COMPLIANT])) },
    { name: 'Deployment 3 containers, sidecars break practices', body: review(deployment('api', sidecarsBad)) },
    { name: 'Deployment ~100 KiB, compliant', body: review(bigDeployment('api-large-config', [COMPLIANT])) },
    { name: 'Deployment ~100 KiB, sidecars break practices', body: review(bigDeployment('api-large-config', sidecarsBad)) },
  ];
}
