import t from 'tap';
import { Registry } from 'prom-client';
import { ClusterCache } from '../../src/cluster/api/informers.js';
import { WATCHDOG_MARGIN_MS } from '../../src/cluster/api/reflector.js';
import { captureLogger, FakeClock, FakeResource, flush, httpError, networkError, WARN } from '../helpers/cluster.js';
import { metaOf } from '../../src/engine/index.js';

const backoff = { initialMs: 1000, maxMs: 8000, jitter: 0 };

function setup() {
  const clock = new FakeClock();
  const { logger, lines } = captureLogger();
  const namespaces = new FakeResource();
  const pdbs = new FakeResource();
  const hpas = new FakeResource();
  const deployments = new FakeResource();
  const statefulsets = new FakeResource();
  const replicasets = new FakeResource();
  const replicationcontrollers = new FakeResource();
  const limitranges = new FakeResource();
  const networkpolicies = new FakeResource();
  const readiness: boolean[] = [];
  const registry = new Registry();
  const cache = new ClusterCache({
    sources: {
      namespaces,
      poddisruptionbudgets: pdbs,
      horizontalpodautoscalers: hpas,
      deployments,
      statefulsets,
      replicasets,
      replicationcontrollers,
      limitranges,
      networkpolicies,
    },
    logger,
    clock,
    backoff,
    registry,
    onSynced: (ready) => readiness.push(ready),
  });
  return {
    clock,
    lines,
    namespaces,
    pdbs,
    hpas,
    deployments,
    statefulsets,
    replicasets,
    replicationcontrollers,
    limitranges,
    networkpolicies,
    readiness,
    registry,
    cache,
  };
}

const ns = (name: string, labels: Record<string, string> = {}) => ({ kind: 'Namespace', apiVersion: 'v1', metadata: { name, labels } });
const pdb = (namespace: string, name: string, app = name) => ({
  kind: 'PodDisruptionBudget',
  apiVersion: 'policy/v1',
  metadata: { namespace, name },
  spec: { minAvailable: 1, selector: { matchLabels: { app } } },
});
const hpa = (namespace: string, name: string, target: string) => ({
  kind: 'HorizontalPodAutoscaler',
  apiVersion: 'autoscaling/v2',
  metadata: { namespace, name },
  spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: target }, minReplicas: 2, maxReplicas: 5 },
});
const pdbNames = (cache: ClusterCache, namespace: string) =>
  cache.context
    .pdbsIn(namespace)
    .map((p) => metaOf(p).name)
    .sort();

async function staleness(registry: Registry, resource: string): Promise<number> {
  const metric = await registry.getSingleMetric('practice_gate_cache_staleness_seconds')?.get();
  const value = metric?.values.find((v) => v.labels.resource === resource)?.value;
  if (value === undefined) throw new Error(`no staleness sample for ${resource}`);
  return value;
}

t.test('the context is filled by the first lists and followed by the watches', async (t) => {
  const s = setup();
  s.namespaces.put(ns('shop', { 'practice-gate.io/mode': 'audit' }));
  s.pdbs.put(pdb('shop', 'web'));
  s.hpas.put(hpa('shop', 'web', 'web'));
  const listed = s.pdbs.resourceVersion;
  s.cache.start();
  await s.cache.synced;

  t.same(s.readiness, [true], 'readiness is reported once every resource is listed');
  // List items come without kind; the cache must still file them under the right kind.
  t.equal(s.cache.context.namespaceLabels('shop')?.['practice-gate.io/mode'], 'audit');
  t.same(pdbNames(s.cache, 'shop'), ['web']);
  t.equal(s.cache.context.hpasTargeting('shop', 'Deployment', 'web').length, 1);

  s.pdbs.emit('ADDED', pdb('shop', 'api'));
  s.namespaces.emit('MODIFIED', ns('shop', { 'practice-gate.io/mode': 'enforce' }));
  s.hpas.emit('DELETED', hpa('shop', 'web', 'web'));
  t.same(pdbNames(s.cache, 'shop'), ['api', 'web']);
  t.equal(s.cache.context.namespaceLabels('shop')?.['practice-gate.io/mode'], 'enforce');
  t.equal(s.cache.context.hpasTargeting('shop', 'Deployment', 'web').length, 0);
  t.equal(s.pdbs.watchCalls[0]?.resourceVersion, listed, 'the watch starts from the list resourceVersion');
  t.equal(await staleness(s.registry, 'poddisruptionbudgets'), 0, 'an open watch is not stale');
  await s.cache.close();
});

t.test('an unreachable API server at start: not ready, retried with backoff until it answers', async (t) => {
  const s = setup();
  s.pdbs.put(pdb('shop', 'web'));
  s.pdbs.listFailures = [networkError(), networkError(), httpError(503)];
  s.cache.start();
  await flush();

  t.equal(s.cache.isSynced, false);
  t.same(s.readiness, [], 'not ready while PodDisruptionBudgets cannot be listed');
  t.equal(s.pdbs.listCalls, 1);
  const warning = s.lines.find((l) => l.level === WARN && l.resource === 'poddisruptionbudgets');
  t.match(warning, { event: 'watch-failed', synced: false, msg: /not ready/ }, 'the failure is logged');

  await s.clock.advance(1000);
  t.equal(s.pdbs.listCalls, 2, 'first retry after the initial backoff');
  await s.clock.advance(1999);
  t.equal(s.pdbs.listCalls, 2, 'the second retry waits twice as long');
  await s.clock.advance(1);
  t.equal(s.pdbs.listCalls, 3);
  await s.clock.advance(4000);
  await s.cache.synced;
  t.same(s.readiness, [true]);
  t.same(pdbNames(s.cache, 'shop'), ['web']);
  t.ok((await staleness(s.registry, 'poddisruptionbudgets')) === 0);
  await s.cache.close();
});

t.test('a broken watch keeps the last known state, says how stale it is, and resumes without a re-list', async (t) => {
  const s = setup();
  s.pdbs.put(pdb('shop', 'web'));
  s.cache.start();
  await s.cache.synced;
  await s.clock.advance(5000);
  s.pdbs.emit('ADDED', pdb('shop', 'api'));
  const resumeFrom = s.pdbs.resourceVersion;

  s.pdbs.watchRefusals = [networkError(), networkError()];
  s.pdbs.closeWatch(networkError('ECONNRESET'));
  await flush();
  t.same(pdbNames(s.cache, 'shop'), ['api', 'web'], 'reviews still see the last known PodDisruptionBudgets');
  t.equal(s.cache.isSynced, true, 'readiness is not withdrawn');

  await s.clock.advance(1000); // first retry: refused
  await s.clock.advance(2000); // second retry: refused
  t.equal(await staleness(s.registry, 'poddisruptionbudgets'), 3, 'the gauge counts seconds since the watch broke');
  const last = s.lines.filter((l) => l.event === 'watch-failed').at(-1);
  t.match(last, { level: WARN, resource: 'poddisruptionbudgets', synced: true, staleSeconds: 3, msg: /last known state/ });

  await s.clock.advance(4000); // third retry opens
  t.ok(s.pdbs.openWatch, 'watching again');
  t.equal(s.pdbs.listCalls, 1, 'no re-list: the watch resumed');
  t.equal(s.pdbs.openWatch?.resourceVersion, resumeFrom, 'from the last resourceVersion seen');
  t.equal(await staleness(s.registry, 'poddisruptionbudgets'), 0);
  t.match(s.lines.at(-1), { event: 'watch-resumed', staleSeconds: 7 });
  await s.cache.close();
});

t.test('a half-open watch connection does not read as current forever: the watchdog breaks it and the gauge says so', async (t) => {
  const s = setup();
  s.pdbs.put(pdb('shop', 'web'));
  s.cache.start();
  await s.cache.synced;
  await flush();
  const timeoutSeconds = s.pdbs.openWatch?.options?.timeoutSeconds;
  if (timeoutSeconds === undefined) throw new Error('no watch open');
  const dead = s.pdbs.openWatch;

  // The connection dies silently: no error, no close, nothing more on the stream.
  await s.clock.advance(timeoutSeconds * 1000);
  t.equal(await staleness(s.registry, 'poddisruptionbudgets'), 0, 'indistinguishable from a quiet watch up to its timeout');
  await s.clock.advance(WATCHDOG_MARGIN_MS);
  t.ok(dead?.abortedByClient, 'given up on after timeoutSeconds plus the margin');
  t.equal(
    await staleness(s.registry, 'poddisruptionbudgets'),
    timeoutSeconds + WATCHDOG_MARGIN_MS / 1000,
    'and the gauge counts from the last sign of life',
  );
  t.equal(s.cache.status().poddisruptionbudgets?.watching, false);
  t.same(pdbNames(s.cache, 'shop'), ['web'], 'reviews still see the last known state');

  await s.clock.advance(1000);
  t.equal(s.pdbs.watchCalls.length, 2, 'watching again');
  t.equal(await staleness(s.registry, 'poddisruptionbudgets'), 0);
  await s.cache.close();
});

t.test('410 Gone in the stream: list again, and drop what was deleted in the gap', async (t) => {
  const s = setup();
  s.pdbs.put(pdb('shop', 'web'));
  s.pdbs.put(pdb('shop', 'old'));
  s.cache.start();
  await s.cache.synced;
  await s.clock.advance(60_000);

  // While the watch was behind, one PDB went away and another appeared.
  s.pdbs.delete('shop', 'old');
  s.pdbs.put(pdb('shop', 'new'));
  s.pdbs.emitRaw({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' } });
  await flush();

  t.equal(s.pdbs.listCalls, 2, 'listed again');
  t.same(pdbNames(s.cache, 'shop'), ['new', 'web']);
  t.equal(s.pdbs.openWatch?.resourceVersion, s.pdbs.resourceVersion, 'watching from the new list');
  t.notOk(
    s.lines.some((l) => l.level >= WARN),
    'a routine expiry is not a warning',
  );
  await s.cache.close();
});

t.test('a watch refused with 410 lists again instead of retrying the same resourceVersion', async (t) => {
  const s = setup();
  s.hpas.put(hpa('shop', 'web', 'web'));
  s.cache.start();
  await s.cache.synced;
  await s.clock.advance(60_000);
  s.hpas.delete('shop', 'web');
  s.hpas.watchRefusals = [httpError(410, 'Gone')];
  s.hpas.closeWatch(); // a routine close; the resumed watch is refused
  await s.clock.advance(2000);

  t.equal(s.hpas.listCalls, 2);
  t.equal(s.cache.context.hpasTargeting('shop', 'Deployment', 'web').length, 0, 'the HPA deleted in the gap is gone');
  t.ok(s.hpas.openWatch);
  await s.cache.close();
});

t.test('a clean close after a long watch resumes at once; an instant close backs off', async (t) => {
  const s = setup();
  s.cache.start();
  await s.cache.synced;
  await s.clock.advance(300_000);
  s.namespaces.closeWatch();
  await flush();
  t.equal(s.namespaces.watchCalls.length, 2, 'resumed at once');
  t.equal(s.namespaces.listCalls, 1);

  s.namespaces.closeWatch();
  await flush();
  t.equal(s.namespaces.watchCalls.length, 2, 'a stream that ends as it opens is not reopened in a loop');
  await s.clock.advance(1000);
  t.equal(s.namespaces.watchCalls.length, 3);
  await s.cache.close();
});

t.test('close stops every watch and retry', async (t) => {
  const s = setup();
  s.pdbs.listFailures = [networkError()];
  s.cache.start();
  await flush();
  await s.cache.close();
  t.equal(s.clock.pending, 0, 'no retry left waiting');
  t.notOk(s.namespaces.openWatch, 'watches aborted');
  t.equal(await s.registry.getSingleMetric('practice_gate_cache_staleness_seconds'), undefined, 'gauge unregistered');
});
