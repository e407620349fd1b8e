// How much heap the webhook's workload informers keep per workload: the figure in
// docs/cluster.md and docs/performance.md ("Informer memory"). 10,000 realistic Deployments in
// 200 namespaces are listed by a fake source, synced into a ClusterCache, and the heap after GC
// is compared with the heap before, and with the same Deployments held whole.
// Run: npm run bench:memory   (builds, then node --expose-gc dist/bench/informer-memory.js)
import { pino } from 'pino';
import { ClusterCache } from '../src/cluster/api/informers.js';
import type { ListerWatcher, ListPage } from '../src/cluster/api/reflector.js';
import { FakeClock, FakeResource } from '../test/helpers/cluster.js';

const COUNT = 10_000;
const NAMESPACES = 200;

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc (npm run bench:memory does)');
const collect: () => void = gc;

function heapUsed(): number {
  for (let i = 0; i < 3; i++) collect();
  return process.memoryUsage().heapUsed;
}

/** A realistic Deployment as listed: managedFields, last-applied annotation, two containers, status. */
function deployment(i: number): Record<string, unknown> {
  const app = `app-${i}`;
  const namespace = `team-${i % NAMESPACES}`;
  const container = (name: string, port: number) => ({
    name,
    image: `registry.example.com/${namespace}/${name}:1.${i % 40}.3`,
    ports: [{ containerPort: port, protocol: 'TCP' }],
    env: [
      { name: 'LOG_LEVEL', value: 'info' },
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    ],
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
    readinessProbe: { httpGet: { path: '/ready', port }, periodSeconds: 10 },
    livenessProbe: { httpGet: { path: '/health', port }, periodSeconds: 10 },
    securityContext: { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
  });
  const spec = {
    replicas: 3,
    revisionHistoryLimit: 10,
    selector: { matchLabels: { app } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    template: {
      metadata: { labels: { app, 'app.kubernetes.io/part-of': namespace, version: 'v1' }, annotations: { 'prometheus.io/scrape': 'true' } },
      spec: { containers: [container('app', 8080), container('proxy', 9090)], terminationGracePeriodSeconds: 30 },
    },
  };
  return {
    metadata: {
      name: app,
      namespace,
      uid: `6f1c${String(i).padStart(8, '0')}-1f2e-4c3b-9a8d-0123456789ab`,
      resourceVersion: String(100_000 + i),
      generation: 4,
      creationTimestamp: '2030-01-01T00:00:00Z',
      labels: { app, 'app.kubernetes.io/managed-by': 'Helm' },
      annotations: {
        'deployment.kubernetes.io/revision': '4',
        'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ spec }),
      },
      managedFields: [
        {
          manager: 'kubectl-client-side-apply',
          operation: 'Update',
          apiVersion: 'apps/v1',
          time: '2030-01-01T00:00:00Z',
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:spec': { 'f:replicas': {}, 'f:template': { 'f:spec': { 'f:containers': {} } } } },
        },
        {
          manager: 'kube-controller-manager',
          operation: 'Update',
          apiVersion: 'apps/v1',
          subresource: 'status',
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:status': { 'f:replicas': {}, 'f:conditions': {} } },
        },
      ],
    },
    spec,
    status: {
      observedGeneration: 4,
      replicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
      updatedReplicas: 3,
      conditions: [
        {
          type: 'Available',
          status: 'True',
          reason: 'MinimumReplicasAvailable',
          lastUpdateTime: '2030-01-01T00:00:00Z',
          lastTransitionTime: '2030-01-01T00:00:00Z',
        },
        {
          type: 'Progressing',
          status: 'True',
          reason: 'NewReplicaSetAvailable',
          lastUpdateTime: '2030-01-01T00:00:00Z',
          lastTransitionTime: '2030-01-01T00:00:00Z',
        },
      ],
    },
  };
}

/** Hands out fresh copies on each list, like an API server: nothing is shared with the test. */
function source(): ListerWatcher {
  const empty = new FakeResource();
  return {
    list: async (): Promise<ListPage> => ({ items: Array.from({ length: COUNT }, (_, i) => deployment(i)), resourceVersion: '200000' }),
    watch: (rv, onEvent, onDone, options) => empty.watch(rv, onEvent, onDone, options),
  };
}

const kib = (bytes: number) => (bytes / 1024).toFixed(1);

async function main(): Promise<void> {
  const before = heapUsed();
  const whole = Array.from({ length: COUNT }, (_, i) => deployment(i));
  const wholeBytes = heapUsed() - before;
  whole.length = 0;

  const base = heapUsed();
  const cache = new ClusterCache({
    sources: {
      namespaces: new FakeResource(),
      poddisruptionbudgets: new FakeResource(),
      horizontalpodautoscalers: new FakeResource(),
      deployments: source(),
      statefulsets: new FakeResource(),
      replicasets: new FakeResource(),
      replicationcontrollers: new FakeResource(),
      limitranges: new FakeResource(),
      networkpolicies: new FakeResource(),
    },
    logger: pino({ enabled: false }),
    clock: new FakeClock(),
  });
  cache.start();
  await cache.synced;
  const stored = heapUsed() - base;
  let workloads = 0;
  for (let n = 0; n < NAMESPACES; n++) workloads += cache.context.workloadsIn(`team-${n}`).length;
  await cache.close();
  // A figure for fewer workloads than listed would flatter the informers: refuse to report it.
  if (workloads !== COUNT) throw new Error(`only ${workloads} of ${COUNT} Deployments reached the context`);

  console.log(`${COUNT} Deployments of two containers in ${NAMESPACES} namespaces, heap after GC, node ${process.version}`);
  console.log(`whole objects, as listed: ${(wholeBytes / 2 ** 20).toFixed(1)} MiB, ${kib(wholeBytes / COUNT)} KiB per Deployment`);
  console.log(
    `kept by the informers (projection, reflector map, context index): ${(stored / 2 ** 20).toFixed(1)} MiB, ${Math.round(stored / COUNT)} bytes per Deployment`,
  );
}

await main();
