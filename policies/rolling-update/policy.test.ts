import t from 'tap';
import type { KubeObject } from '../../src/engine/index.js';
import { examples, judge } from '../../test/helpers/manifests.js';
import { amountOf, resolveFenceposts } from './fenceposts.js';
import policy from './policy.js';

const { good, bad, get } = examples('rolling-update');
const context = [...bad.values()];
const judged = (obj: KubeObject) => policy.kinds.includes(String(obj.kind));

function deployment(spec: Record<string, unknown>, name = 'd'): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: { ...spec, template: { spec: { containers: [{ name: 'a' }] } } },
  };
}
function statefulSet(spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 's', ...metadata },
    spec: { ...spec, template: { spec: { containers: [{ name: 'a' }] } } },
  };
}
const hpa = (target: string, min: unknown, max: unknown): KubeObject => ({
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  metadata: { name: `${target}-hpa` },
  spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: target }, minReplicas: min, maxReplicas: max },
});
const paths = (obj: KubeObject, ctx: KubeObject[] = []) => judge(policy, obj, ctx).map((f) => f.path);

t.test('good examples pass', async (t) => {
  for (const [name, obj] of good) if (judged(obj)) t.same(judge(policy, obj, good.values()), [], name);
});

t.test('every bad example fails', async (t) => {
  for (const [name, obj] of bad) if (judged(obj)) t.not(judge(policy, obj, context).length, 0, name);
});

t.test('Recreate on a replicated Deployment warns; on one replica it is the right tool', async (t) => {
  const findings = judge(policy, get('recreate'));
  t.equal(findings.length, 1);
  t.match(findings[0], { policy: 'rolling-update', action: 'warn', path: 'spec.strategy.type', remediation: policy.fix });
  t.match(findings[0]?.message, /Recreate stops all 3 replicas at once: set type RollingUpdate/);
  t.same(paths(deployment({ replicas: 1, strategy: { type: 'Recreate' } })), []);
  t.same(paths(deployment({ strategy: { type: 'Recreate' } })), [], 'replicas defaults to 1');
  t.same(paths(deployment({ replicas: 0, strategy: { type: 'Recreate' } })), [], 'scaled to zero');
});

t.test('an HPA that may scale to two or more makes a Deployment replicated, whichever arrives first', async (t) => {
  const workload = get('recreate-hpa');
  t.match(judge(policy, workload, context)[0]?.message, /stops all 2 replicas \(HPA "recreate-hpa-scaler"\)/);
  t.same(judge(policy, workload), [], 'without the HPA: one replica');
  t.same(paths(workload, [hpa('recreate-hpa', 1, 1)]), [], 'an HPA that keeps one replica');
  t.same(paths(workload, [hpa('other', 2, 5)]), [], 'an HPA of another workload');
  t.same(paths(workload, [hpa('recreate-hpa', 'x', 'y')]), [], 'an HPA without a readable maxReplicas');
  const unavailable = deployment({ replicas: 1, strategy: { rollingUpdate: { maxUnavailable: 3 } } }, 'u');
  t.same(paths(unavailable, [hpa('u', 1, 10)]), ['spec.strategy.rollingUpdate.maxUnavailable'], 'at its floor of two (min 1), 3 stops all');
  t.same(paths(unavailable, [hpa('u', 4, 10)]), [], 'with a floor of four, 3 leaves one');
});

t.test('maxUnavailable resolving to every replica warns, rounded down as the controller rounds it', async (t) => {
  t.match(
    judge(policy, get('all-unavailable-percent'))[0]?.message,
    /maxUnavailable 100% stops all 4 replicas at once: set maxUnavailable: 0/,
  );
  t.same(paths(get('all-unavailable-count')), ['spec.strategy.rollingUpdate.maxUnavailable']);
  const at = (replicas: number, maxUnavailable: unknown, maxSurge: unknown = 1) =>
    paths(deployment({ replicas, strategy: { rollingUpdate: { maxUnavailable, maxSurge } } })).length;
  t.equal(at(2, '99%'), 0, '99% of 2 is 1.98: one');
  t.equal(at(100, '99%'), 0, '99% of 100 is 99');
  t.equal(at(3, '100%'), 1);
  t.equal(at(3, 3), 1);
  t.equal(at(3, 5), 1, 'more than the replicas');
  t.equal(at(4, 3), 0);
  t.equal(at(2, '50%'), 0, '50% of 2 is one of two');
  t.equal(at(2, '25%', '0%'), 0, 'both resolve to zero: the controller allows one unavailable, not all');
  t.equal(
    paths(deployment({ replicas: 2, strategy: { type: 'RollingUpdate', rollingUpdate: null } })).length,
    0,
    'null rollingUpdate: the 25% default',
  );
});

t.test('the controller rounds maxSurge up and maxUnavailable down, and never resolves both to zero', async (t) => {
  const resolve = (surge: string | number, unavailable: string | number, replicas: number) => {
    const s = amountOf(surge);
    const u = amountOf(unavailable);
    if (!s || !u) throw new Error('bad amount');
    return resolveFenceposts(s, u, replicas);
  };
  t.same(resolve('25%', '25%', 10), { surge: 3, unavailable: 2 }, '2.5 → surge 3, unavailable 2');
  t.same(resolve('10%', '10%', 5), { surge: 1, unavailable: 0 });
  t.same(resolve('0%', '25%', 3), { surge: 0, unavailable: 1 }, 'both zero: one unavailable');
  t.same(resolve(0, '100%', 0), { surge: 0, unavailable: 1 });
  t.same(resolve(2, 1, 10), { surge: 2, unavailable: 1 }, 'counts are not scaled');
  for (const value of ['25', '25 %', '-5%', '1.5%', '%', -1, 1.5, true, null, {}, []])
    t.equal(amountOf(value), undefined, JSON.stringify(value));
});

t.test('values the API refuses are reported, never read as a default', async (t) => {
  t.match(
    judge(policy, get('unavailable-not-an-amount'))[0]?.message,
    /maxUnavailable 25 is not a count or a percentage: set maxUnavailable: 0/,
  );
  t.match(judge(policy, get('strategy-wrong-case'))[0]?.message, /unknown strategy type rollingUpdate \(case matters\)/);
  t.same(paths(deployment({ replicas: 3, strategy: { rollingUpdate: { maxSurge: 'x' } } })), ['spec.strategy.rollingUpdate.maxSurge']);
  t.same(paths(deployment({ strategy: 'Recreate' })), ['spec.strategy']);
  t.same(paths(deployment({ strategy: { rollingUpdate: [] } })), ['spec.strategy.rollingUpdate']);
  t.same(paths(deployment({ strategy: { type: 5 } })), ['spec.strategy.type']);
  t.same(
    paths(deployment({ replicas: 1, strategy: { rollingUpdate: { maxUnavailable: -1 } } })),
    ['spec.strategy.rollingUpdate.maxUnavailable'],
    'also on one replica',
  );
  t.doesNotThrow(() => judge(policy, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: 'x' }));
  t.same(paths(deployment({ replicas: '3', strategy: { type: 'Recreate' } })), [], 'replicas the API refuses: the default 1');
});

t.test('StatefulSet: OnDelete nobody owns warns; maxUnavailable of every replica warns', async (t) => {
  const onDelete = judge(policy, get('on-delete'));
  t.match(onDelete[0], { path: 'spec.updateStrategy.type', action: 'warn' });
  t.match(onDelete[0]?.message, /OnDelete updates only pods you delete: set updateStrategy type RollingUpdate/);
  t.same(paths(statefulSet({ replicas: 1, updateStrategy: { type: 'OnDelete' } })), ['spec.updateStrategy.type'], 'whatever the replicas');
  const owned = { ownerReferences: [{ apiVersion: 'x/v1', kind: 'Cluster', name: 'c', uid: 'u', controller: true }] };
  t.same(paths(statefulSet({ updateStrategy: { type: 'OnDelete' } }, owned)), [], 'an operator rolls its own pods');
  t.match(
    judge(policy, get('statefulset-all-unavailable'))[0]?.message,
    /maxUnavailable 3 stops all 3 replicas at once: set maxUnavailable: 1/,
  );
  t.same(
    paths(statefulSet({ replicas: 3, updateStrategy: { rollingUpdate: { maxUnavailable: '66%' } } })),
    [],
    '66% of 3 rounds down to 1',
  );
  t.same(
    paths(statefulSet({ replicas: 2, updateStrategy: { rollingUpdate: { maxUnavailable: '1%' } } })),
    [],
    'rounds to 0, the controller takes 1',
  );
  t.same(
    paths(statefulSet({ replicas: 3, updateStrategy: { rollingUpdate: { partition: 3 } } })),
    [],
    'a partition stages a rollout on purpose',
  );
  t.same(
    paths(statefulSet({ replicas: 3, updateStrategy: { type: 'Recreate' } })),
    ['spec.updateStrategy.type'],
    'StatefulSets have no Recreate',
  );
  t.same(paths(statefulSet({ updateStrategy: 'OnDelete' })), ['spec.updateStrategy']);
  t.same(paths(statefulSet({ replicas: 3, updateStrategy: { rollingUpdate: { maxUnavailable: '3' } } })), [
    'spec.updateStrategy.rollingUpdate.maxUnavailable',
  ]);
});
