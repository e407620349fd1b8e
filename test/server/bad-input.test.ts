// Bad requests over real HTTPS: each gets a clear 4xx (or a cleanly closed connection), and the
// server answers the next request correctly.
import tls from 'node:tls';
import t from 'tap';
import type { Test } from 'tap';
import { admissionReview, httpsRequest, pod, startTestGate } from '../helpers/server.js';
import type { HttpsResult } from '../helpers/server.js';

const { server, ca, send } = await startTestGate(t, { 'run-as-non-root': 'deny' });

const rootPod = pod('api', 'shop', [{ name: 'app' }]);

/** The server still judges correctly after the bad request, on the same agent. */
async function nextIsFine(t: Test): Promise<void> {
  const res = await send(JSON.stringify(admissionReview(rootPod, { uid: 'after' })));
  t.equal(res.status, 200, 'the next request is answered');
  t.match(res.json().response, { uid: 'after', allowed: false, status: { code: 403 } });
}

function expectError(t: Test, res: HttpsResult, status: number, message: string | RegExp): void {
  t.equal(res.status, status);
  t.match(res.headers['content-type'], /^application\/json/);
  const body = res.json();
  t.same(Object.keys(body).sort(), ['error', 'message']);
  t.match(body.message, message);
}

t.test('not JSON', async (t) => {
  expectError(t, await send('apiVersion: admission.k8s.io/v1'), 400, /^the body is not valid JSON: /);
  await nextIsFine(t);
});

t.test('wrong apiVersion', async (t) => {
  const review = { ...admissionReview(rootPod), apiVersion: 'admission.k8s.io/v1beta1' };
  expectError(
    t,
    await send(JSON.stringify(review)),
    400,
    'apiVersion must be admission.k8s.io/v1, got "admission.k8s.io/v1beta1": set admissionReviewVersions: ["v1"] in the webhook configuration',
  );
  await nextIsFine(t);
});

t.test('wrong kind, no request, no uid, empty uid', async (t) => {
  const good = admissionReview(rootPod) as { request: Record<string, unknown> };
  expectError(t, await send(JSON.stringify({ ...good, kind: 'Review' })), 400, 'kind must be AdmissionReview, got "Review"');
  expectError(t, await send(JSON.stringify({ ...good, request: undefined })), 400, 'request must be an object, got nothing');
  const { uid: _uid, ...noUid } = good.request;
  expectError(t, await send(JSON.stringify({ ...good, request: noUid })), 400, 'request.uid must be a non-empty string, got nothing');
  expectError(
    t,
    await send(JSON.stringify({ ...good, request: { ...good.request, uid: '' } })),
    400,
    'request.uid must be a non-empty string, got ""',
  );
  expectError(t, await send('[1,2]'), 400, 'the body must be a JSON object (an AdmissionReview), got an array');
  await nextIsFine(t);
});

t.test('a request whose object is not an object', async (t) => {
  for (const object of ['a string', 42, ['list'], null]) {
    const review = admissionReview(rootPod) as { request: Record<string, unknown> };
    review.request.object = object;
    expectError(t, await send(JSON.stringify(review)), 400, /^request\.object must be a JSON object for CREATE, got /);
  }
  await nextIsFine(t);
});

t.test('a wrong content type: 415', async (t) => {
  const body = JSON.stringify(admissionReview(rootPod));
  expectError(
    t,
    await send(body, { 'content-type': 'application/yaml' }),
    415,
    'Content-Type must be application/json, got "application/yaml"',
  );
  expectError(t, await send(body, { 'content-type': 'text/plain' }), 415, /got "text\/plain"/);
  await nextIsFine(t);
});

t.test('a deeply nested object: 400 before any recursion', async (t) => {
  const deep = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
  const body = JSON.stringify(admissionReview(rootPod)).replace('"dryRun":false', `"dryRun":false,"deep":${deep}`);
  expectError(t, await send(body), 400, 'the body nests objects or arrays deeper than 512 levels');
  await nextIsFine(t);
});

t.test('a 17 MiB body that names no request.uid: 413', async (t) => {
  const body = JSON.stringify({ filler: 'x'.repeat(17 * 1024 * 1024), ...admissionReview(rootPod) });
  const res = await httpsRequest(server.port, { body, ca, agent: false });
  expectError(t, res, 413, 'the body is larger than the 16 MiB limit');
  await nextIsFine(t);
});

t.test('a 12 MiB body is judged', async (t) => {
  const review = admissionReview(
    pod('big', 'shop', [{ name: 'app', nonRoot: true }], { annotations: { filler: 'x'.repeat(12 * 1024 * 1024) } }),
    { uid: 'big' },
  );
  const res = await send(JSON.stringify(review));
  t.equal(res.status, 200);
  t.strictSame(res.json().response, { uid: 'big', allowed: true });
});

/** Writes raw bytes on a fresh TLS connection and collects what comes back until it closes. */
function rawExchange(payload: string, end: boolean): Promise<{ received: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: server.port, ca, servername: 'localhost' }, () => {
      socket.write(payload);
      if (end) socket.end();
    });
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      received += d;
    });
    socket.on('error', reject);
    socket.on('close', () => resolve({ received, closed: true }));
    socket.setTimeout(5_000, () => {
      socket.destroy();
      resolve({ received, closed: false });
    });
  });
}

t.test('a truncated body: the connection closes cleanly', async (t) => {
  const body = JSON.stringify(admissionReview(rootPod));
  const head = `POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
  const { received, closed } = await rawExchange(head + body.slice(0, body.length / 2), true);
  t.ok(closed, 'the server closes the connection rather than waiting forever');
  t.notMatch(received, /^HTTP\/1\.1 2/, 'and never answers it as a review');
  await nextIsFine(t);
});

t.test('a body cut short but with a matching Content-Length: 400', async (t) => {
  const body = JSON.stringify(admissionReview(rootPod)).slice(0, 200);
  expectError(t, await send(body), 400, /^the body is not valid JSON: /);
  await nextIsFine(t);
});

t.test('the bad requests were counted', async (t) => {
  const text = await server.metrics.registry.metrics();
  t.match(text, /practice_gate_errors_total\{reason="invalid_body"\} \d+/);
  t.match(text, 'practice_gate_errors_total{reason="body_too_large"} 1');
  t.match(text, 'practice_gate_errors_total{reason="unsupported_media_type"} 2');
});
