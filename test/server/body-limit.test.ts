// AdmissionReviews over the body limit: never an HTTP error the API server would fail open on,
// but an AdmissionReview with the request's uid that refuses the write in enforce mode, warns in
// audit mode, and is logged with uid, kind and name, read from the head of the body alone.
import https from 'node:https';
import t from 'tap';
import { BODY_LIMIT, buildApp } from '../../src/server/app.js';
import { readReviewHead } from '../../src/server/review-head.js';
import { GateState } from '../../src/server/state.js';
import { admissionReview, deployment, engineConfig, httpsRequest, startTestServer, testCertificates } from '../helpers/server.js';
import { logCapture } from '../helpers/log-capture.js';

/** A review over the limit: a compliant Deployment with an annotation that makes it too big. */
function oversized(options: { uid?: string; operation?: string; namespace?: string; name?: string } = {}): string {
  const object = deployment(options.name ?? 'huge', options.namespace ?? 'shop', [{ name: 'app', nonRoot: true }], {
    annotations: { filler: 'x'.repeat(BODY_LIMIT + 1024) },
  });
  return JSON.stringify(
    admissionReview(object, { uid: options.uid ?? 'uid-huge', operation: options.operation ?? 'UPDATE', namespace: options.namespace }),
  );
}

function setup(config = engineConfig({ 'run-as-non-root': 'deny' })) {
  const { lines, logger } = logCapture();
  const state = new GateState(config, { conditions: [] });
  const app = buildApp({ state, logger });
  const post = (payload: string) =>
    app.inject({ method: 'POST', url: '/validate', headers: { 'content-type': 'application/json' }, payload });
  return { app, state, lines, post };
}

t.test('enforce: refused with an AdmissionReview that carries the uid, not an HTTP 413', async (t) => {
  const { app, post, lines } = setup();
  t.teardown(() => app.close());
  const res = await post(oversized());
  t.equal(res.statusCode, 200);
  const review = res.json();
  t.match(review, { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' });
  t.equal(review.response.uid, 'uid-huge');
  t.equal(review.response.allowed, false);
  t.equal(review.response.status.code, 413);
  t.match(
    review.response.status.message,
    /^Deployment shop\/huge was refused unchecked: its AdmissionReview is 16\.\d MiB, over practice-gate's 16\.0 MiB limit\. Make the object smaller/,
  );
  t.match(review.response.auditAnnotations, { 'body-too-large': /over the 16\.0 MiB limit: not judged/ });
  const warned = lines.find((l) => l.msg === 'AdmissionReview over the body limit: answered unjudged');
  t.match(warned, {
    level: 40,
    uid: 'uid-huge',
    kind: 'Deployment',
    namespace: 'shop',
    name: 'huge',
    operation: 'UPDATE',
    decision: 'deny',
    limit: BODY_LIMIT,
  });
  t.ok((warned?.bytes as number) > BODY_LIMIT, 'with the size');
  t.match(
    lines.find((l) => l.msg === 'admission review'),
    { uid: 'uid-huge', kind: 'Deployment', decision: 'deny' },
    'and the usual review line',
  );
  t.notOk(
    lines.some((l) => JSON.stringify(l).includes('xxxxxxxx')),
    'never the body',
  );
});

t.test('audit mode: admitted with a warning', async (t) => {
  const { app, post } = setup(engineConfig({ 'run-as-non-root': 'deny' }, { mode: 'audit' }));
  t.teardown(() => app.close());
  const response = (await post(oversized())).json().response;
  t.match(response, { uid: 'uid-huge', allowed: true });
  t.match(response.warnings, [/^\[practice-gate\] Deployment shop\/huge would be refused: its AdmissionReview is 16\.\d MiB/]);
});

t.test('a namespace in audit mode by its label is warned, not refused', async (t) => {
  const { app, post, state } = setup();
  t.teardown(() => app.close());
  state.context = {
    ...state.context,
    namespaceLabels: (ns: string) => (ns === 'trial' ? { 'practice-gate.io/mode': 'audit' } : undefined),
  };
  t.equal((await post(oversized({ namespace: 'trial' }))).json().response.allowed, true);
  t.equal((await post(oversized({ namespace: 'shop' }))).json().response.allowed, false);
});

t.test('a delete, and an object exempt from every policy, are allowed', async (t) => {
  const { app, post } = setup(
    engineConfig({ 'run-as-non-root': 'deny' }, { exemptions: [{ namespaces: ['batch-*'], reason: 'batch team' }] }),
  );
  t.teardown(() => app.close());
  t.strictSame((await post(oversized({ operation: 'DELETE' }))).json().response, { uid: 'uid-huge', allowed: true });
  t.strictSame((await post(oversized({ namespace: 'batch-1' }))).json().response, { uid: 'uid-huge', allowed: true });
});

t.test('over HTTPS on a kept-alive connection: the whole body is read, answered, and the connection serves on', async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.close());
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  const ca = testCertificates().ca.cert;
  const res = await httpsRequest(server.port, { body: oversized(), ca, agent });
  t.equal(res.status, 200);
  t.match(res.json().response, { uid: 'uid-huge', allowed: false, status: { code: 413 } });
  const next = await httpsRequest(server.port, {
    body: JSON.stringify(admissionReview(deployment('api', 'shop', [{ name: 'app' }]), { uid: 'next' })),
    ca,
    agent,
  });
  t.match(next.json().response, { uid: 'next', allowed: false, status: { code: 403 } }, 'the next review is judged');
});

t.test('the head of a review: the API server fields, never the object', async (t) => {
  const text = JSON.stringify(
    admissionReview(deployment('api', 'shop', [{ name: 'app' }], { uid: 'object-uid', labels: { uid: 'label' } }), {
      uid: 'r"e\\q',
      operation: 'UPDATE',
    }),
  );
  t.strictSame(readReviewHead(text), {
    reviewKind: 'AdmissionReview',
    apiVersion: 'admission.k8s.io/v1',
    uid: 'r"e\\q',
    kind: 'Deployment',
    name: 'api',
    namespace: 'shop',
    operation: 'UPDATE',
  });
  // The API server's own order: uid first, so a cut after it still answers.
  const cut = text.slice(0, text.indexOf('"kind":{') - 1);
  t.strictSame(readReviewHead(cut), { apiVersion: 'admission.k8s.io/v1', reviewKind: 'AdmissionReview', uid: 'r"e\\q' });
  t.strictSame(
    readReviewHead(text.slice(0, text.indexOf('r\\"e') + 2)),
    { apiVersion: 'admission.k8s.io/v1', reviewKind: 'AdmissionReview' },
    'a uid cut in half is not read',
  );
  t.strictSame(readReviewHead('{"request":{"object":{"uid":"x"},"uid":"late"}}'), {}, 'nothing after the object is read');
  t.strictSame(readReviewHead('{"request":{"uid":["x"],"name":{"uid":"y"}}}'), {}, 'only strings at their own paths');
  t.strictSame(readReviewHead('not json'), {});
});
