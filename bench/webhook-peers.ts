// The webhook alone, side by side: practice-gate, the Polaris webhook (when ensure-peers.sh
// could build it) and a bare Node HTTPS server as the ceiling, under the same load: HTTPS
// keep-alive, HTTP/1.1, a mix of realistic AdmissionReviews (a Pod, a 3-container Deployment,
// a ~100 KiB Deployment, each compliant and not), at the same concurrency levels for the same
// duration. Reports throughput, p50/p99, CPU seconds per 1,000 reviews (/proc/PID/stat) and
// peak RSS (VmHWM), each also as a ratio to practice-gate. Servers on core 1, load on core 0.
// Run: npm run bench:peers   (or node dist/bench/webhook-peers.js after npm run build)
// BENCH_SECONDS (default 10) per level; BENCH_LEVELS (default 1,8,32) the concurrency levels.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { reviewMix } from './lib/manifests.js';
import { ensurePeers } from './lib/peers.js';
import { canPin, cpuSeconds, machine, peakRssMiB, pinSelf } from './lib/proc.js';
import { startCeiling, startGate, startParseCeiling, startPolaris, writeCerts } from './lib/servers.js';
import type { Server } from './lib/servers.js';
import { fixed, int, ratio, table } from './lib/table.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = 2;
const LEVELS = (process.env.BENCH_LEVELS ?? '1,8,32').split(',').map(Number);
const MIX = reviewMix();

interface Measure {
  rps: number;
  p50: number;
  p99: number;
  failures: number;
  cpuPer1000: number | undefined;
  peakMiB: number | undefined;
}

/** autocannon's own histogram keeps whole milliseconds; its response event gives the exact time. */
function cannon(server: Server, connections: number, seconds: number, latencies: number[] = []): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `https://127.0.0.1:${server.port}${server.path}`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        // Each connection cycles through the mix, so every level sees the same bodies.
        requests: MIX.map((m) => ({ body: m.body })),
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

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function measure(server: Server, connections: number): Promise<Measure> {
  await cannon(server, connections, WARMUP_SECONDS);
  const before = cpuSeconds(server.child.pid);
  const latencies: number[] = [];
  const r = await cannon(server, connections, SECONDS, latencies);
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

pinSelf();
const dir = mkdtempSync(join(tmpdir(), 'pg-bench-peers-'));
const certs = writeCerts(join(dir, 'pki'));
const peers = ensurePeers();

console.log('# The webhook alone: practice-gate vs peers vs the bare-HTTPS ceiling');
console.log(`machine: ${machine()}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log(
  `${canPin ? 'each server pinned to core 1, the load generator (autocannon) to core 0' : 'no CPU pinning'}; HTTPS keep-alive, HTTP/1.1, ` +
    `no pipelining; ${WARMUP_SECONDS} s warm-up then ${SECONDS} s per level; concurrency ${LEVELS.join(', ')}`,
);
console.log(`mix, cycled per connection: ${MIX.map((m) => `${m.name} (${(Buffer.byteLength(m.body) / 1024).toFixed(1)} KiB)`).join('; ')}\n`);

const results = new Map<string, Map<number, Measure>>();
const missing: string[] = [];

async function run(start: () => Promise<Server>): Promise<void> {
  const server = await start();
  try {
    const byLevel = new Map<number, Measure>();
    for (const level of LEVELS) byLevel.set(level, await measure(server, level));
    results.set(server.name, byLevel);
  } finally {
    await server.stop();
  }
}

let cluster: { stop(): Promise<void>; kubeconfig: string } | undefined;
try {
  await run(() => startGate(certs));
  if (peers.polaris) {
    // Polaris' controller-runtime manager needs an API server to start: the e2e harness gives one.
    const { startCluster } = await import('../test/e2e/fixture/cluster.js');
    const { freePort } = await import('../test/e2e/fixture/processes.js');
    cluster = await startCluster();
    const kubeconfig = cluster.kubeconfig;
    const port = await freePort();
    await run(() => startPolaris(peers.polaris!, certs, port, kubeconfig));
  } else {
    missing.push('Polaris webhook: not built (see ensure-peers.sh above)');
  }
  await run(() => startParseCeiling(certs));
  await run(() => startCeiling(certs));
} finally {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
}

const gate = results.get('practice-gate')!;
const rows = [['server', 'concurrency', 'reviews/s', 'p50 ms', 'p99 ms', 'CPU s / 1,000 reviews', 'peak RSS MiB', 'failed', 'throughput vs gate', 'p99 vs gate', 'CPU vs gate', 'RSS vs gate']];
for (const [name, byLevel] of results) {
  for (const [level, m] of byLevel) {
    const g = gate.get(level)!;
    rows.push([name, String(level), int(m.rps), fixed(m.p50), fixed(m.p99), fixed(m.cpuPer1000, 3), fixed(m.peakMiB, 0), int(m.failures), ratio(m.rps, g.rps), ratio(m.p99, g.p99), ratio(m.cpuPer1000, g.cpuPer1000), ratio(m.peakMiB, g.peakMiB)]);
  }
}
console.log(table(rows));
for (const m of missing) console.log(`\n${m}`);

const ceiling = results.get('bare HTTPS ceiling');
const parseCeiling = results.get('HTTPS + JSON.parse ceiling');
const polaris = results.get('Polaris webhook');
console.log('\nTargets:');
for (const level of LEVELS) {
  const g = gate.get(level)!;
  const c = ceiling?.get(level);
  const p = polaris?.get(level);
  const share = c ? (100 * g.rps) / c.rps : NaN;
  const pc = parseCeiling?.get(level);
  const parseShare = pc ? (100 * g.rps) / pc.rps : NaN;
  console.log(
    `  concurrency ${level}: ${fixed(share, 0)}% of the ceiling's throughput (target >= 50%: ${share >= 50 ? 'met' : 'missed'}), ${fixed(parseShare, 0)}% of the JSON.parse ceiling's; ` +
      (p ? `${fixed(g.rps / p.rps)}× Polaris' throughput (target >= 2×), p99 ${fixed(g.p99 / p.p99)}× Polaris' (target <= 0.5×)` : 'vs Polaris: not measured'),
  );
}
