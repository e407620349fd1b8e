import t from 'tap';
import { Reflector, WATCHDOG_MARGIN_MS } from '../../src/cluster/api/reflector.js';
import type { ListerWatcher, ReflectorOptions } from '../../src/cluster/api/reflector.js';
import type { KubeObject } from '../../src/engine/k8s.js';
import { captureLogger, FakeClock, FakeResource, flush, httpError, WARN } from '../helpers/cluster.js';

const TIMEOUT_S = 300;
/** How long a watch may stay silent: its timeoutSeconds plus the margin. */
const LIMIT_MS = TIMEOUT_S * 1000 + WATCHDOG_MARGIN_MS;

function setup(extra: Partial<ReflectorOptions> = {}) {
  const clock = new FakeClock();
  const { logger, lines } = captureLogger();
  const pdbs = new FakeResource();
  const names = new Set<string>();
  const nameOf = (o: KubeObject) => String((o.metadata as { name?: unknown } | undefined)?.name);
  const reflector = new Reflector({
    resource: 'poddisruptionbudgets',
    kind: 'PodDisruptionBudget',
    apiVersion: 'policy/v1',
    source: pdbs,
    sink: { upsert: (o) => names.add(nameOf(o)), remove: (o) => names.delete(nameOf(o)) },
    logger,
    clock,
    backoff: { initialMs: 1000, maxMs: 8000, jitter: 0 },
    watchTimeoutSeconds: TIMEOUT_S,
    ...extra,
  });
  return { clock, lines, pdbs, names, reflector };
}

const pdb = (name: string) => ({ kind: 'PodDisruptionBudget', apiVersion: 'policy/v1', metadata: { namespace: 'shop', name } });
const bookmark = (resourceVersion: string) => ({
  type: 'BOOKMARK',
  object: { kind: 'PodDisruptionBudget', apiVersion: 'policy/v1', metadata: { resourceVersion } },
});

t.test('a watch that goes silent (half-open connection) is aborted and resumed from the last resourceVersion', async (t) => {
  const s = setup();
  s.pdbs.put(pdb('web'));
  s.reflector.start();
  await s.reflector.synced;
  await flush();
  const first = s.pdbs.openWatch;
  t.equal(first?.options?.timeoutSeconds, TIMEOUT_S, 'the watch asks the API server to end it after timeoutSeconds');

  await s.clock.advance(100_000);
  s.pdbs.emit('ADDED', pdb('api'));
  await s.clock.advance(100_000);
  // A bookmark is a sign of life, and moves the resourceVersion a resumed watch starts from.
  s.pdbs.emitRaw(bookmark('5000'));

  // From here on the connection is dead: no event, no error, no close.
  await s.clock.advance(LIMIT_MS - 1);
  t.equal(s.pdbs.watchCalls.length, 1, 'not before timeoutSeconds + margin of silence');
  t.equal(s.reflector.stalenessSeconds(), 0);
  t.equal(s.reflector.isCurrent, true);

  await s.clock.advance(1);
  t.ok(first?.abortedByClient, 'the silent watch request is aborted');
  t.equal(s.reflector.isCurrent, false);
  t.equal(s.reflector.stalenessSeconds(), LIMIT_MS / 1000, 'stale since the last thing the stream delivered, not 0');
  t.match(
    s.lines.find((l) => l.event === 'watch-failed'),
    { level: WARN, err: /no watch event for 330s .*connection presumed dead/, synced: true, staleSeconds: LIMIT_MS / 1000 },
    'said in the log like any other break',
  );
  t.same([...s.names].sort(), ['api', 'web'], 'the last known state is kept meanwhile');

  await s.clock.advance(1000); // the backoff's first retry
  t.equal(s.pdbs.watchCalls.length, 2, 'watching again');
  t.equal(s.pdbs.openWatch?.resourceVersion, '5000', "from the bookmark's resourceVersion");
  t.equal(s.pdbs.listCalls, 1, 'without listing again');
  t.equal(s.reflector.stalenessSeconds(), 0);
  t.match(s.lines.at(-1), { event: 'watch-resumed' });
  await s.reflector.stop();
  t.equal(s.clock.pending, 0, 'no watchdog left waiting after stop');
});

t.test('a silent watch resumed from a compacted resourceVersion (410) lists again', async (t) => {
  const s = setup();
  s.pdbs.put(pdb('web'));
  s.pdbs.put(pdb('old'));
  s.reflector.start();
  await s.reflector.synced;
  await flush();
  s.pdbs.delete('shop', 'old'); // missed: the connection is already dead
  s.pdbs.watchRefusals = [httpError(410, 'Gone')];
  await s.clock.advance(LIMIT_MS);
  t.equal(s.pdbs.watchCalls.length, 1);
  await s.clock.advance(1000);
  t.equal(s.pdbs.watchCalls.length, 2, 'resumed, and refused with 410');
  await s.clock.advance(2000); // an instant refusal backs off before the list
  t.equal(s.pdbs.listCalls, 2, 'listed again');
  t.same([...s.names], ['web'], 'what was deleted while the connection was dead is dropped');
  t.ok(s.pdbs.openWatch, 'watching from the new list');
  t.equal(s.pdbs.openWatch?.resourceVersion, s.pdbs.resourceVersion);
  await s.reflector.stop();
});

t.test('bookmarks keep a quiet watch alive: it is not aborted while the API server speaks', async (t) => {
  const s = setup();
  s.reflector.start();
  await s.reflector.synced;
  await flush();
  // Longer than timeoutSeconds without a change (an API server that does not end the watch),
  // but with a bookmark every minute.
  for (let minute = 1; minute <= 20; minute++) {
    await s.clock.advance(60_000);
    s.pdbs.emitRaw(bookmark(String(1000 + minute)));
  }
  t.equal(s.pdbs.watchCalls.length, 1, 'still the first watch');
  t.equal(s.reflector.stalenessSeconds(), 0);
  t.notOk(s.lines.some((l) => l.level >= WARN));
  s.pdbs.closeWatch(); // the routine end of a watch
  await flush();
  t.equal(s.pdbs.openWatch?.resourceVersion, '1020', 'resumed from the last bookmark');
  await s.reflector.stop();
});

t.test('a watch request that never answers is given up on too', async (t) => {
  const clock = new FakeClock();
  const { logger } = captureLogger();
  let watches = 0;
  const hanging: ListerWatcher = {
    list: async () => ({ items: [], resourceVersion: '7' }),
    watch: () => {
      watches++;
      return new Promise(() => {});
    },
  };
  const reflector = new Reflector({
    resource: 'namespaces',
    kind: 'Namespace',
    apiVersion: 'v1',
    source: hanging,
    sink: { upsert: () => {}, remove: () => {} },
    logger,
    clock,
    backoff: { initialMs: 1000, maxMs: 1000, jitter: 0 },
    watchTimeoutSeconds: TIMEOUT_S,
  });
  reflector.start();
  await reflector.synced;
  await clock.advance(LIMIT_MS + 1000);
  t.equal(watches, 2, 'asked again');
  await reflector.stop();
});

t.test('without watchTimeoutSeconds each watch asks for 300 s plus up to a minute of jitter', async (t) => {
  const s = setup({ watchTimeoutSeconds: undefined });
  s.reflector.start();
  await s.reflector.synced;
  const seen = new Set<number>();
  for (let i = 0; i < 20; i++) {
    await s.clock.advance(300_000);
    const timeout = s.pdbs.openWatch?.options?.timeoutSeconds ?? -1;
    t.ok(timeout >= 300 && timeout < 360, `timeoutSeconds ${timeout}`);
    seen.add(timeout);
    s.pdbs.closeWatch();
  }
  t.ok(seen.size > 1, 'jittered');
  await s.reflector.stop();
});
