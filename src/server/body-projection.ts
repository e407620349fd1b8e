// What of a large AdmissionReview crosses back from the worker that parsed it: the envelope, and
// of object and oldObject only the fields a judgement reads. The engine declares those
// (src/engine/inputs.ts, held by test/engine/inputs.test.ts, which records every field
// evaluate() touches), so the projection is judged exactly as the whole object is, while the
// bulk of a large review (managedFields, volumes beside the pod spec's other fields, status)
// never has to be copied to the event loop's thread.
import { WORKLOAD_KINDS, isRecord, judgedFields } from '../engine/index.js';
import type { EngineConfig, FieldPath } from '../engine/index.js';

/** The request's own fields the server reads (src/server/admission.ts, review.ts, messages.ts). */
const REQUEST_FIELDS = ['uid', 'kind', 'resource', 'subResource', 'requestKind', 'name', 'namespace', 'operation', 'userInfo', 'dryRun'];

/** Read of the objects outside the engine: src/server/review.ts lets an object being deleted go. */
const SERVER_FIELDS: readonly FieldPath[] = [['metadata', 'deletionTimestamp']];

const fieldsByConfig = new WeakMap<EngineConfig, FieldPath[]>();

/** Every field any judgement under this config reads, whatever the object's kind. */
export function projectedFields(config: EngineConfig): FieldPath[] {
  const known = fieldsByConfig.get(config);
  if (known) return known;
  const kinds = new Set([...WORKLOAD_KINDS, ...config.active.flatMap(({ policy }) => policy.kinds)]);
  const seen = new Set<string>();
  const fields: FieldPath[] = [];
  for (const path of [...SERVER_FIELDS, ...[...kinds].flatMap((kind) => judgedFields(kind, config))]) {
    const key = JSON.stringify(path);
    if (!seen.has(key)) {
      seen.add(key);
      fields.push(path);
    }
  }
  // Shorter first: a field copied whole already holds every longer one inside it.
  fields.sort((a, b) => a.length - b.length);
  fieldsByConfig.set(config, fields);
  return fields;
}

/** Own data property, never the prototype (keys of user data may be `__proto__`). */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * The object with only `fields` (sorted shortest first): each is copied whole where it ends, or
 * where the object stops being a map on the way to it, so every read the engine makes on the
 * way or inside finds what it would find in the whole object.
 */
export function projectObject(object: Record<string, unknown>, fields: readonly FieldPath[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const built = new Set<unknown>([out]);
  for (const path of fields) {
    let from: unknown = object;
    let to = out;
    for (let i = 0; i < path.length; i++) {
      const key = path[i] as string;
      if (!isRecord(from) || !Object.hasOwn(from, key)) break;
      const value = from[key];
      if (Object.hasOwn(to, key)) {
        const existing = to[key];
        // Copied whole by a shorter field, or a map this loop built: go on inside it.
        if (!built.has(existing) || !isRecord(existing)) break;
        to = existing;
      } else if (i === path.length - 1 || !isRecord(value)) {
        define(to, key, value);
        break;
      } else {
        const next: Record<string, unknown> = {};
        built.add(next);
        define(to, key, next);
        to = next;
      }
      from = value;
    }
  }
  return out;
}

/** The review with object and oldObject projected; anything not shaped like a review is kept whole. */
export function projectReview(review: unknown, fields: readonly FieldPath[]): unknown {
  if (!isRecord(review)) return review;
  const out: Record<string, unknown> = {};
  for (const key of ['apiVersion', 'kind']) if (Object.hasOwn(review, key)) define(out, key, review[key]);
  if (!Object.hasOwn(review, 'request')) return out;
  const request = review.request;
  if (!isRecord(request)) {
    define(out, 'request', request);
    return out;
  }
  const projected: Record<string, unknown> = {};
  for (const key of REQUEST_FIELDS) if (Object.hasOwn(request, key)) define(projected, key, request[key]);
  for (const key of ['object', 'oldObject']) {
    if (!Object.hasOwn(request, key)) continue;
    const value = request[key];
    define(projected, key, isRecord(value) ? projectObject(value, fields) : value);
  }
  define(out, 'request', projected);
  return out;
}
