// The first large review of a process paid for more than its own work: a worker thread starting
// and loading its modules, and V8 compiling the scanner, the rebuilding of its parts and the
// judging for inputs of that shape (a 16 MiB review: 700-1,090 ms of CPU first against 130-180 ms
// later, docs/performance.md). A serving process pays that at start instead, on a made-up review
// that takes the same path: parsed by the pool in a worker, rebuilt, judged by the pure review,
// written as the API server writes its reviews. Nothing of it is answered, logged as a review or
// counted.
import { performance } from 'node:perf_hooks';
import type { BodyPool } from './body-pool.js';
import { reviewProjection } from './body-projection.js';
import { RuleError } from '../rules/rule-error.js';
import { readAdmissionReview } from './admission.js';
import { reviewInSteps } from './review.js';
import type { ReviewOutcome, ReviewState } from './review.js';
import { runSliced } from './sliced.js';

/**
 * Enough containers for the paths a large review takes: more than one slice of the engine (512)
 * and more than one part of the worker's answer, yet ~0.2 MiB, parsed and judged in a few ms.
 */
export const WARM_UP_CONTAINERS = 600;

/**
 * Rounds of judging the made-up review, parsed once. V8 optimizes a function once it has run
 * enough: after one round the policies' per-container checks were still compiled while the first
 * large review was judged (~170 ms of V8's helper threads for the 16 MiB one); after 40 they are
 * compiled at start (~100 ms more before the process is ready, docs/performance.md).
 */
export const WARM_UP_ROUNDS = 40;

/**
 * The time after which no other round starts. Readiness waits for the rounds, and custom rules
 * can make one far slower than the built-in policies' few milliseconds (a CEL rule per container
 * runs 600 times a round).
 */
export const WARM_UP_ROUNDS_MS = 500;

/** Its uid and namespace: a name no cluster object has, should it ever show in a log. */
export const WARM_UP_NAME = 'practice-gate-warm-up';

const probe = (path: string) => ({
  httpGet: { path, port: 8080, scheme: 'HTTP' },
  timeoutSeconds: 1,
  periodSeconds: 10,
  successThreshold: 1,
  failureThreshold: 3,
});

const ports = () => [{ name: 'http', containerPort: 8080, protocol: 'TCP' }];

/**
 * A container as the API server sends it: its fields defaulted and in the order it writes them
 * (the Go struct's), in four shapes a cluster holds, half of them failing each container check.
 * V8 optimizes the judging for the object shapes it has seen: judged on shapes no real review
 * has (other keys, or the same keys in another order), its code was thrown away at the first
 * large review and compiled again (~170 ms of the first 16 MiB review's CPU, docs/performance.md).
 */
function container(i: number): Record<string, unknown> {
  const name = `c${i}`;
  const written = { terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' };
  switch (i % 4) {
    case 0:
      // Only a name and an image, as many manifests give: what the API server adds and no more.
      return { name, image: 'app', resources: {}, ...written, imagePullPolicy: 'Always' };
    case 1:
      return {
        name,
        image: 'app:latest',
        ports: ports(),
        env: [{ name: 'MODE', value: 'debug' }],
        resources: {},
        ...written,
        imagePullPolicy: 'Always',
        securityContext: { privileged: true, runAsUser: 0 },
      };
    case 2:
      return {
        name,
        image: 'registry.example/app:1.4.2',
        ports: ports(),
        resources: { limits: { memory: '128Mi' }, requests: { cpu: '100m', memory: '64Mi' } },
        livenessProbe: probe('/healthz'),
        readinessProbe: probe('/ready'),
        ...written,
        imagePullPolicy: 'IfNotPresent',
        securityContext: { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
      };
    default:
      return {
        name,
        image: 'registry.example/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
        args: ['--port=8080'],
        resources: { requests: { cpu: '100m', memory: '64Mi' } },
        volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
        readinessProbe: probe('/ready'),
        ...written,
        imagePullPolicy: 'IfNotPresent',
        securityContext: { runAsUser: 1000, readOnlyRootFilesystem: true },
      };
  }
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

/**
 * Takes the made-up review through the pool and the judging, as /validate would a large body, and
 * judges it again, up to WARM_UP_ROUNDS in all while WARM_UP_ROUNDS_MS last. The caller drops the
 * last outcome; there is none when a custom rule cannot judge the made-up object (a label it
 * lacks): as far as the judging went, the path is warm, and /validate answers such a failure.
 */
export async function warmUp(
  pool: BodyPool,
  state: ReviewState,
  now: () => number = () => performance.now(),
): Promise<{ outcome: ReviewOutcome | undefined; rounds: number }> {
  const value = await pool.parse(warmUpBody(), reviewProjection(state.engineConfig));
  const envelope = readAdmissionReview(value);
  if (!envelope.ok) throw new Error(`the warm-up review was refused: ${envelope.message}`);
  const round = async (): Promise<ReviewOutcome | undefined> => {
    try {
      return await runSliced(reviewInSteps(envelope.request, state));
    } catch (err) {
      if (err instanceof RuleError) return undefined;
      throw err;
    }
  };
  const started = now();
  let outcome = await round();
  let rounds = 1;
  for (; rounds < WARM_UP_ROUNDS && now() - started < WARM_UP_ROUNDS_MS; rounds++) outcome = await round();
  return { outcome, rounds };
}
