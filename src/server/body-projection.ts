// What of a large AdmissionReview crosses back from the worker that read it: the envelope, and
// of object and oldObject only the fields a judgement reads. The engine declares those
// (src/engine/inputs.ts, held by test/engine/inputs.test.ts, which records every field
// evaluate() touches), so the projection is judged exactly as the whole object is, while the
// bulk of a large review (managedFields, status, the pod spec's volumes) is never built at all
// (src/server/body-scan.ts reads past it) nor copied to the event loop's thread.
import { POLICIES } from '../../policies/index.js';
import { CONTAINER_LISTS, WORKLOAD_KINDS, judgedFields, workloadFields } from '../engine/index.js';
import type { EngineConfig, FieldPath, Policy } from '../engine/index.js';
import { MAX_DEPTH, READ_WAYS, ruleObjectReads } from '../rules/index.js';
import type { RootedPath } from '../rules/index.js';
import { EACH } from './projection-plan.js';
import type { ProjectionPlan } from './projection-plan.js';

export type { ProjectionPlan } from './projection-plan.js';

/**
 * Inside a pod spec, read by neither the engine nor any built-in policy (test/server/body-scan.test.ts
 * records every read over the policies' examples). Volumes are what makes the largest reviews large:
 * the API server's 3 MiB request limit admits ~66,000 of them.
 */
const UNREAD_IN_POD_SPEC = ['volumes'];

/**
 * Inside each container, read by no judgement either (the same test): what the API server fills
 * in for every container, and the lists that make real containers long. Without them the ~8 MiB
 * of containers in a 16 MiB review the API server sends are ~3 MiB to rebuild and judge.
 */
const UNREAD_IN_CONTAINER = [
  'terminationMessagePath',
  'terminationMessagePolicy',
  'imagePullPolicy',
  'env',
  'envFrom',
  'volumeMounts',
  'volumeDevices',
  'command',
  'args',
  'workingDir',
];

const leaf = (whole: boolean): ProjectionPlan => ({ whole, keepOthers: false, children: new Map(), unread: false });

/** The plan of everything, for configs whose judgements may read any field. */
export const WHOLE: ProjectionPlan = leaf(true);

/**
 * Keeps `path` of the value (EACH: every element of a list): whole, with every key of its own
 * (`ranged`), or only there where it is there (`present`, unless the plan keeps more of it).
 */
function keep(plan: ProjectionPlan, path: readonly string[], how: 'whole' | 'ranged' | 'present' = 'whole'): void {
  let at = plan;
  let made = false;
  for (const key of path) {
    if (at.whole) return;
    let next = key === EACH ? at.each : at.children.get(key);
    // Kept whole among the others, perhaps for a rule that reads it whole (markUnread opened what held it).
    if (!next && at.keepOthers && how === 'present') return;
    made = !next;
    if (!next) {
      next = leaf(false);
      if (key === EACH) at.each = next;
      else at.children.set(key, next);
    }
    at = next;
  }
  if (how === 'ranged') at.keepOthers = true;
  else if (how === 'present') at.present = made || at.present === true;
  else Object.assign(at, leaf(true));
}

/**
 * Marks `path` unread where a field kept whole holds it; a field declared at it or inside it stays
 * read. `present`: a rule asks whether it is there (has()), so it is marked present instead, and
 * the scan settles it as any field only asked has() of.
 */
function markUnread(plan: ProjectionPlan, path: readonly string[], present = false): void {
  let at = plan;
  for (const [i, key] of path.entries()) {
    if (at.whole) Object.assign(at, { whole: false, keepOthers: true, children: new Map(), unread: false });
    if (key === EACH) {
      at.each ??= { ...leaf(false), keepOthers: true };
      at = at.each;
      continue;
    }
    let next = at.children.get(key);
    if (!next) {
      if (!at.keepOthers) return;
      const last = i === path.length - 1;
      next = last && present ? { ...leaf(false), present } : { ...leaf(true), unread: last };
      at.children.set(key, next);
    } else if (i === path.length - 1) return;
    at = next;
  }
}

/** Every other key under `plan` is compared by an UPDATE (see ProjectionPlan#othersCompared). */
function compareOthers(plan: ProjectionPlan): void {
  if (plan.whole) return;
  if (!plan.keepOthers) plan.othersCompared = true;
  for (const child of plan.children.values()) compareOthers(child);
  if (plan.each) compareOthers(plan.each);
}

/** The request's own fields are kept whole (custom rules read them as `request`); its objects are projected. */
function reviewPlan(object: ProjectionPlan): ProjectionPlan {
  const request: ProjectionPlan = { ...leaf(false), keepOthers: true };
  request.children.set('object', object);
  request.children.set('oldObject', object);
  const review = leaf(false);
  review.children.set('apiVersion', leaf(true));
  review.children.set('kind', leaf(true));
  review.children.set('request', request);
  return review;
}

/** Read of the objects outside the engine: src/server/review.ts lets an object being deleted go. */
const SERVER_FIELDS: readonly FieldPath[] = [['metadata', 'deletionTimestamp']];

const BUILT_IN = new Set<object>(POLICIES);
const planByConfig = new WeakMap<EngineConfig, ProjectionPlan>();

/** The paths of the object a rule's rooted path stands for, on objects of `kinds`. */
function objectPaths({ root, path }: RootedPath, kinds: readonly string[]): string[][] {
  if (root === 'object') return [[...path]];
  const podSpecs = kinds.flatMap((kind) => workloadFields(kind)?.slice(0, 1) ?? []);
  if (root === 'podSpec') return podSpecs.map((podSpec) => [...podSpec, ...path]);
  return podSpecs.flatMap((podSpec) => CONTAINER_LISTS.map((list) => [...podSpec, list, EACH, ...path]));
}

/**
 * The paths the custom rules may read of the object, whole or key by key (src/rules/reads.ts);
 * undefined when a rule's reads are not known, and its review must keep the objects whole.
 */
function ruleReads(custom: readonly Policy[]): Record<(typeof READ_WAYS)[number], string[][]> | undefined {
  const out = { whole: [] as string[][], ranged: [] as string[][], present: [] as string[][] };
  for (const policy of custom) {
    const reads = ruleObjectReads(policy);
    if (!reads) return undefined;
    for (const way of READ_WAYS) out[way].push(...reads[way].flatMap((read) => objectPaths(read, policy.kinds)));
  }
  return out;
}

/** Some active policy's judgement may depend on any field (a rule without `reads`): an UPDATE compares whole objects. */
const judgedWhole = (config: EngineConfig): boolean => config.active.some(({ policy }) => policy.reads?.some((path) => path.length === 0));

const startsWith = (path: readonly string[], prefix: readonly string[]): boolean =>
  prefix.length <= path.length && prefix.every((key, i) => key === path[i]);

/**
 * What to keep of a review judged under `config`: every field any judgement reads, whatever the
 * object's kind. A custom CEL rule may read any field of object, oldObject and request, whatever
 * its `reads` declare: what its expressions read is kept beside what it declares, and where that
 * cannot be told, the objects are kept whole. A rule that declares no `reads` makes an UPDATE
 * compare whole objects (inputs.ts): the fields nothing reads are then compared by the scan.
 */
export function reviewProjection(config: EngineConfig): ProjectionPlan {
  const known = planByConfig.get(config);
  if (known) return known;
  const object = leaf(false);
  const custom = config.active.map(({ policy }) => policy).filter((policy) => !BUILT_IN.has(policy));
  const rules = ruleReads(custom);
  if (!rules) keep(object, []);
  else {
    for (const path of rules.whole) keep(object, path);
    for (const path of rules.ranged) keep(object, path, 'ranged');
    const kinds = new Set([...WORKLOAD_KINDS, ...config.active.flatMap(({ policy }) => policy.kinds)]);
    const judged = [...SERVER_FIELDS, ...[...kinds].flatMap((kind) => judgedFields(kind, config))];
    for (const path of judged) if (path.length > 0) keep(object, path);
    // What no built-in judgement reads may still be read by a rule that reads what holds it, or
    // anything in it. Where a rule asks only whether it is there, an empty object stands in for it
    // (outside a list's elements, where it stays whole).
    const ruleRead = [...rules.whole, ...rules.ranged];
    const unread = (path: string[]) => {
      if (ruleRead.some((read) => startsWith(path, read))) return;
      const asked = rules.present.filter((read) => startsWith(read, path));
      const onlyThere = asked.length > 0 && asked.every((read) => read.length === path.length) && !path.includes(EACH);
      if (asked.length === 0 || onlyThere) markUnread(object, path, onlyThere);
    };
    for (const kind of WORKLOAD_KINDS) {
      const podSpec = workloadFields(kind)?.[0];
      if (!podSpec) continue;
      for (const key of UNREAD_IN_POD_SPEC) unread([...podSpec, key]);
      for (const list of CONTAINER_LISTS) for (const key of UNREAD_IN_CONTAINER) unread([...podSpec, list, EACH, key]);
    }
    // Last, inside what the marks above opened: a field the plan keeps in any other way is there where it is there.
    for (const path of rules.present) keep(object, path, 'present');
  }
  // An UPDATE compares whole objects for some kind: what no judgement reads is compared by the scan.
  if (rules && judgedWhole(config)) compareOthers(object);
  const plan = reviewPlan(object);
  // Judged whole, such an object makes a custom rule fail (per --on-error): so must the projection.
  if (rules && custom.length > 0) plan.wholeBeyondDepth = MAX_DEPTH;
  planByConfig.set(config, plan);
  return plan;
}
