// What a request says about itself is untrusted: its bytes are never echoed into an answer or a
// log line, its ids are logged at a bounded length, and a body labelled as something the gate
// does not read (compressed, UTF-16, not JSON) is refused with 415 instead of being misread.
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import pino from 'pino';
import t from 'tap';
import type { Test } from 'tap';
import { admissionReview, eventually, pod, startTestGate } from '../helpers/server.js';

const lines: string[] = [];
const logger = pino(
  { level: 'info' },
  new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((line) => line !== ''),
      );
      done();
    },
  }),
);
const { server, send } = await startTestGate(t, { 'run-as-non-root': 'deny', 'test-explodes': 'deny' }, logger);
const rootPod = pod('api', 'shop', [{ name: 'app' }]);
const review = JSON.stringify(admissionReview(rootPod, { uid: 'labelled' }));

/** The log lines written from now on, once `count` of them are there. */
async function linesAfter(t: Test, action: () => Promise<unknown>, count = 1): Promise<string[]> {
  const from = lines.length;
  await action();
  await eventually(() => lines.length >= from + count);
  t.pass(`${count} log line(s) written`);
  return lines.slice(from);
}

const SECRET = 'SECRETVALUE-hunter2';

t.test('malformed JSON: neither the answer nor the log quotes the body', async (t) => {
  const bodies = [
    `{"env":[{"value":"${SECRET}"},#]}`, // the parser's message would quote ..."hunter2"},#]}
    `{"env":[{"value":"${SECRET}"`, // ends early
    `{"env":[{"value":"${SECRET}"} "x"]}`, // an error V8 reports with a position
    `{"env":[{"value":"${SECRET}\u0001"}]}`, // a control character inside the secret's string
  ];
  for (const body of bodies) {
    let answer = '';
    const logged = await linesAfter(t, async () => {
      const res = await send(body);
      t.equal(res.status, 400);
      answer = res.text;
    });
    t.match(JSON.parse(answer), {
      error: 'Bad Request',
      message: /^the body is not valid JSON: (syntax error( at character \d+)?|it ends before the JSON value does)$/,
    });
    for (const text of [answer, ...logged]) {
      t.notMatch(text, /SECRET|hunter2/, `nothing of ${JSON.stringify(body.slice(-12))} is echoed`);
    }
  }
});

t.test('a 1 MB uid, name or namespace makes no 1 MB log line', async (t) => {
  const huge = 'u'.repeat(1024 * 1024);
  const cases = [
    { what: 'uid', body: admissionReview(rootPod, { uid: huge }) },
    { what: 'name and namespace', body: admissionReview(pod(huge, huge, [{ name: 'app' }]), { uid: 'long-names' }) },
    {
      what: 'uid of a review whose judging failed',
      body: admissionReview(pod('boom', 'shop', [{ name: 'app', nonRoot: true }]), { uid: huge }),
    },
  ];
  for (const { what, body } of cases) {
    const logged = await linesAfter(t, async () => {
      const res = await send(JSON.stringify(body));
      t.equal(res.status, 200, `${what}: answered`);
      t.equal(res.json().response.uid, (body.request as { uid: string }).uid, `${what}: the answer carries the whole uid`);
    });
    for (const line of logged) t.ok(line.length < 4096, `${what}: a ${line.length}-character line: ${line.slice(0, 100)}`);
    t.match(logged.join('\n'), /…\(1048576 characters\)/, `${what}: the line says how long the value was`);
  }
});

t.test('a compressed body is refused with 415, never answered with its bytes', async (t) => {
  for (const encoding of ['gzip', 'GZIP', 'deflate', 'br', 'gzip, identity']) {
    const body = encoding.toLowerCase().startsWith('gzip') ? gzipSync(review) : Buffer.from(review);
    const res = await send(body, { 'content-encoding': encoding });
    t.equal(res.status, 415, encoding);
    t.same(res.json(), {
      error: 'Unsupported Media Type',
      message: `Content-Encoding ${JSON.stringify(encoding)} is not supported: send the body uncompressed`,
    });
  }
});

t.test('a charset other than UTF-8 is refused with 415', async (t) => {
  for (const charset of ['utf-16', 'UTF-16LE', 'iso-8859-1']) {
    const res = await send(Buffer.from(review, 'utf16le'), { 'content-type': `application/json; charset=${charset}` });
    t.equal(res.status, 415, charset);
    t.same(res.json(), { error: 'Unsupported Media Type', message: `Content-Type charset must be utf-8, got ${JSON.stringify(charset)}` });
  }
});

t.test('a type other than application/json is refused with 415', async (t) => {
  for (const type of ['application/json-patch+json', 'application/yaml', 'text/json']) {
    const res = await send(review, { 'content-type': type });
    t.equal(res.status, 415, type);
    t.same(res.json(), { error: 'Unsupported Media Type', message: `Content-Type must be application/json, got ${JSON.stringify(type)}` });
  }
});

t.test('what the kube-apiserver sends, and its harmless spellings, are judged', async (t) => {
  const labels: Array<Record<string, string>> = [
    { 'content-type': 'application/json' }, // the API server's webhook client: this, and no Content-Encoding
    { 'content-type': 'application/json; charset=utf-8' },
    { 'content-type': 'Application/JSON; charset="UTF-8"' },
    { 'content-type': 'application/json', 'content-encoding': 'identity' },
  ];
  for (const headers of labels) {
    const res = await send(review, headers);
    t.equal(res.status, 200, JSON.stringify(headers));
    t.match(res.json().response, { uid: 'labelled', allowed: false, status: { code: 403 } });
  }
});

t.test('the refusals are counted as unsupported media types', async (t) => {
  t.match(await server.metrics.registry.metrics(), 'practice_gate_errors_total{reason="unsupported_media_type"} 11');
});
