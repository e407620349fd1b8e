import t from 'tap';
import { ClusterCache } from '../../src/cluster/api/informers.js';
import { scanCluster } from '../../src/cluster/scan/scanner.js';
import { DEFAULT_CONFIG, changesJudgedFields, compileConfig, evaluate, metaOf } from '../../src/engine/index.js';
import type { ClusterContext, KubeObject } from '../../src/engine/index.js';
import { withoutClusterPolicies } from '../../src/server/blind.js';
import { FakeClock, captureLogger, fakeClusterSources, listReader } from '../../test/helpers/cluster.js';
import { examples, judge } from '../../test/helpers/manifests.js';
import { LAST_APPLIED, manifestReplicas } from './manifest.js';
import policy from './policy.js';

const { good, bad, get } = examples('hpa-managed-replicas');
const judged = (obj: KubeObject) => policy.kinds.includes(String(obj.kind));
const config = compileConfig(DEFAULT_CONFIG, [policy]);

function deployment(spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'api', namespace: 'shop', ...metadata },
    spec: {
      ...spec,
      selector: { matchLabels: { app: 'api' } },
      template: { metadata: { labels: { app: 'api' } }, spec: { containers: [{ name: 'api' }] } },
    },
  };
}
const hpa = (target = 'api', kind = 'Deployment'): KubeObject => ({
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  metadata: { name: `${target}-hpa`, namespace: 'shop' },
  spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind, name: target }, minReplicas: 2, maxReplicas: 5 },
});
/** As kubectl apply stores it: the manifest as JSON in the annotation, replicas defaulted on the object. */
function applied(manifestSpec: Record<string, unknown>, liveReplicas = 1): KubeObject {
  const manifest = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'api', namespace: 'shop', labels: { team: 'a' } },
    spec: manifestSpec,
  };
  return deployment({ replicas: liveReplicas }, { uid: 'u-1', annotations: { [LAST_APPLIED]: JSON.stringify(manifest) } });
}
const count = (obj: KubeObject, context: Iterable<KubeObject> = [hpa()]) => judge(policy, obj, context).length;

t.test('good examples pass', async (t) => {
  for (const [name, obj] of good) if (judged(obj)) t.same(judge(policy, obj, good.values()), [], name);
});

t.test('every bad example fails, and only with its HPA', async (t) => {
  for (const [name, obj] of bad) {
    if (!judged(obj)) continue;
    t.equal(judge(policy, obj, bad.values()).length, 1, name);
    t.same(judge(policy, obj), [], `${name}: no HPA, no finding`);
  }
});

t.test('a manifest that sets replicas under an HPA warns at spec.replicas with the fix', async (t) => {
  const findings = judge(policy, get('api'), bad.values());
  t.match(findings[0], { policy: 'hpa-managed-replicas', action: 'warn', path: 'spec.replicas' });
  t.notOk(findings[0]?.container);
  t.match(findings[0]?.message, /replicas: 3 undoes HPA "api-cpu" on each apply: keep it out of the manifest/);
  t.match(findings[0]?.remediation, /kubectl apply edit-last-applied deployment\/api/);
  t.match(judge(policy, get('consumers'), bad.values())[0]?.remediation, /statefulset\/consumers/);
});

t.test('an object from the API server is judged by what kubectl apply recorded, not by the defaulted replicas', async (t) => {
  t.equal(count(applied({ replicas: 4 }, 9)), 1, 'the recorded manifest sets replicas');
  t.match(judge(policy, applied({ replicas: 4 }, 9), [hpa()])[0]?.message, /replicas: 4 undoes/, 'the value the apply puts back');
  t.equal(count(applied({ selector: {} }, 9)), 0, 'the recorded manifest leaves replicas to the HPA');
  t.equal(count(applied({ replicas: null })), 0, 'null is unset');
  t.equal(
    count(deployment({ replicas: 1 }, { uid: 'u-1' })),
    0,
    'no record (kubectl create, Helm, server-side apply): the API default cannot be told from a choice',
  );
  t.equal(count(deployment({ replicas: 3 })), 1, 'a manifest file says it itself');
  t.equal(count(deployment({})), 0);
  t.equal(count(deployment({ replicas: '3' })), 1, 'a value the API refuses is still set');
});

t.test('an annotation of the wrong shape never crashes and never hides the object', async (t) => {
  for (const text of ['not json', '[1]', '5', 'null']) {
    t.equal(count(deployment({ replicas: 2 }, { annotations: { [LAST_APPLIED]: text } })), 1, `${text}: the manifest file itself`);
    t.equal(count(deployment({ replicas: 2 }, { uid: 'u', annotations: { [LAST_APPLIED]: text } })), 0, `${text}: a stored object`);
  }
  t.equal(count(deployment({ replicas: 2 }, { annotations: { [LAST_APPLIED]: 5 } })), 1, 'not a string');
  t.equal(count(deployment({ replicas: 2 }, { annotations: 'x' })), 1);
  t.equal(count({ ...applied({}), spec: 'x' }), 0, 'a spec that is no mapping');
  t.same(manifestReplicas({ metadata: { annotations: { [LAST_APPLIED]: '{"spec":"x"}' } } }), undefined);
});

t.test('which workloads and HPAs', async (t) => {
  t.equal(count(deployment({ replicas: 3 }), [hpa('api', 'StatefulSet')]), 0, 'an HPA of another kind of that name');
  t.equal(count(deployment({ replicas: 3 }), [hpa('web')]), 0, 'an HPA of another workload');
  t.equal(
    count(deployment({ replicas: 3 }), [{ ...hpa(), metadata: { name: 'h', namespace: 'other' } }]),
    0,
    'an HPA in another namespace',
  );
  const rs = { ...deployment({ replicas: 3 }), kind: 'ReplicaSet' };
  t.equal(count(rs, [hpa('api', 'ReplicaSet')]), 1, 'a ReplicaSet an HPA scales');
  const owned = { ...rs, metadata: { ...metaOf(rs), ownerReferences: [{ kind: 'Deployment', name: 'api', uid: 'x', controller: true }] } };
  t.equal(count(owned, [hpa('api', 'ReplicaSet')]), 0, "a Deployment's ReplicaSet");
  t.notOk(policy.needsCluster, 'it only says what an HPA it knows does: a webhook without a cluster runs it');
  t.equal(withoutClusterPolicies(config).active.length, 1);
});

t.test('UPDATEs: a change of the recorded replicas is judged, a label in the same manifest is not', async (t) => {
  const before = applied({ replicas: 3 });
  t.equal(
    changesJudgedFields(before, applied({ replicas: 3, paused: false }), 'Deployment', config),
    false,
    'the annotation changed, its replicas did not',
  );
  const relabelled = structuredClone(before);
  const meta = relabelled.metadata as { annotations: Record<string, string> };
  meta.annotations[LAST_APPLIED] = (meta.annotations[LAST_APPLIED] ?? '').replace('"team":"a"', '"team":"b"');
  t.equal(changesJudgedFields(before, relabelled, 'Deployment', config), false, 'a label in the recorded manifest');
  t.equal(changesJudgedFields(before, applied({ replicas: 4 }), 'Deployment', config), true);
  t.equal(changesJudgedFields(before, applied({}), 'Deployment', config), true, 'replicas removed from the manifest');
  const broken = structuredClone(before);
  (broken.metadata as { annotations: Record<string, string> }).annotations[LAST_APPLIED] = 'not json';
  t.equal(changesJudgedFields(before, broken, 'Deployment', config), true, 'JSON that turns into text');
  t.equal(changesJudgedFields(deployment({}, { uid: 'a' }), deployment({}, { uid: 'b' }), 'Deployment', config), true, 'the uid');
});

t.test("the webhook's informers: an HPA that arrives after the workload, then goes", async (t) => {
  const { logger } = captureLogger();
  const sources = fakeClusterSources();
  const cache = new ClusterCache({ sources, logger, clock: new FakeClock(), backoff: { initialMs: 1000, maxMs: 8000, jitter: 0 } });
  cache.start();
  await cache.synced;
  t.teardown(() => cache.close());
  const review = (context: ClusterContext) => evaluate(applied({ replicas: 3 }), context, config)?.findings.length;
  const hpaObject = hpa() as Record<string, unknown>;

  sources.deployments.emit('ADDED', applied({ replicas: 3 }) as Record<string, unknown>);
  t.equal(review(cache.context), 0, 'the workload first: no HPA yet, nothing to say');
  sources.horizontalpodautoscalers.emit('ADDED', hpaObject);
  t.equal(review(cache.context), 1, 'the HPA arrives: the next apply of the workload warns');
  sources.horizontalpodautoscalers.emit('DELETED', hpaObject);
  t.equal(review(cache.context), 0, "the HPA is deleted: replicas are the manifest's again");
});

t.test('the cluster audit (PolicyReports, audit --cluster) judges the stored objects the same way', async (t) => {
  const objects = [
    applied({ replicas: 3 }),
    { ...applied({}), metadata: { name: 'web', namespace: 'shop', uid: 'u-2' } },
    hpa(),
    hpa('web'),
  ] as Record<string, unknown>[];
  const scan = await scanCluster(listReader(objects), config);
  const found = scan.judged.flatMap((j) => j.evaluation.findings.map((f) => `${j.evaluation.name}: ${f.policy}`));
  t.same(
    found,
    ['api: hpa-managed-replicas'],
    'the recorded manifest of api sets replicas; web, stored without a record, carries only the API default',
  );
});
