// Graceful shutdown with reviews in flight: readiness flips first, nothing in flight is lost,
// the port keeps serving while clients still connect, then refuses new connections, and idle
// kept-alive connections are closed.
import https from 'node:https';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import type { ServerHandle } from '../../src/server/run.js';
import { admissionReview, eventually, httpsRequest, pod, startTestServer, testCertificates } from '../helpers/server.js';
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
  const server = await startTestServer({
    probePort: 0,
    shutdownTimeoutMs,
    configureApp: (app) =>
      app.addHook('preHandler', async (request) => {
        if ((request.body as { request?: { uid?: string } } | undefined)?.request?.uid !== 'in-flight') return;
        held++;
        await gate;
      }),
  });
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
  t.strictSame(
    answers.map((a) => a.status),
    Array(N).fill(200),
    `all ${N} in-flight reviews answered`,
  );
  t.ok(
    answers.every((a) => a.json().response.uid === 'in-flight' && a.json().response.allowed === false),
    'with real decisions',
  );
  t.ok(
    answers.every((a) => a.headers.connection === 'close'),
    'each answer tells the client to leave this pod',
  );
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

t.test('the drain goes on while a client still comes back, and ends once it stops', async (t) => {
  // The API server sends its reviews over one kept-alive connection. Told to leave (Connection:
  // close), it reconnects at once for its next review while the Service still lists this pod (or
  // the webhook is called by URL): closing the port in the pause between its connections refuses
  // that review, or resets one the kernel accepted just before.
  const drainMs = 30_000;
  const server = await startTestServer({ probePort: 0, shutdownTimeoutMs: 2 * drainMs, shutdownDrainMs: drainMs });
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  const review = JSON.stringify(admissionReview(pod('api', 'shop', [{ name: 'app' }]), { uid: 'late' }));
  const send = () =>
    httpsRequest(server.port, { body: review, ca, agent }).then(
      (res) => (res.status === 200 && res.json().response.uid === 'late' ? 'judged' : `status ${res.status}`),
      (err: NodeJS.ErrnoException) => err.code ?? err.message,
    );
  // Its one connection has been open for longer than the quiet period when SIGTERM comes.
  const before: string[] = [];
  for (let i = 0; i < 12; i++) {
    before.push(await send());
    await sleep(100);
  }
  t.strictSame(before, Array(12).fill('judged'), 'reviews on one kept-alive connection before the shutdown');

  const closing = server.close();
  let closed = false;
  void closing.then(() => {
    closed = true;
  });
  const during: string[] = [];
  for (let i = 0; i < 8; i++) {
    during.push(await send());
    await sleep(100);
  }
  t.strictSame(during, Array(8).fill('judged'), 'every review sent during the drain is judged');
  t.notOk(closed, 'the drain is still on while the client keeps coming back');

  const result = await closing;
  t.equal(result.forced, false, 'once the client stops, the shutdown completes without cutting anything');
  t.ok(result.durationMs < drainMs, `and the drain ended early, after ${result.durationMs} ms, not after its ${drainMs} ms`);
  t.ok(await refused(server.port), 'then new connections are refused');
});

/**
 * Keep-alive clients that send back to back, as the API server does, until this replica tells
 * them to leave (an answer with Connection: close) or is gone (connection refused): from then on
 * a real client's new connections go to another replica, since this one is no longer ready.
 * A request fails when it was sent and got no answer (reset, hang-up).
 */
function loadUntilGone(
  server: ServerHandle,
  clients: number,
): { connected: Promise<void>; done: Promise<{ answered: number; failed: string[] }> } {
  const agent = new https.Agent({ keepAlive: true, maxSockets: clients });
  const result = { answered: 0, failed: [] as string[] };
  const review = JSON.stringify(admissionReview(pod('api', 'shop', [{ name: 'app' }]), { uid: 'load' }));
  let connected = 0;
  let allConnected!: () => void;
  const ready = new Promise<void>((resolve) => {
    allConnected = resolve;
  });
  const client = async () => {
    for (let first = true; ; first = false) {
      try {
        const res = await httpsRequest(server.port, { body: review, ca, agent });
        if (res.status === 200 && res.json().response.uid === 'load') result.answered++;
        else result.failed.push(`status ${res.status}`);
        if (first && ++connected === clients) allConnected();
        if (res.headers.connection === 'close') return;
      } catch (err) {
        if (first && ++connected === clients) allConnected();
        if ((err as NodeJS.ErrnoException).code === 'ECONNREFUSED') return;
        result.failed.push((err as Error).message);
      }
    }
  };
  const done = Promise.all(Array.from({ length: clients }, client)).then(() => {
    agent.destroy();
    return result;
  });
  return { connected: ready, done };
}

t.test('no request fails across 20 shutdowns under keep-alive load', async (t) => {
  const failures: string[] = [];
  let answered = 0;
  for (let run = 0; run < 20; run++) {
    const server = await startTestServer({ probePort: 0, shutdownTimeoutMs: 5_000, shutdownDrainMs: 200 });
    const load = loadUntilGone(server, 10);
    // Every client is on a kept-alive connection (the API server's situation) before SIGTERM.
    await load.connected;
    const result = await server.close();
    const { answered: n, failed } = await load.done;
    answered += n;
    failures.push(...failed.map((f) => `run ${run + 1}: ${f}`));
    t.equal(result.forced, false, `run ${run + 1}: drained without cutting connections`);
  }
  t.strictSame(failures, [], `0 failed requests out of ${answered + failures.length}`);
  t.ok(answered > 20 * 10, `${answered} requests answered during the runs`);
});
