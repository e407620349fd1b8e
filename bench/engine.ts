// Engine throughput: evaluations per second of one realistic Deployment, single-threaded,
// the way the webhook calls the engine (compiled config, indexed cluster context).
// Run: npm run bench   (builds, then node --expose-gc dist/bench/engine.js)
import { arch, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { POLICIES } from '../policies/index.js';
import { loadEngineConfig } from '../src/config/load.js';
import { ContextIndex, DEFAULT_CONFIG, compileConfig, evaluate } from '../src/engine/index.js';
import type { ClusterContext, EngineConfig, KubeObject } from '../src/engine/index.js';

const WARMUP = 20_000;
const ROUNDS = 7;
const PER_ROUND = 50_000;
const NAMESPACE = 'shop';

function container(name: string, image: string, port: number, compliant: boolean) {
  if (!compliant) return { name, image: image.replace(/:[^:/]+$/, ':latest'), ports: [{ containerPort: port }] };
  return {
    name,
    image,
    ports: [{ containerPort: port }],
    securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { memory: '1Gi' } },
    readinessProbe: { httpGet: { path: '/ready', port } },
    livenessProbe: { httpGet: { path: '/live', port } },
    lifecycle: { preStop: { sleep: { seconds: 5 } } },
  };
}

/** An API with an Envoy proxy and a log shipper, as many services run. */
function deployment(compliant: boolean): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'api', namespace: NAMESPACE, labels: { app: 'api', tier: 'backend' } },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'api' } },
      template: {
        metadata: { labels: { app: 'api', tier: 'backend', version: '1.4.2' } },
        spec: {
          ...(compliant ? { securityContext: { runAsNonRoot: true, runAsUser: 10001 } } : {}),
          containers: [
            container('app', 'ghcr.io/example/api:1.4.2', 8080, compliant),
            container('envoy', 'envoyproxy/envoy:v1.31.2', 9901, compliant),
            container('fluent-bit', 'fluent/fluent-bit:3.1.9', 2020, compliant),
          ],
        },
      },
    },
  } as KubeObject;
}

/** Ten PDBs in the namespace, one of which selects the api's pods. */
function contextObjects(): KubeObject[] {
  const pdbs: KubeObject[] = [];
  for (let i = 0; i < 9; i++) {
    const selector =
      i % 3 === 0
        ? { matchExpressions: [{ key: 'app', operator: 'In', values: [`svc-${i}`, `svc-${i}-canary`] }] }
        : { matchLabels: { app: `svc-${i}`, tier: 'backend' } };
    pdbs.push({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: `svc-${i}`, namespace: NAMESPACE },
      spec: { maxUnavailable: 1, selector },
    } as KubeObject);
  }
  pdbs.push({
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: 'api', namespace: NAMESPACE },
    spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'api' } } },
  } as KubeObject);
  return pdbs;
}

/** Five NetworkPolicies in the namespace (network-policy-coverage), the last of which selects the api's pods. */
function networkPolicies(): KubeObject[] {
  return Array.from({ length: 5 }, (_, i) => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: i === 4 ? 'api' : `svc-${i}`, namespace: NAMESPACE },
    spec: { podSelector: { matchLabels: { app: i === 4 ? 'api' : `svc-${i}` } }, policyTypes: ['Ingress'] },
  })) as KubeObject[];
}

const gc = (globalThis as { gc?: () => void }).gc;

function heapUsed(): number {
  gc?.();
  return process.memoryUsage().heapUsed;
}

interface Row {
  name: string;
  findings: number;
  median: number;
  min: number;
  max: number;
  /** Wall-clock median: lower than the CPU-time rate whenever other processes share the cores. */
  wallMedian: number;
  retainedBytes: number;
}

function measure(name: string, object: KubeObject, context: ClusterContext, config: EngineConfig): Row {
  const once = () => evaluate(object, context, config)?.findings.length ?? -1;
  let sink = 0;
  for (let i = 0; i < WARMUP; i++) sink += once();
  const before = heapUsed();
  const rates: number[] = [];
  const wallRates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint();
    const cpuStart = process.cpuUsage();
    for (let i = 0; i < PER_ROUND; i++) sink += once();
    const cpu = process.cpuUsage(cpuStart);
    wallRates.push(PER_ROUND / (Number(process.hrtime.bigint() - start) / 1e9));
    rates.push(PER_ROUND / ((cpu.user + cpu.system) / 1e6));
  }
  const retainedBytes = heapUsed() - before;
  if (sink === Number.MIN_SAFE_INTEGER) console.log(sink); // keeps the work observable
  rates.sort((a, b) => a - b);
  wallRates.sort((a, b) => a - b);
  const median = (sorted: number[]) => sorted[Math.floor(ROUNDS / 2)]!;
  return {
    name,
    findings: once(),
    median: median(rates),
    min: rates[0]!,
    max: rates[ROUNDS - 1]!,
    wallMedian: median(wallRates),
    retainedBytes,
  };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
}

const config = compileConfig(DEFAULT_CONFIG, POLICIES);
// One context is a few KB, below the noise of a single heap reading: measure a hundred.
const CONTEXTS = 100;
const heapBeforeContexts = heapUsed();
const contexts = Array.from({ length: CONTEXTS }, () => ContextIndex.fromObjects([...contextObjects(), ...networkPolicies()]));
const contextBytes = (heapUsed() - heapBeforeContexts) / CONTEXTS;
const context = contexts[0]!;

// The built-in policies plus the three example custom rules in CEL (docs/rules.md).
const withRules = loadEngineConfig(fileURLToPath(new URL('../../examples/rules/practice-gate.yaml', import.meta.url)));

const results = [
  measure('compliant Deployment, 3 containers', deployment(true), context, config),
  measure('non-compliant Deployment, 3 containers', deployment(false), context, config),
  measure('compliant, + 3 example CEL rules', deployment(true), context, withRules),
  measure('non-compliant, + 3 example CEL rules', deployment(false), context, withRules),
];

const round = (n: number) => Math.round(n).toLocaleString('en-US');
console.log(`practice-gate engine benchmark: ${POLICIES.length} policies, 10 PDBs in the namespace (1 matching)`);
console.log(`node ${process.version}, ${arch()}, ${cpus().length} cpus (${cpus()[0]?.model ?? 'unknown'}); single-threaded`);
console.log(`${WARMUP.toLocaleString('en-US')} warm-up evaluations, then ${ROUNDS} rounds of ${PER_ROUND.toLocaleString('en-US')}`);
console.log('rates are evaluations per second of CPU time used by this process (wall clock: per second elapsed)\n');
console.log(
  table([
    ['case', 'findings', 'median/s', 'min/s', 'max/s', 'µs/eval', 'wall median/s', 'heap retained'],
    ...results.map((r) => [
      r.name,
      String(r.findings),
      round(r.median),
      round(r.min),
      round(r.max),
      (1e6 / r.median).toFixed(1),
      round(r.wallMedian),
      gc ? `${round(r.retainedBytes)} B` : 'n/a',
    ]),
  ]),
);
console.log(`\ncluster context with 10 PDBs: ${gc ? `${round(contextBytes)} B of heap (mean of ${CONTEXTS})` : 'n/a'}`);
if (!gc) console.log('heap figures need --expose-gc (npm run bench passes it)');
