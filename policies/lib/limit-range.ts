// The value a LimitRange gives a request or limit that a container leaves out. Read with the
// plugin's rules (src/engine/limit-range.ts, docs/policies.md): only a key the container does not
// have is filled in, and a namespace's LimitRanges are applied one after the other in no defined
// order, the first to set a key winning.
import type { ClusterContext } from '../../src/engine/index.js';
import { quantitySet } from './quantity.js';

export interface Defaulted {
  /** The LimitRanges that set it, by name (more than one: which of them applies is not defined). */
  names: readonly string[];
  /** The value they set; absent when they set different ones. */
  value?: string;
}

/**
 * The LimitRanges of the namespace that set `field`.`resource` on a container without it. It
 * counts only when every LimitRange that sets it sets a non-zero value: with one that sets 0
 * beside one that sets 100m, the pod may get either.
 */
export function limitRangeDefault(
  context: ClusterContext,
  namespace: string,
  field: 'requests' | 'limits',
  resource: string,
): Defaulted | undefined {
  const ranges = context.limitRangesIn?.(namespace);
  if (!ranges || ranges.length === 0) return undefined;
  const names: string[] = [];
  const values = new Set<string>();
  for (const range of ranges) {
    const value = range[field][resource];
    if (value === undefined) continue;
    if (!quantitySet(value)) return undefined;
    names.push(range.name);
    values.add(value);
  }
  if (names.length === 0) return undefined;
  const [only] = values;
  return values.size === 1 && only !== undefined ? { names, value: only } : { names };
}

/** `LimitRange shop/defaults`, or `LimitRanges shop/a, shop/b` when several set the value (any of them may apply). */
export function limitRangeNames(defaulted: Defaulted, namespace: string): string {
  const names = defaulted.names.map((n) => `${namespace}/${n}`).join(', ');
  return defaulted.names.length === 1 ? `LimitRange ${names}` : `LimitRanges ${names}`;
}

/** The note for a value a LimitRange fills in: what, to what, by which. */
export function defaultedMessage(container: string, field: string, defaulted: Defaulted, namespace: string): string {
  const value = defaulted.value === undefined ? '' : ` to ${defaulted.value}`;
  return `container "${container}": ${field} defaulted${value} by ${limitRangeNames(defaulted, namespace)} when the pod is created`;
}
