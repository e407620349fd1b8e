// Scale: engine time and webhook latency as the PodDisruptionBudgets in the cluster context grow
// (10, 1,000, 10,000: all in the workload's namespace, or spread over 100 namespaces) and as the
// object grows (1 to 50 containers). The engine part runs in this process, single-threaded;
// the webhook part starts startServer with that context (bench/scale-server.ts) on core 1 and
// sends one review at a time over a keep-alive HTTPS connection from core 0.
// Run: npm run bench:scale   (or node dist/bench/scale.js after npm run build:bench)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { POLICIES } from '../policies/index.js';
import { ContextIndex, DEFAULT_CONFIG, compileConfig, evaluate } from '../src/engine/index.js';
import type { KubeObject } from '../src/engine/index.js';
import { COMPLIANT, deployment, review } from './lib/manifests.js';
import { pdbsFor } from './lib/scale.js';
import { canPin, machine, pinSelf } from './lib/proc.js';
import { postReview, writeCerts } from './lib/servers.js';
import { fixed, table } from './lib/table.js';

const SERVER = fileURLToPath(new URL('./scale-server.js', import.meta.url));
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 3000);
const config = compileConfig(DEFAULT_CONFIG, POLICIES);

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** Median CPU µs per evaluate() over 7 rounds, after a warm-up. */
function engineMicros(object: KubeObject, context: ContextIndex): { median: number; findings: number } {
  const findings = evaluate(object, context, config)?.findings.length ?? 0;
  const perRound = 2_000;
  for (let i = 0; i < perRound * 2; i++) evaluate(object, context, config);
  const rounds: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t = cpuMicros();
    for (let i = 0; i < perRound; i++) evaluate(object, context, config);
    rounds.push((cpuMicros() - t) / perRound);
  }
  rounds.sort((a, b) => a - b);
  return { median: rounds[3]!, findings };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function webhookLatency(
  certs: { certFile: string; keyFile: string },
  pdbs: number,
  namespaces: number,
  body: string,
): Promise<{ p50: number; p99: number }> {
  const args = [SERVER, certs.certFile, certs.keyFile, String(pdbs), String(namespaces)];
  const child = canPin ? spawn('taskset', ['-c', '1', process.execPath, ...args]) : spawn(process.execPath, args);
  child.stderr.resume(); // the decision log, one line per review
  try {
    const port = await new Promise<number>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
      child.on('exit', (code) => reject(new Error(`scale-server exited ${code}`)));
    });
    const agent = new Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
    const once = async (): Promise<number> => {
      const t = process.hrtime.bigint();
      const answer = await postReview(port, body, agent);
      if (answer.status !== 200) throw new Error(`status ${answer.status}`);
      return Number(process.hrtime.bigint() - t) / 1e6;
    };
    for (let i = 0; i < 300; i++) await once();
    const times: number[] = [];
    for (let i = 0; i < REQUESTS; i++) times.push(await once());
    agent.destroy();
    times.sort((a, b) => a - b);
    return { p50: percentile(times, 50), p99: percentile(times, 99) };
  } finally {
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

pinSelf();
const dir = mkdtempSync(join(tmpdir(), 'pg-bench-scale-'));
const certs = writeCerts(join(dir, 'pki'));
console.log('# Scale: PodDisruptionBudgets in the context, containers in the object');
console.log(`machine: ${machine()}; ${POLICIES.length} policies, default config`);
console.log(
  `engine: CPU µs per evaluate(), median of 7 rounds of 2,000; webhook: ${REQUESTS} reviews one at a time over one keep-alive HTTPS connection${canPin ? ', server on core 1, client on core 0' : ''}\n`,
);

try {
  const api = deployment('api', [COMPLIANT]) as KubeObject;
  const body = review(api as Record<string, unknown>);
  const pdbRows = [['PDBs in the context', 'in the workload namespace', 'engine µs/eval', 'webhook p50 ms', 'webhook p99 ms']];
  for (const count of [10, 1_000, 10_000]) {
    for (const namespaces of [1, 100]) {
      if (count === 10 && namespaces === 100) continue;
      const context = ContextIndex.fromObjects(pdbsFor(count, namespaces) as KubeObject[]);
      const e = engineMicros(api, context);
      const w = await webhookLatency(certs, count, namespaces, body);
      pdbRows.push([
        count.toLocaleString('en-US'),
        context.pdbsIn('shop').length.toLocaleString('en-US'),
        fixed(e.median, 1),
        fixed(w.p50),
        fixed(w.p99),
      ]);
    }
  }
  console.log('3-container compliant Deployment, one PDB selecting it:\n');
  console.log(table(pdbRows));

  const cRows = [
    [
      'containers',
      'body KiB',
      'engine µs/eval (compliant)',
      'engine µs/eval (none kept)',
      'findings (none kept)',
      'webhook p50 ms',
      'webhook p99 ms',
    ],
  ];
  const context = ContextIndex.fromObjects(pdbsFor(10, 1) as KubeObject[]);
  for (const n of [1, 3, 10, 25, 50]) {
    const good = deployment('api', [COMPLIANT], { containers: n }) as KubeObject;
    const bad = deployment(
      'api',
      [
        {
          ...COMPLIANT,
          nonRoot: 'none',
          readOnlyRoot: false,
          requests: 'none',
          memoryLimit: false,
          probes: 'none',
          image: 'latest',
          escalation: 'unset',
        },
      ],
      { containers: n },
    ) as KubeObject;
    const g = engineMicros(good, context);
    const b = engineMicros(bad, context);
    const goodBody = review(good as Record<string, unknown>);
    const w = await webhookLatency(certs, 10, 1, goodBody);
    cRows.push([
      String(n),
      fixed(Buffer.byteLength(goodBody) / 1024, 1),
      fixed(g.median, 1),
      fixed(b.median, 1),
      String(b.findings),
      fixed(w.p50),
      fixed(w.p99),
    ]);
  }
  console.log('\n10 PDBs in the namespace; the compliant object is what the webhook is sent:\n');
  console.log(table(cRows));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
