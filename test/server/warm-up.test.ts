// A serving process warms the large-body path at start (src/server/warm-up.ts) so that the first
// large review does not pay for a worker thread starting, V8 compiling and fresh memory: the worker
// must be running before any request, the first large review must find it and the memory held for
// it, and the made-up review must never show as a review (no answer, log line or metric), nor stop
// the server when it fails.
// Readiness waits for it, so that the API server sends nothing to a pod still warming up.
import t from 'tap';
import { POLICIES } from '../../policies/index.js';
import { ContextIndex, DEFAULT_CONFIG, compileConfig } from '../../src/engine/index.js';
import { BodyPool } from '../../src/server/body-pool.js';
import { reviewProjection } from '../../src/server/body-projection.js';
import { scanReviewParts } from '../../src/server/body-scan.js';
import {
  WARM_UP_CONTAINERS,
  WARM_UP_FORMS,
  WARM_UP_NAME,
  WARM_UP_ROUNDS,
  WARM_UP_ROUNDS_MS,
  warmUp,
  warmUpBody,
} from '../../src/server/warm-up.js';
import { logCapture } from '../helpers/log-capture.js';
import { waitUntil } from '../helpers/poll.js';
import { admissionReview, deployment, httpsRequest, sleep, startTestServer, testCertificates } from '../helpers/server.js';
import { rule, rulesConfig } from '../helpers/rules.js';

/** Under tap the worker loads its modules through tsx: far slower than the built server's ~100 ms. */
const WORKER_START_MS = 60_000;

t.test(
  'a serving process is ready once it has warmed a worker; the first large review finds it, and the warm-up is no review',
  async (t) => {
    const { lines, logger } = logCapture();
    // The pool's defaults (startTestServer parses every body on the event loop otherwise), with room for tsx.
    const server = await startTestServer({ largeBodies: { timeoutMs: WORKER_START_MS }, logger });
    t.teardown(() => server.close());
    const pool = server.app.bodyPool;
    t.match(server.state.readiness(), { ready: false, conditions: { warmUp: false } }, 'not ready while warming up');
    await waitUntil('ready', () => server.state.readiness().ready, { timeoutMs: WORKER_START_MS });
    t.equal(pool.stats.parsed, WARM_UP_FORMS.length, 'ready once the warm-up reviews were parsed in a worker and judged');
    t.equal(pool.stats.started, 1, 'one worker, started before any request');
    t.same(
      lines.filter((line) => 'uid' in line || (line.level as number) >= 40),
      [],
      'nothing logged of it: no review line, no warning',
    );

    const annotations = { note: 'x'.repeat(1024 * 1024) };
    const body = JSON.stringify(admissionReview(deployment('large', 'shop', [{ name: 'app' }], { annotations })));
    const answer = await httpsRequest(server.port, { body, ca: testCertificates().ca.cert });
    t.equal(answer.status, 200);
    const { response } = answer.json() as { response: { uid: string; allowed: boolean } };
    t.equal(response.allowed, false, 'the large review is judged: refused for running as root');
    t.same([pool.stats.started, pool.stats.parsed], [1, WARM_UP_FORMS.length + 1], 'parsed by the worker the warm-up started');
    t.equal(pool.stats.reused, 1, 'read into the memory the warm-up held for a body of the limit, not into fresh pages');
    t.same(
      lines.filter((line) => 'uid' in line).map((line) => line.uid),
      [response.uid],
      'one review line, the real one',
    );
    const reviews = (await server.metrics.requests.get()).values;
    t.equal(
      reviews.reduce((sum, v) => sum + v.value, 0),
      1,
      'one review counted',
    );
  },
);

t.test('a server that parses every body on the event loop starts no worker', async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.close());
  await sleep(500);
  t.same(server.app.bodyPool.stats, { ...server.app.bodyPool.stats, started: 0, parsed: 0 });
  t.same(server.state.readiness().conditions, { certificates: true }, 'and readiness waits for no warm-up');
});

t.test('a warm-up that fails is logged as a warning, and the server is ready and answers all the same', async (t) => {
  const { lines, logger } = logCapture();
  // No worker loads within 1 ms: the warm-up review is not parsed.
  const server = await startTestServer({ largeBodies: { timeoutMs: 1 }, logger });
  t.teardown(() => server.close());
  await waitUntil('the warm-up failure logged', () => lines.some((line) => line.level === 40));
  t.equal(server.state.readiness().ready, true, 'ready all the same');
  t.match(
    lines.filter((line) => line.level === 40),
    [{ level: 40, msg: /warming up the large-body path failed: the first large review will take longer/, err: { message: /1 ms/ } }],
  );
  const body = JSON.stringify(admissionReview(deployment('small', 'shop', [{ name: 'app', nonRoot: true }])));
  const answer = await httpsRequest(server.port, { body, ca: testCertificates().ca.cert });
  t.equal(answer.status, 200);
  t.equal((answer.json() as { response: { allowed: boolean } }).response.allowed, true);
});

t.test('the made-up review takes the paths of a large one: several parts, several slices, every container check failing', async (t) => {
  const config = compileConfig({ ...DEFAULT_CONFIG, mode: 'enforce' }, POLICIES);
  const parts = scanReviewParts(warmUpBody(), reviewProjection(config));
  t.ok(parts && parts.length > 1, `the worker answers in ${parts?.length} parts`);
  t.ok(WARM_UP_CONTAINERS > 512, 'more containers than one slice of the engine');
  const pool = new BodyPool({ threshold: 1, timeoutMs: WORKER_START_MS });
  t.teardown(() => pool.close());
  // A clock that stands still: as many rounds as V8 needs to optimize the checks.
  const { outcome, rounds } = await warmUp(pool, { engineConfig: config, context: ContextIndex.fromObjects([]) }, () => 0);
  t.equal(rounds, WARM_UP_ROUNDS, 'judged as many rounds as V8 needs to optimize the checks, while they take no time');
  t.equal(pool.stats.parsed, WARM_UP_FORMS.length, 'each form of the made-up review through the worker');
  t.equal(outcome?.response.uid, WARM_UP_NAME);
  t.equal(outcome?.decision, 'deny');
  const failed = new Set(outcome?.applied.map((a) => a.finding.policy));
  for (const id of [
    'run-as-non-root',
    'read-only-root-filesystem',
    'resource-requests',
    'readiness-probe',
    'liveness-probe',
    'memory-limit',
    'image-tag-pinned',
  ])
    t.ok(failed.has(id), `${id} finds the failing containers`);
  t.ok(
    outcome?.omitted.some((o) => o.count > 0),
    'past the per-policy cap: the counting path too',
  );
});

t.test('rules that make a round slow cut the rounds short: readiness waits for them', async (t) => {
  const config = compileConfig({ ...DEFAULT_CONFIG, mode: 'enforce' }, POLICIES);
  const pool = new BodyPool({ threshold: 1, timeoutMs: WORKER_START_MS });
  t.teardown(() => pool.close());
  // A clock on which each round takes a fifth of the time the rounds may last.
  let clock = 0;
  const now = () => {
    clock += WARM_UP_ROUNDS_MS / 5;
    return clock;
  };
  const { outcome, rounds } = await warmUp(pool, { engineConfig: config, context: ContextIndex.fromObjects([]) }, now);
  t.ok(rounds > 1 && rounds <= 5, `${rounds} rounds, each judged whole`);
  t.equal(outcome?.response.uid, WARM_UP_NAME, 'the last round judged too');
});

t.test('a custom rule that cannot judge the made-up object: the warm-up has not failed, and takes its rounds', async (t) => {
  // The made-up Deployment has no team label: the rule fails on it, as /validate would answer per --on-error.
  const team = rule({ id: 'team', validations: [{ expression: 'object.metadata.labels.team == "shop"', message: 'no team' }] });
  const pool = new BodyPool({ threshold: 1, timeoutMs: WORKER_START_MS });
  t.teardown(() => pool.close());
  const { outcome, rounds } = await warmUp(pool, { engineConfig: rulesConfig([team]), context: ContextIndex.fromObjects([]) }, () => 0);
  t.equal(outcome, undefined, 'no outcome: the rule failed');
  t.equal(rounds, WARM_UP_ROUNDS, 'every round taken all the same');
});

/**
 * The fields of a container, a probe, a port and a security context in the order the API server
 * writes them (the Go structs of k8s.io/api/core/v1). V8 optimizes the judging for the object
 * shapes it has seen, and the same keys in another order are another shape: a warm-up whose
 * containers listed their ports before their image left the first real large review to compile
 * the policies' checks again.
 */
const API_SERVER_ORDER: Record<string, readonly string[]> = {
  container: [
    'name',
    'image',
    'command',
    'args',
    'workingDir',
    'ports',
    'envFrom',
    'env',
    'resources',
    'resizePolicy',
    'restartPolicy',
    'volumeMounts',
    'volumeDevices',
    'livenessProbe',
    'readinessProbe',
    'startupProbe',
    'lifecycle',
    'terminationMessagePath',
    'terminationMessagePolicy',
    'imagePullPolicy',
    'securityContext',
    'stdin',
    'stdinOnce',
    'tty',
  ],
  resources: ['limits', 'requests', 'claims'],
  port: ['name', 'hostPort', 'containerPort', 'protocol', 'hostIP'],
  probe: [
    'exec',
    'httpGet',
    'tcpSocket',
    'grpc',
    'initialDelaySeconds',
    'timeoutSeconds',
    'periodSeconds',
    'successThreshold',
    'failureThreshold',
  ],
  podSpec: [
    'volumes',
    'initContainers',
    'containers',
    'ephemeralContainers',
    'restartPolicy',
    'terminationGracePeriodSeconds',
    'activeDeadlineSeconds',
    'dnsPolicy',
    'nodeSelector',
    'serviceAccountName',
    'serviceAccount',
    'automountServiceAccountToken',
    'nodeName',
    'hostNetwork',
    'hostPID',
    'hostIPC',
    'shareProcessNamespace',
    'securityContext',
    'imagePullSecrets',
    'hostname',
    'subdomain',
    'affinity',
    'schedulerName',
    'tolerations',
    'hostAliases',
    'priorityClassName',
    'priority',
    'dnsConfig',
    'readinessGates',
    'runtimeClassName',
    'enableServiceLinks',
  ],
  securityContext: [
    'capabilities',
    'privileged',
    'seLinuxOptions',
    'windowsOptions',
    'runAsUser',
    'runAsGroup',
    'runAsNonRoot',
    'readOnlyRootFilesystem',
    'allowPrivilegeEscalation',
    'procMount',
    'seccompProfile',
    'appArmorProfile',
  ],
};

t.test('the made-up reviews are written as the API server writes them, in more shapes than V8 compiles checks for', async (t) => {
  type Obj = Record<string, unknown>;
  type Review = { request: { object: { spec: { template: { spec: Obj } } }; oldObject: unknown } };
  const wrong: string[] = [];
  const inOrder = (what: string, value: unknown) => {
    const keys = Object.keys((value ?? {}) as Obj);
    const order = API_SERVER_ORDER[what] ?? [];
    const places = keys.map((key) => order.indexOf(key));
    if (places.some((place, i) => place < 0 || (i > 0 && place < (places[i - 1] ?? 0)))) wrong.push(`${what}: ${keys.join(', ')}`);
  };
  const shapes = { container: new Set<string>(), podSpec: new Set<string>() };
  for (const form of WARM_UP_FORMS) {
    const review = JSON.parse(warmUpBody(WARM_UP_CONTAINERS, form).toString()) as Review;
    const podSpec = review.request.object.spec.template.spec;
    inOrder('podSpec', podSpec);
    shapes.podSpec.add(Object.keys(podSpec).join(','));
    for (const c of [...((podSpec.initContainers ?? []) as Obj[]), ...(podSpec.containers as Obj[])]) {
      inOrder('container', c);
      inOrder('resources', c.resources);
      inOrder('securityContext', c.securityContext);
      for (const port of (c.ports ?? []) as unknown[]) inOrder('port', port);
      for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) if (c[probe]) inOrder('probe', c[probe]);
      shapes.container.add(Object.keys(c).join(','));
    }
  }
  t.strictSame([...new Set(wrong)], [], 'every field where the API server puts it');
  // V8 compiles a property read from up to four shapes of object to check for those and is thrown
  // away by a fifth; read from more in the warm-up, it is compiled for any (src/server/warm-up.ts).
  t.ok(shapes.podSpec.size > 4, `${shapes.podSpec.size} shapes of pod spec`);
  t.ok(shapes.container.size > 4, `${shapes.container.size} shapes of container`);
  t.ok(
    shapes.container.has('name,image,resources,terminationMessagePath,terminationMessagePolicy,imagePullPolicy'),
    'a container that gave only a name and an image, as the API server completes it',
  );
  const forms = WARM_UP_FORMS.map((form) => JSON.parse(warmUpBody(4, form).toString()) as Review);
  t.ok(
    forms.some((r) => r.request.oldObject === undefined) &&
      forms.some((r) => r.request.oldObject !== null && r.request.oldObject !== undefined),
    'a review as a manifest makes it, and an UPDATE with its oldObject',
  );
});

t.test('the made-up reviews the API server would send carry what it keeps in metadata, escapes and all', async (t) => {
  type Metadata = { managedFields?: Array<{ fieldsV1?: unknown }>; annotations?: Record<string, string> };
  for (const form of WARM_UP_FORMS.filter((f) => f !== 'manifest')) {
    const text = warmUpBody(WARM_UP_CONTAINERS, form).toString();
    const { metadata } = (JSON.parse(text) as { request: { object: { metadata: Metadata } } }).request.object;
    t.ok(metadata.managedFields?.[0]?.fieldsV1, `${form}: managedFields`);
    t.ok(metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration']?.endsWith('}\n'), `${form}: kubectl's last applied`);
    // Each escape takes a branch of the scanner's string reading that V8 must have seen taken.
    t.ok(text.includes('"k:{\\"name\\":\\"c0\\"}"'), `${form}: a list item named in a key, its quotes escaped`);
    t.ok(text.includes('\\n"'), `${form}: an escaped newline`);
    t.ok(text.includes('\\u0026'), `${form}: & as the API server's encoder writes it`);
  }
  t.notOk(warmUpBody(4, 'manifest').toString().includes('managedFields'), 'a manifest has none of it');
});
