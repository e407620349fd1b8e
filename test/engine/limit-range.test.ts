// LimitRange semantics as the API server applies them: the item defaulting of
// pkg/apis/core/v1/defaults.go (SetDefaults_LimitRangeItem) and the LimitRanger's merge
// (defaultContainerResourceRequirements), read from untrusted manifests.
import t from 'tap';
import { ContextIndex, limitRangeDefaults, projectLimitRange } from '../../src/engine/index.js';
import type { KubeObject } from '../../src/engine/index.js';

const limitRange = (name: string, limits: unknown, namespace: string | null = 'shop'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'LimitRange',
  metadata: namespace === null ? { name } : { name, namespace },
  spec: { limits },
});

const defaults = (limits: unknown) => {
  const d = limitRangeDefaults(limitRange('lr', limits), 'shop');
  return { limits: { ...d?.limits }, requests: { ...d?.requests } };
};

t.test('defaultRequest sets requests, default sets limits', async (t) => {
  t.same(defaults([{ type: 'Container', defaultRequest: { cpu: '100m' } }]), { limits: {}, requests: { cpu: '100m' } });
  t.same(defaults([{ type: 'Container', default: { memory: '256Mi' }, defaultRequest: { memory: '128Mi' } }]), {
    limits: { memory: '256Mi' },
    requests: { memory: '128Mi' },
  });
});

t.test('the API server defaults an item: request from the default limit, else min; limit from max', async (t) => {
  t.same(
    defaults([{ type: 'Container', default: { cpu: '500m', memory: '256Mi' } }]),
    { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '500m', memory: '256Mi' } },
    'a default limit alone is also the default request',
  );
  t.same(
    defaults([{ type: 'Container', max: { memory: '1Gi' }, min: { cpu: '50m' } }]),
    { limits: { memory: '1Gi' }, requests: { memory: '1Gi', cpu: '50m' } },
    'max becomes the default limit (and so the request); min the default request',
  );
  t.same(
    defaults([{ type: 'Container', default: { cpu: '1' }, defaultRequest: { cpu: '200m' }, min: { cpu: '10m' } }]),
    { limits: { cpu: '1' }, requests: { cpu: '200m' } },
    'what is written wins over what would be derived',
  );
});

t.test('only items of type Container default anything', async (t) => {
  t.same(
    defaults([
      { type: 'Pod', max: { cpu: '2' }, default: { cpu: '1' } },
      { type: 'PersistentVolumeClaim', min: { storage: '1Gi' } },
      { type: 'container', default: { cpu: '1' } },
      { default: { cpu: '1' } },
    ]),
    { limits: {}, requests: {} },
  );
});

t.test('several Container items merge, a later one over an earlier one', async (t) => {
  t.same(
    defaults([
      { type: 'Container', defaultRequest: { cpu: '100m', memory: '64Mi' } },
      { type: 'Container', defaultRequest: { cpu: '300m' } },
    ]),
    { limits: {}, requests: { cpu: '300m', memory: '64Mi' } },
  );
});

t.test('wrong types from untrusted input are dropped, not read as a value', async (t) => {
  t.same(defaults('everything'), { limits: {}, requests: {} }, 'limits not a list');
  t.same(defaults([null, 7, 'Container', { type: 'Container', default: 'cpu=1' }]), { limits: {}, requests: {} });
  t.same(defaults([{ type: 'Container', defaultRequest: { cpu: true, memory: null, 'ephemeral-storage': { v: 1 }, gpu: Number.NaN } }]), {
    limits: {},
    requests: {},
  });
  t.same(
    defaults([{ type: 'Container', defaultRequest: { cpu: 1 } }]),
    { limits: {}, requests: { cpu: '1' } },
    'a YAML number is a quantity',
  );
  t.equal(limitRangeDefaults({ kind: 'LimitRange', metadata: { namespace: 'shop' } }, 'shop'), undefined, 'no name');
  t.equal(projectLimitRange('LimitRange'), undefined);
});

t.test('the projection keeps only the container defaults, and projecting it again changes nothing', async (t) => {
  const full = {
    ...limitRange('defaults', [
      { type: 'Container', default: { memory: '512Mi' }, max: { memory: '1Gi' }, maxLimitRequestRatio: { cpu: '4' } },
      { type: 'Pod', max: { cpu: '4' } },
    ]),
    metadata: { name: 'defaults', namespace: 'shop', resourceVersion: '42', uid: 'u', managedFields: [{}], annotations: { a: 'b' } },
  };
  const projected = projectLimitRange(full);
  t.same(projected, {
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: { name: 'defaults', namespace: 'shop', resourceVersion: '42' },
    spec: { limits: [{ type: 'Container', default: { memory: '512Mi' }, defaultRequest: { memory: '512Mi' } }] },
  });
  t.same(projectLimitRange(projected), projected);
});

t.test('the context keeps LimitRanges per namespace, by name, and follows updates and deletions', async (t) => {
  const index = ContextIndex.fromObjects(
    [
      limitRange('b', [{ type: 'Container', defaultRequest: { cpu: '1' } }]),
      limitRange('a', [{ type: 'Container', defaultRequest: { cpu: '2' } }]),
      limitRange('elsewhere', [{ type: 'Container', defaultRequest: { cpu: '3' } }], 'other'),
      limitRange('unplaced', [{ type: 'Container', defaultRequest: { cpu: '4' } }], null),
    ],
    'dev',
  );
  t.same(
    index.limitRangesIn('shop').map((r) => r.name),
    ['a', 'b'],
  );
  t.same(
    index.limitRangesIn('other').map((r) => r.name),
    ['elsewhere'],
  );
  t.same(
    index.limitRangesIn('dev').map((r) => r.name),
    ['unplaced'],
    'a manifest without a namespace is in the default one',
  );
  index.upsert(limitRange('b', [{ type: 'Container', defaultRequest: { memory: '1Gi' } }]));
  t.same(index.limitRangesIn('shop')[1]?.requests, { memory: '1Gi' });
  index.remove(limitRange('a', []));
  t.same(
    index.limitRangesIn('shop').map((r) => r.name),
    ['b'],
  );
  index.remove(limitRange('b', []));
  t.same(index.limitRangesIn('shop'), []);
});
