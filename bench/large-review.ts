// Large AdmissionReviews, one at a time, against the webhook (startServer in a child process on
// core 1): how long the answer takes, the server's CPU time (all its threads) and heap growth for
// it (the event loop's heap, and the heap of the worker that parsed it), and how long /healthz
// (polled every 10 ms on the probe port meanwhile) waited at worst, and how late the event loop was at worst. The reviews are the ones
// docs/security.md sizes the body limit from: a Deployment with thousands of small secret volumes
// as the API server sends it (defaults and managedFields included, object and oldObject on
// UPDATE; the two reviews a real API server sent for 66,000 volumes), one at the 16 MiB limit,
// Deployments with 20,000 and 100,000 failing containers, and one over the limit.
// Run: npm run bench:large   (GATE_RUN=path/to/dist/src/server/run.js measures another build;
// BENCH_ONLY=<text> runs only the rows whose name contains it; BENCH_NODE_FLAGS="--cpu-prof ..."
// adds Node flags to the chart's, e.g. to profile one row; BENCH_TRACE=1 prints each review's
// CPU and page faults per thread: the event loop, the body worker, V8's own helpers)
// The server runs with the Node flags of the chart's command line, the environment the chart
// sets and the heap limit V8 takes under the chart's memory limit (lib/chart-command.ts); a
// variable set when running the bench wins (GLIBC_TUNABLES= measures glibc's defaults). Each run
// posts the review twice: right after a forced full collection (gc(), which also takes the heap
// baseline: the heap growth column) and then again; the answer time and the server CPU are the
// second's, the CPU after gc() is reported beside it. Before the rows, the costliest review is
// posted once to the fresh server, and after them up to three times alone (after thousands of
// small reviews and 12 s idle): what those cost is printed under the table. Last, the costliest
// review is sent 1, 2, 4 and 8 times at once, and 64 reviews of just under 1 MiB, to a fresh
// `practice-gate serve` (the chart's program; its memory is what the pod's limit holds): how many
// were judged, how many refused for want of a place in the body budget, the slowest answer and the
// server's peak RSS (the second table). BENCH_MEMORY_CGROUP=<dir> starts the server inside that
// memory cgroup (made beforehand, with the chart's memory limit) and adds its peak usage
// and the OOM kills it saw. BENCH_FIRSTS=<n> measures only the costliest review as the first large
// one of n fresh `practice-gate serve` processes, the chart's program itself (GATE_CLI=path/to/
// dist/cli/practice-gate.js measures another build's), and again 300 ms later (the memory each had
// before, its CPU, its page faults, and how long serve logs it took from the request's headers to
// its answer: the bench's own answer time also holds what this client takes before the request's
// first bytes reach serve, far more on a fresh connection than later), each idle for
// BENCH_FIRST_IDLE_MS (2,000) after a small review. BENCH_ROWS_ONLY=1 stops after the table;
// BENCH_CONFIG=<file> starts the server with that config (custom rules).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { kubectlManagedFields, managedContainers } from '../src/server/warm-up.js';
import { defaultedContainer } from '../test/helpers/containers.js';
import { chartEnv, chartMemoryLimitMiB, chartNodeFlags, podOldSpaceFlag } from './lib/chart-command.js';
import {
  cpuSeconds,
  machine,
  minorFaults,
  peakRssMiB,
  pinSelf,
  resetPeakRss,
  rssMiB,
  runSeconds,
  spawnOnCore1,
  threadCpuSeconds,
  threadMinorFaults,
  threadRunSeconds,
} from './lib/proc.js';
import { postReview, writeCerts } from './lib/servers.js';
import { fixed, table } from './lib/table.js';

const SERVER = fileURLToPath(new URL('./large-review-server.js', import.meta.url));
const SERVER_FLAGS = chartNodeFlags();
/** In the chart's memory cgroup V8 takes its heap limit from it; elsewhere the flag that gives the same limit. */
const POD_HEAP = process.env.BENCH_MEMORY_CGROUP ? [] : [podOldSpaceFlag()];
const CHART_ENV = chartEnv();
const SERVER_ENV = { ...CHART_ENV, ...process.env };
/** The server's command line as the tables print it: the chart's variables as set, its Node flags, the pod's heap limit. */
const SERVER_LINE = [
  ...Object.keys(CHART_ENV).map((name) => `${name}=${SERVER_ENV[name] ?? ''}`),
  'node',
  ...SERVER_FLAGS,
  ...POD_HEAP,
].join(' ');
const REPS = Number(process.env.BENCH_REPS ?? 3);
const MiB = 1024 * 1024;
/** The costliest review the API server can send that is judged (docs/performance.md). */
const COSTLIEST = 'CREATE, containers as the API server sends them, at the 16 MiB limit';

type Json = Record<string, unknown>;

/** A container as the API server stores it: the fields it defaults are filled in. */
function container(name: string, compliant: boolean): Json {
  const base: Json = defaultedContainer(name, 'registry.example/app:1.4.2', 'IfNotPresent');
  if (!compliant) return { ...base, image: 'app', securityContext: { runAsUser: 0, privileged: true } };
  return {
    ...base,
    resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '128Mi' } },
    securityContext: { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
    readinessProbe: {
      httpGet: { path: '/ready', port: 8080, scheme: 'HTTP' },
      timeoutSeconds: 1,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
    },
    livenessProbe: {
      httpGet: { path: '/live', port: 8080, scheme: 'HTTP' },
      timeoutSeconds: 1,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
    },
  };
}

/**
 * `managedFields`: none, the volumes' (the rows measured since the first of them), or the volumes'
 * and every container's field (what the API server writes for a create).
 */
function deployment(containers: Json[], volumes: number, managedFields: 'none' | 'volumes' | 'all' = 'volumes'): Json {
  const vols: Json[] = [];
  const managed: Json = { '.': {} };
  for (let i = 0; i < volumes; i++) {
    vols.push({ name: `v${i}`, secret: { secretName: 's', defaultMode: 420 } });
    managed[`k:{"name":"v${i}"}`] = { '.': {}, 'f:name': {}, 'f:secret': { '.': {}, 'f:defaultMode': {}, 'f:secretName': {} } };
  }
  const podFields: Json =
    managedFields === 'all' ? { 'f:containers': managedContainers(containers), 'f:volumes': managed } : { 'f:volumes': managed };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'wide',
      namespace: 'shop',
      uid: '6b0c1a4e-0b1f-4a4e-9f0e-1d2c3b4a5f60',
      resourceVersion: '4242',
      generation: 3,
      creationTimestamp: '2026-01-01T00:00:00Z',
      ...(managedFields !== 'none' ? { managedFields: kubectlManagedFields(podFields) } : {}),
    },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'wide' } },
      template: {
        metadata: { labels: { app: 'wide' } },
        spec: { containers, volumes: vols, restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', schedulerName: 'default-scheduler' },
      },
    },
  };
}

function review(operation: 'CREATE' | 'UPDATE', object: Json, oldObject: Json | null): string {
  return JSON.stringify({
    kind: 'AdmissionReview',
    apiVersion: 'admission.k8s.io/v1',
    request: {
      uid: '0df28fbd-5f5f-11e8-bc74-36e6bb280816',
      kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
      resource: { group: 'apps', version: 'v1', resource: 'deployments' },
      requestKind: { group: 'apps', version: 'v1', kind: 'Deployment' },
      requestResource: { group: 'apps', version: 'v1', resource: 'deployments' },
      name: 'wide',
      namespace: 'shop',
      operation,
      userInfo: { username: 'dev', groups: ['system:authenticated'] },
      object,
      oldObject,
      dryRun: false,
    },
  });
}

/** The patched object (root, privileged) next to the compliant one it replaces. */
const volumesUpdate = (volumes: number) =>
  review('UPDATE', deployment([container('app', false)], volumes), deployment([container('app', true)], volumes));
/**
 * What a real kube-apiserver sent for a Deployment with 66,000 Secret volumes (test/e2e/bounds.test.ts,
 * bodies captured): the CREATE with its managedFields (10.56 MiB, the largest review seen; the
 * object was then stored without them), and the patch's UPDATE, object and oldObject without
 * managedFields (8.04 MiB). This model is within 1% of those sizes.
 */
const apiServerCreate = (volumes: number) => review('CREATE', deployment([container('app', true)], volumes), null);
const apiServerPatch = (volumes: number) =>
  review('UPDATE', deployment([container('app', false)], volumes, 'none'), deployment([container('app', true)], volumes, 'none'));
const failingContainers = (n: number) =>
  review(
    'CREATE',
    deployment(
      Array.from({ length: n }, (_, i) => ({ name: `c${i}`, image: 'app' })),
      0,
    ),
    null,
  );

/**
 * A Deployment with `n` containers that fail every per-container policy, as a real kube-apiserver
 * sends its CREATE: each container with the fields it defaults, and managedFields listing them
 * (measured through the e2e kube-apiserver with `kubectl create --dry-run=server`: 20,000 such
 * containers made a 6.05 MiB review, 60,000 one of 18.2 MiB; a request of 100,000 is over the API
 * server's own 3 MiB body limit, so it never reaches a webhook).
 */
const apiServerContainers = (n: number) =>
  review(
    'CREATE',
    deployment(
      Array.from({ length: n }, (_, i) => defaultedContainer(`c${i}`)),
      0,
      'all',
    ),
    null,
  );

/**
 * A patch of one container's image in a stored Deployment of `n` such containers, as the API
 * server sends its UPDATE: object and oldObject, without managedFields (measured through the e2e
 * kube-apiserver: 20,000 containers were stored without them and the patch's review was 5.93 MiB;
 * 40,000 are past etcd's 2 MiB request limit, so ~32,000 is the most an UPDATE carries).
 */
const apiServerContainersPatch = (n: number) => {
  const containers = (first: string) => Array.from({ length: n }, (_, i) => defaultedContainer(`c${i}`, i === 0 ? first : undefined));
  return review('UPDATE', deployment(containers('app:2'), 0, 'none'), deployment(containers('app'), 0, 'none'));
};

/** The largest `n` (within a few) whose review `make(n)` is at most `bytes` long: sizes grow linearly with n. */
function largestUnder(make: (n: number) => string, bytes: number): number {
  const per = (make(20_000).length - make(10_000).length) / 10_000;
  let n = Math.floor(bytes / per);
  for (let size = make(n).length; size > bytes; size = make(n).length) n -= Math.ceil((size - bytes) / per) + 10;
  return n;
}

/** A server the bench posts reviews to: the harness (startChild) or serve itself (startServe). */
interface Target {
  port: number;
  probePort: number;
  pid: number | undefined;
}

interface Child extends Target {
  command(line: string): Promise<Json>;
  /** Resolves once the process has exited. */
  stop(): Promise<void>;
}

/** Node flags given to the bench (BENCH_NODE_FLAGS), after the chart's. */
const BENCH_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter((flag) => flag !== '');

/**
 * `node args` with the chart's environment, pinned, inside BENCH_MEMORY_CGROUP from its first
 * instruction when one is given: Node sizes V8's heap from the limit it finds at start.
 */
function spawnServer(args: string[]) {
  const cgroup = process.env.BENCH_MEMORY_CGROUP;
  return cgroup
    ? spawnOnCore1('sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cgroup, process.execPath, ...args], SERVER_ENV)
    : spawnOnCore1(process.execPath, args, SERVER_ENV);
}

async function startChild(certFile: string, keyFile: string): Promise<Child> {
  const args = [
    ...SERVER_FLAGS,
    ...POD_HEAP,
    ...BENCH_FLAGS,
    '--expose-gc',
    SERVER,
    certFile,
    keyFile,
    ...(process.env.GATE_RUN ? [process.env.GATE_RUN] : []),
  ];
  const child = spawnServer(args);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const waiting: Array<(value: Json) => void> = [];
  child.stderr.resume();
  child.stdin.on('error', () => undefined); // reported as the server having exited
  child.on('exit', (code, signal) => {
    for (const resolve of waiting.splice(0)) resolve({ exited: code ?? signal });
  });
  const lines = createInterface({ input: child.stdout });
  // What V8 prints itself (BENCH_NODE_FLAGS=--trace-gc) goes to stderr; the server's own lines are JSON.
  lines.on('line', (line) => (line.startsWith('{') ? waiting.shift()?.(JSON.parse(line) as Json) : process.stderr.write(`${line}\n`)));
  const next = () => new Promise<Json>((resolve) => waiting.push(resolve));
  const ports = await next();
  return {
    port: ports.port as number,
    probePort: ports.probePort as number,
    pid: child.pid,
    command: (line) => {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ exited: child.exitCode ?? child.signalCode });
      const answer = next();
      child.stdin.write(`${line}\n`);
      return answer;
    },
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

// The poller runs in a thread of its own: the bench's event loop is busy encrypting the body it
// sends (a 16 MiB one for ~100 ms), and a poll timed on that loop measured the bench, not the server.
const POLLER = `
const http = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
let running = true;
let worst = 0;
parentPort.once('message', () => { running = false; });
(async () => {
  while (running) {
    const started = performance.now();
    await new Promise((resolve, reject) =>
      http.get({ host: '127.0.0.1', port: workerData, path: '/healthz', agent }, (res) => res.resume().on('end', resolve)).on('error', reject));
    worst = Math.max(worst, performance.now() - started);
    await new Promise((r) => setTimeout(r, 10));
  }
  agent.destroy();
  parentPort.postMessage(worst);
})();
`;

/** Polls /healthz every 10 ms (from a worker thread) until stopped; resolves with the slowest answer in ms. */
function pollHealth(probePort: number): { stop(): Promise<number> } {
  const worker = new Worker(POLLER, { eval: true, workerData: probePort });
  const worst = new Promise<number>((resolve, reject) => {
    worker.once('message', (ms: number) => resolve(ms));
    worker.once('error', reject);
  });
  return {
    stop: async () => {
      worker.postMessage('stop');
      const ms = await worst;
      await worker.terminate();
      return ms;
    },
  };
}

interface Measured {
  answerMs: number;
  cpuMs: number;
  healthMs: number;
  loopLateMs: number;
  heapGrowthMiB: number;
  workerHeapGrowthMiB: number;
  outcome: string;
}

/** What each thread added since `before` (times `scale`, rounded), for the threads that added any. */
const perThreadSince = (after: Record<string, number>, before: Record<string, number>, scale = 1): Array<readonly [string, number]> =>
  Object.entries(after)
    .map(([name, value]) => [name, Math.round((value - (before[name] ?? 0)) * scale)] as const)
    .filter(([, added]) => added > 0);

/** The server's CPU seconds so far: the scheduler's count to the nanosecond where the kernel keeps it, else utime + stime. */
const serverCpuSeconds = (pid: number | undefined): number | undefined => runSeconds(pid) ?? cpuSeconds(pid);
/** serverCpuSeconds per thread name. */
function threadCpu(pid: number | undefined): Record<string, number> {
  const run = threadRunSeconds(pid);
  return Object.keys(run).length > 0 ? run : threadCpuSeconds(pid);
}

/**
 * One review, with /healthz polled meanwhile: the server's CPU for it (with BENCH_TRACE, per thread
 * and with page faults, printed as the review's `when`), the answer and the slowest /healthz.
 */
async function timedReview(
  server: Target,
  agent: Agent,
  c: { name: string; body: Buffer },
  when: string,
): Promise<{ cpuMs: number; answerMs: number; healthMs: number; outcome: string }> {
  const poll = pollHealth(server.probePort);
  await new Promise((r) => setTimeout(r, 30));
  const cpuBefore = serverCpuSeconds(server.pid);
  const threadsBefore = process.env.BENCH_TRACE ? threadCpu(server.pid) : {};
  const faultsBefore = process.env.BENCH_TRACE ? threadMinorFaults(server.pid) : {};
  const started = performance.now();
  const res = await postReview(server.port, c.body, agent).then(
    (answer) => ({ status: answer.status, text: answer.body.toString('utf8') }),
    (err: NodeJS.ErrnoException) => ({ status: 0, text: err.code ?? err.message }),
  );
  const answerMs = performance.now() - started;
  const cpuMs = ((serverCpuSeconds(server.pid) ?? NaN) - (cpuBefore ?? NaN)) * 1000;
  if (process.env.BENCH_TRACE) {
    const threads = perThreadSince(threadCpu(server.pid), threadsBefore, 1000);
    const faults = perThreadSince(threadMinorFaults(server.pid), faultsBefore);
    process.stderr.write(
      `${c.name}, ${when}: ${Math.round(cpuMs)} ms CPU (${threads.map(([n, ms]) => `${n} ${ms}`).join(', ')}); page faults ${faults.map(([n, f]) => `${n} ${f}`).join(', ')}\n`,
    );
  }
  await new Promise((r) => setTimeout(r, 30));
  const healthMs = await poll.stop();
  const allowed = res.status === 200 ? (JSON.parse(res.text) as { response: { allowed: boolean } }).response.allowed : undefined;
  return { cpuMs, answerMs, healthMs, outcome: res.status === 0 ? res.text : `${res.status} / ${allowed ?? '-'}` };
}

/** timedReview of the harness, with its heap report; `collected`: after a forced full collection, which also takes the heap baseline. */
async function measureOne(
  child: Child,
  agent: Agent,
  c: { name: string; body: Buffer },
  collected: boolean,
): Promise<Measured | { failed: string }> {
  if (collected && (await child.command('mark')).exited !== undefined) return { failed: 'server not running' };
  const timed = await timedReview(child, agent, c, collected ? 'after gc()' : 'again');
  const report = await child.command('report');
  if (report.exited !== undefined) return { failed: `server exited (${String(report.exited)})` };
  return {
    ...timed,
    loopLateMs: (report.loopLateMs as number | undefined) ?? 0,
    heapGrowthMiB: report.heapGrowthMiB as number,
    workerHeapGrowthMiB: (report.workerHeapGrowthMiB as number | undefined) ?? 0,
  };
}

/** Small reviews (and the idle time after them) before the costliest review is posted alone. */
const SMALL_BEFORE_ALONE = 3_000;
const IDLE_BEFORE_ALONE_MS = 12_000;

/**
 * The costliest review as a server busy with other work meets it: after thousands of small reviews
 * (judged on the event loop) and long enough idle for V8's memory reducer to run. Up to three times.
 */
async function measureAlone(child: Child, agent: Agent, c: { name: string; body: Buffer }): Promise<Measured[]> {
  const small = Buffer.from(apiServerContainers(40));
  const out: Measured[] = [];
  for (let rep = 0; rep < Math.min(REPS, 3); rep++) {
    for (let i = 0; i < SMALL_BEFORE_ALONE; i++) await postReview(child.port, small, agent);
    await new Promise((r) => setTimeout(r, IDLE_BEFORE_ALONE_MS));
    const one = await measureOne(child, agent, c, false);
    if ('failed' in one) break;
    out.push(one);
  }
  return out;
}

/** The memory cgroup's peak usage in MiB and the OOM kills it counted (v1 or v2 files), when the server runs in one. */
function cgroupMemory(): { peakMiB: number; oomKills: number } | undefined {
  const dir = process.env.BENCH_MEMORY_CGROUP;
  if (!dir) return undefined;
  const read = (file: string) => {
    try {
      return readFileSync(join(dir, file), 'utf8');
    } catch {
      return undefined;
    }
  };
  const peak = Number(read('memory.max_usage_in_bytes') ?? read('memory.peak') ?? NaN);
  const kills = /oom_kill (\d+)/.exec(read('memory.oom_control') ?? read('memory.events') ?? '')?.[1];
  return { peakMiB: peak / MiB, oomKills: Number(kills ?? NaN) };
}

/** Starts the cgroup's peak usage afresh (cgroup v1; v2 kernels before 6.12 keep it for the group's life). */
function resetCgroupPeak(): void {
  const dir = process.env.BENCH_MEMORY_CGROUP;
  if (!dir) return;
  for (const file of ['memory.max_usage_in_bytes', 'memory.peak']) {
    try {
      writeFileSync(join(dir, file), '0');
      return;
    } catch {
      // not this version's file, or not resettable
    }
  }
}

interface AtOnce {
  judged: number;
  busy: number;
  other: number;
  slowestMs: number;
  peakRssMiB: number;
  cgroup: { peakMiB: number; oomKills: number } | undefined;
}

/** `count` copies of one review sent together, each on its own connection, as the API server sends concurrent writes. */
async function measureAtOnce(child: { port: number; pid: number | undefined }, body: Buffer, count: number): Promise<AtOnce> {
  resetPeakRss(child.pid);
  resetCgroupPeak();
  const agent = new Agent({ keepAlive: true, maxSockets: count, rejectUnauthorized: false });
  const started = performance.now();
  let slowestMs = 0;
  const said = await Promise.all(
    Array.from({ length: count }, () =>
      postReview(child.port, body, agent).then(
        (answer) => {
          slowestMs = Math.max(slowestMs, performance.now() - started);
          const text = answer.body.toString('utf8');
          return answer.status === 200
            ? ((JSON.parse(text) as { response: { status?: { message?: string } } }).response.status?.message ?? '')
            : '';
        },
        () => '',
      ),
    ),
  );
  agent.destroy();
  const judged = said.filter((m) => /violates \d+ polic/.test(m)).length;
  const busy = said.filter((m) => /busy with other large AdmissionReviews|already waiting/.test(m)).length;
  return { judged, busy, other: count - judged - busy, slowestMs, peakRssMiB: peakRssMiB(child.pid) ?? NaN, cgroup: cgroupMemory() };
}

/** The costliest review 1, 2, 4 and 8 at once, and 64 reviews of just under 1 MiB (parsed on the event loop): two rounds each. */
async function measureConcurrent(child: { port: number; pid: number | undefined }, costliest: { body: Buffer }): Promise<string[][]> {
  const underWorker = Buffer.from(apiServerContainers(largestUnder(apiServerContainers, MiB - 64 * 1024)));
  const plans = [...[1, 2, 4, 8].map((count) => ({ body: costliest.body, count })), { body: underWorker, count: 64 }];
  const rows = [
    [
      'reviews at once',
      'each MiB',
      'judged',
      'refused: busy',
      'other answers',
      'slowest answer ms (max)',
      'peak RSS MiB (max)',
      ...(process.env.BENCH_MEMORY_CGROUP ? ['cgroup peak MiB (max)', 'OOM kills (cgroup, so far)'] : []),
    ],
  ];
  for (const { body, count } of plans) {
    const rounds: AtOnce[] = [];
    for (let round = 0; round < 2; round++) rounds.push(await measureAtOnce(child, body, count));
    const sum = (key: 'judged' | 'busy' | 'other') => rounds.reduce((total, r) => total + r[key], 0);
    const max = (values: number[]) => Math.max(...values);
    const cgroup = rounds.map((r) => r.cgroup).filter((c) => c !== undefined);
    rows.push([
      `${count} x ${rounds.length} rounds`,
      fixed(body.length / MiB, 1),
      String(sum('judged')),
      String(sum('busy')),
      String(sum('other')),
      fixed(max(rounds.map((r) => r.slowestMs)), 0),
      fixed(max(rounds.map((r) => r.peakRssMiB)), 0),
      ...(process.env.BENCH_MEMORY_CGROUP ? [fixed(max(cgroup.map((c) => c.peakMiB)), 0), String(cgroup.at(-1)?.oomKills ?? '-')] : []),
    ]);
  }
  return rows;
}

/**
 * How long each fresh server idles before its first large review (BENCH_FIRST_IDLE_MS): 2 s by
 * default, as every figure before it was taken; a pod's first large review mostly comes far later.
 */
const FIRST_IDLE_MS = Number(process.env.BENCH_FIRST_IDLE_MS ?? 2_000);

/** The chart's program: the bundled CLI (GATE_CLI=path/to/dist/cli/practice-gate.js measures another build's). */
const CLI = process.env.GATE_CLI ?? fileURLToPath(new URL('../cli/practice-gate.js', import.meta.url));

interface Serving extends Target {
  stop(): Promise<void>;
  /**
   * How long serve took, by its own log line, for each review it has logged so far: from the
   * request's headers to the answer written, without what the client takes to get its bytes out.
   */
  logged: number[];
}

/**
 * `practice-gate serve` as the chart starts it: the bundled CLI with the chart's Node flags and
 * environment, its heap sized as in the pod (or in BENCH_MEMORY_CGROUP), no cluster; resolved
 * once /readyz says ready (the warm-up is over).
 */
async function startServe(certFile: string, keyFile: string): Promise<Serving> {
  const args = [...SERVER_FLAGS, ...POD_HEAP, ...BENCH_FLAGS, CLI, 'serve', '--tls-cert', certFile, '--tls-key', keyFile];
  if (process.env.BENCH_CONFIG) args.push('--config', process.env.BENCH_CONFIG);
  args.push('--port', '0', '--host', '127.0.0.1', '--probe-port', '0');
  const child = spawnServer(args);
  child.stderr.pipe(process.stderr);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const logged: number[] = [];
  const listening = new Promise<{ port: number; probePort: number }>((resolve, reject) => {
    child.once('exit', (code, signal) => reject(new Error(`serve exited (${String(code ?? signal)}) before listening`)));
    // One JSON line per review and event; what V8 prints itself (BENCH_NODE_FLAGS=--trace-gc) goes to stderr.
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith('{')) return void process.stderr.write(`${line}\n`);
      const entry = JSON.parse(line) as { msg?: string; port?: number; probePort?: number; durationMs?: number };
      if (entry.msg === 'practice-gate listening' && entry.port && entry.probePort)
        resolve({ port: entry.port, probePort: entry.probePort });
      if (entry.msg === 'admission review' && entry.durationMs !== undefined) logged.push(entry.durationMs);
    });
  });
  const { port, probePort } = await listening;
  for (let tries = 0; (await fetch(`http://127.0.0.1:${probePort}/readyz`)).status !== 200; tries++) {
    if (tries > 600) throw new Error('serve was not ready within a minute');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    pid: child.pid,
    port,
    probePort,
    logged,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** The duration serve logs for its `n`th review (counting from 1), once the line has come: NaN if it does not within a second. */
async function loggedMs(server: Serving, n: number): Promise<number> {
  for (let waited = 0; server.logged.length < n && waited < 1_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
  return server.logged[n - 1] ?? Number.NaN;
}

/**
 * The costliest review as the first large one of `runs` fresh `practice-gate serve` processes, one
 * after another, and again 300 ms later: what a pod pays once after start (a small review first,
 * then FIRST_IDLE_MS idle), and then. Each run's row: the process's resident memory before it
 * (with BENCH_MEMORY_CGROUP, also the cgroup's peak over the run), CPU, answer, page faults (each a
 * first write to a fresh 4 KiB page) and the slowest /healthz meanwhile.
 */
async function measureFirsts(
  certs: { certFile: string; keyFile: string },
  c: { name: string; body: Buffer },
  runs: number,
): Promise<string> {
  const header = [
    'run',
    'RSS before MiB',
    'server CPU ms',
    'answer ms',
    'served ms (its log)',
    'page faults',
    '/healthz worst ms',
    'status / allowed',
  ];
  const rows = [[...header, 'CPU ms, 300 ms later', ...(process.env.BENCH_MEMORY_CGROUP ? ['cgroup peak MiB'] : [])]];
  const firsts: number[] = [];
  const thens: number[] = [];
  const served: number[] = [];
  for (let run = 1; run <= runs; run++) {
    resetCgroupPeak();
    const server = await startServe(certs.certFile, certs.keyFile);
    const agent = new Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
    // A small review first, as a cluster sends one before any large one: containers as the API server writes them.
    await postReview(server.port, apiServerContainers(10), agent);
    await new Promise((r) => setTimeout(r, FIRST_IDLE_MS));
    const rss = rssMiB(server.pid) ?? NaN;
    const faultsBefore = minorFaults(server.pid) ?? NaN;
    const first = await timedReview(server, agent, c, 'first');
    const faults = (minorFaults(server.pid) ?? NaN) - faultsBefore;
    // Its second logged review: the small one came first.
    const servedMs = await loggedMs(server, 2);
    await new Promise((r) => setTimeout(r, 300));
    const then = await timedReview(server, agent, c, 'then');
    await server.stop();
    agent.destroy();
    firsts.push(first.cpuMs);
    thens.push(then.cpuMs);
    served.push(servedMs);
    const peak = cgroupMemory()?.peakMiB;
    rows.push([
      String(run),
      fixed(rss, 0),
      fixed(first.cpuMs, 0),
      fixed(first.answerMs, 0),
      fixed(servedMs, 0),
      String(faults),
      fixed(first.healthMs, 0),
      first.outcome,
      fixed(then.cpuMs, 0),
      ...(peak !== undefined ? [fixed(peak, 0)] : []),
    ]);
  }
  return `"${c.name}" as the first large review of ${runs} fresh \`practice-gate serve\` processes: ${cpuSpread(firsts)}, served in ${fixed(median(served), 0)} ms by its own log (${range(served)}); 300 ms later ${cpuSpread(thens)}\n\n${table(rows)}`;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** "N ms of CPU (median of n; min-max)" for several runs' CPU times. */
/** The least and the most of `ms`, rounded: "209-438". */
const range = (ms: number[]): string => `${fixed(Math.min(...ms), 0)}-${fixed(Math.max(...ms), 0)}`;
const cpuSpread = (ms: number[]): string => `${fixed(median(ms), 0)} ms of CPU (median of ${ms.length}; ${range(ms)})`;

async function main(): Promise<void> {
  pinSelf();
  const dir = mkdtempSync(join(tmpdir(), 'pg-large-'));
  const certs = writeCerts(dir);
  const written = [
    { name: "UPDATE, 66,000 secret volumes (the issue's patch)", body: volumesUpdate(66_000) },
    { name: 'UPDATE, 10,000 secret volumes (~1.5 MiB stored)', body: volumesUpdate(10_000) },
    { name: 'CREATE, 66,000 volumes + managedFields (largest real)', body: apiServerCreate(66_000) },
    { name: 'UPDATE, 66,000 volumes, no managedFields (real patch)', body: apiServerPatch(66_000) },
    { name: 'UPDATE at the 16 MiB limit (secret volumes)', body: volumesUpdate(largestUnder(volumesUpdate, 16 * MiB - 64 * 1024)) },
    { name: 'CREATE, 20,000 failing containers', body: failingContainers(20_000) },
    { name: 'CREATE, 100,000 failing containers', body: failingContainers(100_000) },
    { name: 'CREATE, 20,000 containers as the API server sends them', body: apiServerContainers(20_000) },
    { name: COSTLIEST, body: apiServerContainers(largestUnder(apiServerContainers, 16 * MiB - 64 * 1024)) },
    { name: 'UPDATE, 20,000 containers as the API server sends them', body: apiServerContainersPatch(20_000) },
    { name: 'UPDATE, 32,000 containers as the API server sends them', body: apiServerContainersPatch(32_000) },
    { name: 'UPDATE over the limit (17 MiB)', body: volumesUpdate(largestUnder(volumesUpdate, 17 * MiB)) },
  ];
  // As bytes: encoding 16 MiB of text at each post slowed the bench's sending, not the server.
  const cases = written
    .filter((c) => c.name.includes(process.env.BENCH_ONLY ?? ''))
    .map((c) => ({ name: c.name, body: Buffer.from(c.body) }));
  const costliest = cases.find((c) => c.name === COSTLIEST) ?? cases[0];
  const firsts = Number(process.env.BENCH_FIRSTS ?? 0);
  if (firsts > 0 && costliest) {
    process.stdout.write(
      `${machine()}; server: ${SERVER_LINE} (the chart's command, the heap limit of its pod)\n\n${await measureFirsts(certs, costliest, firsts)}\n`,
    );
    rmSync(dir, { recursive: true, force: true });
    return;
  }
  const child = await startChild(certs.certFile, certs.keyFile);
  const agent = new Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
  const rows = [
    [
      'review',
      'body MiB',
      'status / allowed',
      'answer ms (median)',
      'server CPU ms (median)',
      'CPU ms after gc() (median)',
      'heap growth MiB (max)',
      'worker heap MiB (max)',
      '/healthz worst ms',
      'event loop late ms (max)',
    ],
  ];
  await postReview(child.port, apiServerContainers(10), agent); // a small review first, as a cluster sends one
  // The first large review of a process pays once for what later ones find ready: V8 compiling the
  // scan and the judging for inputs this large, the worker thread starting, the heaps growing.
  const first = costliest ? await measureOne(child, agent, costliest, false) : undefined;
  for (const c of cases) {
    const latencies: number[] = [];
    const cpu: number[] = [];
    const cpuAfterGc: number[] = [];
    const statuses = new Set<string>();
    let heap = 0;
    let workerHeap = 0;
    let health = 0;
    let late = 0;
    let outcome = '';
    for (let rep = 0; rep < REPS && outcome === ''; rep++) {
      // Twice: right after a forced full collection (the heap baseline), then as a server that
      // has not just been collected answers it. gc() shrinks V8's young generation, and it makes V8
      // drop code it had compiled (54-67 functions compiled again for the next 16 MiB review, 5-11
      // without it): costs no server without --expose-gc pays each time.
      for (const collected of [true, false]) {
        const one = await measureOne(child, agent, c, collected);
        if ('failed' in one) {
          outcome = one.failed;
          break;
        }
        (collected ? cpuAfterGc : cpu).push(one.cpuMs);
        if (!collected) latencies.push(one.answerMs);
        health = Math.max(health, one.healthMs);
        late = Math.max(late, one.loopLateMs);
        if (collected) heap = Math.max(heap, one.heapGrowthMiB);
        workerHeap = Math.max(workerHeap, one.workerHeapGrowthMiB);
        statuses.add(one.outcome);
      }
    }
    if (outcome === '') outcome = [...statuses].join(', ');
    rows.push([
      c.name,
      fixed(c.body.length / MiB, 1),
      outcome,
      fixed(median(latencies), 0),
      fixed(median(cpu), 0),
      fixed(median(cpuAfterGc), 0),
      fixed(heap, 1),
      fixed(workerHeap, 1),
      fixed(health, 0),
      fixed(late, 0),
    ]);
  }
  const more = process.env.BENCH_ROWS_ONLY === undefined;
  const alone = costliest && more ? await measureAlone(child, agent, costliest) : undefined;
  // Exited before serve starts: never both in one memory cgroup.
  await child.stop();
  agent.destroy();
  // Memory is the process's as a whole: measured on serve itself, which holds ~50 MiB more than the harness.
  let concurrent: string[][] | undefined;
  if (costliest && more && costliest.name === COSTLIEST) {
    const serving = await startServe(certs.certFile, certs.keyFile);
    concurrent = await measureConcurrent(serving, costliest);
    await serving.stop();
  }
  rmSync(dir, { recursive: true, force: true });
  const firstLine =
    costliest && first && !('failed' in first)
      ? `\nThe first large review of the server process, "${costliest.name}": ${fixed(first.cpuMs, 0)} ms of CPU, answered in ${fixed(first.answerMs, 0)} ms, /healthz waited ${fixed(first.healthMs, 0)} ms at worst (one run).\n`
      : '';
  const aloneLine =
    costliest && alone && alone.length > 0
      ? `The same review alone, after ${SMALL_BEFORE_ALONE.toLocaleString('en-US')} small reviews and ${IDLE_BEFORE_ALONE_MS / 1000} s idle: ${cpuSpread(alone.map((m) => m.cpuMs))}, answered in ${fixed(median(alone.map((m) => m.answerMs)), 0)} ms, /healthz waited ${fixed(Math.max(...alone.map((m) => m.healthMs)), 0)} ms at worst.\n`
      : '';
  process.stdout.write(
    `${machine()}; server: ${SERVER_LINE} (the chart's command, the heap limit of its pod); ${REPS} runs each (two reviews a run), one review at a time over HTTPS keep-alive\n\n${table(rows)}\n${firstLine}${aloneLine}`,
  );
  if (concurrent)
    process.stdout.write(
      `\nReviews sent at once to a fresh \`practice-gate serve\`, each on its own connection (the chart's memory limit is ${chartMemoryLimitMiB()} MiB):\n\n${table(concurrent)}\n`,
    );
}

await main();
