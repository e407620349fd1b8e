// The shape of a projection plan: what src/server/body-projection.ts decides to keep of a large
// review, and src/server/body-scan.ts (in the worker, which must not load the policies) reads.

/**
 * What to keep of a JSON value. `whole`: the value as it is. Otherwise, where the value is an
 * object, the keys in `children` (each by its own plan) and, when `keepOthers`, every other key
 * whole; where it is not an object (an array, a string), the value whole, so that every read the
 * engine makes on the way finds what it would find in the whole review.
 */
export interface ProjectionPlan {
  whole: boolean;
  keepOthers: boolean;
  children: Map<string, ProjectionPlan>;
  /**
   * A field no judgement reads inside a field kept whole (a pod spec's volumes): left out of
   * object and oldObject where both hold the same bytes there, or where there is no other object.
   * Left out of one only, it would make an UPDATE look as if it changed a judged field.
   */
  unread: boolean;
  /**
   * Where the value is an object and not `keepOthers`: every other key is read by no judgement but
   * compared by an UPDATE (a custom rule without `reads:` makes it compare whole objects). Left out
   * where object and oldObject hold the same bytes there; where they differ, one of them keeps a
   * mark in its place, so that the comparison still finds a change.
   */
  othersCompared?: boolean;
  /**
   * Only whether the key is there is read (a rule's `has()`), when the plan keeps nothing else of
   * it: an empty object stands in for its value where object and oldObject hold the same bytes
   * (or there is no other object); where they differ, both keep it whole.
   */
  present?: boolean;
  /** Where the value is an array: the plan of each element that is an object (others are kept whole). */
  each?: ProjectionPlan;
  /** Of a review's plan: a body nested deeper than this is kept whole instead (custom rules refuse such objects whole). */
  wholeBeyondDepth?: number;
}

/** A step of a path in a plan: every element of an array. */
export const EACH = '[]';
