// The worker reads a large review's bytes without building it (src/server/body-scan.ts). It must
// accept exactly the bodies JSON.parse accepts (an invalid body judged as a valid one would be a
// way around the gate), and build exactly what projecting JSON.parse's value would: the same
// keys in the same order, duplicate keys resolved as JSON.parse does, `__proto__` as a plain key.
// The fields it leaves out must be ones no judgement reads.
import fc from 'fast-check';
import t from 'tap';
import { POLICIES } from '../../policies/index.js';
import { DEFAULT_CONFIG, compileConfig, evaluate, isRecord, sameJson } from '../../src/engine/index.js';
import type { EngineConfig, KubeObject, Policy, WorkloadPolicy } from '../../src/engine/index.js';
import { ContextIndex } from '../../src/engine/index.js';
import { reviewProjection } from '../../src/server/body-projection.js';
import type { ProjectionPlan } from '../../src/server/body-projection.js';
import { joinParts } from '../../src/server/body-parts.js';
import { scanReview, scanReviewParts, unreadPaths } from '../../src/server/body-scan.js';
import { EACH } from '../../src/server/projection-plan.js';
import { parseJsonBody } from '../../src/server/json.js';
import {
  BASE_KINDS,
  PROTO_NAMES,
  baseObject,
  baseReview,
  mutate,
  mutationArb,
  objectsIn,
  positions,
  setKey,
} from '../helpers/fuzz-reviews.js';
import type { Json, Mutation } from '../helpers/fuzz-reviews.js';
import { defaultedContainer } from '../helpers/containers.js';
import { examples } from '../helpers/manifests.js';
import { recording } from '../helpers/recording.js';
import type { Read } from '../helpers/recording.js';
import { rule, rulesConfig } from '../helpers/rules.js';

const SEED = 20261205;
const config = compileConfig(DEFAULT_CONFIG, POLICIES);
const PLAN = reviewProjection(config);
const OBJECT_PLAN = PLAN.children.get('request')?.children.get('object') as ProjectionPlan;

/** The plan with nothing marked unread: what the scan keeps when object and oldObject differ there. */
function allRead(plan: ProjectionPlan): ProjectionPlan {
  const children = new Map([...plan.children].map(([key, child]) => [key, allRead(child)]));
  return { ...plan, unread: false, children, ...(plan.each ? { each: allRead(plan.each) } : {}) };
}

const define = (target: object, key: string, value: unknown) =>
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });

/** The projection of a parsed value, as src/server/body-projection.ts describes it. */
function project(value: unknown, plan: ProjectionPlan): unknown {
  if (plan.whole || !isRecord(value)) return value;
  const out = {};
  for (const key of Object.keys(value)) {
    const child = plan.children.get(key) ?? (plan.keepOthers ? { ...plan, whole: true } : undefined);
    if (child) define(out, key, project(value[key], child));
  }
  return out;
}

type Parsed = { ok: true; value: unknown } | { ok: false };

function parsed(bytes: Buffer): Parsed {
  try {
    return { ok: true, value: parseJsonBody(bytes.toString('utf8')) };
  } catch {
    return { ok: false };
  }
}

/** What goes wrong for one body: '' when the scan agrees with JSON.parse and the projection. */
function disagreement(bytes: Buffer, plan: ProjectionPlan): string {
  const scanned = scanReview(bytes, plan);
  const expected = parsed(bytes);
  if (!expected.ok) return scanned === undefined ? '' : 'accepted a body JSON.parse refuses';
  if (scanned === undefined) return 'left a valid body to the parser';
  const want = JSON.stringify(project(expected.value, plan));
  return JSON.stringify(JSON.parse(scanned)) === want ? '' : `built ${scanned.slice(0, 300)}\n  wanted ${want.slice(0, 300)}`;
}

function reviews(): string[] {
  const out: string[] = [];
  for (const kind of BASE_KINDS) {
    const review = baseReview(baseObject(kind), 'UPDATE');
    for (const object of objectsIn(review).slice(0, 6)) setKey(object, PROTO_NAMES[out.length % PROTO_NAMES.length] ?? 'x', 'v');
    out.push(JSON.stringify(review));
  }
  for (const [kind, mutations] of fc.sample(fc.tuple(fc.constantFrom(...BASE_KINDS), fc.array(mutationArb, { maxLength: 4 })), {
    seed: SEED,
    numRuns: 200,
  })) {
    const review = baseReview(baseObject(kind), 'CREATE');
    for (const m of mutations) mutate(review, m);
    out.push(JSON.stringify(review, null, out.length % 3 === 0 ? 1 : undefined));
  }
  return out;
}

/** Bytes that matter to JSON's grammar, and some that are never valid outside a string. */
const ALPHABET = Buffer.from('{}[]",:0123456789.eE+-tfnrul\\ \n\t\r/abu\u0000\u001f\u007f', 'latin1');
const ODD_BYTES = [0x80, 0xbf, 0xc3, 0xe2, 0xef, 0xf0, 0xff];

type Edit = { at: number; op: 'delete' | 'insert' | 'replace' | 'copy'; byte: number; length: number };
const editArb: fc.Arbitrary<Edit> = fc.record({
  at: fc.double({ min: 0, max: 1, noNaN: true }).map((x) => x),
  op: fc.oneof({ arbitrary: fc.constantFrom('delete', 'copy'), weight: 1 }, { arbitrary: fc.constantFrom('insert', 'replace'), weight: 4 }),
  // Mostly bytes that keep a string a string, so that many mutants stay valid and are projected.
  byte: fc.oneof(
    { arbitrary: fc.constantFrom(...ALPHABET), weight: 2 },
    { arbitrary: fc.constantFrom(...ODD_BYTES), weight: 1 },
    { arbitrary: fc.constantFrom(0x20, 0x41, 0x7a, 0x5f), weight: 5 },
  ),
  length: fc.integer({ min: 1, max: 40 }),
}) as fc.Arbitrary<Edit>;

function edit(bytes: Buffer, e: Edit): Buffer {
  const at = Math.min(bytes.length, Math.floor(e.at * bytes.length));
  const head = bytes.subarray(0, at);
  const tail = bytes.subarray(at);
  switch (e.op) {
    case 'delete':
      return Buffer.concat([head, tail.subarray(e.length)]);
    case 'insert':
      return Buffer.concat([head, Buffer.from([e.byte]), tail]);
    case 'replace':
      return Buffer.concat([head, Buffer.from([e.byte]), tail.subarray(1)]);
    default:
      return Buffer.concat([head, tail.subarray(0, e.length), tail]);
  }
}

t.test(
  'over 6,000 seeded byte-level mutations of reviews, the scan accepts what JSON.parse accepts and builds what projecting it builds',
  async (t) => {
    const texts = reviews();
    const samples = fc.sample(fc.tuple(fc.nat(texts.length - 1), fc.array(editArb, { minLength: 1, maxLength: 2 })), {
      seed: SEED,
      numRuns: 6_000,
    });
    const plan = allRead(PLAN);
    const problems: string[] = [];
    let valid = 0;
    for (const [which, edits] of samples) {
      const bytes = edits.reduce(edit, Buffer.from(texts[which] ?? ''));
      if (parsed(bytes).ok) valid++;
      const problem = disagreement(bytes, plan);
      if (problem && problems.length < 5) problems.push(`${problem}\n  body: ${bytes.toString('latin1').slice(0, 200)}`);
    }
    for (const text of texts) {
      const problem = disagreement(Buffer.from(text), plan);
      if (problem && problems.length < 5) problems.push(problem);
    }
    t.strictSame(problems, []);
    t.ok(valid > 250 && valid < 5_750, `both valid and invalid bodies among them (${valid} valid)`);
  },
);

t.test('cut into parts of a few bytes, the projection is rebuilt exactly: keys, order, duplicates, __proto__', async (t) => {
  const texts = [
    ...reviews().slice(0, 40),
    '{"request":{"object":{"spec":{"template":{"spec":{"containers":[{"a":1,"a":[1,2,3]},{"__proto__":{"b":[1,2]}}],"x":[[[1,2],[3]]]}}}}}}',
    '{"request":{"object":{"spec":{"k":{"2":[1,2,3],"1":{"z":1,"a":2},"b":{"c":[1,2,3,4,5,6]},"b":{"d":[7,8,9,10,11]}}}}}}',
    '{"request":{"object":{"spec":{"k":{"\\u0062":[1,2,3,4,5,6,7],"c":{"d":[1,2,3,4,5,6]},"b":[8,9,10,11,12,13],"c":1}}}}}',
    '[[1,2,3,4,5,6,7,8,9,10],{"a":"b"}]',
    '"only a string"',
  ];
  let cut = 0;
  for (const text of texts) {
    const bytes = Buffer.from(text);
    const whole = scanReview(bytes, PLAN);
    // Nested deeper than the parser allows: left to it, and refused.
    if (whole === undefined) continue;
    for (const budget of [8, 64, 1024]) {
      const parts = scanReviewParts(bytes, PLAN, budget) ?? [];
      if (parts.length > 1) cut++;
      const rebuilt = await joinParts(parts);
      t.equal(JSON.stringify(rebuilt), JSON.stringify(JSON.parse(whole ?? 'null')), `${text.slice(0, 60)}, ${budget} bytes`);
      const proto = (rebuilt as { request?: { object?: { spec?: { template?: { spec?: { containers?: unknown[] } } } } } }).request?.object
        ?.spec?.template?.spec?.containers?.[1];
      if (proto) t.ok(Object.hasOwn(proto, '__proto__'), '__proto__ stays an own key');
    }
  }
  t.ok(cut > texts.length, `${cut} cut into several parts`);
});

t.test('a large pod is sent in parts small enough for V8 to place each in its young generation', async (t) => {
  // Past 128 KiB V8 gives each string a space of its own: decoding and receiving the ~8 MiB of
  // containers of a 16 MiB review then cost ~40 ms more on each side (docs/performance.md).
  const containers = Array.from({ length: 10_000 }, (_, i) => ({
    ...defaultedContainer(`c${i}`),
    env: Array.from({ length: i % 7 }, (_, k) => ({ name: `V${k}`, value: 'x'.repeat(k * 20) })),
  }));
  const bytes = withContainers(containers, null);
  const parts = scanReviewParts(bytes, PLAN) ?? [];
  const longest = Math.max(...parts.map((part) => part.length));
  t.ok(parts.length > 20, `${(bytes.length / 2 ** 20).toFixed(1)} MiB in ${parts.length} parts`);
  t.ok(longest < 120 * 1024, `the longest part is ${longest} characters`);
  t.equal(JSON.stringify(await joinParts(parts)), scanReview(bytes, PLAN), 'and rebuilt exactly');
});

t.test('the grammar at its edges, as JSON.parse reads it', async (t) => {
  const values = [
    '"a\\u00e9\\ud800\\"\\\\\\/\\b\\f\\n\\r\\t"',
    '"\\u12"',
    '"\\x"',
    '"tab\tinside"',
    '"del\u007f"',
    '-0',
    '-',
    '01',
    '1.',
    '.5',
    '1e5',
    '1E+5',
    '1e',
    '-1.5e-3',
    '1e400',
    'tru',
    'true',
    'nul',
    '[1,]',
    '[,1]',
    '{"a":1,}',
    '{"a" 1}',
    '{a:1}',
    "{'a':1}",
    '{"a":1 "b":2}',
    '[1 2]',
    '{"a":1}}',
    '  {"a" : [ 1 , 2 ] }  ',
    '{"a":1}\u00a0',
    '\ufeff{"a":1}',
    '',
    '   ',
    `${'['.repeat(512)}${']'.repeat(512)}`,
    `${'['.repeat(513)}${']'.repeat(513)}`,
    `{"apiVersion":"v1","kind":"AdmissionReview","request":{"uid":"u","object":${'{"a":'.repeat(510)}1${'}'.repeat(510)}}}`,
  ];
  const bodies = [
    ...values.map((v) => Buffer.from(v)),
    ...values.map((v) =>
      Buffer.from(`{"apiVersion":"v1","kind":"AdmissionReview","request":{"uid":"u","object":{"metadata":{"name":${v}}}}}`),
    ),
    ...values.map((v) => Buffer.from(`{"request":{"object":{"spec":{"template":{"spec":{"volumes":[${v}]}}}}}}`)),
    Buffer.from([0x22, 0xc3, 0x28, 0xff, 0xe2, 0x82, 0x22]),
    Buffer.from([0x7b, 0x22, 0x6b, 0x22, 0x3a, 0xc3, 0xa9, 0x7d]),
    Buffer.concat([
      Buffer.from('{"request":{"object":{"metadata":{"name":"'),
      Buffer.from([0xed, 0xa0, 0x80, 0xf4, 0x90]),
      Buffer.from('"}}}}'),
    ]),
  ];
  for (const body of bodies) t.equal(disagreement(body, allRead(PLAN)), '', body.toString('latin1').slice(0, 80));
});

t.test('duplicate keys: the last value, at the first key’s place; __proto__ a plain key', async (t) => {
  const bodies = [
    '{"request":{"object":{"spec":{"replicas":1},"metadata":{"name":"a"},"spec":{"replicas":2}}}}',
    '{"request":{"object":{"metadata":{"name":"a","name":"b"}},"object":{"metadata":{"namespace":"c"}}}}',
    '{"request":{"object":{"spec":{"template":{"spec":{"containers":[],"volumes":[1],"volumes":[2]}}}}}}',
    '{"request":{"object":{"metadata":{"name":"a"},"metadata":[1]}}}',
    '{"request":{"object":{"metadata":[1],"metadata":{"name":"a"}}}}',
    '{"kind":1,"request":{"object":{"__proto__":{"polluted":1},"metadata":{"__proto__":"x","name":"a"}}},"kind":2}',
    '{"request":{"object":{"metadata":{"n\\u0061me":"escaped key","name\\u0000":"x","\\u00e9":"y"}}}}',
  ];
  for (const body of bodies) t.equal(disagreement(Buffer.from(body), allRead(PLAN)), '', body);
  const scanned = JSON.parse(scanReview(Buffer.from(bodies[5] ?? ''), PLAN) ?? 'null') as Record<string, unknown>;
  t.equal(Object.getPrototypeOf(scanned), Object.prototype);
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched');
});

/** A review of a Deployment with `volumes` Secret volumes in object and `oldVolumes` in oldObject. */
function withVolumes(volumes: Json[] | undefined, oldVolumes: Json[] | undefined | null): Buffer {
  const object = (list: Json[] | undefined): Json => {
    const deployment = baseObject('Deployment') as { [key: string]: Json };
    const spec = ((deployment.spec as { [key: string]: Json }).template as { [key: string]: Json }).spec as { [key: string]: Json };
    if (list) spec.volumes = list;
    return deployment;
  };
  const review = baseReview(object(volumes), oldVolumes === null ? 'CREATE' : 'UPDATE');
  if (oldVolumes !== null) (review.request as { [key: string]: Json }).oldObject = object(oldVolumes);
  return Buffer.from(JSON.stringify(review));
}

const volumesIn = (scanned: string | undefined, which: 'object' | 'oldObject') => {
  const review = JSON.parse(scanned ?? 'null') as { request: Record<string, { spec: { template: { spec: Record<string, unknown> } } }> };
  return review.request[which]?.spec.template.spec.volumes;
};

t.test('volumes, read by no judgement, are left out where object and oldObject hold them alike or there is no other object', async (t) => {
  const a: Json[] = [{ name: 'a', secret: { secretName: 's' } }];
  const b: Json[] = [{ name: 'b', secret: { secretName: 's' } }];
  const create = scanReview(withVolumes(a, null), PLAN);
  t.equal(volumesIn(create, 'object'), undefined, 'CREATE: left out');
  t.ok(volumesIn(create, 'oldObject') === undefined);
  const same = scanReview(withVolumes(a, a), PLAN);
  t.equal(volumesIn(same, 'object'), undefined, 'UPDATE with the same volumes: left out of both');
  t.equal(volumesIn(same, 'oldObject'), undefined);
  const changed = scanReview(withVolumes(a, b), PLAN);
  t.strictSame(volumesIn(changed, 'object'), a, 'UPDATE that changes them: kept in both, so the update is seen to change the pod spec');
  t.strictSame(volumesIn(changed, 'oldObject'), b);
  const added = scanReview(withVolumes(a, undefined), PLAN);
  t.strictSame(volumesIn(added, 'object'), a, 'UPDATE that adds them: kept');
  t.strictSame(
    unreadPaths(OBJECT_PLAN)
      .map((p) => p.join('.'))
      .filter((p) => p.endsWith('.volumes'))
      .sort(),
    ['spec.jobTemplate.spec.template.spec.volumes', 'spec.template.spec.volumes', 'spec.volumes', 'template.spec.volumes'],
  );
});

/** A review of a Deployment whose containers are `containers` in object and `oldContainers` in oldObject. */
function withContainers(containers: Json[], oldContainers: Json[] | null): Buffer {
  const object = (list: Json[]): Json => {
    const deployment = baseObject('Deployment') as { spec: { template: { spec: { containers: Json[] } } } };
    deployment.spec.template.spec.containers = list;
    return deployment as unknown as Json;
  };
  const review = baseReview(object(containers), oldContainers === null ? 'CREATE' : 'UPDATE');
  if (oldContainers !== null) (review.request as { [key: string]: Json }).oldObject = object(oldContainers);
  return Buffer.from(JSON.stringify(review));
}

const containersIn = (scanned: unknown, which: 'object' | 'oldObject') =>
  (scanned as { request: Record<string, { spec: { template: { spec: { containers: unknown } } } }> }).request[which]?.spec.template.spec
    .containers;

t.test(
  'container fields read by no judgement are left out where object and oldObject hold them alike or there is no other object',
  async (t) => {
    const defaulted = (name: string, env: Json[]): Json => ({ ...defaultedContainer(name), env });
    const judged = (name: string): Json => ({ name, image: 'app', resources: {} });
    const a = [defaulted('a', [{ name: 'A', value: '1' }]), 7, defaulted('b', [])];
    const scanned = async (body: Buffer) => {
      const whole = JSON.parse(scanReview(body, PLAN) ?? 'null') as unknown;
      for (const budget of [8, 64, 1024]) {
        t.equal(
          JSON.stringify(await joinParts(scanReviewParts(body, PLAN, budget) ?? [])),
          JSON.stringify(whole),
          `the same in parts of ${budget} bytes`,
        );
      }
      return whole;
    };
    const create = await scanned(withContainers(a, null));
    t.strictSame(containersIn(create, 'object'), [judged('a'), 7, judged('b')], 'CREATE: left out');
    const same = await scanned(withContainers(a, a));
    t.strictSame(containersIn(same, 'object'), [judged('a'), 7, judged('b')], 'UPDATE with the same ones: left out of both');
    t.strictSame(containersIn(same, 'oldObject'), [judged('a'), 7, judged('b')]);
    const b = [defaulted('a', [{ name: 'A', value: '2' }]), 7, defaulted('b', [])];
    const changed = await scanned(withContainers(a, b));
    t.strictSame(containersIn(changed, 'object'), a, 'UPDATE that changes one: kept in both, so the update is seen to change the pod spec');
    t.strictSame(containersIn(changed, 'oldObject'), b);
    const moved = await scanned(withContainers(a, [a[2] as Json, 7, a[0] as Json]));
    t.strictSame(containersIn(moved, 'object'), a, 'UPDATE that reorders them: kept');
    const tricky = Buffer.from(
      '{"request":{"operation":"CREATE","object":{"kind":"Deployment","spec":{"template":{"spec":{"containers":' +
        '[{"env":[1],"name":"x","env":[2],"ima\\u0067ePullPolicy":"Never","\\u0065nv":3,"image":"i"},{"args":["a"]},{}]}}}}}}',
    );
    t.strictSame(
      containersIn(await scanned(tricky), 'object'),
      [{ name: 'x', image: 'i' }, {}, {}],
      'repeated and escaped keys left out too',
    );
  },
);

t.test('a scan after a larger one is read from its own body: the numbers the larger left in reused arrays are never read', async (t) => {
  const many = Array.from({ length: 3_000 }, (_, i): Json => ({ ...defaultedContainer(`c${i}`), env: [{ name: 'N', value: `${i}` }] }));
  const changed = many.map((c, i): Json => (i === 7 ? { ...(c as object), env: [] } : c));
  const few = [defaultedContainer('a'), { name: 'b', image: 'b:1', args: ['x'] }] as Json[];
  const small = [withContainers(few, null), withContainers(few, [few[1] as Json, few[0] as Json]), withContainers([], few)];
  const alone = small.map((body) => scanReviewParts(body, PLAN, 256));
  for (const large of [withContainers(many, changed), withContainers(many, null)]) {
    t.ok(scanReviewParts(large, PLAN, 256), 'the larger body is scanned');
    t.strictSame(
      small.map((body) => scanReviewParts(body, PLAN, 256)),
      alone,
      'each smaller body: the parts it had before',
    );
  }
});

t.test('custom rules: the objects kept to what their CEL reads, whole where a rule’s reads cannot be told', async (t) => {
  const body = withVolumes([{ name: 'a' }], [{ name: 'a' }]);
  const whole = (JSON.parse(body.toString()) as { request: { object: Json } }).request;
  const scanned = (rules: unknown[]) =>
    (JSON.parse(scanReview(body, reviewProjection(rulesConfig(rules))) ?? 'null') as { request: { object: Json } }).request;
  const labels = { expression: 'has(object.metadata.labels)', message: 'm' };
  // A map() whose filter is a bare name: the walk cannot tell it from a second variable.
  const untold = {
    expression: 'cel.bind(kept, true, object.spec.template.spec.containers.map(c, kept, c))[0].name == "a"',
    message: 'm',
  };
  t.strictSame(
    scanned([rule({ reads: ['spec.replicas'], validations: [labels] }), rule({ id: 'other', validations: [untold] })]),
    whole,
    'one rule of two reads what the walk cannot follow: whole',
  );
  for (const reads of [{ reads: ['spec.replicas'] }, {}]) {
    const projected = scanned([rule({ ...reads, validations: [labels] })]).object as { [key: string]: Json };
    const meta = projected.metadata as { [key: string]: Json };
    t.strictSame(
      meta.labels,
      ((whole.object as { [key: string]: Json }).metadata as { [key: string]: Json }).labels,
      'what the rule reads is kept',
    );
    if (reads.reads) t.equal((projected.spec as { [key: string]: Json }).replicas, 3, 'what it declares too');
    t.ok('uid' in (((whole.object as { [key: string]: Json }).metadata as object) ?? {}), 'the object has a uid');
    t.notOk('uid' in meta, 'which no judgement reads: left out');
  }
  const deep = JSON.stringify(
    baseReview({ ...(baseObject('Deployment') as object), x: JSON.parse(`${'['.repeat(120)}${']'.repeat(120)}`) }),
  );
  t.match(
    scanReview(Buffer.from(deep), reviewProjection(rulesConfig([rule({ reads: ['spec'], validations: [labels] })]))),
    '[[[[',
    'an object nested too deep for the rules is kept whole, for them to refuse',
  );
});

t.test('custom rules without reads: what nothing reads is compared, not kept, and an UPDATE still finds every change', async (t) => {
  const plan = reviewProjection(
    rulesConfig([
      rule({ validations: [{ expression: 'has(object.metadata.labels)', message: 'm' }] }),
      rule({ id: 'there', validations: [{ expression: '!has(object.spec.template.spec.volumes) || has(object.status)', message: 'm' }] }),
    ]),
  );
  const objects = (review: { [key: string]: Json }) => {
    const scanned = scanReview(Buffer.from(JSON.stringify(review)), plan);
    return (JSON.parse(scanned ?? 'null') as { request: { object: Json; oldObject: Json } } | null)?.request;
  };
  // UPDATEs whose object is edited and whose oldObject is not: each single edit at every place of
  // every base kind, then seeded runs of edits. The projections differ exactly where the objects do.
  const single = BASE_KINDS.flatMap((kind) => {
    const places = positions(baseObject(kind)).length;
    return Array.from(
      { length: places },
      (_, at): Array<[string, Mutation[]]> => [
        [kind, [{ op: 'delete', at }]],
        [kind, [{ op: 'replace', at, value: 'edited' }]],
        [kind, [{ op: 'add', at, key: 'added', value: 1 }]],
      ],
    ).flat();
  });
  const samples = [
    ...single,
    ...fc.sample(fc.tuple(fc.constantFrom(...BASE_KINDS), fc.array(mutationArb, { maxLength: 3 })), { seed: SEED, numRuns: 600 }),
  ];
  const wrong: string[] = [];
  let differ = 0;
  for (const [kind, mutations] of samples) {
    const review = baseReview(baseObject(kind), 'UPDATE');
    const request = review.request as { [key: string]: Json };
    for (const m of mutations) mutate(request.object as Json, m);
    const projected = objects(review);
    if (!projected) continue;
    const changed = JSON.stringify(request.object) !== JSON.stringify(request.oldObject);
    if (changed) differ++;
    if (sameJson(projected.object, projected.oldObject) === changed && wrong.length < 3)
      wrong.push(`${JSON.stringify(request.object).slice(0, 300)}\n  projected ${JSON.stringify(projected.object).slice(0, 300)}`);
  }
  t.strictSame(wrong, [], 'the projections compare as the objects do');
  t.ok(differ > samples.length / 2, `most UPDATEs change something: ${differ} of ${samples.length}`);
  // A large change in what nothing reads costs the event loop a mark, not the change.
  const review = baseReview(baseObject('Deployment'), 'UPDATE');
  const object = (review.request as { [key: string]: { [key: string]: Json } }).object as { [key: string]: Json };
  (object.metadata as { [key: string]: Json }).managedFields = Array.from({ length: 10_000 }, (_, i) => ({ manager: `m${i}` }));
  const text = scanReview(Buffer.from(JSON.stringify(review)), plan) ?? '';
  t.ok(text.length < 8_000, `${JSON.stringify(review).length} bytes projected to ${text.length}`);
  const projected = objects(review);
  t.notOk(sameJson(projected?.object, projected?.oldObject), 'and the change is still found');
  const created = (objects(baseReview(object, 'CREATE'))?.object as { metadata?: object } | undefined)?.metadata ?? {};
  t.strictSame(
    ['managedFields', 'uid'].filter((key) => key in created),
    [],
    'a CREATE has nothing to compare: what nothing reads is left out, no mark in its place',
  );
});

t.test('a field a rule only asks has() of: an empty object stands in for it, kept whole where the objects differ there', async (t) => {
  const only = rule({ reads: ['spec.replicas'], validations: [{ expression: '!has(object.spec.template.spec.volumes)', message: 'm' }] });
  const also = rule({ id: 'also', reads: ['spec.replicas'], validations: [{ expression: 'object.metadata.name != ""', message: 'm' }] });
  const plan = reviewProjection(rulesConfig([only, also]));
  const many = Array.from({ length: 10_000 }, (_, i): Json => ({ name: `v${i}`, secret: { secretName: 's' } }));
  const scanned = (body: Buffer) => scanReview(body, plan) ?? '';
  const create = withVolumes(many, null);
  t.strictSame(volumesIn(scanned(create), 'object'), {}, 'a CREATE: there, as an empty object');
  t.ok(scanned(create).length < 8_000, `${create.length} bytes projected to ${scanned(create).length}`);
  t.strictSame(
    [volumesIn(scanned(withVolumes(many, many)), 'object'), volumesIn(scanned(withVolumes(many, many)), 'oldObject')],
    [{}, {}],
    'the same volumes in both: an empty object in each',
  );
  const fewer = many.slice(1);
  t.equal(
    (volumesIn(scanned(withVolumes(many, fewer)), 'oldObject') as unknown[] | undefined)?.length,
    fewer.length,
    'volumes that changed: kept whole in both, for the UPDATE to compare',
  );
  t.equal(volumesIn(scanned(withVolumes(undefined, many)), 'object'), undefined, 'no volumes: none');
  t.equal(
    (volumesIn(scanned(withVolumes(undefined, many)), 'oldObject') as unknown[] | undefined)?.length,
    many.length,
    'the old object had them: kept whole, for the UPDATE to compare',
  );
});

/** Two steps of a path name the same field: equal, or an array index and EACH (every element). */
const sameStep = (a: string | undefined, b: string | undefined) =>
  a === b || (a === EACH && /^\d+$/.test(b ?? '')) || (b === EACH && /^\d+$/.test(a ?? ''));
const startsWith = (path: readonly string[], prefix: readonly string[]) =>
  prefix.length <= path.length && prefix.every((k, i) => sameStep(path[i], k));

/** Reads of the example objects of `policies` (every policy when judged under `under`) that reach a field the scan leaves out. */
function unreadTouched(
  policies: readonly Policy[],
  under: EngineConfig,
  examplesOf = (p: Policy) => examples(p.id),
): { judged: number; touched: string[] } {
  const unread = unreadPaths(OBJECT_PLAN);
  let judged = 0;
  const touched = new Set<string>();
  for (const policy of policies) {
    const { good, bad } = examplesOf(policy);
    const all = [...good.values(), ...bad.values()];
    const context = ContextIndex.fromObjects(all);
    for (const object of all) {
      const reads: Read[] = [];
      evaluate(recording(object, [], reads) as KubeObject, context, under, { now: 0 });
      judged++;
      for (const r of reads) {
        const inside = unread.some((path) => startsWith(r.path, path) || (r.keys && startsWith(path, r.path)));
        if (inside) touched.add(`${r.keys ? 'keys of ' : ''}${r.path.join('.')}`);
      }
    }
  }
  return { judged, touched: [...touched] };
}

t.test('no built-in policy nor the engine reads a field the scan leaves out', async (t) => {
  const { judged, touched } = unreadTouched(POLICIES, config);
  t.ok(judged > 40, `${judged} example objects judged by every policy`);
  t.strictSame(touched, []);
  const nosy: WorkloadPolicy = {
    ...(POLICIES.find((p) => p.id === 'run-as-non-root') as WorkloadPolicy),
    id: 'counts-volumes',
    check: (w) => ('volumes' in w.podSpec ? [] : [{ path: 'spec', message: 'no volumes' }]),
  };
  const caught = unreadTouched([nosy], compileConfig(DEFAULT_CONFIG, [nosy]), () => examples('run-as-non-root'));
  t.ok(caught.touched.includes('spec.template.spec.volumes'), 'a policy that reads volumes is caught');
  const readsEnv: WorkloadPolicy = {
    ...(POLICIES.find((p) => p.id === 'run-as-non-root') as WorkloadPolicy),
    id: 'reads-env',
    check: (w) =>
      w.containers.flatMap((c) => (Array.isArray((c.container as { env?: unknown }).env) ? [] : [{ path: c.path, message: 'no env' }])),
  };
  const env = unreadTouched([readsEnv], compileConfig(DEFAULT_CONFIG, [readsEnv]), () => examples('run-as-non-root'));
  t.ok(
    env.touched.some((path) => /containers\.\d+\.env$/.test(path)),
    `a policy that reads a container's env is caught (${env.touched.join(', ')})`,
  );
});
