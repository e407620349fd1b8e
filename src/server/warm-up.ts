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
import type { AdmissionRequest } from './admission.js';
import { reviewInSteps } from './review.js';
import type { ReviewOutcome, ReviewState } from './review.js';
import { runSliced } from './sliced.js';
import { parseJsonBody } from './json.js';

/**
 * Enough containers for the paths a large review takes: more than one slice of the engine (512)
 * and more than one part of the worker's answer, yet ~0.25 MiB (an UPDATE twice that), parsed and
 * judged in a few ms.
 */
export const WARM_UP_CONTAINERS = 600;

/**
 * Rounds of judging the made-up reviews, each parsed once. V8 optimizes a function once it has run
 * enough: after one round the policies' per-container checks were still compiled while the first
 * large review was judged (~170 ms of V8's helper threads for the 16 MiB one); after 40 they are
 * compiled at start (~100 ms more before the process is ready, docs/performance.md), but the loop
 * over a pod's containers and the engine's call of each check were still compiled for the first
 * large review (~25 ms of TurboFan there); after 80 they are too (~50-100 ms more before ready).
 */
export const WARM_UP_ROUNDS = 80;

/**
 * The time after which no other round starts. Readiness waits for the rounds, and custom rules
 * can make one far slower than the built-in policies' few milliseconds (a CEL rule per container
 * runs 600 times a round).
 */
export const WARM_UP_ROUNDS_MS = 500;

/** Its uid and namespace: a name no cluster object has, should it ever show in a log. */
export const WARM_UP_NAME = 'practice-gate-warm-up';

/**
 * How the made-up review is written. V8 compiles the judging for the object shapes it has seen:
 * where a property was read from at most four shapes of object, the compiled code checks for those
 * and is thrown away when another comes ("wrong map"), and where a field held one shape, for that
 * shape ("dependent field type changed"). Judged on one Deployment, the checks were thrown away by
 * the first real review of another shape, however small, and compiled again while the first large
 * review was judged. So the warm-up judges a Deployment in six forms, as a manifest gives it and as
 * the API server sends it once stored and defaulted, created and updated, with pod specs of several
 * shapes (init containers, scheduling, pod security) and containers of eight: read from more shapes
 * than V8 checks for, the checks are compiled for any.
 */
export type WarmUpForm = 'manifest' | 'stored' | 'update' | 'sidecars' | 'scheduled' | 'hardened';

/** The forms judged in turn, round after round. */
export const WARM_UP_FORMS: readonly WarmUpForm[] = ['manifest', 'stored', 'update', 'sidecars', 'scheduled', 'hardened'];

const probe = (path: string, form: WarmUpForm) => ({
  ...(form === 'manifest' ? { httpGet: { path, port: 8080, scheme: 'HTTP' } } : { tcpSocket: { port: 8080 } }),
  timeoutSeconds: 1,
  periodSeconds: 10,
  successThreshold: 1,
  failureThreshold: 3,
});

const ports = () => [{ name: 'http', containerPort: 8080, protocol: 'TCP' }];

/**
 * A container as the API server sends it: its fields defaulted and in the order it writes them
 * (the Go struct's), in eight shapes a cluster holds, many failing each container check, their
 * resources, probes and security contexts shaped one way as a manifest gives them and another
 * once stored. V8 optimizes the judging for the object shapes it has seen: judged on shapes no
 * real review has (other keys, or the same keys in another order), its code was thrown away at the
 * first large review and compiled again (~170 ms of the first 16 MiB review's CPU,
 * docs/performance.md).
 */
function container(i: number, form: WarmUpForm): Record<string, unknown> {
  const name = `c${i}`;
  const stored = form !== 'manifest';
  const written = { terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' };
  switch (i % 8) {
    case 0:
      // Only a name and an image, as many manifests give: what the API server adds and no more.
      return { name, image: 'app', resources: {}, ...written, imagePullPolicy: 'Always' };
    case 1:
      return {
        name,
        image: 'app:latest',
        ports: ports(),
        env: [
          stored
            ? { name: 'POD', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } }
            : { name: 'MODE', value: 'debug' },
        ],
        resources: stored ? { limits: { cpu: '1' } } : {},
        ...written,
        imagePullPolicy: 'Always',
        securityContext: stored ? { privileged: true } : { privileged: true, runAsUser: 0 },
      };
    case 2:
      return {
        name,
        image: 'registry.example/app:1.4.2',
        ports: ports(),
        resources: stored
          ? { limits: { cpu: '500m', memory: '128Mi' }, requests: { memory: '64Mi' } }
          : { limits: { memory: '128Mi' }, requests: { cpu: '100m', memory: '64Mi' } },
        livenessProbe: probe('/healthz', form),
        readinessProbe: probe('/ready', form),
        ...written,
        imagePullPolicy: 'IfNotPresent',
        securityContext: stored
          ? { runAsUser: 1000, runAsNonRoot: true, readOnlyRootFilesystem: true }
          : { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
      };
    case 3:
      return {
        name,
        image: 'registry.example/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
        args: ['--port=8080'],
        resources: stored ? { requests: { cpu: '100m' } } : { requests: { cpu: '100m', memory: '64Mi' } },
        volumeMounts: [stored ? { name: 'tmp', readOnly: true, mountPath: '/tmp' } : { name: 'tmp', mountPath: '/tmp' }],
        readinessProbe: probe('/ready', form),
        ...written,
        imagePullPolicy: 'IfNotPresent',
        securityContext: stored ? { runAsNonRoot: false, readOnlyRootFilesystem: true } : { runAsUser: 1000, readOnlyRootFilesystem: true },
      };
    case 4:
      return {
        name,
        image: 'busybox:1.36',
        command: ['sh', '-c', 'sleep 3600'],
        env: [{ name: 'MODE', value: 'batch' }],
        resources: { limits: { cpu: '1', memory: '256Mi' }, requests: { cpu: '100m', memory: '128Mi' } },
        ...written,
        imagePullPolicy: 'IfNotPresent',
        securityContext: stored
          ? { capabilities: { drop: ['ALL'] }, runAsNonRoot: true, allowPrivilegeEscalation: false }
          : { capabilities: { add: ['NET_ADMIN'] }, runAsUser: 0 },
      };
    case 5:
      return {
        name,
        image: 'registry.example/app:2',
        workingDir: '/app',
        ports: ports(),
        envFrom: [{ configMapRef: { name: 'settings' } }],
        resources: { limits: { memory: '256Mi' } },
        startupProbe: probe('/started', form),
        lifecycle: { preStop: { exec: { command: ['sleep', '5'] } } },
        ...written,
        imagePullPolicy: 'IfNotPresent',
      };
    case 6:
      return {
        name,
        image: 'app',
        resources: {},
        volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
        ...written,
        imagePullPolicy: 'Always',
        stdin: true,
        tty: true,
      };
    default: // 7
      return {
        name,
        image: 'registry.example/app:3',
        args: ['serve'],
        ports: ports(),
        resources: { requests: { memory: '64Mi' } },
        livenessProbe: probe('/healthz', form),
        ...written,
        imagePullPolicy: 'IfNotPresent',
        securityContext: { runAsUser: 0 },
      };
  }
}

const init = (name: string, sidecar: boolean) => ({
  name,
  image: 'busybox:1.36',
  command: ['sh', '-c', 'true'],
  resources: {},
  ...(sidecar ? { restartPolicy: 'Always' } : {}),
  terminationMessagePath: '/dev/termination-log',
  terminationMessagePolicy: 'File',
  imagePullPolicy: 'IfNotPresent',
});

/** A stored pod spec, its fields where the API server writes them (the Go struct's order). */
function podSpec(containers: Record<string, unknown>[], form: WarmUpForm): Record<string, unknown> {
  const defaults = { restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst' };
  switch (form) {
    case 'sidecars':
      return {
        volumes: [{ name: 'tmp', emptyDir: {} }],
        initContainers: [init('migrate', false), init('proxy', true)],
        containers,
        ...defaults,
        securityContext: {},
        schedulerName: 'default-scheduler',
      };
    case 'scheduled':
      return {
        containers,
        ...defaults,
        nodeSelector: { 'kubernetes.io/os': 'linux' },
        serviceAccountName: 'app',
        serviceAccount: 'app',
        securityContext: {},
        affinity: { podAntiAffinity: {} },
        schedulerName: 'default-scheduler',
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'app', effect: 'NoSchedule' }],
      };
    case 'hardened':
      return {
        volumes: [{ name: 'tmp', emptyDir: { medium: 'Memory' } }],
        containers,
        ...defaults,
        automountServiceAccountToken: false,
        securityContext: { runAsUser: 1000, runAsNonRoot: true, fsGroup: 2000, seccompProfile: { type: 'RuntimeDefault' } },
        schedulerName: 'default-scheduler',
        priorityClassName: 'high',
        enableServiceLinks: false,
      };
    default:
      return {
        volumes: [{ name: 'tmp', emptyDir: {} }],
        containers,
        ...defaults,
        securityContext: {},
        schedulerName: 'default-scheduler',
      };
  }
}

/**
 * What the API server keeps in a stored object's metadata besides its fields: kubectl's
 * last-applied-configuration (a JSON text in a string) and `managedFields`, whose FieldsV1 keys name
 * list items as JSON (`k:{"name":"c0"}`). Their escapes (`\"`, `\n`) take a branch of the scanner's
 * string reading (src/server/body-scan.ts) that a made-up review without them never took: V8
 * compiled the scanner with no feedback there, and the first large review threw that code away
 * ("Insufficient type feedback for compare operation") and compiled it again.
 */
function storedMetadata(containers: Record<string, unknown>[], labels: Record<string, string>): Record<string, unknown> {
  const applied = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { annotations: {}, labels, name: WARM_UP_NAME } };
  return {
    annotations: { 'kubectl.kubernetes.io/last-applied-configuration': `${JSON.stringify(applied)}\n`, team: 'shop & checkout' },
    // The API server lists every container; eight (one of each shape) take every branch, and the
    // whole-read forms hold far fewer objects through the rounds than 600 entries each.
    managedFields: kubectlManagedFields({ 'f:containers': managedContainers(containers.slice(0, 8)) }),
  };
}

/** FieldsV1 of containers as the API server writes it: each named by its name as JSON, with every field it holds. */
export function managedContainers(containers: readonly Record<string, unknown>[]): Record<string, unknown> {
  const fields = (c: Record<string, unknown>) => ({
    '.': {},
    ...Object.fromEntries(
      Object.keys(c)
        .sort()
        .map((key) => [`f:${key}`, {}]),
    ),
  });
  return Object.fromEntries(containers.map((c) => [`k:${JSON.stringify({ name: c.name })}`, fields(c)]));
}

/** The managedFields kubectl's client-side apply leaves on a Deployment: one entry, `podSpecFields` its pod spec's. */
export function kubectlManagedFields(podSpecFields: Record<string, unknown>): Record<string, unknown>[] {
  return [
    {
      manager: 'kubectl-client-side-apply',
      operation: 'Update',
      apiVersion: 'apps/v1',
      time: '2026-01-01T00:00:00Z',
      fieldsType: 'FieldsV1',
      fieldsV1: { 'f:spec': { 'f:template': { 'f:spec': podSpecFields } } },
    },
  ];
}

/** The made-up Deployment: as a manifest gives it, or as the API server stores it, defaults filled in. */
function deployment(containers: number, form: WarmUpForm, image = 'app'): Record<string, unknown> {
  const labels = { app: WARM_UP_NAME };
  const all = Array.from({ length: containers }, (_, i) => container(i, form));
  if (all[0]) all[0].image = image;
  const metadata = { name: WARM_UP_NAME, namespace: WARM_UP_NAME, uid: WARM_UP_NAME, labels };
  if (form === 'manifest') {
    return {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata,
      spec: { replicas: 2, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: all } } },
    };
  }
  return {
    kind: 'Deployment',
    apiVersion: 'apps/v1',
    metadata: {
      ...metadata,
      resourceVersion: '1',
      generation: 1,
      creationTimestamp: '2026-01-01T00:00:00Z',
      ...storedMetadata(all, labels),
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: labels },
      template: {
        metadata: { creationTimestamp: null, labels },
        spec: podSpec(all, form),
      },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    },
    status: {},
  };
}

/** The made-up review of a Deployment with `containers` containers, in one form, as JSON bytes. */
export function warmUpBody(containers = WARM_UP_CONTAINERS, form: WarmUpForm = 'manifest'): Buffer {
  const kind = { group: 'apps', version: 'v1', kind: 'Deployment' };
  const resource = { group: 'apps', version: 'v1', resource: 'deployments' };
  // As the API server sends it, with the fields a hand-written review leaves out, where it writes them.
  const sent = form !== 'manifest';
  const update = form === 'update';
  const request = {
    uid: WARM_UP_NAME,
    kind,
    resource,
    ...(sent ? { requestKind: kind, requestResource: resource } : {}),
    name: WARM_UP_NAME,
    namespace: WARM_UP_NAME,
    operation: update ? 'UPDATE' : 'CREATE',
    userInfo: sent ? { username: WARM_UP_NAME, groups: ['system:authenticated'] } : { username: WARM_UP_NAME },
    object: deployment(containers, form, update ? 'app:2' : 'app'),
    ...(sent ? { oldObject: update ? deployment(containers, form) : null } : {}),
    dryRun: true,
    ...(sent ? { options: { kind: update ? 'UpdateOptions' : 'CreateOptions', apiVersion: 'meta.k8s.io/v1' } } : {}),
  };
  const text = JSON.stringify({ kind: 'AdmissionReview', apiVersion: 'admission.k8s.io/v1', request });
  // The API server's JSON encoder (Go's) writes <, > and & as \u escapes: the scanner's other escape.
  return Buffer.from(sent ? text.replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`) : text);
}

/**
 * Takes the made-up review in each form through the pool, as /validate would a large body, and
 * reads it whole, as /validate would a small one; then judges them in turn, up to WARM_UP_ROUNDS
 * in all while WARM_UP_ROUNDS_MS last. The caller drops the last outcome; there is none when a
 * custom rule cannot judge the made-up object (a label it lacks): as far as the judging went, the
 * path is warm, and /validate answers such a failure.
 */
export async function warmUp(
  pool: BodyPool,
  state: ReviewState,
  now: () => number = () => performance.now(),
): Promise<{ outcome: ReviewOutcome | undefined; rounds: number }> {
  const plan = reviewProjection(state.engineConfig);
  const requests: AdmissionRequest[] = [];
  for (const form of WARM_UP_FORMS) {
    // Read as /validate reads a small body too (whole, on the event loop): its objects take other
    // shapes than the worker's projection, and small reviews are most of what a server judges.
    const body = warmUpBody(WARM_UP_CONTAINERS, form);
    const whole = parseJsonBody(body.toString('utf8'));
    for (const value of [await pool.parse(body, plan), whole]) {
      const envelope = readAdmissionReview(value);
      if (!envelope.ok) throw new Error(`the warm-up review was refused: ${envelope.message}`);
      requests.push(envelope.request);
    }
  }
  const round = async (i: number): Promise<ReviewOutcome | undefined> => {
    try {
      return await runSliced(reviewInSteps(requests[i % requests.length] as AdmissionRequest, state));
    } catch (err) {
      if (err instanceof RuleError) return undefined;
      throw err;
    }
  };
  const started = now();
  let outcome = await round(0);
  let rounds = 1;
  for (; rounds < WARM_UP_ROUNDS && now() - started < WARM_UP_ROUNDS_MS; rounds++) outcome = await round(rounds);
  return { outcome, rounds };
}
