// What judging costs over reading the review (issue 18, target 2): practice-gate's CPU time
// per review next to the JSON floor's -- the same HTTPS server code also decoding the body,
// JSON.parse-ing it and JSON.stringify-ing practice-gate's own answer to it -- for the
// 3-container Deployment, compliant and not. CPU time per review (utime + stime of the
// server, /proc/PID/stat) is what the target is stated in: it holds up on a shared machine
// where throughput does not. Next to them, practice-gate at --log-level warn, which writes no
// line per review (the floor writes none): how much of the gap is that line. The servers take
// turns, in an order that rotates each round, and the ratios are taken within each round.
// Run: npm run bench:judging   (builds, then node dist/bench/judging-cost.js)
// BENCH_SECONDS (default 8) per turn, BENCH_ROUNDS (default 4), BENCH_CONNECTIONS (default 8).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { measure } from './lib/load.js';
import { COMPLIANT, NOTHING, deployment, review } from './lib/manifests.js';
import { canPin, machine, pinSelf } from './lib/proc.js';
import { startGate, startJsonFloor, startQuietGate, writeCerts } from './lib/servers.js';
import { freePort } from '../test/e2e/fixture/processes.js';
import type { Server } from './lib/servers.js';
import { fixed, int, table } from './lib/table.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const WARMUP_SECONDS = 2;
const TARGET = 1.5;

const BODIES = [
  { name: 'Deployment, 3 containers, compliant', body: review(deployment('api', [COMPLIANT])) },
  { name: 'Deployment, 3 containers, sidecars break practices', body: review(deployment('api', [COMPLIANT, NOTHING, NOTHING])) },
  { name: 'Deployment, 3 containers, no practices', body: review(deployment('api', [NOTHING])) },
];

/** practice-gate's answer to `body`, byte for byte, for the floor to stringify. */
function answerOf(server: Server, body: string): Promise<Buffer> {
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
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks)));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

pinSelf();
const dir = mkdtempSync(join(tmpdir(), 'pg-bench-judging-'));
const certs = writeCerts(join(dir, 'pki'));
let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
} catch {
  // not in a checkout
}
console.log('# What judging costs: practice-gate vs the JSON floor, CPU time per review');
console.log(`machine: ${machine()}; commit ${commit}; load average at the start ${load()}`);
console.log(
  `${canPin ? 'each server pinned to core 1, autocannon to core 0' : 'no CPU pinning'}; ${CONNECTIONS} keep-alive HTTPS connections, HTTP/1.1; ` +
    `${WARMUP_SECONDS} s warm-up then ${SECONDS} s per turn; ${ROUNDS} rounds, floor, gate and gate without log line taking turns (order rotates each round)\n`,
);

const rows = [
  [
    'body',
    'KiB',
    'answer KiB',
    'floor µs / review',
    'gate µs / review',
    'gate / floor per round',
    'median ratio',
    `target <= ${TARGET}×`,
    'no log line: µs / review',
    'ratio',
    'gate reviews/s',
    'failed',
  ],
];
const servers: Server[] = [];
try {
  const gate = await startGate(certs);
  const quiet = await startQuietGate(certs, await freePort());
  servers.push(gate, quiet);
  // V8 optimises the hot code over the first thousands of reviews: all bodies, before any turn.
  for (const s of [gate, quiet])
    await measure(
      s,
      BODIES.map((b) => b.body),
      CONNECTIONS,
      2 * WARMUP_SECONDS,
      WARMUP_SECONDS,
    );
  for (const [i, b] of BODIES.entries()) {
    const answerFile = join(dir, `answer-${i}.json`);
    const answer = await answerOf(gate, b.body);
    writeFileSync(answerFile, answer);
    const floor = await startJsonFloor(certs, answerFile);
    servers.push(floor);
    const floorUs: number[] = [];
    const gateUs: number[] = [];
    const quietUs: number[] = [];
    const ratios: number[] = [];
    const quietRatios: number[] = [];
    const rps: number[] = [];
    const loads: string[] = [];
    let failures = 0;
    for (let round = 0; round < ROUNDS; round++) {
      loads.push(load());
      const trio = [floor, gate, quiet];
      const byName = new Map<string, number>();
      for (const s of trio.map((_, k) => trio[(k + round) % trio.length]!)) {
        const m = await measure(s, [b.body], CONNECTIONS, SECONDS, WARMUP_SECONDS);
        failures += m.failures;
        byName.set(s.name, (m.cpuPer1000 ?? NaN) * 1000);
        if (s === gate) rps.push(m.rps);
      }
      const f = byName.get(floor.name)!;
      const g = byName.get(gate.name)!;
      const q = byName.get(quiet.name)!;
      floorUs.push(f);
      gateUs.push(g);
      quietUs.push(q);
      ratios.push(g / f);
      quietRatios.push(q / f);
    }
    await floor.stop();
    servers.splice(servers.indexOf(floor), 1);
    const r = median(ratios);
    rows.push([
      b.name,
      fixed(Buffer.byteLength(b.body) / 1024, 1),
      fixed(answer.length / 1024, 1),
      `${fixed(Math.min(...floorUs), 0)} – ${fixed(Math.max(...floorUs), 0)}`,
      `${fixed(Math.min(...gateUs), 0)} – ${fixed(Math.max(...gateUs), 0)}`,
      ratios.map((x) => fixed(x)).join(', '),
      `${fixed(r)}×`,
      r <= TARGET ? 'met' : `missed by ${fixed((r / TARGET - 1) * 100, 0)}%`,
      `${fixed(Math.min(...quietUs), 0)} – ${fixed(Math.max(...quietUs), 0)}`,
      `${fixed(median(quietRatios))}×`,
      int(median(rps)),
      int(failures),
    ]);
    console.log(`${b.name}: load average per round ${loads.join('; ')}`);
  }
} finally {
  await Promise.all(servers.map((s) => s.stop()));
  rmSync(dir, { recursive: true, force: true });
}
console.log(`\n${table(rows)}\n\nload average at the end ${load()}`);
