// The app's own behaviour through inject: probes, metrics, logs, and answers when judging fails.
import t from 'tap';
import { buildApp } from '../../src/server/app.js';
import { GateMetrics } from '../../src/server/metrics.js';
import { GateState } from '../../src/server/state.js';
import { admissionReview, deployment, engineConfig } from '../helpers/server.js';
import { logCapture } from '../helpers/log-capture.js';

function setup(onError: 'allow' | 'deny' = 'allow') {
  const state = new GateState(engineConfig({ 'run-as-non-root': 'deny', 'test-explodes': 'deny' }), { conditions: ['certificates'] });
  const metrics = new GateMetrics({ processMetrics: false });
  const capture = logCapture();
  const app = buildApp({ state, metrics, logger: capture.logger, onError });
  return { app, state, metrics, ...capture };
}

const post = (app: ReturnType<typeof buildApp>, body: unknown) =>
  app.inject({
    method: 'POST',
    url: '/validate',
    headers: { 'content-type': 'application/json; charset=utf-8' },
    payload: JSON.stringify(body),
  });

t.test('readyz lists its conditions and needs all of them', async (t) => {
  const { app, state } = setup();
  t.teardown(() => app.close());
  t.equal((await app.inject('/healthz')).statusCode, 200);
  let res = await app.inject('/readyz');
  t.equal(res.statusCode, 503);
  t.strictSame(res.json(), { ready: false, shuttingDown: false, conditions: { certificates: false } });
  state.setCondition('certificates', true);
  state.setCondition('caches', false);
  t.equal((await app.inject('/readyz')).statusCode, 503, 'a later condition holds readiness back');
  state.setCondition('caches', true);
  res = await app.inject('/readyz');
  t.equal(res.statusCode, 200);
  t.strictSame(res.json(), { ready: true, shuttingDown: false, conditions: { certificates: true, caches: true } });
  state.beginShutdown();
  res = await app.inject('/readyz');
  t.equal(res.statusCode, 503);
  t.strictSame(res.json(), { ready: false, shuttingDown: true, conditions: { certificates: true, caches: true } });
});

t.test('one log line per review, with names but never the object', async (t) => {
  const { app, lines } = setup();
  t.teardown(() => app.close());
  const object = deployment('api', 'shop', [{ name: 'app' }]);
  const spec = object.spec as { template: { spec: { containers: Array<Record<string, unknown>> } } };
  spec.template.spec.containers[0]!.env = [{ name: 'DB_PASSWORD', value: 'hunter2-secret' }];
  const res = await post(app, admissionReview(object, { uid: 'uid-1', dryRun: true }));
  t.equal(res.statusCode, 200);
  const reviews = lines.filter((l) => l.msg === 'admission review');
  t.equal(reviews.length, 1);
  t.match(reviews[0], {
    uid: 'uid-1',
    kind: 'Deployment',
    namespace: 'shop',
    name: 'api',
    operation: 'CREATE',
    dryRun: true,
    decision: 'deny',
    policies: ['run-as-non-root'],
    durationMs: Number,
  });
  t.notOk(JSON.stringify(lines).includes('hunter2-secret'), 'env values never reach the logs');
  t.notOk(
    lines.some((l) => l.msg === 'incoming request' || l.msg === 'request completed'),
    "fastify's per-request lines are off",
  );
});

t.test('metrics count reviews, findings and errors', async (t) => {
  const { app } = setup();
  t.teardown(() => app.close());
  await post(app, admissionReview(deployment('api', 'shop', [{ name: 'app' }])));
  await post(app, admissionReview(deployment('api', 'shop', [{ name: 'app', nonRoot: true }]), { operation: 'UPDATE' }));
  await post(app, admissionReview({ kind: 'Surprise', metadata: { name: 'x' } }, { operation: 'DELETE' }));
  await post(app, { apiVersion: 'v1' });
  const res = await app.inject('/metrics');
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  const text = res.body;
  t.match(text, 'practice_gate_admission_requests_total{kind="Deployment",operation="CREATE",decision="deny"} 1');
  t.match(text, 'practice_gate_admission_requests_total{kind="Deployment",operation="UPDATE",decision="allow"} 1');
  t.match(
    text,
    'practice_gate_admission_requests_total{kind="other",operation="DELETE",decision="allow"} 1',
    'unknown kinds share one label',
  );
  t.match(text, 'practice_gate_findings_total{policy="run-as-non-root",action="deny"} 1');
  t.match(text, 'practice_gate_errors_total{reason="invalid_body"} 1');
  t.match(text, 'practice_gate_admission_duration_seconds_count 3');
  t.match(text, 'practice_gate_engine_duration_seconds_count 2');
  t.match(text, 'practice_gate_tls_reloads_total{result="failure"} 0');
  t.match(text, 'practice_gate_config_reloads_total{result="success"} 0');
});

t.test('a failure while judging answers per --on-error allow, and is logged and counted', async (t) => {
  const { app, lines } = setup('allow');
  t.teardown(() => app.close());
  const res = await post(app, admissionReview(deployment('boom', 'shop', [{ name: 'app', nonRoot: true }]), { uid: 'u-err' }));
  t.equal(res.statusCode, 200);
  t.strictSame(res.json().response, {
    uid: 'u-err',
    allowed: true,
    warnings: [
      '[practice-gate] Deployment shop/boom was admitted unchecked: practice-gate failed while judging it (policy bug: cannot read properties of undefined)',
    ],
  });
  const failure = lines.find((l) => l.msg === 'judging failed');
  t.match(failure, { uid: 'u-err', err: { message: 'policy bug: cannot read properties of undefined', stack: String } });
  t.match(
    lines.find((l) => l.msg === 'admission review'),
    { decision: 'error' },
  );
  t.match((await app.inject('/metrics')).body, 'practice_gate_errors_total{reason="review_failed"} 1');
  const next = await post(app, admissionReview(deployment('fine', 'shop', [{ name: 'app', nonRoot: true }]), { uid: 'u-next' }));
  t.strictSame(next.json().response, { uid: 'u-next', allowed: true }, 'the next request is judged normally');
});

t.test('--on-error deny refuses with a 500 status that says what to do', async (t) => {
  const { app } = setup('deny');
  t.teardown(() => app.close());
  const res = await post(app, admissionReview(deployment('boom', 'shop', [{ name: 'app' }]), { uid: 'u-err' }));
  t.equal(res.statusCode, 200, 'still a well-formed AdmissionReview');
  t.strictSame(res.json().response, {
    uid: 'u-err',
    allowed: false,
    status: {
      code: 500,
      reason: 'InternalError',
      message:
        'practice-gate failed while checking Deployment shop/boom (policy bug: cannot read properties of undefined); the request was refused ' +
        'because the webhook runs with --on-error deny. Retry; if it keeps failing, ask your cluster admins to check the practice-gate logs',
    },
  });
});

t.test('unknown routes and methods get JSON errors', async (t) => {
  const { app } = setup();
  t.teardown(() => app.close());
  const res = await app.inject('/nope');
  t.equal(res.statusCode, 404);
  t.strictSame(res.json(), { error: 'Not Found', message: 'no route GET /nope' });
  t.equal((await app.inject('/validate')).statusCode, 404, 'GET /validate');
});

t.test('a probe app serves no /validate', async (t) => {
  const state = new GateState(engineConfig({ 'run-as-non-root': 'deny' }));
  const app = buildApp({ state, validate: false });
  t.teardown(() => app.close());
  t.equal((await post(app, admissionReview(deployment('a', 'b', [{ name: 'c' }])))).statusCode, 404);
  t.equal((await app.inject('/readyz')).statusCode, 200);
  t.equal((await app.inject('/metrics')).statusCode, 200);
});
