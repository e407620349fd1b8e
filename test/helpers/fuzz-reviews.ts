// Material for the review fuzz suite (test/server/fuzz.test.ts): an AdmissionReview that fills
// every field practice-gate reads, and mutations of any value or key in it. Keys are set with
// defineProperty so that `__proto__` becomes a plain key of the JSON text, as an API server or
// an attacker would send it, never a prototype.
import fc from 'fast-check';

/** Every name an object inherits: what a plain-object lookup of input would find by accident. */
export const PROTO_NAMES: readonly string[] = Object.getOwnPropertyNames(Object.prototype);

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Container = Json[] | { [key: string]: Json };

export function setKey(object: { [key: string]: Json }, key: string, value: Json): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

const copy = (value: Json): Json => JSON.parse(JSON.stringify(value)) as Json;

function container(name: string, extra: { [key: string]: Json } = {}): Json {
  return {
    name,
    image: 'registry.example/app:latest',
    securityContext: { runAsUser: 0, runAsNonRoot: false, readOnlyRootFilesystem: false, allowPrivilegeEscalation: true, privileged: true },
    resources: { requests: { cpu: '100m', memory: '0' }, limits: { memory: '1Gi' } },
    readinessProbe: { httpGet: { path: '/ready', port: 8080 } },
    livenessProbe: {},
    startupProbe: {},
    ...extra,
  };
}

function podSpec(): Json {
  return {
    containers: [container('app')],
    initContainers: [container('sidecar', { restartPolicy: 'Always' })],
    ephemeralContainers: [{ name: 'debug', image: 'busybox' }],
    securityContext: { runAsUser: 0, runAsNonRoot: false },
    os: { name: 'linux' },
    restartPolicy: 'Always',
  };
}

function metadata(name: string): { [key: string]: Json } {
  return {
    name,
    generateName: `${name}-`,
    namespace: 'shop',
    uid: 'uid-object',
    labels: { app: 'web', tier: 'backend' },
    annotations: {
      'practice-gate.io/exempt': 'run-as-non-root,constructor,__proto__,toString',
      'practice-gate.io/exempt-reason': 'fuzz',
    },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', uid: 'uid-rs', controller: true }],
  };
}

const selector = (): Json => ({
  matchLabels: { app: 'web' },
  matchExpressions: [{ key: 'tier', operator: 'In', values: ['backend'] }],
});

/** One object of `kind` with every field the policies read. */
export function baseObject(kind: string): Json {
  const template = { metadata: { labels: { app: 'web', tier: 'backend' } }, spec: podSpec() };
  const base = { apiVersion: 'apps/v1', kind, metadata: metadata('web') };
  switch (kind) {
    case 'Pod':
      return { ...base, apiVersion: 'v1', spec: podSpec() };
    case 'CronJob':
      return {
        ...base,
        apiVersion: 'batch/v1',
        spec: { schedule: '* * * * *', concurrencyPolicy: 'Allow', jobTemplate: { spec: { template } } },
      };
    case 'PodTemplate':
      return { ...base, apiVersion: 'v1', template };
    case 'PodDisruptionBudget':
      return { ...base, apiVersion: 'policy/v1', spec: { selector: selector(), minAvailable: '100%', maxUnavailable: 0 } };
    case 'ReplicationController':
      return { ...base, apiVersion: 'v1', spec: { replicas: 3, selector: { app: 'web' }, template } };
    default:
      return { ...base, spec: { replicas: 3, selector: selector(), concurrencyPolicy: 'Forbid', template } };
  }
}

export const BASE_KINDS = [
  'Pod',
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'ReplicationController',
  'Job',
  'CronJob',
  'PodTemplate',
  'PodDisruptionBudget',
];

/** The AdmissionReview the API server would send for `object`, filled to the last field. */
export function baseReview(object: Json, operation = 'CREATE'): { [key: string]: Json } {
  const kind = typeof object === 'object' && object !== null && !Array.isArray(object) ? (object.kind ?? 'Pod') : 'Pod';
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'uid-review',
      kind: { group: 'apps', version: 'v1', kind },
      resource: { group: 'apps', version: 'v1', resource: 'deployments' },
      subResource: '',
      name: 'web',
      namespace: 'shop',
      operation,
      userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller', groups: ['system:authenticated'] },
      object: copy(object),
      oldObject: operation === 'UPDATE' ? copy(object) : null,
      dryRun: false,
    },
  };
}

/** Every place in a value: each container and each key or index in it. */
export function positions(root: Json): Array<{ parent: Container; key: string | number }> {
  const out: Array<{ parent: Container; key: string | number }> = [];
  const walk = (value: Json) => {
    if (Array.isArray(value)) {
      value.forEach((item, i) => {
        out.push({ parent: value, key: i });
        walk(item);
      });
    } else if (value !== null && typeof value === 'object') {
      for (const key of Object.keys(value)) {
        out.push({ parent: value, key });
        walk(value[key]!);
      }
    }
  };
  walk(root);
  return out;
}

/** Containers, where a key can be added. */
export function objectsIn(root: Json): Array<{ [key: string]: Json }> {
  const out: Array<{ [key: string]: Json }> = [];
  const walk = (value: Json) => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value !== null && typeof value === 'object') {
      out.push(value);
      for (const key of Object.keys(value)) walk(value[key]!);
    }
  };
  walk(root);
  return out;
}

export function setAt(parent: Container, key: string | number, value: Json): void {
  if (Array.isArray(parent)) parent[key as number] = value;
  else setKey(parent, String(key), value);
}

/** Renames a key, keeping its value and the other keys' order. */
export function renameKey(parent: { [key: string]: Json }, from: string, to: string): void {
  const entries = Object.keys(parent).map((k) => [k === from ? to : k, parent[k]!] as const);
  for (const k of Object.keys(parent)) delete parent[k];
  for (const [k, v] of entries) setKey(parent, k, v);
}

/** A value nested `depth` levels deep. */
export function nested(depth: number, leaf: Json): Json {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { [PROTO_NAMES[i % PROTO_NAMES.length]!]: value };
  return value;
}

const KNOWN_KEYS = [
  'kind',
  'name',
  'namespace',
  'labels',
  'annotations',
  'spec',
  'containers',
  'securityContext',
  'resources',
  'requests',
  'matchLabels',
  'ownerReferences',
  'controller',
  'uid',
  'template',
];

const keyArb = fc.oneof(fc.constantFrom(...PROTO_NAMES), fc.constantFrom(...KNOWN_KEYS), fc.string({ maxLength: 8 }));

/** Any JSON value, Object.prototype names often among its strings and keys. */
export const valueArb: fc.Arbitrary<Json> = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom<Json>(...PROTO_NAMES),
    fc.constantFrom<Json>(null, true, false, 0, -1, 1e308, 'Always', 'Never', '0', '100%', ''),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string({ maxLength: 12 }),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.array(fc.tuple(keyArb, tie('value')), { maxLength: 3 }).map((pairs) => {
      const object: { [key: string]: Json } = {};
      for (const [k, v] of pairs) setKey(object, k, v);
      return object;
    }),
  ),
})).value;

export type Mutation =
  | { op: 'replace'; at: number; value: Json }
  | { op: 'delete'; at: number }
  | { op: 'add'; at: number; key: string; value: Json }
  | { op: 'rename'; at: number; key: string }
  | { op: 'deep'; at: number; depth: number };

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: valueArb }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('add' as const), at: fc.nat(), key: keyArb, value: valueArb }),
  fc.record({ op: fc.constant('rename' as const), at: fc.nat(), key: keyArb }),
  fc.record({ op: fc.constant('deep' as const), at: fc.nat(), depth: fc.integer({ min: 1, max: 600 }) }),
);

/** Applies one mutation somewhere in `root`, chosen by `at` among the places it has. */
export function mutate(root: Json, m: Mutation): void {
  if (m.op === 'add') {
    const objects = objectsIn(root);
    if (objects.length > 0) setKey(objects[m.at % objects.length]!, m.key, m.value);
    return;
  }
  const places = positions(root);
  if (places.length === 0) return;
  const { parent, key } = places[m.at % places.length]!;
  switch (m.op) {
    case 'replace':
      setAt(parent, key, m.value);
      return;
    case 'delete':
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key as string];
      return;
    case 'rename':
      if (!Array.isArray(parent)) renameKey(parent, key as string, m.key);
      return;
    case 'deep':
      setAt(parent, key, nested(m.depth, PROTO_NAMES[m.at % PROTO_NAMES.length]!));
  }
}
