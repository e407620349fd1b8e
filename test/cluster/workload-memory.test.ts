// How much heap the webhook's workload informers keep per workload: the figure in
// docs/cluster.md. Measured, printed as a comment, never asserted (heap sizes vary by Node
// version and machine); the test only checks that the workloads were all stored.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import t from 'tap';
import { ClusterCache } from '../../src/cluster/api/informers.js';
import type { ListerWatcher, ListPage } from '../../src/cluster/api/reflector.js';
import { captureLogger, FakeClock, FakeResource } from '../helpers/cluster.js';

const COUNT = 10_000;
const NAMESPACES = 200;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapUsed(): number {
  for (let i = 0; i < 3; i++) gc();
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
    env: [{ name: 'LOG_LEVEL', value: 'info' }, { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
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
      annotations: { 'deployment.kubernetes.io/revision': '4', 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ spec }) },
      managedFields: [
        { manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'apps/v1', time: '2030-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {}, 'f:template': { 'f:spec': { 'f:containers': {} } } } } },
        { manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'apps/v1', subresource: 'status', fieldsType: 'FieldsV1', fieldsV1: { 'f:status': { 'f:replicas': {}, 'f:conditions': {} } } },
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
        { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', lastUpdateTime: '2030-01-01T00:00:00Z', lastTransitionTime: '2030-01-01T00:00:00Z' },
        { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', lastUpdateTime: '2030-01-01T00:00:00Z', lastTransitionTime: '2030-01-01T00:00:00Z' },
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

t.test(`heap kept for ${COUNT} Deployments in ${NAMESPACES} namespaces`, async (t) => {
  const before = heapUsed();
  const whole = Array.from({ length: COUNT }, (_, i) => deployment(i));
  const wholeBytes = heapUsed() - before;
  t.equal(whole.length, COUNT);
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
    },
    logger: captureLogger().logger,
    clock: new FakeClock(),
  });
  cache.start();
  await cache.synced;
  const stored = heapUsed() - base;
  let workloads = 0;
  for (let n = 0; n < NAMESPACES; n++) workloads += cache.context.workloadsIn(`team-${n}`).length;
  t.equal(workloads, COUNT, 'every Deployment is in the context');

  t.comment(`whole objects, as listed: ${(wholeBytes / 2 ** 20).toFixed(1)} MiB, ${kib(wholeBytes / COUNT)} KiB per Deployment`);
  t.comment(`kept by the informers (projection, reflector map, context index): ${(stored / 2 ** 20).toFixed(1)} MiB, ${Math.round(stored / COUNT)} bytes per Deployment`);
  t.comment(`node ${process.version}`);
  await cache.close();
});
