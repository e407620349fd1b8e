// Socket bounds on the TLS port: a client that stops half-way through a TLS handshake is cut
// like any other idle client, and idle keep-alive outlasts the API server's own 90 s.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { TIMEOUTS, buildApp } from '../../src/server/app.js';
import { GateState } from '../../src/server/state.js';
import { startServer } from '../../src/server/run.js';
import { EVENT_LOOP_BODIES, TEST_REGISTRY, engineConfig, testCertificates } from '../helpers/server.js';

const certs = testCertificates();

/** The first bytes of a TLS 1.2 ClientHello record: a header announcing 512 bytes, then 4 of them. */
const PARTIAL_CLIENT_HELLO = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc]);

/** Resolves with true if the server closes the socket, false if it is still open after waitMs. */
function closedBy(port: number, waitMs: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write(PARTIAL_CLIENT_HELLO));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, waitMs);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.on('data', () => reject(new Error('the server answered a partial ClientHello')));
  });
}

t.test('a partial ClientHello is cut after the handshake timeout', async (t) => {
  const state = new GateState(engineConfig({}), { conditions: [] });
  const app = buildApp({ state, https: { cert: certs.serving.cert, key: certs.serving.key }, timeouts: { handshakeTimeout: 200 } });
  t.teardown(() => app.close());
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  // 5 s is 25 times the configured timeout and far below Node's default of 120 s.
  t.equal(await closedBy(port, 5_000), true, 'the server closed the half-open handshake');
});

t.test('the handshake is bounded like every other idle state', async (t) => {
  t.ok(TIMEOUTS.handshakeTimeout <= TIMEOUTS.requestTimeout, `handshake timeout ${TIMEOUTS.handshakeTimeout} ms`);
});

t.test('idle keep-alive outlasts the API server webhook client (90 s) on the served port', async (t) => {
  const server = await startServer({
    largeBodies: EVENT_LOOP_BODIES,
    tls: { pems: certs.serving },
    port: 0,
    probePort: 0,
    host: '127.0.0.1',
    registry: TEST_REGISTRY,
    processMetrics: false,
  });
  t.teardown(() => server.close());
  const keepAlive = (server.app.server as { keepAliveTimeout: number }).keepAliveTimeout;
  t.ok(keepAlive > 90_000, `keepAliveTimeout ${keepAlive} ms is above 90 s`);
  t.ok(keepAlive <= 120_000, 'and not so long that dead connections pile up');
});
