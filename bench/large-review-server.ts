// The webhook for the large-review benchmark: startServer (what `practice-gate serve` runs)
// with a plain-HTTP probe port, reporting its heap on stdin commands: `mark` collects garbage
// and takes the baseline, `report` prints the highest heapUsed seen since (sampled every 2 ms
// and at the end of every request, when the body and the answer are still referenced) and the
// heap growth of the worker thread that parsed the last large body (its own V8 heap, which
// heapUsed does not include; 0 when no worker parsed it, or for a build without the pool), and
// the longest the event loop was late since (monitorEventLoopDelay): how long /healthz could wait.
// Prints {"port": N, "probePort": N} once ready (/readyz would say so).
// Usage: node --expose-gc dist/bench/large-review-server.js CERT KEY [path/to/dist/src/server/run.js]
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { getHeapStatistics } from 'node:v8';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import type { startServer as StartServer } from '../src/server/run.js';

const [certFile, keyFile, runModule] = process.argv.slice(2);
if (!certFile || !keyFile) {
  process.stderr.write('usage: large-review-server CERT KEY [run.js]\n');
  process.exit(2);
}
// Another build's run.js (e.g. main's) can be measured with the same harness.
const { startServer } = (await import(runModule ? pathToFileURL(runModule).href : '../src/server/run.js')) as {
  startServer: typeof StartServer;
};
const gc = (globalThis as { gc?: () => void }).gc;
let baseline = 0;
let pool: { stats: { lastHeapBytes: number } } | undefined;
let peak = 0;
// The V8 heap's own figure, not process.memoryUsage(): that one reads /proc for the RSS at every
// call, which every 2 ms over a review cost the server ~15 ms of the CPU this bench reports.
const heapUsed = () => getHeapStatistics().used_heap_size;
const sample = () => {
  peak = Math.max(peak, heapUsed());
};
setInterval(sample, 2).unref();
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();
const handle = await startServer({
  tls: { files: { certFile, keyFile } },
  port: 0,
  probePort: 0,
  host: '127.0.0.1',
  processMetrics: false,
  ...(process.env.BENCH_CONFIG ? { configFile: process.env.BENCH_CONFIG } : {}),
  logger: pino({ level: 'warn' }, pino.destination({ dest: 2, sync: false })),
  configureApp: (app) => {
    app.addHook('onReady', async () => {
      pool = (app as unknown as { bodyPool?: typeof pool }).bodyPool;
    });
    app.addHook('onResponse', async () => sample());
  },
});
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'mark') {
    gc?.();
    baseline = heapUsed();
    peak = baseline;
    if (pool) pool.stats.lastHeapBytes = 0;
    loopDelay.reset();
    process.stdout.write('{"marked":true}\n');
  } else if (line === 'report') {
    const workerHeapGrowthMiB = (pool?.stats.lastHeapBytes ?? 0) / 1024 / 1024;
    const loopLateMs = loopDelay.max / 1e6;
    process.stdout.write(`${JSON.stringify({ heapGrowthMiB: (peak - baseline) / 1024 / 1024, workerHeapGrowthMiB, loopLateMs })}\n`);
  }
});
// The API server sends reviews to ready pods only: a server is ready once it has warmed up.
while (!handle.state.readiness().ready) await new Promise((resolve) => setTimeout(resolve, 5));
process.stdout.write(`${JSON.stringify({ port: handle.port, probePort: handle.probePort })}\n`);
process.on('SIGTERM', () => void handle.close().then(() => process.exit(0)));
