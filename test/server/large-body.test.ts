// Large bodies are parsed in worker threads (src/server/body-pool.ts) and only what judgements
// read comes back: the answers must be the ones the event loop's own parser gives, a worker
// that fails, stalls or is full must never let an object in unjudged under --on-error deny, and
// /healthz must answer while a large body is being parsed.
import fc from 'fast-check';
import t from 'tap';
import type { Test } from 'tap';
import { POLICIES } from '../../policies/index.js';
import { parseConfig } from '../../src/config/load.js';
import { ContextIndex, DEFAULT_CONFIG, compileConfig, workloadShell } from '../../src/engine/index.js';
import type { KubeObject } from '../../src/engine/index.js';
import { buildApp } from '../../src/server/app.js';
import type { GateApp } from '../../src/server/app.js';
import type { BodyPoolOptions } from '../../src/server/body-pool.js';
import { EncodedParts, joinParts, partTexts, splitValue } from '../../src/server/body-parts.js';
import { WHOLE, reviewProjection } from '../../src/server/body-projection.js';
import type { OnError } from '../../src/server/review.js';
import { GateState } from '../../src/server/state.js';
import { BASE_KINDS, PROTO_NAMES, baseObject, baseReview, mutate, mutationArb, objectsIn, setKey } from '../helpers/fuzz-reviews.js';
import type { Json } from '../helpers/fuzz-reviews.js';
import { builtinRuleSpec } from '../../src/rules/index.js';
import { examples } from '../helpers/manifests.js';
import { rule } from '../helpers/rules.js';

const SEED = 20261206;

function gateState(mode: 'enforce' | 'audit' = 'enforce'): GateState {
  const config = compileConfig(
    {
      ...DEFAULT_CONFIG,
      mode,
      policies: { 'image-tag-pinned': 'deny', 'pdb-allows-disruption': 'deny', 'cronjob-concurrency': 'deny' },
      exemptions: [{ namespaces: ['constructor'], names: ['__proto__'], reason: 'fuzz' }],
      objectExemptions: true,
    },
    POLICIES,
  );
  const context = ContextIndex.fromObjects([
    { kind: 'Namespace', metadata: { name: 'shop', labels: { 'practice-gate.io/mode': mode } } },
    {
      kind: 'PodDisruptionBudget',
      metadata: { name: 'web', namespace: 'shop' },
      spec: { selector: { matchLabels: { app: 'web' } }, maxUnavailable: 0 },
    } as KubeObject,
  ]);
  return new GateState(config, { context });
}

/** An app judging under `state`, closed when `t` ends. */
function appWith(t: Test, state: GateState, largeBodies?: Partial<BodyPoolOptions>, onError: OnError = 'deny'): GateApp {
  const built = buildApp({ state, onError, ...(largeBodies ? { largeBodies } : {}) });
  t.teardown(() => built.close());
  return built;
}

function app(t: Test, largeBodies?: Partial<BodyPoolOptions>, onError: OnError = 'deny', mode: 'enforce' | 'audit' = 'enforce'): GateApp {
  return appWith(t, gateState(mode), largeBodies, onError);
}

const post = (to: GateApp, payload: string) =>
  to.inject({ method: 'POST', url: '/validate', headers: { 'content-type': 'application/json' }, payload });

/** Every body through a worker: the threshold is one byte. */
const EVERY_BODY = { threshold: 1, maxPending: 1_000, timeoutMs: 120_000 };

/** A Deployment patched to root and privileged, with `volumes` Secret volumes and their managedFields, object and oldObject. */
function volumesUpdate(volumes: number): string {
  const object = (privileged: boolean): Json => {
    const managed: { [key: string]: Json } = {};
    const vols: Json[] = [];
    for (let i = 0; i < volumes; i++) {
      vols.push({ name: `v${i}`, secret: { secretName: 's', defaultMode: 420 } });
      managed[`k:{"name":"v${i}"}`] = { '.': {}, 'f:name': {}, 'f:secret': { '.': {}, 'f:defaultMode': {}, 'f:secretName': {} } };
    }
    const base = baseObject('Deployment') as { [key: string]: Json };
    const meta = base.metadata as { [key: string]: Json };
    meta.managedFields = [
      {
        manager: 'kubectl',
        operation: 'Update',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:spec': { 'f:template': { 'f:spec': { 'f:volumes': managed } } } },
      },
    ];
    const spec = ((base.spec as { [key: string]: Json }).template as { [key: string]: Json }).spec as { [key: string]: Json };
    spec.volumes = vols;
    if (privileged) spec.containers = [{ name: 'app', image: 'app', securityContext: { runAsUser: 0, privileged: true } }];
    return base;
  };
  const review = baseReview(object(true), 'UPDATE');
  (review.request as { [key: string]: Json }).oldObject = object(false);
  return JSON.stringify(review);
}

/**
 * An UPDATE of a Deployment that runs as root before and after (an existing violation, answered
 * as a warning when the pod spec changes and quietly when it does not), with these volumes.
 */
function volumesOnly(volumes: number[] | undefined, oldVolumes: number[] | undefined): string {
  const object = (names: number[] | undefined): Json => {
    const base = baseObject('Deployment') as { [key: string]: Json };
    const spec = ((base.spec as { [key: string]: Json }).template as { [key: string]: Json }).spec as { [key: string]: Json };
    if (names) spec.volumes = names.map((i) => ({ name: `v${i}`, secret: { secretName: 's', defaultMode: 420 } }));
    return base;
  };
  const review = baseReview(object(volumes), 'UPDATE');
  (review.request as { [key: string]: Json }).oldObject = object(oldVolumes);
  return JSON.stringify(review);
}

/** A Deployment with `n` failing containers. */
function containersCreate(n: number): string {
  const object = baseObject('Deployment') as { [key: string]: Json };
  const spec = ((object.spec as { [key: string]: Json }).template as { [key: string]: Json }).spec as { [key: string]: Json };
  spec.containers = Array.from({ length: n }, (_, i) => ({ name: `c${i}`, image: 'app', securityContext: { runAsUser: 0 } }));
  return JSON.stringify(baseReview(object, 'CREATE'));
}

/** A Deployment whose pod template carries `n` labels, which the built-in policies read (a PDB selects on them). */
function labelsCreate(n: number): string {
  const object = baseObject('Deployment') as { [key: string]: Json };
  const template = (object.spec as { [key: string]: Json }).template as { [key: string]: Json };
  template.metadata = { labels: Object.fromEntries(Array.from({ length: n }, (_, i) => [`l${i}`, 'v'])) };
  return JSON.stringify(baseReview(object, 'CREATE'));
}

/** Volumes of object and oldObject: the same, changed, added, removed, reordered, none. */
const VOLUME_CHANGES: Array<[number[] | undefined, number[] | undefined]> = [
  [
    [1, 2, 3],
    [1, 2, 3],
  ],
  [
    [1, 2, 3],
    [1, 2, 4],
  ],
  [[1, 2, 3], undefined],
  [undefined, [1]],
  [
    [2, 1],
    [1, 2],
  ],
  [undefined, undefined],
];

/** Reviews with Object.prototype names as keys in every object, then seeded random mutations. */
function* differentialInputs(): Generator<string> {
  for (const kind of BASE_KINDS) {
    for (const name of PROTO_NAMES) {
      const review = baseReview(baseObject(kind), 'UPDATE');
      for (const object of objectsIn(review)) setKey(object, name, name);
      yield JSON.stringify(review);
    }
  }
  const samples = fc.sample(
    fc.tuple(fc.constantFrom(...BASE_KINDS), fc.constantFrom('CREATE', 'UPDATE'), fc.array(mutationArb, { minLength: 1, maxLength: 6 })),
    { seed: SEED, numRuns: 1_000 },
  );
  for (const [kind, operation, mutations] of samples) {
    const review = baseReview(baseObject(kind), operation);
    for (const m of mutations) mutate(review, m);
    yield JSON.stringify(review);
  }
  yield volumesUpdate(3_000);
  yield containersCreate(3_000);
  for (const [volumes, oldVolumes] of VOLUME_CHANGES) yield volumesOnly(volumes, oldVolumes);
  yield '[]';
  yield '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","operation":"CREATE","object":[1]}}';
  yield '{"env":[{"value":"SECRETVALUE-hunter2"},#]}';
  yield '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[['.repeat(6) +
    ']'.repeat(672);
}

t.test('a body parsed in a worker gets the answer the event loop would give, byte for byte', async (t) => {
  const inThread = app(t);
  const pooled = app(t, EVERY_BODY);
  let sent = 0;
  const differ: string[] = [];
  for (const payload of differentialInputs()) {
    sent++;
    const [a, b] = await Promise.all([post(inThread, payload), post(pooled, payload)]);
    if ((a.statusCode !== b.statusCode || a.body !== b.body) && differ.length < 3)
      differ.push(
        `${payload.slice(0, 200)}\n  event loop: ${a.statusCode} ${a.body.slice(0, 300)}\n  worker: ${b.statusCode} ${b.body.slice(0, 300)}`,
      );
  }
  t.ok(sent > 1_000, `${sent} reviews sent to both`);
  t.strictSame(differ, [], 'no answer differs');
  t.equal(inThread.bodyPool.stats.started, 0, 'small bodies start no worker');
  t.equal(pooled.bodyPool.stats.parsed + pooled.bodyPool.stats.invalid, sent, 'every body went through a worker');
  t.equal(pooled.bodyPool.stats.failed, 0, 'none failed there');
  t.equal(Object.hasOwn(Object.prototype, 'polluted'), false);
  t.equal(({} as Record<string, unknown>).constructor, Object, 'Object.prototype untouched');
});

t.test('an UPDATE that changes only volumes is answered as one that changes the pod spec, through a worker too', async (t) => {
  const inThread = app(t);
  const pooled = app(t, EVERY_BODY);
  const answers: string[] = [];
  for (const [volumes, oldVolumes] of VOLUME_CHANGES.slice(0, 2)) {
    const payload = volumesOnly(volumes, oldVolumes);
    const [a, b] = await Promise.all([post(inThread, payload), post(pooled, payload)]);
    t.equal(b.body, a.body);
    answers.push(JSON.stringify(b.json().response.warnings ?? []));
  }
  const [same, changed] = answers;
  t.notOk(same?.includes('already existed'), 'the same volumes: existing violations are not repeated as warnings');
  t.ok(changed?.includes('already existed'), 'changed volumes: they are');
});

t.test('with custom rules, a body parsed in a worker is judged on everything the rules read', async (t) => {
  const rules = [
    // `reads` declares less than the rule reads: a declaration for UPDATE comparisons, not a limit.
    rule({
      id: 'team-label',
      reads: ['spec.replicas'],
      validations: [{ expression: 'has(object.metadata.labels.team)', message: 'no team' }],
    }),
    rule({
      id: 'few-volumes',
      kinds: ['Deployment'],
      validations: [
        {
          expression: '!has(object.spec.template.spec.volumes) || size(object.spec.template.spec.volumes) < 100',
          message: 'too many volumes',
        },
      ],
    }),
    rule({
      id: 'no-field-manager',
      validations: [{ expression: '!has(request.options) || !has(request.options.fieldManager)', message: 'field manager' }],
    }),
    rule({
      id: 'old-volumes',
      kinds: ['Deployment'],
      validations: [{ expression: 'oldObject == null || !has(oldObject.spec.template.spec.volumes)', message: 'old volumes' }],
    }),
  ];
  const state = () => {
    const config = parseConfig({ ...DEFAULT_CONFIG, rules }, 'test.yaml');
    return new GateState(compileConfig(config, POLICIES), { context: ContextIndex.fromObjects([]) });
  };
  const inThread = appWith(t, state());
  const pooled = appWith(t, state(), EVERY_BODY);
  const withOptions = JSON.parse(volumesUpdate(200)) as { request: { [key: string]: Json } };
  withOptions.request.options = { fieldManager: 'kubectl' };
  const payloads = [volumesUpdate(200), JSON.stringify(withOptions), volumesOnly([1], [1]), containersCreate(3)];
  const messages = new Set<string>();
  for (const payload of payloads) {
    const [a, b] = await Promise.all([post(inThread, payload), post(pooled, payload)]);
    t.equal(b.body, a.body, 'the same answer');
    for (const id of ['team-label', 'few-volumes', 'no-field-manager', 'old-volumes']) if (b.body.includes(`[${id}]`)) messages.add(id);
  }
  t.strictSame([...messages].sort(), ['few-volumes', 'no-field-manager', 'old-volumes', 'team-label'], 'every rule saw what it reads');
  t.equal(pooled.bodyPool.stats.parsed, payloads.length, 'through the worker');
});

t.test('the memory of a large body comes back from its worker and holds the next, which is judged on its own bytes', async (t) => {
  const inThread = app(t);
  const pooled = app(t, { threshold: 1024, timeoutMs: 120_000 });
  // Largest first: each later body is written over the end of an earlier one's bytes.
  const payloads = [volumesUpdate(3_000), containersCreate(2_000), volumesOnly([1, 2, 3], [1, 2, 4]), containersCreate(40)];
  for (const payload of payloads) {
    const [a, b] = await Promise.all([post(inThread, payload), post(pooled, payload)]);
    t.equal(b.body, a.body, `${payload.length} bytes: the event loop's answer`);
  }
  const { stats } = pooled.bodyPool;
  t.equal(stats.parsed, payloads.length, 'every body through the worker');
  t.equal(stats.reused, payloads.length - 1, 'each after the first in the memory of the one before');
});

t.test('memory held before any body (the warm-up holds it) takes the first large one, judged on its own bytes', async (t) => {
  const inThread = app(t);
  const pooled = app(t, { threshold: 1024, timeoutMs: 120_000 });
  await pooled.ready();
  pooled.bodyPool.holdSpare(512);
  const payload = containersCreate(40);
  t.equal((await post(pooled, payload)).body, (await post(inThread, payload)).body, 'under the threshold: nothing was held');
  t.equal(pooled.bodyPool.stats.reused, 0);
  pooled.bodyPool.holdSpare(4 * 1024 * 1024);
  for (const body of [containersCreate(2_000), containersCreate(40)]) {
    const [a, b] = await Promise.all([post(inThread, body), post(pooled, body)]);
    t.equal(b.body, a.body, `${body.length} bytes: the event loop's answer`);
  }
  t.equal(pooled.bodyPool.stats.reused, 2, 'both read into the held memory, the second after it came back from the worker');
});

t.test('a body under the threshold never starts a worker', async (t) => {
  const gate = app(t);
  const res = await post(gate, containersCreate(10));
  t.equal(res.statusCode, 200);
  t.equal(res.json().response.allowed, false, 'judged');
  t.equal(gate.bodyPool.stats.started, 0);
});

t.test('a worker out of memory: the review is refused under --on-error deny, and the next body gets a new worker', async (t) => {
  const gate = app(t, { threshold: 1, timeoutMs: 120_000, resourceLimits: { maxOldGenerationSizeMb: 12, maxYoungGenerationSizeMb: 2 } });
  // The worker writes its parts outside its heap, but it names each member of an object it cuts into
  // parts: 250,000 labels (3.2 MiB) take more than 12 MiB of heap.
  const res = await post(gate, labelsCreate(250_000));
  t.equal(res.statusCode, 200, 'an AdmissionReview, not an HTTP error');
  const response = res.json().response;
  t.equal(response.uid, 'uid-review');
  t.equal(response.allowed, false, 'not admitted unjudged');
  t.equal(response.status.code, 503);
  t.match(
    response.status.message,
    /Deployment shop\/web was refused unchecked: its [\d.]+ MiB AdmissionReview could not be parsed \(the parsing worker failed/,
  );
  t.equal(response.auditAnnotations['body-not-parsed'].includes('not parsed'), true, 'recorded in the audit log');
  const next = await post(gate, containersCreate(2));
  t.equal(next.json().response.allowed, false, 'the next review is judged');
  t.match(next.json().response.status.message, /violates \d+ polic/);
  t.equal(gate.bodyPool.stats.started, 2, 'the crashed worker was replaced');
});

t.test('the worker holds no part in its heap: a review whose kept text is larger than that heap is judged', async (t) => {
  const gate = app(t, { threshold: 1, timeoutMs: 120_000, resourceLimits: { maxOldGenerationSizeMb: 12, maxYoungGenerationSizeMb: 2 } });
  // 250,000 containers keep 7.5 MiB of text: as strings in the worker, 12 MiB of heap was too little.
  const res = await post(gate, containersCreate(250_000));
  const response = res.json().response;
  t.equal(response.allowed, false);
  t.match(response.status.message, /^Deployment shop\/web violates \d+ polic/, 'refused for its findings, not unchecked');
  t.equal(gate.bodyPool.stats.parsed, 1, 'parsed by the worker');
  t.equal(gate.bodyPool.stats.failed, 0);
});

t.test('a worker past its timeout: refused in enforce mode or under --on-error deny, admitted with a warning in audit mode', async (t) => {
  const cases = [
    { mode: 'enforce', onError: 'allow', allowed: false },
    { mode: 'audit', onError: 'deny', allowed: false },
    { mode: 'audit', onError: 'allow', allowed: true },
  ] as const;
  for (const { mode, onError, allowed } of cases) {
    const gate = app(t, { threshold: 1, timeoutMs: 1 }, onError, mode);
    const res = await post(gate, volumesUpdate(20_000));
    const response = res.json().response;
    t.equal(res.statusCode, 200);
    t.equal(response.allowed, allowed, `${mode} mode, --on-error ${onError}`);
    const said = allowed ? response.warnings.join('\n') : response.status.message;
    t.match(said, /could not be parsed \(parsing took longer than 1 ms\)/);
  }
});

t.test('past the bounded queue a large body is answered per --on-error, not queued', async (t) => {
  const gate = app(t, { threshold: 1, workers: 1, maxPending: 1, timeoutMs: 120_000 });
  const payload = volumesUpdate(5_000);
  const answers = await Promise.all([post(gate, payload), post(gate, payload), post(gate, payload)]);
  const messages = answers.map((res) => res.json().response.status.message as string);
  t.equal(messages.filter((m) => /violates \d+ polic/.test(m)).length, 1, 'one judged');
  t.equal(messages.filter((m) => /already being parsed \(the most at once is 1\)\)/.test(m)).length, 2, 'the others refused as unparsed');
  t.ok(
    answers.every((res) => res.json().response.allowed === false),
    'none admitted',
  );
  t.equal(gate.bodyPool.stats.refused, 2);
});

t.test('shutdown ends the workers; a body in flight is answered, not admitted', async (t) => {
  const gate = app(t, { threshold: 1 });
  await gate.ready();
  let answered = false;
  const inFlight = post(gate, volumesUpdate(40_000)).finally(() => {
    answered = true;
  });
  while (gate.bodyPool.stats.started === 0 && !answered) await new Promise((resolve) => setTimeout(resolve, 5));
  await gate.close();
  const response = (await inFlight).json().response;
  t.equal(response.allowed, false);
  t.match(response.status.message, /could not be parsed \(the server is shutting down\)/);
  await t.rejects(gate.bodyPool.parse(Buffer.from('{}'), WHOLE), /shutting down/, 'the pool takes no more bodies');
});

t.test('/healthz answers while a large review is being parsed', async (t) => {
  const gate = app(t, { threshold: 1, timeoutMs: 120_000 });
  await gate.ready();
  const order: string[] = [];
  const review = post(gate, volumesUpdate(40_000)).then((res) => {
    order.push('review');
    return res;
  });
  while (gate.bodyPool.stats.started === 0 && order.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  const health = await gate.inject({ method: 'GET', url: '/healthz' });
  order.push('healthz');
  t.equal(health.statusCode, 200);
  t.equal((await review).json().response.allowed, false, 'the review is judged');
  t.strictSame(order, ['healthz', 'review'], '/healthz answered before the review finished');
});

t.test('a value cut into parts of a few nodes is rebuilt exactly, __proto__ keys as own properties', async (t) => {
  const values = [
    JSON.parse(`{"a":[1,2,3,{"b":[4,5,6,7,8]},[9,[10,11,12,13]]],"__proto__":{"polluted":[1,2,3,4]},"c":"${'x'.repeat(3000)}"}`) as unknown,
    JSON.parse(containersCreate(40)) as unknown,
    [[], {}, [[[[1, 2, 3, 4, 5]]]], null, 'text'],
    'just a string',
  ];
  for (const value of values) {
    const parts = splitValue(value, 3);
    const rebuilt = await joinParts(parts);
    t.strictSame(rebuilt, value);
    t.equal(JSON.stringify(rebuilt), JSON.stringify(value), 'same keys in the same order');
  }
  const rebuilt = (await joinParts(splitValue(values[0], 3))) as Record<string, unknown>;
  t.ok(Object.hasOwn(rebuilt, '__proto__'), '__proto__ stays an own key');
  t.equal(Object.getPrototypeOf(rebuilt), Object.prototype);
  t.ok(splitValue(values[1], 3).length > 100, 'a review is cut into many parts');
});

t.test('parts written as UTF-8 into one buffer are read back as written, past the size it started with', async (t) => {
  const texts = ['{"a":"é"}', '{"b":"😀 \\ud800"}', '', `["${'x'.repeat(40_000)}"]`, `["${'ü'.repeat(30_000)}"]`, '{"c":1}'];
  const encoded = new EncodedParts(1);
  for (const text of texts) encoded.push(text);
  const bytes = encoded.bytes();
  t.ok(bytes.memory.byteLength > 64 * 1024, 'the buffer grew past its first 64 KiB');
  t.strictSame([...partTexts(bytes)], texts);
  const parts = splitValue(JSON.parse(containersCreate(40)) as unknown, 3);
  const through = new EncodedParts(0);
  for (const part of parts) through.push(part);
  t.strictSame(await joinParts(partTexts(through.bytes())), await joinParts(parts), 'a value rebuilt from them as from the strings');
});

/** Rules that declare `reads:`: judged on what their CEL reads, kept by the worker and nothing more. */
const PROJECTED_RULES = [
  // Every built-in policy's CEL, as a custom rule: the shapes real rules take.
  ...POLICIES.flatMap((policy) => {
    const spec = builtinRuleSpec(policy);
    return spec ? [{ ...spec, id: `as-rule-${spec.id}`, reads: ['metadata.name'] }] : [];
  }),
  ...[
    ['object.metadata.?labels.orValue({}).all(k, !k.startsWith("tier"))', ['Deployment', 'Pod']],
    ['object.spec.template.spec.containers.filter(c, c.name.startsWith("c")).all(c, c.image != "app")', ['Deployment']],
    ['cel.bind(s, object.spec, !has(s.replicas) || s.replicas < 3)', ['Deployment', 'StatefulSet']],
    ['size(object.spec.template.spec) < 4', ['Deployment']],
    ['!has(object.spec.template.spec.volumes) || object.spec.template.spec.volumes.all(v, v.name != "v7")', ['Deployment']],
    ['!has(podSpec.volumes) || size(podSpec.volumes) < 2000', ['Deployment', 'Pod', 'CronJob']],
    [
      'size(request) > 0 && request.operation != "DELETE" && (oldObject == null || oldObject.metadata.name == object.metadata.name)',
      ['Deployment'],
    ],
    ['oldObject == null || oldObject.spec.template.spec == object.spec.template.spec', ['Deployment']],
    ['object.spec.template.spec.containers[0].name != "c0"', ['Deployment']],
    [
      '!(object.metadata.name in object.metadata.?labels.orValue({})) || object.metadata.labels[object.metadata.name] == ""',
      ['Deployment'],
    ],
    ['object.spec.exists(k, k == "paused")', ['Deployment']],
    ['object.spec.template.spec.containers.map(c, c.name).size() == 1', ['Deployment']],
    ['has(object.metadata.managedFields) && object.metadata.managedFields.exists(f, f.manager == "kubectl")', ['Deployment']],
    // Fields neither the engine nor the pod spec keeps: only these rules' reads keep them.
    ['!object.metadata.?annotations.orValue({}).exists(k, k.startsWith("team"))', ['Deployment']],
    ['object.?status.?replicas.orValue(0) == 0', ['Deployment']],
    ['object.metadata.?managedFields.orValue([]).all(f, f.manager != "kubectl")', ['Deployment']],
    ['object.spec.?strategy.?type.orValue("") != "Recreate"', ['Deployment']],
    // Only whether a field is there, of fields nothing else reads: an empty object stands in for the value.
    ['!has(object.metadata.finalizers)', ['Deployment']],
    ['!has(object.spec.template.spec.hostAliases)', ['Deployment', 'StatefulSet']],
    ['object.spec.template.spec.containers.all(c, has(c.livenessProbe) || has(c.env))', ['Deployment']],
    ['has(object.metadata.managedFields) == has(object.metadata.annotations)', ['Deployment', 'StatefulSet']],
    // A macro whose body is its variable: every container kept whole.
    ['object.spec.template.spec.containers.map(c, c)[0].?image.orValue("") != "app"', ['Deployment']],
  ].map(([expression, kinds], i) =>
    rule({ id: `projected-${i}`, kinds, reads: ['spec.replicas'], validations: [{ expression, message: `rule ${i}` }] }),
  ),
  // Read per container, where the built-in judgements read nothing (env is left out for them).
  rule({
    id: 'no-secret-env',
    kinds: ['Deployment', 'Pod'],
    forEach: 'containers',
    reads: ['spec'],
    validations: [{ expression: 'container.?env.orValue([]).all(e, e.name != "SECRET")', message: 'secret env' }],
  }),
];

/** The rule whose macro maps each container to itself (src/rules/reads.ts keeps them whole). */
const MAPPED_WHOLE = String(PROJECTED_RULES.find((r) => JSON.stringify(r.validations).includes('map(c, c)'))?.id);

/** The example manifests of every policy, created and updated from each other. */
function* exampleReviews(): Generator<string> {
  for (const policy of POLICIES) {
    const { good, bad } = examples(policy.id);
    for (const object of [...good.values(), ...bad.values()]) yield JSON.stringify(baseReview(object as unknown as Json, 'CREATE'));
    for (const object of bad.values()) {
      for (const old of good.values()) {
        if (old.kind !== object.kind) continue;
        const review = baseReview(object as unknown as Json, 'UPDATE');
        (review.request as { [key: string]: Json }).oldObject = old as unknown as Json;
        yield JSON.stringify(review);
      }
    }
  }
}

/** A Deployment with what only custom rules read: containers' env (one SECRET), annotations, strategy, status. */
function envCreate(): string {
  const object = baseObject('Deployment') as { [key: string]: Json };
  (object.metadata as { [key: string]: Json }).annotations = { team: 'shop' };
  (object.spec as { [key: string]: Json }).strategy = { type: 'Recreate' };
  object.status = { replicas: 3 };
  const spec = ((object.spec as { [key: string]: Json }).template as { [key: string]: Json }).spec as { [key: string]: Json };
  spec.containers = [
    { name: 'c0', image: 'app', env: [{ name: 'A', value: '1' }] },
    { name: 'c1', image: 'app:1', env: [{ name: 'SECRET', value: 'x' }] },
  ];
  withPresent(object, 'a');
  return JSON.stringify(baseReview(object, 'CREATE'));
}

/** Finalizers and host aliases, which rules ask only has() of; none when `value` is undefined. */
function withPresent(object: { [key: string]: Json }, value: string | undefined): { [key: string]: Json } {
  const spec = podSpecOf(object);
  if (value === undefined) return object;
  (object.metadata as { [key: string]: Json }).finalizers = [`example.com/${value}`];
  if (spec) spec.hostAliases = [{ ip: '10.0.0.1', hostnames: [value] }];
  return object;
}

/** UPDATEs of a Deployment whose finalizers and host aliases come, go, stay or change. */
function* presenceUpdates(): Generator<string> {
  for (const [now, before] of [
    ['a', undefined],
    [undefined, 'a'],
    ['a', 'a'],
    ['a', 'b'],
  ] as const) {
    const review = baseReview(withPresent(baseObject('Deployment') as { [key: string]: Json }, now), 'UPDATE');
    (review.request as { [key: string]: Json }).oldObject = withPresent(baseObject('Deployment') as { [key: string]: Json }, before);
    yield JSON.stringify(review);
  }
}

/** Changes, one at a time, to fields PROJECTED_RULES read nothing or little of (a managedFields entry's manager, a status field). */
const UNREAD_CHANGES: Array<(object: { [key: string]: Json }) => void> = [
  (o) => {
    (o.metadata as { [key: string]: Json }).uid = 'another-uid';
  },
  (o) => {
    o.status = { observedGeneration: 2 };
  },
  (o) => {
    (o.metadata as { [key: string]: Json }).managedFields = [{ manager: 'kubectl', time: '2026-12-06T00:00:00Z' }];
  },
  (o) => {
    const spec = podSpecOf(o);
    if (spec) spec.dnsPolicy = 'None';
  },
  (o) => {
    const spec = podSpecOf(o);
    if (spec) spec.volumes = [{ name: 'v', emptyDir: {} }];
  },
  (o) => {
    const first = (podSpecOf(o)?.containers as Json[] | undefined)?.[0] as { [key: string]: Json } | undefined;
    if (first) first.env = [{ name: 'A', value: 'changed' }];
  },
  (o) => {
    const first = (podSpecOf(o)?.containers as Json[] | undefined)?.[0] as { [key: string]: Json } | undefined;
    if (first) first.terminationMessagePath = '/dev/changed';
  },
];

/** The object's pod spec, where the engine finds it; undefined for a kind without one. */
const podSpecOf = (object: { [key: string]: Json }) =>
  workloadShell(object as unknown as KubeObject, '')?.podSpec as { [key: string]: Json } | undefined;

/**
 * UPDATEs whose objects differ in one field no rule reads, of every base kind but Pod (the base
 * Pod is written by its ReplicaSet's controller, so it is audited as its owner's: quiet anyway).
 */
function* unreadUpdates(): Generator<string> {
  for (const kind of BASE_KINDS.filter((k) => k !== 'Pod')) {
    for (const change of UNREAD_CHANGES) {
      const review = baseReview(baseObject(kind), 'UPDATE');
      const request = review.request as { [key: string]: { [key: string]: Json } };
      change(request.object as { [key: string]: Json });
      // A change to a pod spec the kind has none of is no change.
      if (JSON.stringify(request.object) !== JSON.stringify(request.oldObject)) yield JSON.stringify(review);
    }
  }
}

/** PROJECTED_RULES as written, or without `reads:` (an UPDATE then compares whole objects). */
const RULE_SETS = [
  { declared: 'declare reads', rules: PROJECTED_RULES, wholeUpdates: false },
  { declared: 'declare no reads', rules: PROJECTED_RULES.map(({ reads: _, ...spec }) => spec), wholeUpdates: true },
];

for (const { declared, rules, wholeUpdates } of RULE_SETS)
  t.test(`custom rules that ${declared}: judged on the fields their CEL reads, the answer is the whole review’s`, async (t) => {
    // The built-in policies off: what they read is kept anyway, and would hide a read the rules miss.
    const off = Object.fromEntries(POLICIES.map((p) => [p.id, 'off']));
    const config = compileConfig(parseConfig({ mode: 'enforce', policies: off, rules }, 'test.yaml'), POLICIES);
    const plan = reviewProjection(config);
    const object = plan.children.get('request')?.children.get('object');
    t.equal(object?.whole, false, 'the objects are projected, not kept whole');
    const state = () => new GateState(config, { context: ContextIndex.fromObjects([]) });
    const inThread = appWith(t, state());
    const pooled = appWith(t, state(), EVERY_BODY);
    let sent = 0;
    const differ: string[] = [];
    const failing = new Set<string>();
    const env = envCreate();
    const unread = new Set(unreadUpdates());
    // Of the UPDATEs that change only what no rule reads, with findings: judged again (their existing findings warned), or quiet.
    const again = { judged: 0, quiet: 0 };
    for (const payload of [...differentialInputs(), ...exampleReviews(), ...unread, ...presenceUpdates(), env]) {
      sent++;
      const [a, b] = await Promise.all([post(inThread, payload), post(pooled, payload)]);
      const response = b.statusCode === 200 ? b.json().response : undefined;
      const annotations = response?.auditAnnotations ?? {};
      if (unread.has(payload) && Object.keys(annotations).length > 0) again[response?.warnings ? 'judged' : 'quiet']++;
      if (payload === env) {
        t.match(annotations['no-secret-env'], /container c1/, 'the env a rule reads is kept');
        for (const id of ['projected-13', 'projected-14', 'projected-16']) t.ok(annotations[id], `${id}: what it reads is kept`);
        for (const id of ['projected-17', 'projected-18']) t.ok(annotations[id], `${id}: a field it asks has() of is there`);
        t.ok(annotations[MAPPED_WHOLE], `${MAPPED_WHOLE}: the containers it maps to themselves are kept`);
      }
      for (const id of Object.keys(annotations)) if (/^(as-rule|projected)-|^no-secret-env$/.test(id)) failing.add(id);
      if ((a.statusCode !== b.statusCode || a.body !== b.body) && differ.length < 3)
        differ.push(
          `${payload.slice(0, 200)}\n  event loop: ${a.statusCode} ${a.body.slice(0, 400)}\n  worker: ${b.statusCode} ${b.body.slice(0, 400)}`,
        );
    }
    t.strictSame(differ, [], `no answer of ${sent} differs`);
    t.equal(pooled.bodyPool.stats.failed, 0, 'none failed in the worker');
    t.ok(failing.size >= 20, `the rules find things: ${failing.size} of ${PROJECTED_RULES.length} found something`);
    if (wholeUpdates) t.ok(again.judged > 0 && again.quiet === 0, `every change judged again: ${JSON.stringify(again)}`);
    else t.ok(again.quiet > 0, `changes no rule declares are quiet: ${JSON.stringify(again)}`);
  });
