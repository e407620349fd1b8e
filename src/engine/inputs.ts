// What a judgement depends on, so that an UPDATE which changes none of it (a label, a GitOps
// annotation, a finalizer, status, a `kubectl rollout restart` stamp on the pod template) is
// known to change no finding. Derived from the engine and the active policies' own
// declarations, never from a hand-kept list: test/engine/inputs.test.ts records every field
// evaluate() reads and fails when one is not covered here.
import type { EngineConfig } from './config.js';
import { ANNOTATION_EXEMPT, ANNOTATION_EXEMPT_EXPIRES, ANNOTATION_EXEMPT_REASON } from './evaluate.js';
import { isRecord } from './k8s.js';
import type { FieldPath } from './policy.js';
import { workloadFields } from './workload.js';

/** What the engine itself reads of every object: identity, owner, and practice-gate's own annotations. */
const ENGINE_FIELDS: readonly FieldPath[] = [
  ['apiVersion'],
  ['kind'],
  ['metadata', 'name'],
  ['metadata', 'generateName'],
  ['metadata', 'namespace'],
  ['metadata', 'ownerReferences'],
  ['metadata', 'annotations', ANNOTATION_EXEMPT],
  ['metadata', 'annotations', ANNOTATION_EXEMPT_REASON],
  ['metadata', 'annotations', ANNOTATION_EXEMPT_EXPIRES],
];

/** Every field whose value can change a finding on an object of this kind under this config. */
export function judgedFields(kind: string, config: EngineConfig): FieldPath[] {
  const fields: FieldPath[] = [...ENGINE_FIELDS, ...(workloadFields(kind) ?? [])];
  for (const { policy } of config.active) {
    if (policy.kinds.includes(kind)) fields.push(...(policy.reads ?? []));
  }
  return fields;
}

/**
 * A step of a FieldPath into the JSON a string field holds: `[..., LAST_APPLIED, JSON_TEXT, 'spec',
 * 'replicas']` compares one field of kubectl's last-applied-configuration annotation, not all of it
 * (which changes with every label in the manifest).
 */
export const JSON_TEXT = '(json)';

function valueAt(object: unknown, path: FieldPath): unknown {
  let cur = object;
  for (const key of path) {
    if (key === JSON_TEXT && typeof cur === 'string') {
      try {
        cur = JSON.parse(cur) as unknown;
      } catch {
        // Text that is not JSON is compared as it is.
        return cur;
      }
      continue;
    }
    if (!isRecord(cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}

/** Structural equality of JSON values; key order does not matter. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => sameJson(item, b[i]));
  }
  if (!isRecord(a) || !isRecord(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.hasOwn(b, key) && sameJson(a[key], b[key]));
}

/** True when the update from `before` to `after` changes a field some active policy or the engine reads. */
export function changesJudgedFields(before: unknown, after: unknown, kind: string, config: EngineConfig): boolean {
  return judgedFields(kind, config).some((path) => !sameJson(valueAt(before, path), valueAt(after, path)));
}
