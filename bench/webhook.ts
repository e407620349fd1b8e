// Webhook throughput and latency over HTTPS keep-alive (HTTP/1.1, as the API server calls
// webhooks), for realistic AdmissionReviews, next to a bare Node HTTPS server answering a
// fixed AdmissionReview as the ceiling, plus a fixed-rate run at 500 reviews/s.
// Run: npm run bench:webhook   (builds, then node dist/bench/webhook.js)
//
// The server under test is the real CLI (`practice-gate serve`, default config, logging at
// info to a pipe) in a child process. On Linux with 2+ cores the server is pinned to core 1
// and this load generator (autocannon) to core 0, so each has one core.
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { arch, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { POLICIES } from '../policies/index.js';
import { devCertificates } from '../src/tls/dev.js';
import { postReview } from './lib/servers.js';

const BIN = fileURLToPath(new URL('../../bin/practice-gate.js', import.meta.url));
const CEILING = fileURLToPath(new URL('./ceiling-server.js', import.meta.url));
const CONNECTIONS = 8;
const WARMUP_SECONDS = 3;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const FIXED_RATE = 500;

// ---- realistic AdmissionReviews ------------------------------------------------------------

function container(name: string, image: string, port: number, compliant: boolean, env: object[] = []): object {
  const base = { name, image, ports: [{ containerPort: port, name: 'http' }], env };
  if (!compliant) return { ...base, image: image.replace(/:[^:/]+$/, ':latest') };
  return {
    ...base,
    securityContext: { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { memory: '1Gi' } },
    readinessProbe: { httpGet: { path: '/ready', port } },
    livenessProbe: { httpGet: { path: '/live', port } },
  };
}

function metadata(name: string): object {
  return {
    name,
    namespace: 'shop',
    labels: { app: name, 'app.kubernetes.io/part-of': 'shop', tier: 'backend' },
    annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"apiVersion":"apps/v1","kind":"Deployment"}' },
  };
}

/** A Pod someone runs by hand: compliant but for its probes (two warnings). */
function pod(): object {
  const c = container('worker', 'ghcr.io/example/worker:2.3.1', 8080, true) as Record<string, unknown>;
  delete c.readinessProbe;
  delete c.livenessProbe;
  return { apiVersion: 'v1', kind: 'Pod', metadata: metadata('worker'), spec: { containers: [c] } };
}

/** An API with an Envoy proxy and a log shipper; the sidecars break the practices (denied). */
function deployment(name: string, env: object[] = []): object {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(name),
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, tier: 'backend' } },
        spec: {
          containers: [
            container('app', 'ghcr.io/example/api:1.4.2', 8080, true, env),
            container('envoy', 'envoyproxy/envoy:v1.31.2', 9901, false),
            container('fluent-bit', 'fluent/fluent-bit:3.1.9', 2020, false),
          ],
        },
      },
    },
  };
}

/** The same Deployment carrying a large configuration in env: about 100 KiB of JSON. */
function bigDeployment(): object {
  const env = Array.from({ length: 850 }, (_, i) => ({
    name: `FEATURE_FLAG_${String(i).padStart(4, '0')}`,
    value: `enabled;owner=team-${i % 17};rollout=${'x'.repeat(64)}`,
  }));
  return deployment('api-large-config', env);
}

function review(object: Record<string, unknown>): string {
  const kind = String(object.kind);
  const group = kind === 'Pod' ? '' : 'apps';
  const resource = `${kind.toLowerCase()}s`;
  const name = (object.metadata as { name: string }).name;
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: '0df28fbd-5f5f-11e8-bc74-36e6bb280816',
      kind: { group, version: 'v1', kind },
      resource: { group, version: 'v1', resource },
      requestKind: { group, version: 'v1', kind },
      requestResource: { group, version: 'v1', resource },
      name,
      namespace: 'shop',
      operation: 'CREATE',
      userInfo: { username: 'system:serviceaccount:ci:deployer', uid: 'b5c2', groups: ['system:serviceaccounts', 'system:authenticated'] },
      object,
      oldObject: null,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions', fieldManager: 'kubectl-client-side-apply' },
    },
  });
}

const FIXTURES = [
  { name: 'Pod, 1 container (2 warnings)', body: review(pod() as Record<string, unknown>) },
  { name: 'Deployment, 3 containers (denied)', body: review(deployment('api') as Record<string, unknown>) },
  { name: 'Deployment, ~100 KiB env (denied)', body: review(bigDeployment() as Record<string, unknown>) },
];

// ---- processes -------------------------------------------------------------------------------

const pinning = process.platform === 'linux' && cpus().length >= 2 && hasTaskset();

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function startOnCore(args: string[]): ChildProcessWithoutNullStreams {
  // taskset execs node in place, so the child's pid is the server's.
  return pinning ? spawn('taskset', ['-c', '1', process.execPath, ...args]) : spawn(process.execPath, args);
}

interface Target {
  name: string;
  port: number;
  child: ChildProcessWithoutNullStreams;
  logLines: () => number;
}

async function start(name: string, args: string[], portOf: (line: string) => number | undefined): Promise<Target> {
  const child = startOnCore(args);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let lines = 0;
  const port = await new Promise<number>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout });
    rl.on('line', (line) => {
      lines++;
      const found = portOf(line);
      if (found !== undefined) resolve(found);
    });
    child.on('exit', (code) => reject(new Error(`${name} exited with ${code}: ${stderr}`)));
  });
  return { name, port, child, logLines: () => lines };
}

async function stop(target: Target): Promise<void> {
  const exited = new Promise((resolve) => target.child.on('exit', resolve));
  target.child.kill('SIGTERM');
  await exited;
}

/** CPU seconds used so far by a process (Linux /proc), for reviews per CPU-second. */
function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined || process.platform !== 'linux') return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / clockTicks;
  } catch {
    return undefined;
  }
}

const clockTicks = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

// ---- measuring -------------------------------------------------------------------------------

interface Measure {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  failures: number;
  perCpuSecond: number | undefined;
}

function cannon(port: number, body: string, seconds: number): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `https://127.0.0.1:${port}/validate`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        connections: CONNECTIONS,
        pipelining: 1,
        duration: seconds,
        timeout: 10,
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
}

async function measure(target: Target, body: string): Promise<Measure> {
  await cannon(target.port, body, WARMUP_SECONDS);
  const cpuBefore = cpuSeconds(target.child.pid);
  const result = await cannon(target.port, body, SECONDS);
  const cpuAfter = cpuSeconds(target.child.pid);
  const ok = result['2xx'];
  return {
    rps: ok / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: ok,
    failures: result.errors + result.timeouts + result.non2xx,
    perCpuSecond: cpuBefore !== undefined && cpuAfter !== undefined && cpuAfter > cpuBefore ? ok / (cpuAfter - cpuBefore) : undefined,
  };
}

interface FixedRate {
  rate: number;
  p50: number;
  p99: number;
  max: number;
  failures: number;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/**
 * Sends `rate` reviews per second on kept-alive connections and times each from its write to
 * the end of its answer with sub-millisecond resolution (autocannon rounds to whole ms).
 */
async function fixedRate(port: number, body: string, rate: number, seconds: number): Promise<FixedRate> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS, rejectUnauthorized: false });
  const latencies: number[] = [];
  let failures = 0;
  const total = rate * seconds;
  const pending: Array<Promise<void>> = [];
  const start = performance.now();
  for (let sent = 0; sent < total; ) {
    const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
    for (; sent < due; sent++) {
      const t0 = performance.now();
      pending.push(
        postReview(port, body, agent).then(
          (answer) => void (answer.status === 200 ? latencies.push(performance.now() - t0) : failures++),
          () => void failures++,
        ),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    rate: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? NaN,
    failures,
  };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => `| ${r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, c) => (c === 0 ? `-${'-'.repeat(w)}-` : `-${'-'.repeat(w)}:`)).join('|')}|`;
  return [line(rows[0]!), rule, ...rows.slice(1).map(line)].join('\n');
}

const int = (n: number | undefined) => (n === undefined ? 'n/a' : Math.round(n).toLocaleString('en-US'));
const ms = (n: number) => n.toFixed(2);
const us = (perSecond: number | undefined) => (perSecond === undefined ? 'n/a' : (1e6 / perSecond).toFixed(0));

// ---- main ------------------------------------------------------------------------------------

if (pinning) execFileSync('taskset', ['-cp', '0', String(process.pid)], { stdio: 'ignore' });
const dir = mkdtempSync(join(tmpdir(), 'pg-bench-'));
const certs = devCertificates({ validityDays: 1 });
const certFile = join(dir, 'tls.crt');
const keyFile = join(dir, 'tls.key');
writeFileSync(certFile, certs.serving.cert);
writeFileSync(keyFile, certs.serving.key);

console.log(`practice-gate webhook benchmark: ${POLICIES.length} policies, default config`);
console.log(
  `node ${process.version}, ${arch()}, ${cpus().length} cpus (${cpus()[0]?.model ?? 'unknown'}), load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
console.log(
  `${pinning ? 'server pinned to core 1, load generator to core 0' : 'no CPU pinning (needs Linux, taskset, 2 cores)'}; ` +
    `autocannon, ${CONNECTIONS} keep-alive HTTPS connections, HTTP/1.1, no pipelining; ${WARMUP_SECONDS} s warm-up, then ${SECONDS} s measured`,
);
console.log(`bodies: ${FIXTURES.map((f) => `${f.name} ${(Buffer.byteLength(f.body) / 1024).toFixed(1)} KiB`).join(', ')}`);
console.log("the ceiling answers each body with practice-gate's own answer for it, so both send the same bytes\n");

const startCeiling = (answerFile: string, json: boolean) =>
  start(
    json ? 'json floor' : 'ceiling',
    [CEILING, certFile, keyFile, answerFile, ...(json ? ['--json'] : [])],
    (line) => (JSON.parse(line) as { port?: number }).port,
  );
const gate = await start(
  'practice-gate',
  [BIN, 'serve', '--tls-cert', certFile, '--tls-key', keyFile, '--port', '0', '--host', '127.0.0.1'],
  (line) => {
    const entry = JSON.parse(line) as { msg?: string; port?: number };
    return entry.msg === 'practice-gate listening' ? entry.port : undefined;
  },
);

const rows: string[][] = [
  [
    'body',
    'ceiling req/s',
    'gate req/s',
    'gate / ceiling',
    'ceiling per CPU-s',
    'gate per CPU-s',
    'gate / ceiling (CPU)',
    'gate p50 ms',
    'gate p99 ms',
  ],
];
const results: Array<{ name: string; gate: Measure; ceiling: Measure }> = [];
const ceilings: Target[] = [];
const floorRows: string[][] = [
  ['body', 'ceiling per CPU-s', 'JSON floor per CPU-s', 'gate per CPU-s', 'ceiling µs', 'JSON floor µs', 'gate µs'],
];
try {
  for (const [i, fixture] of FIXTURES.entries()) {
    // The ceiling answers with the gate's own answer for this body.
    const answerFile = join(dir, `answer-${i}.json`);
    writeFileSync(answerFile, (await postReview(gate.port, fixture.body)).body);
    const ceiling = await startCeiling(answerFile, false);
    const floor = await startCeiling(answerFile, true);
    ceilings.push(ceiling, floor);
    const c = await measure(ceiling, fixture.body);
    const f = await measure(floor, fixture.body);
    await stop(floor);
    const g = await measure(gate, fixture.body);
    results.push({ name: fixture.name, gate: g, ceiling: c });
    floorRows.push([
      fixture.name,
      int(c.perCpuSecond),
      int(f.perCpuSecond),
      int(g.perCpuSecond),
      us(c.perCpuSecond),
      us(f.perCpuSecond),
      us(g.perCpuSecond),
    ]);
    const cpuRatio =
      g.perCpuSecond !== undefined && c.perCpuSecond !== undefined ? `${Math.round((100 * g.perCpuSecond) / c.perCpuSecond)}%` : 'n/a';
    rows.push([
      fixture.name,
      int(c.rps),
      int(g.rps),
      `${Math.round((100 * g.rps) / c.rps)}%`,
      int(c.perCpuSecond),
      int(g.perCpuSecond),
      cpuRatio,
      String(g.p50),
      String(g.p99),
    ]);
    if (g.failures + c.failures > 0) console.log(`!! ${fixture.name}: ${g.failures} gate and ${c.failures} ceiling requests failed`);
  }
  console.log('Throughput (as fast as the server answers; latencies in whole ms, as autocannon reports them):\n');
  console.log(table(rows));
  console.log(
    '\nCPU per request: bare HTTPS ceiling, the same plus JSON.parse of the body and JSON.stringify of the answer, practice-gate:\n',
  );
  console.log(table(floorRows));

  const fixedRows: string[][] = [
    ['body', 'achieved reviews/s', 'p50 ms', 'p99 ms', 'max ms', 'failed', 'ceiling p50 ms', 'ceiling p99 ms'],
  ];
  const fixed: FixedRate[] = [];
  for (const [i, fixture] of FIXTURES.entries()) {
    const ceiling = ceilings[2 * i]!;
    await fixedRate(ceiling.port, fixture.body, FIXED_RATE, WARMUP_SECONDS);
    const c = await fixedRate(ceiling.port, fixture.body, FIXED_RATE, SECONDS);
    await fixedRate(gate.port, fixture.body, FIXED_RATE, WARMUP_SECONDS);
    const m = await fixedRate(gate.port, fixture.body, FIXED_RATE, SECONDS);
    fixed.push(m);
    fixedRows.push([fixture.name, int(m.rate), ms(m.p50), ms(m.p99), ms(m.max), String(m.failures + c.failures), ms(c.p50), ms(c.p99)]);
  }
  console.log(`\nFixed rate: ${FIXED_RATE} reviews/s, timed per request from write to answer (sub-ms):\n`);
  console.log(table(fixedRows));

  const typical = results[1]!;
  console.log('\nTargets (Deployment, 3 containers):');
  const cpuShare =
    typical.gate.perCpuSecond && typical.ceiling.perCpuSecond
      ? `${Math.round((100 * typical.gate.perCpuSecond) / typical.ceiling.perCpuSecond)}%`
      : 'n/a';
  console.log(
    `  >= 50% of the ceiling: ${Math.round((100 * typical.gate.rps) / typical.ceiling.rps)}% wall clock, ${cpuShare} per CPU-second`,
  );
  console.log(`  >= 3,000 reviews/s on one core: ${int(typical.gate.rps)}/s wall clock, ${int(typical.gate.perCpuSecond)} per CPU-second`);
  console.log(`  p99 < 5 ms at ${FIXED_RATE}/s: ${ms(fixed[1]!.p99)} ms`);
  console.log(`\nlog lines from the gate: ${int(gate.logLines())} (one per review, warm-ups included)`);
} finally {
  await Promise.all([...ceilings.filter((c) => c.child.exitCode === null && c.child.signalCode === null).map(stop), stop(gate)]);
  rmSync(dir, { recursive: true, force: true });
}
