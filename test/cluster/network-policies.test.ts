// The NetworkPolicies in the webhook's context (network-policy-coverage): what the informer
// keeps of them, that readiness waits for their list, that the context follows their watch in
// either order with the workloads, and that the cluster scan and its PolicyReports list them.
import t from 'tap';
import { POLICIES } from '../../policies/index.js';
import { ClusterCache } from '../../src/cluster/api/informers.js';
import { projectNetworkPolicy } from '../../src/cluster/api/network-policy-projection.js';
import { buildPolicyReport } from '../../src/cluster/scan/reports.js';
import { SCAN_KINDS, scanCluster } from '../../src/cluster/scan/scanner.js';
import { chartRegistry } from '../../src/registry/chart.js';
import { ContextIndex, DEFAULT_CONFIG, compileConfig, evaluate } from '../../src/engine/index.js';
import type { ClusterContext, KubeObject } from '../../src/engine/index.js';
import { captureLogger, FakeClock, fakeClusterSources, listReader, networkError } from '../helpers/cluster.js';

const config = compileConfig(DEFAULT_CONFIG, POLICIES);
const backoff = { initialMs: 1000, maxMs: 8000, jitter: 0 };

/** A NetworkPolicy as the API server returns it: rules, labels and managedFields included. */
function networkPolicy(namespace: string, name: string, podSelector: unknown): Record<string, unknown> {
  return {
    kind: 'NetworkPolicy',
    apiVersion: 'networking.k8s.io/v1',
    metadata: {
      namespace,
      name,
      uid: `uid-${name}`,
      labels: { team: 'shop' },
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"kind":"NetworkPolicy"}' },
      managedFields: [{ manager: 'kubectl', operation: 'Apply', fieldsV1: { 'f:spec': {} } }],
    },
    spec: {
      podSelector,
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'front' } } }], ports: [{ port: 8080 }] }],
      egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8' } }] }],
    },
  };
}

function deployment(namespace: string, name: string, labels: Record<string, string> = { app: name }): Record<string, unknown> {
  return {
    kind: 'Deployment',
    apiVersion: 'apps/v1',
    metadata: { namespace, name, uid: `uid-${namespace}-${name}` },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'example/app:1.0' }] } },
    },
  };
}

const coverage = (context: ClusterContext, object: Record<string, unknown>) =>
  evaluate(object as KubeObject, context, config)?.findings.filter((f) => f.policy === 'network-policy-coverage').length;

function started() {
  const sources = fakeClusterSources();
  const readiness: boolean[] = [];
  const cache = new ClusterCache({
    sources,
    logger: captureLogger().logger,
    clock: new FakeClock(),
    backoff,
    onSynced: (r) => readiness.push(r),
  });
  return { sources, readiness, cache };
}

t.test('the informer keeps the name, namespace, resourceVersion and podSelector, nothing else', async (t) => {
  const whole = networkPolicy('shop', 'api', {
    matchLabels: { app: 'api' },
    matchExpressions: [{ key: 'tier', operator: 'In', values: ['a'] }],
  });
  (whole.metadata as Record<string, unknown>).resourceVersion = '42';
  t.same(projectNetworkPolicy(whole), {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'api', namespace: 'shop', resourceVersion: '42' },
    spec: { podSelector: { matchLabels: { app: 'api' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a'] }] } },
  });
  const projected = projectNetworkPolicy(whole);
  t.same(projectNetworkPolicy(projected), projected, 'projecting a projection changes nothing');
  t.same(
    projectNetworkPolicy({ metadata: { name: 'all' }, spec: {} })?.spec,
    { podSelector: {} },
    'no podSelector is {}, as the API reads it',
  );
  t.same(projectNetworkPolicy({ metadata: { name: 'all' } })?.spec, { podSelector: {} });
  const broken = projectNetworkPolicy({ metadata: { name: 'x' }, spec: { podSelector: 'all' } });
  t.equal(
    coverage(ContextIndex.fromObjects([broken as KubeObject]), deployment('default', 'web')),
    1,
    'a podSelector that is no object still selects nothing',
  );
  t.equal(projectNetworkPolicy({ metadata: {} }), undefined, 'nothing without a name');
});

t.test('readiness waits for the NetworkPolicies to be listed', async (t) => {
  const { sources, readiness, cache } = started();
  t.teardown(() => cache.close());
  sources.networkpolicies.put(networkPolicy('shop', 'api', { matchLabels: { app: 'api' } }));
  sources.networkpolicies.listFailures = [networkError()];
  cache.start();
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(cache.isSynced, false);
  t.same(readiness, [], 'not ready while NetworkPolicies cannot be listed');
  t.match(cache.status().networkpolicies, { synced: false });
});

t.test('listed NetworkPolicies are filed under their kind and kept as projections', async (t) => {
  const { sources, readiness, cache } = started();
  t.teardown(() => cache.close());
  sources.networkpolicies.put(networkPolicy('shop', 'api', { matchLabels: { app: 'api' } }));
  cache.start();
  await cache.synced;
  t.same(readiness, [true]);
  const [kept] = cache.context.networkPoliciesIn('shop');
  t.same(kept?.spec, { podSelector: { matchLabels: { app: 'api' } } }, 'no rules kept');
  t.same(Object.keys(kept?.metadata ?? {}).sort(), ['name', 'namespace', 'resourceVersion'], 'no labels, annotations or managedFields');
  t.equal(coverage(cache.context, deployment('shop', 'api')), 0);
  t.equal(coverage(cache.context, deployment('shop', 'web')), 1, 'its selector decides, not its namespace alone');
  t.equal(coverage(cache.context, deployment('other', 'api')), 1, "another namespace's policy does not count");
  t.match(cache.status().networkpolicies, { synced: true, objects: 1 });
});

t.test('informer order: the NetworkPolicy arrives after the workload, is narrowed, then deleted', async (t) => {
  const { sources, cache } = started();
  t.teardown(() => cache.close());
  cache.start();
  await cache.synced;
  const web = deployment('shop', 'web');
  sources.deployments.emit('ADDED', web);
  t.equal(coverage(cache.context, web), 1, 'the workload first: no NetworkPolicy selects it yet');
  const allow = networkPolicy('shop', 'web', { matchLabels: { app: 'web' } });
  sources.networkpolicies.emit('ADDED', allow);
  t.equal(coverage(cache.context, web), 0, 'the policy arrives: the next write of the workload is covered');
  t.same(
    cache.context.networkPoliciesIn('shop')[0]?.spec,
    { podSelector: { matchLabels: { app: 'web' } } },
    'watched objects are projected too',
  );
  sources.networkpolicies.emit('MODIFIED', networkPolicy('shop', 'web', { matchLabels: { app: 'api' } }));
  t.equal(coverage(cache.context, web), 1, 'narrowed to other pods');
  sources.networkpolicies.emit('MODIFIED', networkPolicy('shop', 'web', {}));
  t.equal(coverage(cache.context, web), 0, 'widened to every pod of the namespace');
  sources.networkpolicies.emit('DELETED', allow);
  t.equal(coverage(cache.context, web), 1, 'deleted: nothing covers the workload again');
  t.same(cache.context.networkPoliciesIn('shop'), []);
});

t.test('the cluster scan lists NetworkPolicies and judges workloads against them; the report says which are uncovered', async (t) => {
  t.ok(SCAN_KINDS.some((k) => k.kind === 'NetworkPolicy' && k.apiVersion === 'networking.k8s.io/v1' && k.plural === 'networkpolicies'));
  const objects = [
    { kind: 'Namespace', apiVersion: 'v1', metadata: { name: 'shop' } },
    deployment('shop', 'api'),
    deployment('shop', 'web'),
    networkPolicy('shop', 'api', { matchLabels: { app: 'api' } }),
  ];
  const scan = await scanCluster(listReader(objects), config);
  const uncovered = scan.judged.filter((j) => j.evaluation.findings.some((f) => f.policy === 'network-policy-coverage'));
  t.same(
    uncovered.map((j) => j.evaluation.name),
    ['web'],
  );
  t.notOk(
    scan.judged.some((j) => j.evaluation.kind === 'NetworkPolicy'),
    'a NetworkPolicy is context, not judged',
  );
  const report = buildPolicyReport('shop', scan.judged, config, Date.UTC(2030, 0, 1));
  t.match(
    report.results.filter((r) => r.policy === 'network-policy-coverage'),
    [{ result: 'warn', severity: 'low', resources: [{ kind: 'Deployment', name: 'web' }] }],
  );
});

t.test('the chart grants list and watch on networkpolicies to the informers', async (t) => {
  const { informerRules } = chartRegistry(POLICIES);
  t.ok(
    informerRules.some(
      (r) => r.apiGroups.includes('networking.k8s.io') && r.resources.includes('networkpolicies') && r.verbs.join() === 'list,watch',
    ),
    JSON.stringify(informerRules),
  );
});
