// LimitRanges in the webhook's context: watched, kept as their container defaults, and what lets
// resource-requests and memory-limit admit a template whose requests a LimitRange fills in.
import t from 'tap';
import { POLICIES } from '../../policies/index.js';
import { ClusterCache } from '../../src/cluster/api/informers.js';
import { limitRangeSource } from '../../src/cluster/api/limit-range-source.js';
import { compileConfig, DEFAULT_CONFIG, evaluate } from '../../src/engine/index.js';
import type { ClusterContext, KubeObject } from '../../src/engine/index.js';
import { captureLogger, FakeClock, fakeClusterSources } from '../helpers/cluster.js';

const config = compileConfig(DEFAULT_CONFIG, POLICIES);

function setup() {
  const { logger } = captureLogger();
  const sources = fakeClusterSources();
  const readiness: boolean[] = [];
  const cache = new ClusterCache({ sources, logger, clock: new FakeClock(), onSynced: (ready) => readiness.push(ready) });
  return { sources, readiness, cache };
}

/** A LimitRange as the API server returns it: items already defaulted, metadata in full. */
const limitRange = (
  name: string,
  defaultRequest: Record<string, string>,
  namespace = 'shop',
  limits: Record<string, string> = { memory: '512Mi' },
): Record<string, unknown> => ({
  kind: 'LimitRange',
  apiVersion: 'v1',
  metadata: { namespace, name, uid: `uid-${name}`, managedFields: [{ manager: 'kubectl' }], annotations: { owner: 'platform' } },
  spec: {
    limits: [
      { type: 'Container', default: limits, defaultRequest: { ...limits, ...defaultRequest }, maxLimitRequestRatio: { cpu: '4' } },
      { type: 'Pod', max: { cpu: '4' } },
    ],
  },
});

const web: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop' },
  spec: {
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'example/web:1.0' }] } },
  },
};

const resourceFindings = (context: ClusterContext) =>
  (evaluate(web, context, config)?.findings ?? [])
    .filter((f) => f.policy === 'resource-requests' || f.policy === 'memory-limit')
    .map((f) => `${f.policy} ${f.path}`);

const UNCOVERED = [
  'resource-requests spec.template.spec.containers[0].resources.requests',
  'memory-limit spec.template.spec.containers[0].resources.limits.memory',
];

t.test('readiness waits for the LimitRange list like the others', async (t) => {
  const s = setup();
  s.sources.limitranges.listFailures = [new Error('connect ECONNREFUSED')];
  s.cache.start();
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(s.cache.isSynced, false, 'not ready while limitranges are unlisted');
  t.same(s.readiness, []);
  t.equal(s.cache.status().limitranges?.synced, false);
  await s.cache.close();
});

t.test('a LimitRange that arrives after the workload admits it; deleted, the finding is back', async (t) => {
  const s = setup();
  s.cache.start();
  await s.cache.synced;
  t.same(resourceFindings(s.cache.context), UNCOVERED, 'no LimitRange yet');

  s.sources.limitranges.emit('ADDED', limitRange('elsewhere', { cpu: '100m', memory: '128Mi' }, 'other'));
  t.same(resourceFindings(s.cache.context), UNCOVERED, "another namespace's LimitRange does not count");

  s.sources.limitranges.emit('ADDED', limitRange('defaults', { cpu: '100m' }, 'shop', {}));
  t.same(
    resourceFindings(s.cache.context),
    [
      'resource-requests spec.template.spec.containers[0].resources.requests.memory',
      'memory-limit spec.template.spec.containers[0].resources.limits.memory',
    ],
    'a cpu request defaulted, no memory request or limit',
  );
  s.sources.limitranges.emit('MODIFIED', limitRange('defaults', { cpu: '100m', memory: '128Mi' }));
  t.same(resourceFindings(s.cache.context), [], 'modified to default memory too');

  s.sources.limitranges.emit('DELETED', limitRange('defaults', {}));
  t.same(resourceFindings(s.cache.context), UNCOVERED, 'deleted: nothing fills them in any more');
  await s.cache.close();
});

t.test('a LimitRange listed before the workload is written is in the context at sync', async (t) => {
  const s = setup();
  s.sources.limitranges.put(limitRange('defaults', { cpu: '100m', memory: '128Mi' }));
  s.cache.start();
  await s.cache.synced;
  t.same(resourceFindings(s.cache.context), []);
  t.equal(s.cache.status().limitranges?.objects, 1);
  await s.cache.close();
});

t.test('what is kept of a LimitRange is its container defaults, not the object', async (t) => {
  const s = setup();
  s.sources.limitranges.put(limitRange('defaults', { cpu: '100m' }));
  s.cache.start();
  await s.cache.synced;
  t.same(s.cache.context.limitRangesIn?.('shop'), [
    { namespace: 'shop', name: 'defaults', limits: { memory: '512Mi' }, requests: { memory: '512Mi', cpu: '100m' } },
  ]);
  const page = await limitRangeSource(s.sources.limitranges).list();
  t.same(
    page.items,
    [
      {
        apiVersion: 'v1',
        kind: 'LimitRange',
        metadata: { name: 'defaults', namespace: 'shop', resourceVersion: '101' },
        spec: { limits: [{ type: 'Container', default: { memory: '512Mi' }, defaultRequest: { memory: '512Mi', cpu: '100m' } }] },
      },
    ],
    'the reflector holds the projection: no managedFields, annotations, bounds or Pod items',
  );
  await s.cache.close();
});
