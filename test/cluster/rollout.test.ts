// Which endpoints the API server may call, and what each serves: the observation that decides
// when the previous CA may leave caBundle.
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo, Server as TcpServer, Socket } from 'node:net';
import { createServer } from 'node:tls';
import type { X509Certificate } from 'node:crypto';
import t from 'tap';
import { checkRollout, servingEndpoints, tlsProbe } from '../../src/cluster/certs/rollout.js';
import { generateCA, generateServingCert } from '../../src/tls/generate.js';
import { endpointSlice, FakeProbe, FakeSlices } from '../helpers/rollout-fakes.js';
import { httpError, networkError } from '../helpers/cluster.js';

const caA = generateCA({ commonName: 'CA A' });
const caB = generateCA({ commonName: 'CA B' });
const serving = (ca: typeof caA) =>
  generateServingCert(ca, { commonName: 'gate', dnsNames: ['practice-gate.practice-gate.svc'], ipAddresses: [] });
const underA = serving(caA);
const underB = serving(caB);

t.test('servingEndpoints: ready endpoints and terminating ones still serving, on the named port', async (t) => {
  const slices = [
    endpointSlice([
      { pod: 'ready', address: '10.0.0.1', conditions: { ready: true } },
      { pod: 'unset', address: '10.0.0.2', conditions: {} },
      { pod: 'starting', address: '10.0.0.3', conditions: { ready: false, serving: false } },
      { pod: 'draining', address: '10.0.0.4', conditions: { ready: false, serving: true, terminating: true } },
      { pod: 'gone', address: '10.0.0.5', conditions: { ready: false, serving: false, terminating: true } },
      { pod: 'old-api', address: '10.0.0.6', conditions: { ready: false } },
    ]),
    endpointSlice(
      [{ pod: 'ready', address: 'fd00::1', conditions: { ready: true } }],
      [
        { name: 'http-metrics', port: 8080 },
        { name: 'https-webhook', port: 9443 },
      ],
    ),
  ];
  t.same(
    servingEndpoints(slices, 'https-webhook'),
    {
      endpoints: [
        { address: '10.0.0.1', port: 8443, pod: 'ready' },
        { address: '10.0.0.2', port: 8443, pod: 'unset' },
        { address: '10.0.0.4', port: 8443, pod: 'draining' },
        { address: 'fd00::1', port: 9443, pod: 'ready' },
      ],
    },
    'not ready (no serving condition: an older API server) and not serving ones are not called',
  );
});

t.test('servingEndpoints: nothing to observe without slices or without the port', async (t) => {
  t.same(servingEndpoints([], 'https-webhook'), { none: 'no EndpointSlices for the Service' });
  t.same(servingEndpoints([endpointSlice([{ pod: 'p', address: '10.0.0.1' }], [{ name: 'other', port: 1 }])], 'https-webhook'), {
    none: 'no EndpointSlice port named "https-webhook"',
  });
  t.same(servingEndpoints([endpointSlice([], [{ port: 8443 }])], ''), { endpoints: [] }, 'a Service with one unnamed port: the empty name');
});

t.test('checkRollout: caught up, lagging, unreachable', async (t) => {
  const slices = new FakeSlices([
    endpointSlice([
      { pod: 'a', address: '10.0.0.1' },
      { pod: 'b', address: '10.0.0.2' },
      { pod: 'c', address: '10.0.0.3' },
    ]),
  ]);
  const probe = new FakeProbe();
  probe.serve('10.0.0.1', underA.cert);
  probe.serve('10.0.0.2', underA.cert);
  probe.serve('10.0.0.3', underA.cert);
  t.same(await checkRollout({ slices, probe, caPem: caA.cert }), { mode: 'endpoints', caughtUp: true, checked: 3 });
  t.same(probe.probed.sort(), ['10.0.0.1:8443', '10.0.0.2:8443', '10.0.0.3:8443'], 'each endpoint on the webhook port');

  probe.serve('10.0.0.2', underB.cert);
  probe.fail('10.0.0.3', networkError('ECONNREFUSED'));
  const verdict = await checkRollout({ slices, probe, caPem: caA.cert });
  t.match(verdict, {
    mode: 'endpoints',
    caughtUp: false,
    checked: 3,
    lagging: [
      { pod: 'b', address: '10.0.0.2', why: /issued by "CN=CA B", not by the current CA/ },
      { pod: 'c', address: '10.0.0.3', why: /unreachable: .*ECONNREFUSED/ },
    ],
  });
});

t.test('checkRollout: forbidden or absent EndpointSlices fall back to time; other errors keep deciding later', async (t) => {
  const probe = new FakeProbe();
  const failing = (err: unknown) => Object.assign(new FakeSlices([]), { failure: err });
  t.same(await checkRollout({ slices: failing(httpError(403)), probe, caPem: caA.cert }), {
    mode: 'time',
    why: 'not allowed to list EndpointSlices',
  });
  t.same(await checkRollout({ slices: failing(httpError(404)), probe, caPem: caA.cert }), {
    mode: 'time',
    why: 'EndpointSlices not served by this API server',
  });
  t.match(await checkRollout({ slices: failing(networkError()), probe, caPem: caA.cert }), { mode: 'unknown', why: /ECONNREFUSED/ });
  t.match(await checkRollout({ slices: failing(httpError(500)), probe, caPem: caA.cert }), { mode: 'unknown', why: /HTTP 500/ });
  t.same(await checkRollout({ slices: new FakeSlices([]), probe, caPem: caA.cert }), {
    mode: 'time',
    why: 'no EndpointSlices for the Service',
  });
  t.same(probe.probed, [], 'nothing probed');
});

function listen(server: TcpServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

t.test('tlsProbe: reads the certificate over real TLS, sending the Service name as SNI, trusting nothing', async (t) => {
  let sni: string | undefined;
  const server = createServer({
    cert: underB.cert,
    key: underB.key,
    SNICallback: (name, cb) => {
      sni = name;
      cb(null);
    },
  });
  server.on('tlsClientError', () => undefined);
  const port = await listen(server);
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const cert: X509Certificate = await tlsProbe('practice-gate.practice-gate.svc', 2_000).peerCertificate('127.0.0.1', port);
  t.equal(cert.issuer, 'CN=CA B', 'a CA this process does not trust: still read');
  t.equal(sni, 'practice-gate.practice-gate.svc');
});

t.test('tlsProbe: a refused port and a silent peer fail, the latter within the timeout', async (t) => {
  const sockets: Socket[] = [];
  const silent = createTcpServer((socket) => void sockets.push(socket));
  const port = await listen(silent);
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((resolve) => silent.close(() => resolve()));
  });
  const probe = tlsProbe('practice-gate.practice-gate.svc', 300);
  const started = Date.now();
  await t.rejects(probe.peerCertificate('127.0.0.1', port), /no TLS handshake within 300 ms/);
  t.ok(Date.now() - started < 2_000, 'bounded by the timeout');

  const closed = createTcpServer();
  const closedPort = await listen(closed);
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  await t.rejects(probe.peerCertificate('127.0.0.1', closedPort), { code: 'ECONNREFUSED' });
});
