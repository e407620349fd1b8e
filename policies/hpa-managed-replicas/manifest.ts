// Whether the manifest a workload was written from sets spec.replicas. An object that went
// through the API server always has replicas (the API defaults it to 1), so there the manifest
// is what kubectl apply recorded in its last-applied annotation; a manifest file says it itself.
import { JSON_TEXT, isRecord, metaOf } from '../../src/engine/index.js';
import type { FieldPath, KubeObject } from '../../src/engine/index.js';

export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** What the answer depends on: one field of the annotation's JSON, and whether the object is stored (its uid). */
export const MANIFEST_READS: readonly FieldPath[] = [
  ['metadata', 'annotations', LAST_APPLIED, JSON_TEXT, 'spec', 'replicas'],
  ['metadata', 'uid'],
];

export interface ManifestReplicas {
  value: unknown;
  /** Read from the last-applied annotation rather than the object. */
  applied: boolean;
}

const set = (value: unknown): boolean => value !== undefined && value !== null;

/** The replicas the manifest sets, or undefined when it sets none or the object cannot tell. */
export function manifestReplicas(object: KubeObject): ManifestReplicas | undefined {
  const meta = metaOf(object);
  const annotations = meta.annotations;
  const text: unknown = isRecord(annotations) ? annotations[LAST_APPLIED] : undefined;
  if (typeof text === 'string') {
    let applied: unknown;
    try {
      applied = JSON.parse(text) as unknown;
    } catch {
      applied = undefined;
    }
    // An annotation that is not kubectl's JSON says nothing: judge the object as it is.
    if (isRecord(applied)) {
      const value = isRecord(applied.spec) ? applied.spec.replicas : undefined;
      return set(value) ? { value, applied: true } : undefined;
    }
  }
  // A stored object (it has a uid) carries the API's default, indistinguishable from a chosen value.
  if (typeof meta.uid === 'string' && meta.uid !== '') return undefined;
  const value = isRecord(object.spec) ? object.spec.replicas : undefined;
  return set(value) ? { value, applied: false } : undefined;
}
