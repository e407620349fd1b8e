import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { createServer, request, type RequestOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { devCertificates } from '../../src/tls/dev.js';
import { generateCA } from '../../src/tls/generate.js';

const dev = devCertificates();

/** One GET over a real loopback TLS connection; resolves with the body or rejects with the TLS error. */
function get(options: RequestOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ ...options, path: '/', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

t.test('dev certificates cover the loopback names and chain to their CA', async (t) => {
  const leaf = new X509Certificate(dev.serving.cert);
  const ca = new X509Certificate(dev.ca.cert);
  t.ok(leaf.verify(ca.publicKey));
  t.equal(leaf.checkHost('localhost'), 'localhost');
  t.equal(leaf.checkIP('127.0.0.1'), '127.0.0.1');
  t.equal(leaf.checkIP('::1'), '::1');
  t.equal(Buffer.from(dev.caBundle, 'base64').toString('utf8'), dev.ca.cert);
});

t.test('a client trusting only the dev CA completes a TLS handshake', async (t) => {
  const server = createServer({ cert: dev.serving.cert, key: dev.serving.key }, (_req, res) => res.end('admitted'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;

  t.equal(await get({ host: '127.0.0.1', port, ca: dev.ca.cert }), 'admitted', 'by IP, matched against the IP SAN');
  // family 4: the server listens on IPv4 only, and "localhost" may resolve to ::1 first.
  const byName = await get({ host: 'localhost', family: 4, port, ca: dev.ca.cert });
  t.equal(byName, 'admitted', 'by name, matched against the DNS SAN');

  const stranger = generateCA({ commonName: 'some other CA' });
  await t.rejects(
    get({ host: '127.0.0.1', port, ca: stranger.cert }),
    { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' },
    'another CA is not trusted',
  );
  await t.rejects(
    get({ host: '127.0.0.1', port, ca: dev.ca.cert, servername: 'webhook.example.com' }),
    { code: 'ERR_TLS_CERT_ALTNAME_INVALID' },
    'a name the certificate does not list is refused',
  );
});

t.test('validityDays bounds the dev certificates', async (t) => {
  const short = devCertificates({ validityDays: 1 });
  const notAfter = new Date(new X509Certificate(short.serving.cert).validTo).getTime();
  t.ok(notAfter <= Date.now() + 24 * 60 * 60 * 1000 && notAfter > Date.now(), 'expires within a day');
});
