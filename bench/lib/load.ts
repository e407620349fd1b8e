// The load the webhook benchmarks put on a server: autocannon over HTTPS keep-alive, HTTP/1.1,
// no pipelining, each connection cycling through the given bodies; exact per-response latency
// (autocannon's own histogram keeps whole milliseconds) and the server's CPU time from /proc.
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

function cannon(server: Server, bodies: string[], connections: number, seconds: number, latencies: number[] = []): Promise<autocannon.Result> {
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

export const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/** Warm-up, then `seconds` of load at `connections`, with the server's CPU time around it. */
export async function measure(server: Server, bodies: string[], connections: number, seconds: number, warmupSeconds: number): Promise<Measure> {
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
