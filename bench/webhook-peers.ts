// The webhook alone, side by side: practice-gate, the Polaris webhook (when ensure-peers.sh
// could build it) and a bare Node HTTPS server as the ceiling, under the same load: HTTPS
// keep-alive, HTTP/1.1, a mix of realistic AdmissionReviews (a Pod, a 3-container Deployment,
// a ~100 KiB Deployment, each compliant and not), at the same concurrency levels for the same
// duration. Reports throughput, p50/p99, CPU seconds per 1,000 reviews (/proc/PID/stat) and
// peak RSS (VmHWM), each also as a ratio to practice-gate. Servers on core 1, load on core 0.
// Before measuring, each server's answers to a compliant and a non-compliant review are
// checked: a Polaris that allowed everything would be a comparison of unequal work.
// The servers take turns: every level, every round, in an order that rotates each round.
// Run: npm run bench:peers   (or node dist/bench/webhook-peers.js after npm run build:bench)
// BENCH_SECONDS (default 10) per level; BENCH_LEVELS (default 1,8,32) the concurrency levels;
// BENCH_ROUNDS (default 2) how many times each server runs each level.
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { cpuPerReview, measure } from './lib/load.js';
import type { Measure } from './lib/load.js';
import { COMPLIANT, NOTHING, deployment, review, reviewMix } from './lib/manifests.js';
import { ensurePeers } from './lib/peers.js';
import { canPin, machine, pinSelf } from './lib/proc.js';
import { deadKubeconfig, startCeiling, startGate, startParseCeiling, startPolaris, writeCerts } from './lib/servers.js';
import { freePort } from '../test/e2e/fixture/processes.js';
import type { Server } from './lib/servers.js';
import { fixed, int, ratio, table } from './lib/table.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = 2;
const LEVELS = (process.env.BENCH_LEVELS ?? '1,8,32').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const MIX = reviewMix();
const BODIES = MIX.map((m) => m.body);

/** One review's answer: status and the AdmissionReview's response. */
function ask(server: Server, body: string): Promise<{ status: number; allowed?: boolean; message?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: server.port,
        path: server.path,
        method: 'POST',
        rejectUnauthorized: false,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => {
          try {
            const r = (JSON.parse(text) as { response?: { allowed?: boolean; status?: { message?: string } } }).response;
            resolve({ status: res.statusCode ?? 0, allowed: r?.allowed, message: r?.status?.message });
          } catch {
            resolve({ status: res.statusCode ?? 0, message: text.slice(0, 200) });
          }
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Proof that a server judges: the compliant Deployment allowed, the one with no practices denied. */
async function proveJudges(server: Server): Promise<string> {
  const good = await ask(server, review(deployment('api', [COMPLIANT])));
  const bad = await ask(server, review(deployment('api', [NOTHING])));
  const first = (m?: string) => (m ?? '').trim().split('\n').slice(0, 3).join(' / ').slice(0, 160);
  if (good.status !== 200 || good.allowed !== true || bad.status !== 200 || bad.allowed !== false) {
    throw new Error(
      `${server.name} does not judge the reviews: compliant -> ${JSON.stringify(good)}, no practices -> ${JSON.stringify(bad)}`,
    );
  }
  return `${server.name}: compliant Deployment allowed; Deployment with no practices denied ("${first(bad.message)}...")`;
}

pinSelf();
const dir = mkdtempSync(join(tmpdir(), 'pg-bench-peers-'));
const certs = writeCerts(join(dir, 'pki'));
const peers = ensurePeers();

let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
} catch {
  // not in a checkout
}
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
console.log('# The webhook alone: practice-gate vs peers vs the bare-HTTPS ceiling');
console.log(`machine: ${machine()}; commit ${commit}; load average at the start ${load()}`);
console.log(
  `${canPin ? 'each server pinned to core 1, the load generator (autocannon) to core 0' : 'no CPU pinning'}; HTTPS keep-alive, HTTP/1.1, ` +
    `no pipelining; ${WARMUP_SECONDS} s warm-up then ${SECONDS} s per level; concurrency ${LEVELS.join(', ')}; ${ROUNDS} rounds, the servers taking turns at every level`,
);
console.log(
  `mix, cycled per connection: ${MIX.map((m) => `${m.name} (${(Buffer.byteLength(m.body) / 1024).toFixed(1)} KiB)`).join('; ')}\n`,
);

const missing: string[] = [];
const servers: Server[] = [];
const results = new Map<string, Map<number, Measure[]>>();
const loads: string[] = [];
// CPU ms per review by body, one at a time: server name -> body name -> per round.
const perBody = new Map<string, Map<string, number[]>>();
const PER_BODY_SECONDS = Number(process.env.BENCH_BODY_SECONDS ?? 3);
try {
  servers.push(await startGate(certs));
  if (peers.polaris) {
    // controller-runtime's manager wants a kubeconfig; no review in the mix has an owner, so
    // Polaris' validating handler never calls it (an idle API server would only add noise).
    servers.push(await startPolaris(peers.polaris, certs, await freePort(), deadKubeconfig(dir)));
  } else {
    missing.push('Polaris webhook: not built (see ensure-peers.sh above)');
  }
  servers.push(await startParseCeiling(certs), await startCeiling(certs));
  for (const s of servers.slice(0, 2)) console.log(await proveJudges(s));
  console.log('');
  for (let round = 0; round < ROUNDS; round++) {
    for (const level of LEVELS) {
      loads.push(load());
      // Rotate who goes first, so drift on the shared machine spreads over every server.
      const order = servers.map((_, i) => servers[(i + round + LEVELS.indexOf(level)) % servers.length]!);
      for (const server of order) {
        const m = await measure(server, BODIES, level, SECONDS, WARMUP_SECONDS);
        const byLevel = results.get(server.name) ?? new Map<number, Measure[]>();
        byLevel.set(level, [...(byLevel.get(level) ?? []), m]);
        results.set(server.name, byLevel);
      }
    }
    loads.push(load());
    for (const [i, mix] of MIX.entries()) {
      const order = servers.map((_, k) => servers[(k + round + i) % servers.length]!);
      for (const server of order) {
        const r = await cpuPerReview(server, mix.body, 5, 10, PER_BODY_SECONDS);
        const byBody = perBody.get(server.name) ?? new Map<string, number[]>();
        byBody.set(mix.name, [...(byBody.get(mix.name) ?? []), (r.cpu ?? NaN) * 1000]);
        perBody.set(server.name, byBody);
      }
    }
  }
} finally {
  await Promise.all(servers.map((s) => s.stop()));
  rmSync(dir, { recursive: true, force: true });
}

const median = (xs: Array<number | undefined>) => {
  const s = xs.filter((x): x is number => x !== undefined && Number.isFinite(x)).sort((a, b) => a - b);
  return s.length === 0 ? undefined : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const med = (ms: Measure[]): Measure => ({
  rps: median(ms.map((m) => m.rps))!,
  p50: median(ms.map((m) => m.p50))!,
  p99: median(ms.map((m) => m.p99))!,
  failures: ms.reduce((n, m) => n + m.failures, 0),
  cpuPer1000: median(ms.map((m) => m.cpuPer1000)),
  peakMiB: Math.max(...ms.map((m) => m.peakMiB ?? NaN)),
});

console.log(`load average during the rounds: ${loads.join('; ')}; at the end ${load()}\n`);
console.log('Medians over the rounds:\n');
const gate = results.get('practice-gate')!;
const rows = [
  [
    'server',
    'concurrency',
    'reviews/s',
    'p50 ms',
    'p99 ms',
    'CPU s / 1,000 reviews',
    'peak RSS MiB',
    'failed',
    'throughput vs gate',
    'p99 vs gate',
    'CPU vs gate',
    'RSS vs gate',
  ],
];
for (const [name, byLevel] of results) {
  for (const [level, ms] of byLevel) {
    const m = med(ms);
    const g = med(gate.get(level)!);
    rows.push([
      name,
      String(level),
      int(m.rps),
      fixed(m.p50),
      fixed(m.p99),
      fixed(m.cpuPer1000, 3),
      fixed(m.peakMiB, 0),
      int(m.failures),
      ratio(m.rps, g.rps),
      ratio(m.p99, g.p99),
      ratio(m.cpuPer1000, g.cpuPer1000),
      ratio(m.peakMiB, g.peakMiB),
    ]);
  }
}
console.log(table(rows));
for (const m of missing) console.log(`\n${m}`);

// Ratios within each round (the two ran minutes apart at most), then their range.
const span = (xs: number[]) => (xs.length === 0 ? 'n/a' : `${fixed(Math.min(...xs))}–${fixed(Math.max(...xs))}`);
const polaris = results.get('Polaris webhook');
const parseCeiling = results.get('HTTPS + JSON.parse ceiling');
console.log('\nTargets (each ratio per round, its range over the rounds):');
for (const level of LEVELS) {
  const g = gate.get(level)!;
  const p = polaris?.get(level);
  const pc = parseCeiling?.get(level);
  const per = (f: (gm: Measure, o: Measure) => number, other?: Measure[]) => (other ? g.map((gm, i) => f(gm, other[i]!)) : []);
  const parts = [`concurrency ${level}:`];
  if (p) {
    const thr = per((a, b) => a.rps / b.rps, p);
    const p99 = per((a, b) => a.p99 / b.p99, p);
    const cpu = per((a, b) => (a.cpuPer1000 ?? NaN) / (b.cpuPer1000 ?? NaN), p);
    parts.push(
      `${span(thr)}× Polaris' throughput (target >= 2×: ${Math.min(...thr) >= 2 ? 'met' : 'missed'}),`,
      `p99 ${span(p99)}× Polaris' (target <= 0.5×: ${Math.max(...p99) <= 0.5 ? 'met' : 'missed'}),`,
      `CPU per review ${span(cpu)}× Polaris' (target < 1×: ${Math.max(...cpu) < 1 ? 'met' : 'missed'});`,
    );
  } else parts.push('vs Polaris: not measured;');
  if (pc) parts.push(`CPU per review ${span(per((a, b) => (a.cpuPer1000 ?? NaN) / (b.cpuPer1000 ?? NaN), pc))}× the JSON.parse ceiling's`);
  console.log(`  ${parts.join(' ')}`);
}

// CPU per review by body: medians over the rounds, each server against practice-gate.
const names = [...perBody.keys()];
const brows = [['body', ...names.map((n) => `${n} CPU ms`), ...names.slice(1).map((n) => `${n} vs gate`)]];
for (const mix of MIX) {
  const cell = (n: string) => median(perBody.get(n)?.get(mix.name) ?? []);
  const g = cell('practice-gate');
  brows.push([mix.name, ...names.map((n) => fixed(cell(n), 3)), ...names.slice(1).map((n) => ratio(cell(n), g))]);
}
console.log(
  `\nCPU per review, one body at a time (one kept-alive connection, every answer awaited; 5 warm-up reviews, then at least 10 and ${PER_BODY_SECONDS} s per server and body; median over the rounds):\n`,
);
console.log(table(brows));
