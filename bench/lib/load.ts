// The load the webhook benchmarks put on a server: autocannon over HTTPS keep-alive, HTTP/1.1,
// no pipelining, each connection cycling through the given bodies; exact per-response latency
// (autocannon's own histogram keeps whole milliseconds) and the server's CPU time from /proc.
import { Agent, request } from 'node:https';
import autocannon from 'autocannon';
import { cpuSeconds, peakRssMiB } from './proc.js';
import type { Server } from './servers.js';

export interface Measure {
  rps: number;
  p50: number;
  p99: number;
  failures: number;
  /** CPU seconds (utime + stime) the server spent per 1,000 answered reviews. */
  cpuPer1000: number | undefined;
  peakMiB: number | undefined;
}

function cannon(
  server: Server,
  bodies: string[],
  connections: number,
  seconds: number,
  latencies: number[] = [],
): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `https://127.0.0.1:${server.port}${server.path}`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        requests: bodies.map((body) => ({ body })),
        connections,
        pipelining: 1,
        duration: seconds,
        timeout: 10,
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
    instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (status === 200) latencies.push(ms);
    });
  });
}

export const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/** Warm-up, then `seconds` of load at `connections`, with the server's CPU time around it. */
export async function measure(
  server: Server,
  bodies: string[],
  connections: number,
  seconds: number,
  warmupSeconds: number,
): Promise<Measure> {
  await cannon(server, bodies, connections, warmupSeconds);
  const before = cpuSeconds(server.child.pid);
  const latencies: number[] = [];
  const r = await cannon(server, bodies, connections, seconds, latencies);
  const after = cpuSeconds(server.child.pid);
  const ok = r['2xx'];
  latencies.sort((a, b) => a - b);
  return {
    rps: ok / r.duration,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    failures: r.errors + r.timeouts + r.non2xx,
    cpuPer1000: before !== undefined && after !== undefined && ok > 0 ? ((after - before) / ok) * 1000 : undefined,
    peakMiB: peakRssMiB(server.child.pid),
  };
}

function post(agent: Agent, server: Server, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: server.port,
        path: server.path,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * CPU seconds per review for one body, one review at a time on one kept-alive connection,
 * every answer awaited: nothing is in flight when the CPU time is read, which matters for a
 * server that takes a second per review (under load, autocannon's windows would cut reviews
 * in half). `warm` reviews first, then at least `min` reviews and at least `seconds`.
 */
export async function cpuPerReview(
  server: Server,
  body: string,
  warm: number,
  min: number,
  seconds: number,
): Promise<{ cpu: number | undefined; reviews: number; failures: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
  try {
    for (let i = 0; i < warm; i++) await post(agent, server, body);
    const before = cpuSeconds(server.child.pid);
    const started = Date.now();
    let reviews = 0;
    let failures = 0;
    while (reviews < min || Date.now() - started < seconds * 1000) {
      if ((await post(agent, server, body)) === 200) reviews++;
      else failures++;
    }
    const after = cpuSeconds(server.child.pid);
    return { cpu: before !== undefined && after !== undefined ? (after - before) / reviews : undefined, reviews, failures };
  } finally {
    agent.destroy();
  }
}
