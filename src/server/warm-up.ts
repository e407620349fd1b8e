// The first large review of a process paid for more than its own work: a worker thread starting
// and loading its modules, and V8 compiling the scanner, the rebuilding of its parts and the
// judging for inputs of that shape (a 16 MiB review: 700-1,090 ms of CPU first against 130-180 ms
// later, docs/performance.md). A serving process pays that at start instead, on a made-up review
// that takes the same path: parsed by the pool in a worker, rebuilt, judged by the pure review.
// Nothing of it is answered, logged as a review or counted.
import type { BodyPool } from './body-pool.js';
import { reviewProjection } from './body-projection.js';
import { readAdmissionReview } from './admission.js';
import { reviewInSteps } from './review.js';
import type { ReviewOutcome, ReviewState } from './review.js';
import { runSliced } from './sliced.js';

/**
 * Enough containers for the paths a large review takes: more than one slice of the engine (512)
 * and more than one part of the worker's answer, yet ~0.2 MiB, parsed and judged in a few ms.
 */
export const WARM_UP_CONTAINERS = 600;

/** Its uid and namespace: a name no cluster object has, should it ever show in a log. */
export const WARM_UP_NAME = 'practice-gate-warm-up';

/** A container as the API server sends it: every other one fails each container check. */
function container(i: number): Record<string, unknown> {
  const defaulted = {
    name: `c${i}`,
    ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    imagePullPolicy: 'IfNotPresent',
  };
  if (i % 2 === 1) return { ...defaulted, image: 'app', resources: {}, securityContext: { runAsUser: 0, privileged: true } };
  const probe = (path: string) => ({
    httpGet: { path, port: 8080, scheme: 'HTTP' },
    timeoutSeconds: 1,
    periodSeconds: 10,
    successThreshold: 1,
    failureThreshold: 3,
  });
  return {
    ...defaulted,
    image: 'registry.example/app:1.4.2',
    resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '128Mi' } },
    securityContext: { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
    readinessProbe: probe('/ready'),
    livenessProbe: probe('/healthz'),
  };
}

/** The made-up review: a CREATE of a Deployment with `containers` containers, as JSON bytes. */
export function warmUpBody(containers = WARM_UP_CONTAINERS): Buffer {
  const labels = { app: WARM_UP_NAME };
  const object = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: WARM_UP_NAME, namespace: WARM_UP_NAME, uid: WARM_UP_NAME, labels },
    spec: {
      replicas: 2,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: Array.from({ length: containers }, (_, i) => container(i)) } },
    },
  };
  const request = {
    uid: WARM_UP_NAME,
    kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
    resource: { group: 'apps', version: 'v1', resource: 'deployments' },
    name: WARM_UP_NAME,
    namespace: WARM_UP_NAME,
    operation: 'CREATE',
    userInfo: { username: WARM_UP_NAME },
    object,
    dryRun: true,
  };
  return Buffer.from(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request }));
}

/** Takes the made-up review through the pool and the judging, as /validate would a large body; its outcome is dropped by the caller. */
export async function warmUp(pool: BodyPool, state: ReviewState): Promise<ReviewOutcome> {
  const value = await pool.parse(warmUpBody(), reviewProjection(state.engineConfig));
  const envelope = readAdmissionReview(value);
  if (!envelope.ok) throw new Error(`the warm-up review was refused: ${envelope.message}`);
  return runSliced(reviewInSteps(envelope.request, state));
}
