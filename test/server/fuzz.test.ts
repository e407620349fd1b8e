// Fuzz suite: no review, however odd, reaches the failure path. Under --on-error allow that path
// admits an object unjudged, so a review that throws inside the engine is a way around every
// policy. Every Object.prototype name goes into every key and value position of a full review,
// then seeded random mutations (wrong types, nulls, deep and odd shapes) go anywhere; each answer
// must be a verdict (a 200 AdmissionReview for the request's uid, not the "admitted unchecked"
// one) or the documented 400 for an envelope readAdmissionReview refuses.
import { Writable } from 'node:stream';
import fc from 'fast-check';
import pino from 'pino';
import t from 'tap';
import { POLICIES } from '../../policies/index.js';
import { ContextIndex, compileConfig } from '../../src/engine/index.js';
import type { KubeObject } from '../../src/engine/index.js';
import { readAdmissionReview } from '../../src/server/admission.js';
import { buildApp } from '../../src/server/app.js';
import { GateMetrics } from '../../src/server/metrics.js';
import { GateState } from '../../src/server/state.js';
import {
  BASE_KINDS,
  PROTO_NAMES,
  baseObject,
  baseReview,
  mutate,
  mutationArb,
  objectsIn,
  positions,
  setAt,
  setKey,
} from '../helpers/fuzz-reviews.js';
import type { Json } from '../helpers/fuzz-reviews.js';

const SEED = 20261205;
const RANDOM_RUNS = 5000;

// Cluster state with the same names in it: namespaces, PDBs, HPAs and workloads the policies consult.
function protoContext(): ContextIndex {
  const objects: KubeObject[] = [];
  for (const name of [...PROTO_NAMES, 'shop']) {
    const labels: Record<string, string> = {};
    setKey(labels, name, 'x');
    setKey(labels, 'practice-gate.io/mode', name === 'shop' ? 'enforce' : name);
    objects.push({ kind: 'Namespace', metadata: { name, labels } });
    const matchLabels: Record<string, string> = {};
    setKey(matchLabels, name, 'web');
    objects.push({
      kind: 'PodDisruptionBudget',
      metadata: { name: `pdb-${name}`, namespace: 'shop' },
      spec: { selector: { matchLabels }, minAvailable: 1 },
    } as KubeObject);
    objects.push({
      kind: 'PodDisruptionBudget',
      metadata: { name, namespace: name },
      spec: { selector: { matchExpressions: [{ key: name, operator: 'Exists' }] } },
    } as KubeObject);
    objects.push({
      kind: 'HorizontalPodAutoscaler',
      metadata: { name, namespace: 'shop' },
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, minReplicas: 3, maxReplicas: 5 },
    } as KubeObject);
    objects.push({
      kind: 'Deployment',
      metadata: { name, namespace: 'shop', uid: `uid-${name}` },
      spec: { replicas: 3, template: { metadata: { labels: { app: 'web' } } } },
    });
  }
  return ContextIndex.fromObjects(objects);
}

function setup() {
  const engineConfig = compileConfig(
    {
      mode: 'enforce',
      policies: { 'image-tag-pinned': 'deny', 'pdb-allows-disruption': 'deny', 'cronjob-concurrency': 'deny' },
      exemptions: [{ namespaces: ['constructor'], names: ['__proto__'], reason: 'fuzz' }],
      objectExemptions: true,
      controllers: [{ username: 'toString', kinds: ['Pod', 'ReplicaSet'], ownerKinds: ['__proto__', 'constructor'] }],
    },
    POLICIES,
  );
  const state = new GateState(engineConfig, { context: protoContext() });
  const metrics = new GateMetrics({ processMetrics: false });
  // Only the failure path logs at error level: each such line is a review that was not judged.
  const failures: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      failures.push(chunk.toString('utf8'));
      done();
    },
  });
  const app = buildApp({ state, metrics, logger: pino({ level: 'error' }, stream), onError: 'allow' });
  return { app, metrics, failures };
}

const { app, metrics, failures } = setup();
t.teardown(() => app.close());

/** Why the answer to `payload` is not acceptable, or undefined when it is a verdict or a documented refusal. */
async function problem(payload: string): Promise<string | undefined> {
  const before = failures.length;
  const res = await app.inject({ method: 'POST', url: '/validate', headers: { 'content-type': 'application/json' }, payload });
  if (failures.length > before) {
    const line = JSON.parse(failures[failures.length - 1]!) as { err?: { message?: string } };
    return `the failure path (${line.err?.message ?? 'no error message'})`;
  }
  const sent = JSON.parse(payload) as unknown;
  const envelope = readAdmissionReview(sent);
  if (res.statusCode !== 200) {
    const message = (res.json() as { message?: string }).message ?? '';
    if (res.statusCode === 400 && /^the body nests objects or arrays deeper than \d+ levels$/.test(message)) return undefined;
    if (res.statusCode === 400 && !envelope.ok && message === envelope.message) return undefined;
    return `HTTP ${res.statusCode}: ${res.body.slice(0, 300)}`;
  }
  if (!envelope.ok) return `a 200 for an envelope that should be refused (${envelope.message})`;
  const body = res.json() as {
    apiVersion?: string;
    kind?: string;
    response?: { uid?: string; allowed?: unknown; status?: { code?: number }; warnings?: string[] };
  };
  if (body.apiVersion !== 'admission.k8s.io/v1' || body.kind !== 'AdmissionReview')
    return `not an AdmissionReview: ${res.body.slice(0, 300)}`;
  if (body.response?.uid !== envelope.request.uid) return `uid ${String(body.response?.uid)} instead of ${envelope.request.uid}`;
  if (typeof body.response.allowed !== 'boolean') return 'no allowed field';
  if (body.response.status?.code === 500) return `refused as an error: ${JSON.stringify(body.response.status)}`;
  if (body.response.warnings?.some((w) => w.includes('admitted unchecked')))
    return `admitted unchecked: ${body.response.warnings.join(' | ')}`;
  return undefined;
}

/**
 * Every Object.prototype name as each value, as each key renamed, and as a key added to each
 * object, in a Pod, a Deployment (pod template), a CronJob (job template) and a PDB: between
 * them every field practice-gate reads. The other kinds share these shapes; the random part
 * below sends them too.
 */
function* systematic(): Generator<{ label: string; payload: string }> {
  for (const kind of ['Pod', 'Deployment', 'CronJob', 'PodDisruptionBudget']) {
    for (const operation of ['CREATE']) {
      const template = baseReview(baseObject(kind), operation);
      const places = positions(template).length;
      const objects = objectsIn(template).length;
      for (const name of PROTO_NAMES) {
        for (let at = 0; at < places; at++) {
          const review = JSON.parse(JSON.stringify(template)) as Json;
          const { parent, key } = positions(review)[at]!;
          setAt(parent, key, name);
          yield { label: `${kind} ${operation}: value ${name} at place ${at}`, payload: JSON.stringify(review) };
          if (!Array.isArray(parent)) {
            const renamed = JSON.parse(JSON.stringify(template)) as Json;
            mutate(renamed, { op: 'rename', at, key: name });
            yield { label: `${kind} ${operation}: key ${String(key)} renamed ${name}`, payload: JSON.stringify(renamed) };
          }
        }
        for (let at = 0; at < objects; at++) {
          const review = JSON.parse(JSON.stringify(template)) as Json;
          setKey(objectsIn(review)[at]!, name, name);
          yield { label: `${kind} ${operation}: key ${name} added to object ${at}`, payload: JSON.stringify(review) };
        }
      }
    }
  }
}

t.test('every Object.prototype name in every key and value position of a review gets a verdict', async (t) => {
  let sent = 0;
  const bad: string[] = [];
  for (const { label, payload } of systematic()) {
    sent++;
    const why = await problem(payload);
    if (why !== undefined && bad.length < 5) bad.push(`${label}: ${why}`);
  }
  t.ok(sent > 5_000, `${sent} reviews sent`);
  t.strictSame(bad, [], 'no review reached the failure path or an undocumented answer');
});

t.test(`${RANDOM_RUNS} seeded random mutations of reviews get a verdict or the documented 400`, async (t) => {
  let sent = 0;
  const property = fc.asyncProperty(
    fc.constantFrom(...BASE_KINDS, ...PROTO_NAMES),
    fc.constantFrom('CREATE', 'UPDATE'),
    fc.array(mutationArb, { minLength: 1, maxLength: 6 }),
    async (kind, operation, mutations) => {
      const review = baseReview(baseObject(kind), operation);
      for (const m of mutations) mutate(review, m);
      sent++;
      const why = await problem(JSON.stringify(review));
      if (why !== undefined) throw new Error(why);
    },
  );
  const result = await fc.check(property, { seed: SEED, numRuns: RANDOM_RUNS, endOnFailure: true });
  t.equal(sent, RANDOM_RUNS, 'every run was sent');
  t.equal(result.failed, false, result.failed ? `${fc.defaultReportMessage(result) ?? ''}` : 'all verdicts');
});

t.test('the metrics agree: nothing was answered from the failure path', async (t) => {
  const text = await metrics.registry.metrics();
  t.notMatch(text, /practice_gate_errors_total\{reason="review_failed"\} [1-9]/);
  t.notMatch(text, /decision="error"/);
  t.match(
    text,
    /practice_gate_admission_requests_total\{kind="Deployment",operation="CREATE",decision="deny"\} [1-9]/,
    'reviews were judged',
  );
  t.strictSame(failures, []);
});
