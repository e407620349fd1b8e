import t from 'tap';
import type { Test } from 'tap';
import { KubeClients, REPORT_PAGE_SIZE } from '../../src/cluster/api/client.js';
import { isConflict, isNotFound, statusOf } from '../../src/cluster/api/errors.js';
import type { WatchEvent } from '../../src/cluster/api/reflector.js';
import { SCAN_KINDS } from '../../src/cluster/scan/scanner.js';
import { flush } from '../helpers/cluster.js';
import { FakeKubeApi } from '../helpers/kube-api.js';
import { waitUntil } from '../helpers/poll.js';

const kind = (name: string) => {
  const found = SCAN_KINDS.find((k) => k.kind === name);
  if (!found) throw new Error(name);
  return found;
};

async function setup(t: Test) {
  const api = await new FakeKubeApi().start();
  t.teardown(() => api.stop());
  return { api, clients: new KubeClients(api.kubeConfig()) };
}

t.test('lists every page and stamps nothing itself (the reflector does)', async (t) => {
  const { api, clients } = await setup(t);
  api.pageSize = 2;
  for (const name of ['a', 'b', 'c', 'd', 'e']) api.put('apps/v1/deployments', { metadata: { namespace: 'shop', name } });
  const page = await clients.listAll(kind('Deployment'));
  t.same(
    page.items.map((i) => (i as { metadata: { name: string } }).metadata.name),
    ['a', 'b', 'c', 'd', 'e'],
    'all five, over three pages',
  );
  const lists = api.requests.filter((r) => r.path === '/apis/apps/v1/deployments');
  t.equal(lists.length, 3);
  t.equal(lists[0]?.query.get('limit'), '500');
  t.equal(lists[1]?.query.get('continue'), '2');
  t.ok(page.resourceVersion !== '', 'the collection resourceVersion, for the watch');

  const one = await clients.listAll(kind('Deployment'), { namespace: 'other' });
  t.same(one.items, []);
  t.ok(
    api.requests.some((r) => r.path === '/apis/apps/v1/namespaces/other/deployments'),
    'namespaced path with --namespace',
  );
});

t.test('a list can project its items page by page, dropping some (the workload informers keep projections)', async (t) => {
  const { api, clients } = await setup(t);
  api.pageSize = 2;
  const owner = [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'u', controller: true }];
  for (const name of ['a', 'b', 'c'])
    api.put('apps/v1/replicasets', {
      metadata: { namespace: 'shop', name, ...(name === 'b' ? { ownerReferences: owner } : {}) },
      spec: { replicas: 2 },
    });
  const seen: string[] = [];
  const page = await clients
    .listerWatcher(kind('ReplicaSet'), {
      project: (item) => {
        const meta = (item as { metadata: { name: string; ownerReferences?: unknown } }).metadata;
        seen.push(meta.name);
        return meta.ownerReferences ? undefined : { name: meta.name };
      },
    })
    .list();
  t.same(page.items, [{ name: 'a' }, { name: 'c' }], 'what the projection returned, without what it dropped');
  t.same(seen, ['a', 'b', 'c'], 'every item of every page went through it');
  t.ok(page.resourceVersion !== '');
});

t.test("a listed LimitRange keeps its items' default limits, which client-node's model calls _default", async (t) => {
  const { api, clients } = await setup(t);
  const limits = [{ type: 'Container', default: { memory: '256Mi' }, defaultRequest: { cpu: '100m', memory: '128Mi' } }];
  api.put('v1/limitranges', { metadata: { namespace: 'shop', name: 'defaults' }, spec: { limits } });
  const page = await clients.listAll(kind('LimitRange'));
  t.match(page.items, [{ spec: { limits: [{ type: 'Container', default: { memory: '256Mi' }, defaultRequest: { cpu: '100m' } }] } }]);
  t.notOk('_default' in ((page.items[0] as { spec: { limits: object[] } }).spec.limits[0] ?? {}));
  const scanned = await clients.clusterReader().list(kind('LimitRange'), 'shop');
  t.match(scanned, [{ spec: { limits: [{ default: { memory: '256Mi' } }] } }], 'the cluster scan reads it the same way');
});

t.test('a watch delivers events, and a refused watch reports its HTTP status', async (t) => {
  const { api, clients } = await setup(t);
  const lw = clients.listerWatcher(kind('PodDisruptionBudget'));
  const events: WatchEvent[] = [];
  let done: unknown = 'not yet';
  const handle = await lw.watch(
    '1000',
    (e) => events.push(e),
    (err) => (done = err),
    { timeoutSeconds: 321 },
  );
  await flush();
  const watchRequest = api.requests.find((r) => r.query.get('watch') === 'true');
  t.equal(watchRequest?.path, '/apis/policy/v1/poddisruptionbudgets');
  t.equal(watchRequest?.query.get('resourceVersion'), '1000');
  t.equal(watchRequest?.query.get('allowWatchBookmarks'), 'true');
  t.equal(watchRequest?.query.get('timeoutSeconds'), '321', "the reflector's timeout, which its watchdog counts on");

  api.put('policy/v1/poddisruptionbudgets', { metadata: { namespace: 'shop', name: 'web' } });
  api.sendToWatches('policy/v1/poddisruptionbudgets', { type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
  await waitUntil('two watch events', () => events.length >= 2);
  t.match(events, [
    { type: 'ADDED', object: { metadata: { name: 'web' } } },
    { type: 'ERROR', object: { code: 410 } },
  ]);
  handle.abort();

  api.failures.set('GET /apis/policy/v1/poddisruptionbudgets', [410]);
  await lw.watch(
    '1',
    () => {},
    (err) => (done = err),
    { timeoutSeconds: 300 },
  );
  await waitUntil('the watch to end', () => done !== 'not yet');
  t.equal(statusOf(done), 410, 'a refused watch ends with its status code');
});

t.test('aborting a watch ends the stream (what the watchdog does to a silent connection)', async (t) => {
  const { api, clients } = await setup(t);
  const lw = clients.listerWatcher(kind('PodDisruptionBudget'));
  let done: unknown = 'not yet';
  const handle = await lw.watch(
    '1000',
    () => {},
    (err) => (done = err),
    { timeoutSeconds: 300 },
  );
  await waitUntil('the watch to open', () => api.openWatches > 0);
  t.equal(api.openWatches, 1);
  handle.abort();
  await waitUntil('the watch to close', () => api.openWatches === 0);
  t.equal(api.openWatches, 0, 'the connection is closed, not left half-open');
  t.not(done, 'not yet', 'and onDone is called');
});

t.test('Secret store: 404 is absent, data is decoded, a stale update is a conflict, type and labels are kept', async (t) => {
  const { api, clients } = await setup(t);
  const store = clients.secretStore('practice-gate', 'practice-gate-tls');
  t.equal(await store.get(), undefined);

  const created = await store.create({ data: { 'tls.crt': 'CERT', 'tls.key': 'KEY' }, annotations: { a: '1' } });
  const sent = api.requests.find((r) => r.method === 'POST')?.body as {
    type: string;
    data: Record<string, string>;
    metadata: { labels: Record<string, string> };
  };
  t.equal(sent.type, 'kubernetes.io/tls');
  t.equal(sent.data['tls.crt'], Buffer.from('CERT').toString('base64'), 'data sent base64-encoded');
  t.equal(sent.metadata.labels['app.kubernetes.io/managed-by'], 'practice-gate');
  t.same(created.data, { 'tls.crt': 'CERT', 'tls.key': 'KEY' }, 'and read back decoded');

  const updated = await store.update(created.resourceVersion, { data: { 'tls.crt': 'NEW', 'tls.key': 'KEY' }, annotations: {} });
  t.equal(updated.data['tls.crt'], 'NEW');
  t.equal((api.get('v1/secrets', 'practice-gate', 'practice-gate-tls') as { type: string }).type, 'kubernetes.io/tls', 'type kept');
  const stale = await store.update(created.resourceVersion, { data: {}, annotations: {} }).catch((e: unknown) => e);
  t.ok(isConflict(stale), 'an update from an old resourceVersion is a 409 conflict');

  // Another replica writes between our read and our PUT: the API server's own 409 must be recognised too.
  const current = await store.get();
  api.failures.set('PUT /api/v1/namespaces/practice-gate/secrets/practice-gate-tls', [409]);
  const raced = await store
    .update(current?.resourceVersion ?? '', { data: { 'tls.crt': 'LOST' }, annotations: {} })
    .catch((e: unknown) => e);
  t.ok(isConflict(raced), "a 409 from the API server's replace is a conflict the cert manager retries on");
  t.equal((await store.get())?.data['tls.crt'], 'NEW', 'nothing was overwritten');
});

t.test('webhook store: caBundles by name, undefined when absent, strategic-merge patch by webhook name', async (t) => {
  const { api, clients } = await setup(t);
  const store = clients.webhookStore('practice-gate');
  t.equal(await store.caBundles(), undefined);
  api.put('admissionregistration.k8s.io/v1/validatingwebhookconfigurations', {
    metadata: { name: 'practice-gate' },
    webhooks: [
      { name: 'a.practice-gate.io', clientConfig: { service: { name: 'practice-gate', namespace: 'pg' } } },
      { name: 'b.practice-gate.io', clientConfig: { caBundle: 'b2xk' } },
    ],
  });
  t.same(
    [...((await store.caBundles()) ?? [])],
    [
      ['a.practice-gate.io', ''],
      ['b.practice-gate.io', 'b2xk'],
    ],
  );

  await store.setCaBundle(['a.practice-gate.io', 'b.practice-gate.io'], 'bmV3');
  const patch = api.requests.find((r) => r.method === 'PATCH');
  t.equal(patch?.contentType, 'application/strategic-merge-patch+json');
  t.same(patch?.body, {
    webhooks: [
      { name: 'a.practice-gate.io', clientConfig: { caBundle: 'bmV3' } },
      { name: 'b.practice-gate.io', clientConfig: { caBundle: 'bmV3' } },
    ],
  });
  t.same([...((await store.caBundles()) ?? []).values()], ['bmV3', 'bmV3']);
});

t.test('lease store: MicroTime sent with microseconds, read back as milliseconds; conflicts surface as 409', async (t) => {
  const { api, clients } = await setup(t);
  const store = clients.leaseStore('practice-gate', 'practice-gate-audit');
  t.equal(await store.get(), undefined);
  const at = Date.UTC(2030, 0, 1, 0, 0, 0, 123);
  const created = await store.create({
    holderIdentity: 'pod-a',
    leaseDurationSeconds: 15,
    acquireTime: at,
    renewTime: at,
    leaseTransitions: 0,
  });
  const sent = api.requests.find((r) => r.method === 'POST')?.body as { spec: { renewTime: string } };
  t.equal(sent.spec.renewTime, '2030-01-01T00:00:00.123000Z', 'RFC 3339 with microseconds, as the API server requires');
  t.same(created.record, { holderIdentity: 'pod-a', leaseDurationSeconds: 15, leaseTransitions: 0, acquireTime: at, renewTime: at });

  await store.update(created.resourceVersion, {
    holderIdentity: 'pod-a',
    leaseDurationSeconds: 15,
    acquireTime: at,
    renewTime: at + 2000,
    leaseTransitions: 0,
  });
  const again = await store
    .update(created.resourceVersion, {
      holderIdentity: 'pod-b',
      leaseDurationSeconds: 15,
      acquireTime: at,
      renewTime: at,
      leaseTransitions: 1,
    })
    .catch((e: unknown) => e);
  t.ok(isConflict(again));
  t.equal((await store.get())?.record.holderIdentity, 'pod-a');
});

t.test('PolicyReport store: 404 without the CRD; lists only practice-gate reports', async (t) => {
  const { api, clients } = await setup(t);
  const store = clients.policyReportStore();
  api.missing.add('wgpolicyk8s.io/v1alpha2');
  t.ok(isNotFound(await store.list().catch((e: unknown) => e)), 'a missing CRD is a 404 the publisher can recognise');
  api.missing.clear();

  const report = {
    apiVersion: 'wgpolicyk8s.io/v1alpha2',
    kind: 'PolicyReport' as const,
    metadata: { name: 'practice-gate', namespace: 'shop', labels: { 'app.kubernetes.io/managed-by': 'practice-gate' } },
    summary: { pass: 1, fail: 0, warn: 0, error: 0, skip: 0 },
    results: [],
  };
  await store.create(report);
  api.put('wgpolicyk8s.io/v1alpha2/policyreports', {
    metadata: { name: 'kyverno', namespace: 'shop', labels: { 'app.kubernetes.io/managed-by': 'kyverno' } },
  });
  const listed = await store.list();
  t.same(
    listed.map((r) => r.metadata.name),
    ['practice-gate'],
  );
  t.equal(
    api.requests.find((r) => r.path === '/apis/wgpolicyk8s.io/v1alpha2/policyreports')?.query.get('labelSelector'),
    'app.kubernetes.io/managed-by=practice-gate',
  );

  const current = listed[0];
  if (!current) throw new Error('no report');
  await store.replace({
    ...report,
    metadata: { ...report.metadata, resourceVersion: current.metadata.resourceVersion ?? '' },
    summary: { ...report.summary, fail: 1 },
  });
  t.equal((api.get('wgpolicyk8s.io/v1alpha2/policyreports', 'shop', 'practice-gate') as { summary: { fail: number } }).summary.fail, 1);
  await store.delete('shop', 'practice-gate');
  t.equal(api.get('wgpolicyk8s.io/v1alpha2/policyreports', 'shop', 'practice-gate'), undefined);
});

t.test('PolicyReport store: the cluster-wide list is paged', async (t) => {
  const { api, clients } = await setup(t);
  const store = clients.policyReportStore();
  api.pageSize = 2;
  for (const namespace of ['a', 'b', 'c', 'd', 'e']) {
    api.put('wgpolicyk8s.io/v1alpha2/policyreports', {
      metadata: { name: 'practice-gate', namespace, labels: { 'app.kubernetes.io/managed-by': 'practice-gate' } },
    });
  }
  const listed = await store.list();
  t.same(
    listed.map((r) => r.metadata.namespace),
    ['a', 'b', 'c', 'd', 'e'],
    'all five, over three pages',
  );
  const lists = api.requests.filter((r) => r.path === '/apis/wgpolicyk8s.io/v1alpha2/policyreports');
  t.equal(lists.length, 3);
  t.equal(lists[0]?.query.get('limit'), String(REPORT_PAGE_SIZE));
  t.equal(lists[0]?.query.get('continue'), null);
  t.equal(lists[1]?.query.get('continue'), '2');
  t.equal(lists[2]?.query.get('continue'), '4');
  t.ok(
    lists.every((r) => r.query.get('labelSelector') === 'app.kubernetes.io/managed-by=practice-gate'),
    'every page with the selector',
  );
});
