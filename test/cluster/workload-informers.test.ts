// The replicated workloads in the webhook's context: watched like PDBs, kept as projections, and
// what lets pdb-allows-disruption judge a PDB write against the live workloads it selects.
import t from 'tap';
import { Registry } from 'prom-client';
import { POLICIES } from '../../policies/index.js';
import { ClusterCache } from '../../src/cluster/api/informers.js';
import { projectWorkload } from '../../src/cluster/api/workload-projection.js';
import { compileConfig, DEFAULT_CONFIG, evaluate } from '../../src/engine/index.js';
import type { ClusterContext, KubeObject } from '../../src/engine/index.js';
import { captureLogger, FakeClock, FakeResource, flush, networkError } from '../helpers/cluster.js';

const backoff = { initialMs: 1000, maxMs: 8000, jitter: 0 };
const config = compileConfig(DEFAULT_CONFIG, POLICIES);

function setup() {
  const clock = new FakeClock();
  const { logger } = captureLogger();
  const sources = {
    namespaces: new FakeResource(),
    poddisruptionbudgets: new FakeResource(),
    horizontalpodautoscalers: new FakeResource(),
    deployments: new FakeResource(),
    statefulsets: new FakeResource(),
    replicasets: new FakeResource(),
    replicationcontrollers: new FakeResource(),
    limitranges: new FakeResource(),
    networkpolicies: new FakeResource(),
  };
  const readiness: boolean[] = [];
  const registry = new Registry();
  const cache = new ClusterCache({ sources, logger, clock, backoff, registry, onSynced: (ready) => readiness.push(ready) });
  return { clock, sources, readiness, registry, cache };
}

/** A Deployment as the API server returns it: managedFields, a pod spec and status included. */
function deployment(namespace: string, name: string, replicas: number, app = name): Record<string, unknown> {
  return {
    kind: 'Deployment',
    apiVersion: 'apps/v1',
    metadata: {
      namespace,
      name,
      uid: `uid-${name}`,
      generation: 3,
      labels: { app, team: 'shop' },
      annotations: {
        'deployment.kubernetes.io/revision': '3',
        'kubectl.kubernetes.io/last-applied-configuration': '{"a":"very long json"}',
      },
      managedFields: [
        {
          manager: 'kubectl-client-side-apply',
          operation: 'Update',
          apiVersion: 'apps/v1',
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:spec': { 'f:replicas': {} } },
        },
      ],
    },
    spec: {
      replicas,
      selector: { matchLabels: { app } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { labels: { app, tier: 'web' }, annotations: { 'prometheus.io/scrape': 'true' } },
        spec: {
          containers: [{ name: 'app', image: 'registry.example/app:1.2.3', resources: { requests: { cpu: '100m', memory: '128Mi' } } }],
        },
      },
    },
    status: { replicas, readyReplicas: replicas, conditions: [{ type: 'Available', status: 'True' }] },
  };
}

function replicaSetOf(owner: Record<string, unknown>, hash: string): Record<string, unknown> {
  const meta = owner.metadata as { namespace: string; name: string; uid: string };
  const spec = owner.spec as Record<string, unknown>;
  return {
    kind: 'ReplicaSet',
    apiVersion: 'apps/v1',
    metadata: {
      namespace: meta.namespace,
      name: `${meta.name}-${hash}`,
      uid: `uid-${meta.name}-${hash}`,
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'Deployment', name: meta.name, uid: meta.uid, controller: true, blockOwnerDeletion: true },
      ],
    },
    spec: { replicas: spec.replicas, selector: spec.selector, template: spec.template },
  };
}

const pdb = (namespace: string, name: string, minAvailable: number | string, app: string): KubeObject => ({
  kind: 'PodDisruptionBudget',
  apiVersion: 'policy/v1',
  metadata: { namespace, name },
  spec: { minAvailable, selector: { matchLabels: { app } } },
});

/** What the webhook's review does with a PDB write: evaluate() with the cache's context. */
function disruptionFindings(context: ClusterContext, object: KubeObject): string[] {
  const evaluation = evaluate(object, context, config, { namespace: 'shop' });
  return (evaluation?.findings ?? []).filter((f) => f.policy === 'pdb-allows-disruption').map((f) => f.message);
}

const names = (context: ClusterContext, namespace: string) =>
  context
    .workloadsIn(namespace)
    .map((w) => `${w.kind}/${w.name}`)
    .sort();

t.test('a PDB write is judged against the live workloads it selects', async (t) => {
  const s = setup();
  const web = s.sources.deployments.put(deployment('shop', 'web', 3));
  s.sources.replicasets.put(replicaSetOf(web, '5d8f9'));
  s.cache.start();
  await s.cache.synced;

  const holding = disruptionFindings(s.cache.context, pdb('shop', 'web', 3, 'web'));
  t.equal(holding.length, 1, 'minAvailable 3 over a 3-replica Deployment blocks every drain');
  t.match(holding[0], /minAvailable 3 holds all of Deployment "web" \(3 replicas\)/);
  t.same(disruptionFindings(s.cache.context, pdb('shop', 'web', 2, 'web')), [], 'minAvailable 2 leaves one pod to evict');
  t.same(disruptionFindings(s.cache.context, pdb('other', 'web', 3, 'web')), [], 'a Deployment of another namespace is not selected');
  t.same(names(s.cache.context, 'shop'), ['Deployment/web'], "the Deployment's ReplicaSet is not stored");

  // The watch follows the Deployment: scaled up, the same budget leaves a pod to evict.
  s.sources.deployments.emit('MODIFIED', deployment('shop', 'web', 4));
  t.same(disruptionFindings(s.cache.context, pdb('shop', 'web', 3, 'web')), [], 'judged against the new replica count');
  s.sources.deployments.emit('DELETED', deployment('shop', 'web', 4));
  t.same(disruptionFindings(s.cache.context, pdb('shop', 'web', 3, 'web')), [], 'a deleted Deployment is gone from the context');
  t.same(names(s.cache.context, 'shop'), []);
  await s.cache.close();
});

t.test('an HPA floor is matched by the workload kind and name', async (t) => {
  const s = setup();
  s.sources.statefulsets.put({ ...deployment('shop', 'db', 5), kind: 'StatefulSet' });
  s.sources.horizontalpodautoscalers.put({
    kind: 'HorizontalPodAutoscaler',
    apiVersion: 'autoscaling/v2',
    metadata: { namespace: 'shop', name: 'db' },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db' }, minReplicas: 2, maxReplicas: 5 },
  });
  s.cache.start();
  await s.cache.synced;
  t.match(disruptionFindings(s.cache.context, pdb('shop', 'db', 2, 'db')), [/StatefulSet "db" \(HPA minReplicas 2\)/]);
  await s.cache.close();
});

t.test('ReplicaSets: a controller-owned one is never stored, an orphan is, an adopted one is dropped', async (t) => {
  const s = setup();
  const web = deployment('shop', 'web', 3);
  s.sources.replicasets.put(replicaSetOf(web, 'aaaaa'));
  const orphan = { ...replicaSetOf(web, 'bbbbb'), metadata: { namespace: 'shop', name: 'legacy', uid: 'uid-legacy' } };
  s.sources.replicasets.put(orphan);
  s.sources.replicationcontrollers.put({ ...deployment('shop', 'old', 2), kind: 'ReplicationController', apiVersion: 'v1' });
  s.cache.start();
  await s.cache.synced;
  t.same(names(s.cache.context, 'shop'), ['ReplicaSet/legacy', 'ReplicationController/old']);
  t.equal(s.cache.status().replicasets?.objects, 1, 'the reflector does not keep the owned one either');

  s.sources.replicasets.emit('ADDED', replicaSetOf(web, 'ccccc'));
  t.same(names(s.cache.context, 'shop'), ['ReplicaSet/legacy', 'ReplicationController/old'], 'a new rollout adds nothing');
  const adopted = replicaSetOf(web, 'bbbbb');
  s.sources.replicasets.emit('MODIFIED', { ...adopted, metadata: { ...(adopted.metadata as object), name: 'legacy', uid: 'uid-legacy' } });
  t.same(names(s.cache.context, 'shop'), ['ReplicationController/old'], 'adopted by a Deployment: dropped');
  t.equal(s.cache.status().replicasets?.objects, 0);

  // The events it skipped still moved the watch on: a resumed watch does not replay them.
  s.sources.replicasets.closeWatch(networkError('ECONNRESET'));
  await s.clock.advance(1000);
  t.equal(
    s.sources.replicasets.openWatch?.resourceVersion,
    s.sources.replicasets.resourceVersion,
    'resumed from the last event, skipped or not',
  );
  await s.cache.close();
});

t.test('what is stored of a workload is a projection, not the object', async (t) => {
  const s = setup();
  const full = deployment('shop', 'web', 3);
  s.sources.deployments.put({
    ...full,
    metadata: {
      ...(full.metadata as object),
      ownerReferences: [
        { apiVersion: 'x/v1', kind: 'App', name: 'a', uid: 'u1', controller: true },
        { apiVersion: 'v1', kind: 'ConfigMap', name: 'c', uid: 'u2' },
      ],
    },
  });
  s.cache.start();
  await s.cache.synced;
  const [stored] = s.cache.context.workloadsIn('shop');
  t.same(
    stored?.object,
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'web',
        namespace: 'shop',
        resourceVersion: '101',
        uid: 'uid-web',
        ownerReferences: [{ controller: true, apiVersion: 'x/v1', kind: 'App', name: 'a', uid: 'u1' }],
      },
      spec: {
        template: {
          metadata: { labels: { app: 'web', tier: 'web' } },
          spec: { containers: [{ name: 'app', resources: { requests: { cpu: '100m', memory: '128Mi' } } }] },
        },
        replicas: 3,
        selector: { matchLabels: { app: 'web' } },
      },
    },
    "no managedFields, annotations, labels, status or pod spec but the containers' cpu and memory requests; only the controller ownerReference",
  );
  t.equal(stored?.controllerOwned, true, 'and an owned StatefulSet or Deployment still reads as controller-owned');
  t.equal(stored?.replicas, 3);

  const rc = projectWorkload('ReplicationController', 'v1', {
    metadata: { name: 'old' },
    spec: { selector: { app: 'old', n: 1 }, template: {} },
  });
  t.same(
    rc?.object.spec,
    { template: { metadata: { labels: {} }, spec: {} }, selector: { app: 'old' } },
    "a ReplicationController's selector is a plain map",
  );
  const twice = projectWorkload('Deployment', 'apps/v1', stored?.object);
  t.same(twice?.object, stored?.object, 'projecting a projection changes nothing (the client projects list pages first)');
  t.equal(projectWorkload('Deployment', 'apps/v1', { metadata: {} }), undefined, 'no name, nothing to key it by');
  await s.cache.close();
});

t.test('readiness waits for the workload lists too; each has its staleness sample', async (t) => {
  const s = setup();
  s.sources.replicationcontrollers.listFailures = [networkError()];
  s.cache.start();
  await flush();
  t.same(s.readiness, [], 'not ready while ReplicationControllers cannot be listed');
  t.equal(s.cache.isSynced, false);
  await s.clock.advance(1000);
  await s.cache.synced;
  t.same(s.readiness, [true]);
  const metric = await s.registry.getSingleMetric('practice_gate_cache_staleness_seconds')?.get();
  const resources = (metric?.values ?? []).map((v) => v.labels.resource).sort();
  t.same(resources, [
    'deployments',
    'horizontalpodautoscalers',
    'limitranges',
    'namespaces',
    'networkpolicies',
    'poddisruptionbudgets',
    'replicasets',
    'replicationcontrollers',
    'statefulsets',
  ]);
  t.same(Object.keys(s.cache.status()).sort(), resources);
  await s.cache.close();
});
