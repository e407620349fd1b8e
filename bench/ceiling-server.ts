// The ceiling for the webhook benchmark: a bare Node HTTPS server that reads each request
// body whole and answers one fixed AdmissionReview. No parsing, no judging, no logging: what
// TLS and HTTP/1.1 alone cost on this machine. Prints {"port": N} once listening.
// Usage: node dist/bench/ceiling-server.js CERT_FILE KEY_FILE
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';

const [certFile, keyFile] = process.argv.slice(2);
if (!certFile || !keyFile) {
  process.stderr.write('usage: ceiling-server CERT_FILE KEY_FILE\n');
  process.exit(2);
}

const ANSWER = Buffer.from(
  JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'fixed', allowed: true } }),
);

const server = createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile), minVersion: 'TLSv1.2' }, (req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': ANSWER.length });
    res.end(ANSWER);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
