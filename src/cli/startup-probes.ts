// While `serve` waits for what it needs before it can listen (self-managed certificates from an
// API server that may not answer yet), the kubelet still probes the probe port. Answering
// "alive, not ready" there keeps the pod out of the Service without the liveness probe
// restarting a process that is only waiting. The real probe server takes the port over after.
import { createServer } from 'node:http';
import type { Readiness } from '../server/state.js';

export interface StartupProbes {
  close(): Promise<void>;
}

export async function startStartupProbes(port: number, host: string, waitingFor: readonly string[]): Promise<StartupProbes> {
  const readiness: Readiness = { ready: false, shuttingDown: false, conditions: Object.fromEntries(waitingFor.map((c) => [c, false])) };
  const notReady = JSON.stringify(readiness);
  const server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    const [status, body] =
      path === '/healthz' ? [200, '{"status":"ok"}'] : path === '/readyz' ? [503, notReady] : [404, '{"error":"starting"}'];
    response.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
    response.end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
