import t from 'tap';
import { Registry } from 'prom-client';
import { POLICIES } from '../../policies/index.js';
import { AuditMetrics } from '../../src/cluster/scan/metrics.js';
import { ReportPublisher } from '../../src/cluster/scan/reports.js';
import { ClusterAuditor, scanCluster, ScanError } from '../../src/cluster/scan/scanner.js';
import type { ClusterReader, ScanKind } from '../../src/cluster/scan/scanner.js';
import { compileConfig, DEFAULT_CONFIG } from '../../src/engine/index.js';
import type { Config } from '../../src/engine/index.js';
import { builtInScope, scopeOfWebhookConfiguration } from '../../src/cluster/scan/webhook-scope.js';
import { captureLogger, FakeClock, httpError, ReportServer } from '../helpers/cluster.js';

const config = (overrides: Partial<Config> = {}) => compileConfig({ ...DEFAULT_CONFIG, ...overrides }, POLICIES);

/** Lists as the API server does: by kind, items without kind/apiVersion, optionally one namespace. */
class FakeReader implements ClusterReader {
  readonly calls: string[] = [];
  failures = new Map<string, unknown>();
  constructor(readonly objects: Record<string, unknown>[]) {}

  async list(kind: ScanKind, namespace?: string): Promise<readonly unknown[]> {
    this.calls.push(namespace ? `${kind.plural}@${namespace}` : kind.plural);
    const failure = this.failures.get(kind.plural);
    if (failure) throw failure;
    return this.objects
      .filter((o) => o.kind === kind.kind)
      .filter((o) => namespace === undefined || (o.metadata as { namespace?: string }).namespace === namespace)
      .map((o) => {
        const { kind: _k, apiVersion: _a, ...rest } = structuredClone(o);
        return rest;
      });
  }
}

const secure = { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false };
const container = (name: string, securityContext: object = secure) => ({
  name,
  image: 'registry.example/app:1.2.3',
  securityContext,
  resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '128Mi' } },
  readinessProbe: { httpGet: { path: '/ready', port: 8080 } },
  livenessProbe: { httpGet: { path: '/live', port: 8080 } },
});
const podSpec = (containers: object[]) => ({ containers });
const ns = (name: string) => ({ kind: 'Namespace', apiVersion: 'v1', metadata: { name, uid: `uid-ns-${name}` } });
const owner = (kind: string, name: string) => [{ apiVersion: 'apps/v1', kind, name, uid: `uid-${name}`, controller: true }];

function deployment(namespace: string, name: string, containers: object[], replicas = 1) {
  return {
    kind: 'Deployment',
    apiVersion: 'apps/v1',
    metadata: { namespace, name, uid: `uid-${name}` },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: podSpec(containers) },
    },
  };
}

function shopCluster() {
  const rootContainer = container('app', {});
  return [
    ns('shop'),
    ns('kube-system'),
    deployment('shop', 'web', [rootContainer]),
    {
      kind: 'ReplicaSet',
      apiVersion: 'apps/v1',
      metadata: { namespace: 'shop', name: 'web-7d9', uid: 'uid-web-7d9', ownerReferences: owner('Deployment', 'web') },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: podSpec([rootContainer]) },
      },
    },
    {
      kind: 'Pod',
      apiVersion: 'v1',
      metadata: {
        namespace: 'shop',
        name: 'web-7d9-abc',
        uid: 'uid-pod1',
        ownerReferences: owner('ReplicaSet', 'web-7d9'),
        labels: { app: 'web' },
      },
      spec: podSpec([rootContainer]),
    },
    { kind: 'Pod', apiVersion: 'v1', metadata: { namespace: 'shop', name: 'debug', uid: 'uid-debug' }, spec: podSpec([rootContainer]) },
    {
      kind: 'Pod',
      apiVersion: 'v1',
      metadata: {
        namespace: 'shop',
        name: 'operated-0',
        uid: 'uid-op',
        ownerReferences: [{ apiVersion: 'example.com/v1', kind: 'Database', name: 'db', uid: 'uid-db', controller: true }],
      },
      spec: podSpec([container('db')]),
    },
    {
      kind: 'Pod',
      apiVersion: 'v1',
      metadata: { namespace: 'kube-system', name: 'coredns-1', uid: 'uid-dns' },
      spec: podSpec([rootContainer]),
    },
  ];
}

const names = (judged: { evaluation: { kind: string; name: string } }[]) =>
  judged.map((j) => `${j.evaluation.kind}/${j.evaluation.name}`).sort();

t.test('judges top-level workloads and bare pods; what a judged controller owns is left to it', async (t) => {
  const reader = new FakeReader(shopCluster());
  const scan = await scanCluster(reader, config({ exemptions: [{ namespaces: ['kube-system'], reason: 'system components' }] }));

  t.same(
    names(scan.judged),
    ['Deployment/web', 'Pod/debug', 'Pod/operated-0'],
    'the ReplicaSet and its Pod are not judged; an operator-owned Pod is',
  );
  t.equal(scan.ownedSkipped, 2);
  t.same([...scan.namespaces].sort(), ['shop'], 'a wholly exempt namespace is not scanned');
  const web = scan.judged.find((j) => j.evaluation.name === 'web');
  t.equal(web?.uid, 'uid-web');
  t.ok(
    web?.evaluation.findings.some((f) => f.policy === 'run-as-non-root' && f.configuredAction === 'deny'),
    'judged with the webhook engine',
  );
  t.same(
    reader.calls,
    [
      'namespaces',
      'poddisruptionbudgets',
      'horizontalpodautoscalers',
      'limitranges',
      'deployments',
      'statefulsets',
      'daemonsets',
      'replicasets',
      'replicationcontrollers',
      'jobs',
      'cronjobs',
      'pods',
      'podtemplates',
      'networkpolicies',
    ],
    'every workload kind and the context kinds are listed, cluster-wide',
  );
});

t.test('the context comes from the listed objects, so a PDB is judged against the workloads it selects', async (t) => {
  const objects = [
    ns('shop'),
    deployment('shop', 'api', [container('api')], 2),
    {
      kind: 'PodDisruptionBudget',
      apiVersion: 'policy/v1',
      metadata: { namespace: 'shop', name: 'api', uid: 'uid-pdb' },
      spec: { minAvailable: 2, selector: { matchLabels: { app: 'api' } } },
    },
  ];
  const scan = await scanCluster(new FakeReader(objects), config());
  const pdb = scan.judged.find((j) => j.evaluation.kind === 'PodDisruptionBudget');
  t.match(pdb?.evaluation.findings, [{ policy: 'pdb-allows-disruption', message: /holds all of Deployment "api"/ }]);
  const api = scan.judged.find((j) => j.evaluation.name === 'api' && j.evaluation.kind === 'Deployment');
  t.notOk(
    api?.evaluation.findings.some((f) => f.policy === 'pdb-coverage'),
    'the Deployment is covered by the listed PDB',
  );
});

t.test("the cluster's LimitRanges are context: a request they fill in is no finding", async (t) => {
  const bare = { name: 'app', image: 'example/app:1.0' };
  const objects = [
    ns('shop'),
    deployment('shop', 'api', [bare], 1),
    {
      kind: 'LimitRange',
      apiVersion: 'v1',
      metadata: { namespace: 'shop', name: 'defaults' },
      spec: { limits: [{ type: 'Container', default: { cpu: '1', memory: '1Gi' }, defaultRequest: { cpu: '1', memory: '1Gi' } }] },
    },
  ];
  const scan = await scanCluster(new FakeReader(objects), config());
  const api = scan.judged.find((j) => j.evaluation.name === 'api');
  t.notOk(
    api?.evaluation.findings.some((f) => f.policy === 'resource-requests' || f.policy === 'memory-limit'),
    'requests and the memory limit come from the LimitRange',
  );
  t.same(
    scan.judged.map((j) => j.evaluation.kind),
    ['Deployment'],
    'the LimitRange itself is not judged',
  );
});

t.test('--namespace scans one namespace and does not list Namespaces', async (t) => {
  const reader = new FakeReader(shopCluster());
  const scan = await scanCluster(reader, config(), { namespace: 'shop' });
  t.notOk(reader.calls.includes('namespaces'));
  t.ok(reader.calls.every((c) => c.endsWith('@shop')));
  t.same(names(scan.judged), ['Deployment/web', 'Pod/debug', 'Pod/operated-0']);
});

t.test('a kind the API server does not serve is skipped; any other list failure fails the scan', async (t) => {
  const reader = new FakeReader(shopCluster());
  reader.failures.set('podtemplates', httpError(404));
  const scan = await scanCluster(reader, config());
  t.ok(scan.judged.length > 0);

  reader.failures.set('pods', httpError(403, 'forbidden'));
  await t.rejects(scanCluster(reader, config()), ScanError);
  await t.rejects(scanCluster(reader, config()), /cannot list pods: HTTP 403/, 'the background audit fails on a forbidden kind');
  const partial = await scanCluster(reader, config(), { skipForbidden: true });
  t.same(partial.forbidden, ['pods'], 'a one-off audit names it and goes on');
  t.same(names(partial.judged), ['Deployment/web']);
});

t.test("with the webhook's scope, the audit judges only what the API server would send the webhook", async (t) => {
  const objects = [
    ...shopCluster(),
    {
      kind: 'Namespace',
      apiVersion: 'v1',
      metadata: { name: 'legacy', uid: 'uid-ns-legacy', labels: { 'practice-gate.io/ignore': 'true' } },
    },
    deployment('legacy', 'old', [container('app', {})]),
    ns('pg-system'),
    deployment('pg-system', 'practice-gate', [container('gate')]),
  ];
  const ignored = deployment('shop', 'opted-out', [container('app', {})]);
  (ignored.metadata as { labels?: Record<string, string> }).labels = { 'practice-gate.io/ignore': 'true' };
  objects.push(ignored);
  const selector = { matchExpressions: [{ key: 'practice-gate.io/ignore', operator: 'NotIn', values: ['true'] }] };
  const scope = scopeOfWebhookConfiguration('pg', {
    webhooks: [
      {
        name: 'validate.practice-gate.io',
        namespaceSelector: {
          matchExpressions: [
            { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['pg-system', 'kube-system'] },
            ...selector.matchExpressions,
          ],
        },
        objectSelector: selector,
      },
    ],
  });
  if (!scope) throw new Error('no scope');
  const scan = await scanCluster(new FakeReader(objects), config(), { scope });
  t.same([...scan.namespaces].sort(), ['shop'], "no reports for kube-system, the webhook's namespace or an opted-out one");
  t.same(
    names(scan.judged),
    ['Deployment/web', 'Pod/debug', 'Pod/operated-0'],
    'nothing from excluded namespaces, nor the object its objectSelector leaves out',
  );

  const fallback = await scanCluster(new FakeReader(objects), config(), { scope: builtInScope('pg-system') });
  t.same([...fallback.namespaces].sort(), ['legacy', 'shop'], 'built-in: everything but kube-system and its own namespace');

  const store = new ReportServer();
  const publishing = new ClusterAuditor({
    reader: new FakeReader(objects),
    config: () => config(),
    logger: captureLogger().logger,
    intervalMs: 600_000,
    reports: new ReportPublisher(store, captureLogger().logger),
    scope: async () => scope,
  });
  t.equal(await publishing.scanOnce(), true);
  t.same([...store.reports.values()].map((r) => r.metadata.namespace).sort(), ['shop'], 'PolicyReports only where the webhook judges');
});

async function violations(registry: Registry) {
  const metric = await registry.getSingleMetric('practice_gate_violations')?.get();
  return (metric?.values ?? []).map((v) => ({
    namespace: v.labels.namespace,
    policy: v.labels.policy,
    action: v.labels.action,
    value: v.value,
  }));
}

t.test('the auditor sets violation gauges per namespace, policy and action, and resets them each scan', async (t) => {
  const objects = shopCluster();
  const reader = new FakeReader(objects);
  const registry = new Registry();
  const metrics = new AuditMetrics(registry);
  const auditor = new ClusterAuditor({ reader, config: () => config(), logger: captureLogger().logger, metrics, intervalMs: 600_000 });

  t.equal(await auditor.scanOnce(), true);
  const first = await violations(registry);
  t.match(first, [{ namespace: 'shop', policy: 'run-as-non-root', action: 'deny', value: 2 }], 'web and debug run as root');
  t.ok(
    first.some((v) => v.namespace === 'kube-system'),
    'not exempt here: kube-system is scanned',
  );

  // Fix everything in kube-system and shop's debug pod: their samples must go, not linger.
  reader.objects.splice(
    0,
    reader.objects.length,
    ...objects.filter(
      (o) => (o.metadata as { name: string }).name !== 'debug' && (o.metadata as { namespace?: string }).namespace !== 'kube-system',
    ),
  );
  await auditor.scanOnce();
  const second = await violations(registry);
  t.notOk(second.some((v) => v.namespace === 'kube-system'));
  t.equal(second.find((v) => v.policy === 'run-as-non-root')?.value, 1);
  metrics.close();
});

t.test('a failed scan publishes nothing and keeps the last reports', async (t) => {
  const reader = new FakeReader(shopCluster());
  const store = new ReportServer();
  const { logger, lines } = captureLogger();
  const registry = new Registry();
  const metrics = new AuditMetrics(registry);
  const auditor = new ClusterAuditor({
    reader,
    config: () => config(),
    logger,
    metrics,
    reports: new ReportPublisher(store, logger),
    intervalMs: 600_000,
  });
  await auditor.scanOnce();
  const before = JSON.stringify([...store.reports.values()]);
  reader.failures.set('deployments', httpError(500));
  t.equal(await auditor.scanOnce(), false);
  t.equal(JSON.stringify([...store.reports.values()]), before, 'reports untouched: a missing Deployment must not look fixed');
  t.match(lines.at(-1), { event: 'scan-failed', err: /cannot list deployments/ });
  const scans = await registry.getSingleMetric('practice_gate_audit_scans_total')?.get();
  t.same(scans?.values.map((v) => [v.labels.result, v.value]).sort(), [
    ['failure', 1],
    ['success', 1],
  ]);
  metrics.close();
});

t.test('the auditor scans while leading, every interval, and stops when leadership ends', async (t) => {
  const reader = new FakeReader(shopCluster());
  const clock = new FakeClock();
  const auditor = new ClusterAuditor({ reader, config: () => config(), logger: captureLogger().logger, intervalMs: 600_000, clock });
  const leadership = new AbortController();
  const running = auditor.runWhileLeading(leadership.signal);
  await clock.advance(0);
  const perScan = reader.calls.length;
  t.equal(perScan, 14, 'scans at once');
  await clock.advance(600_000);
  t.equal(reader.calls.length, 2 * perScan, 'and again after the interval');
  leadership.abort();
  await running;
  await clock.advance(600_000);
  t.equal(reader.calls.length, 2 * perScan, 'not after leadership ended');
});
