// --client-ca: only clients with a certificate from that CA reach /validate; probes on the
// plain-HTTP probe port need none.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import t from 'tap';
import { startServer } from '../../src/server/run.js';
import { generateCA } from '../../src/tls/generate.js';
import type { PemPair } from '../../src/tls/generate.js';
import { EVENT_LOOP_BODIES, TEST_REGISTRY, admissionReview, engineConfig, httpsRequest, pod, testCertificates } from '../helpers/server.js';

/** A client certificate (clientAuth) signed by `ca`, as the API server's would be. */
function clientCertificate(ca: PemPair, commonName: string): PemPair {
  const caCert = forge.pki.certificateFromPem(ca.cert);
  const caKey = forge.pki.privateKeyFromPem(ca.key);
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 86_400_000);
  cert.setSubject([{ shortName: 'CN', value: commonName }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', clientAuth: true },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) };
}

const certs = testCertificates();
const clientCa = generateCA({ commonName: 'api server clients', validityDays: 2 });
const client = clientCertificate(clientCa, 'kube-apiserver');
const stranger = clientCertificate(generateCA({ commonName: 'someone else', validityDays: 2 }), 'stranger');

const dir = mkdtempSync(join(tmpdir(), 'pg-client-ca-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const files = { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key'), clientCaFile: join(dir, 'client-ca.crt') };
writeFileSync(files.certFile, certs.serving.cert);
writeFileSync(files.keyFile, certs.serving.key);
writeFileSync(files.clientCaFile, clientCa.cert);

const server = await startServer({
  largeBodies: EVENT_LOOP_BODIES,
  tls: { files },
  port: 0,
  probePort: 0,
  host: '127.0.0.1',
  registry: TEST_REGISTRY,
  processMetrics: false,
});
t.teardown(() => server.close());
server.state.engineConfig = engineConfig({ 'run-as-non-root': 'deny' });
const body = JSON.stringify(admissionReview(pod('api', 'shop', [{ name: 'app', nonRoot: true }]), { uid: 'mtls' }));

t.test('a client certificate from the CA is let in', async (t) => {
  const res = await httpsRequest(server.port, { body, ca: certs.ca.cert, cert: client.cert, key: client.key });
  t.equal(res.status, 200);
  t.strictSame(res.json().response, { uid: 'mtls', allowed: true });
});

t.test('no client certificate, or one from another CA, is refused during the handshake', async (t) => {
  await t.rejects(httpsRequest(server.port, { body, ca: certs.ca.cert }), /certificate|socket hang up|ECONNRESET/);
  await t.rejects(
    httpsRequest(server.port, { body, ca: certs.ca.cert, cert: stranger.cert, key: stranger.key }),
    /certificate|unknown ca|socket hang up|ECONNRESET/,
  );
});

t.test('probes on the probe port need no certificate', async (t) => {
  const res = await fetch(`http://127.0.0.1:${server.probePort}/readyz`);
  t.equal(res.status, 200);
});
