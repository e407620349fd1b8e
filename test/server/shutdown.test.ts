// Graceful shutdown with reviews in flight: readiness flips first, nothing in flight is lost,
// new connections are refused, idle kept-alive connections are closed.
import https from 'node:https';
import net from 'node:net';
import t from 'tap';
import { startServer } from '../../src/server/run.js';
import type { ServerHandle } from '../../src/server/run.js';
import { TEST_REGISTRY, admissionReview, engineConfig, eventually, httpsRequest, pod, testCertificates } from '../helpers/server.js';
import type { HttpsResult } from '../helpers/server.js';

const certs = testCertificates();
const ca = certs.ca.cert;
const body = JSON.stringify(admissionReview(pod('api', 'shop', [{ name: 'app' }]), { uid: 'in-flight' }));

/** A server whose reviews wait in a hook until the test lets them go. */
async function heldServer(shutdownTimeoutMs: number) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let held = 0;
  const server = await startServer({
    tls: { pems: certs.serving },
    port: 0,
    probePort: 0,
    host: '127.0.0.1',
    registry: TEST_REGISTRY,
    processMetrics: false,
    shutdownTimeoutMs,
    configureApp: (app) =>
      app.addHook('preHandler', async (request) => {
        if ((request.body as { request?: { uid?: string } } | undefined)?.request?.uid !== 'in-flight') return;
        held++;
        await gate;
      }),
  });
  server.state.engineConfig = engineConfig({ 'run-as-non-root': 'deny' });
  return { server, release, held: () => held };
}

const readyz = async (server: ServerHandle) => {
  const res = await fetch(`http://127.0.0.1:${server.probePort}/readyz`);
  return { status: res.status, body: (await res.json()) as { ready: boolean; shuttingDown: boolean } };
};

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.on('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

t.test('in-flight reviews all get answers; readiness flips first; new connections are refused', async (t) => {
  const { server, release, held } = await heldServer(20_000);
  const idleAgent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => idleAgent.destroy());
  const warmUp = JSON.stringify(admissionReview(pod('api', 'shop', [{ name: 'app' }]), { uid: 'warm-up' }));
  t.equal((await httpsRequest(server.port, { body: warmUp, ca, agent: idleAgent })).status, 200);
  const idleSocket = Object.values(idleAgent.freeSockets).flat()[0];
  t.ok(idleSocket, 'a kept-alive connection sits idle');
  const idleClosed = new Promise<void>((resolve) => idleSocket?.once('close', () => resolve()));

  t.equal((await readyz(server)).status, 200);
  const N = 8;
  const inFlight: Array<Promise<HttpsResult>> = [];
  for (let i = 0; i < N; i++) inFlight.push(httpsRequest(server.port, { body, ca }));
  await eventually(() => held() === N);

  const closing = server.close();
  const ready = await readyz(server);
  t.equal(ready.status, 503, 'readyz is 503 at once');
  t.match(ready.body, { ready: false, shuttingDown: true });
  await eventually(() => refused(server.port));
  t.pass('new connections are refused while reviews are still in flight');
  await idleClosed;
  t.pass('the idle kept-alive connection was closed');

  release();
  const answers = await Promise.all(inFlight);
  t.strictSame(answers.map((a) => a.status), Array(N).fill(200), `all ${N} in-flight reviews answered`);
  t.ok(answers.every((a) => a.json().response.uid === 'in-flight' && a.json().response.allowed === false), 'with real decisions');
  t.ok(answers.every((a) => a.headers.connection === 'close'), 'each answer tells the client to leave this pod');
  t.strictSame(await closing, { forced: false, durationMs: (await closing).durationMs });
  t.ok(await refused(server.probePort ?? 0), 'the probe port closes last');
});

t.test('past the timeout the remaining connections are cut and shutdown still completes', async (t) => {
  const { server, held } = await heldServer(300);
  const stuck = httpsRequest(server.port, { body, ca }).then(
    () => 'answered',
    (err: Error) => err.message,
  );
  await eventually(() => held() === 1);
  const result = await server.close();
  t.equal(result.forced, true);
  t.match(await stuck, /socket hang up|ECONNRESET/, 'the stuck request was cut');
});

t.test('close() is idempotent', async (t) => {
  const { server } = await heldServer(1_000);
  const first = server.close();
  t.equal(server.close(), first);
  t.equal((await first).forced, false);
});
