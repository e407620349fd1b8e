// Certificate rotation under load: files on disk change while a client streams reviews; no
// request fails, and new connections get the new certificate.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startServer } from '../../src/server/run.js';
import { generateServingCert } from '../../src/tls/generate.js';
import type { PemPair } from '../../src/tls/generate.js';
import {
  EVENT_LOOP_BODIES,
  TEST_REGISTRY,
  admissionReview,
  engineConfig,
  eventually,
  httpsRequest,
  pod,
  testCertificates,
} from '../helpers/server.js';

const certs = testCertificates();
const ca = certs.ca.cert;
const dir = mkdtempSync(join(tmpdir(), 'pg-rotation-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const files = { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') };

/** Writes like a Secret volume update: each file appears whole, never half-written. */
function install(pair: PemPair): void {
  writeFileSync(`${files.certFile}.tmp`, pair.cert);
  writeFileSync(`${files.keyFile}.tmp`, pair.key);
  renameSync(`${files.keyFile}.tmp`, files.keyFile);
  renameSync(`${files.certFile}.tmp`, files.certFile);
}

const fingerprint = (pair: PemPair) => new X509Certificate(pair.cert).fingerprint256;
const next = generateServingCert(certs.ca, {
  commonName: 'localhost',
  dnsNames: ['localhost'],
  ipAddresses: ['127.0.0.1'],
  validityDays: 2,
});
install(certs.serving);

const server = await startServer({
  largeBodies: EVENT_LOOP_BODIES,
  tls: { files, pollIntervalMs: 100, debounceMs: 20 },
  port: 0,
  host: '127.0.0.1',
  registry: TEST_REGISTRY,
  processMetrics: false,
});
t.teardown(() => server.close());
server.state.engineConfig = engineConfig({ 'run-as-non-root': 'deny' });

t.test('rotation while requests stream: none fails, new connections see the new certificate', async (t) => {
  t.equal(server.tls().fingerprint, fingerprint(certs.serving));
  const body = JSON.stringify(admissionReview(pod('api', 'shop', [{ name: 'app', nonRoot: true }]), { uid: 'stream' }));
  const keepAlive = new https.Agent({ keepAlive: true, maxSockets: 2 });
  t.teardown(() => keepAlive.destroy());

  let stop = false;
  const statuses: number[] = [];
  const seen = new Set<string>();
  const failures: string[] = [];
  // Two clients: one on kept-alive connections, one opening a new connection every time.
  const stream = async (agent: https.Agent | false) => {
    while (!stop) {
      try {
        const res = await httpsRequest(server.port, { body, ca, agent: agent || undefined });
        statuses.push(res.status);
        if (agent === false) seen.add(res.fingerprint);
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
  };
  const streams = [stream(keepAlive), stream(false)];

  await eventually(() => statuses.length > 20);
  install(next);
  await eventually(() => server.tls().fingerprint === fingerprint(next));
  const countAtSwap = statuses.length;
  await eventually(() => statuses.length > countAtSwap + 20);
  stop = true;
  await Promise.all(streams);

  t.strictSame(failures, [], 'no request failed');
  t.ok(
    statuses.every((s) => s === 200),
    `all ${statuses.length} answered 200`,
  );
  t.ok(seen.has(fingerprint(certs.serving)) && seen.has(fingerprint(next)), 'new connections saw the old, then the new certificate');
  const fresh = await httpsRequest(server.port, { path: '/healthz', ca });
  t.equal(fresh.fingerprint, fingerprint(next), 'a new connection now gets the new certificate');
  t.match(await server.metrics.registry.metrics(), 'practice_gate_tls_reloads_total{result="success"} 1');
  const expiry = Number(
    /^practice_gate_tls_certificate_expiry_timestamp_seconds (\S+)$/m.exec(await server.metrics.registry.metrics())?.[1],
  );
  t.equal(
    expiry,
    new Date(new X509Certificate(next.cert).validTo).getTime() / 1000,
    "the expiry gauge follows the new certificate (the chart's certificate alert reads it)",
  );
  t.match(await server.metrics.registry.metrics(), /^practice_gate_ready 1$/m, 'ready, as /readyz says');
});

t.test('a bad pair on disk is refused and the served one stays', async (t) => {
  const served = server.tls().fingerprint;
  writeFileSync(files.keyFile, certs.ca.key); // a key that does not match the certificate
  await eventually(async () => /practice_gate_tls_reloads_total\{result="failure"\} 1/.test(await server.metrics.registry.metrics()));
  t.equal(server.tls().fingerprint, served);
  const res = await httpsRequest(server.port, { path: '/healthz', ca });
  t.equal(res.status, 200);
  t.equal(res.fingerprint, served, 'new connections still get the last good certificate');
});
