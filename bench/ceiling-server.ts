// The ceiling for the webhook benchmark: a bare Node HTTPS server that reads each request
// body whole and answers one fixed AdmissionReview. No parsing, no judging, no logging: what
// TLS and HTTP/1.1 alone cost on this machine. The benchmark passes the very answer
// practice-gate gives for the same body, so both servers put the same bytes on the wire.
// With --json it also does what any JSON webhook must: decode the body, JSON.parse it and
// JSON.stringify the answer, the floor below which no webhook in Node.js can go.
// Prints {"port": N} once listening.
// Usage: node dist/bench/ceiling-server.js CERT_FILE KEY_FILE [ANSWER_FILE] [--json]
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';

const args = process.argv.slice(2);
const json = args.includes('--json');
const [certFile, keyFile, answerFile] = args.filter((a) => a !== '--json');
if (!certFile || !keyFile) {
  process.stderr.write('usage: ceiling-server CERT_FILE KEY_FILE [ANSWER_FILE] [--json]\n');
  process.exit(2);
}

const ANSWER = answerFile
  ? readFileSync(answerFile)
  : Buffer.from(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'fixed', allowed: true } }));

const parsedAnswer: unknown = JSON.parse(ANSWER.toString('utf8'));

const server = createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile), minVersion: 'TLSv1.2' }, (req, res) => {
  if (!json) {
    req.on('data', () => {});
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': ANSWER.length });
      res.end(ANSWER);
    });
    return;
  }
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => {
    body += chunk;
  });
  req.on('end', () => {
    if (JSON.parse(body) === null) res.statusCode = 400;
    const out = JSON.stringify(parsedAnswer);
    res.writeHead(res.statusCode, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
    res.end(out);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
