// The webhook's copy of the LimitRanges: only the container defaults resource-requests and
// memory-limit read (src/engine/limit-range.ts), not the min, max and ratio bounds.
import { isRecord } from '../../engine/k8s.js';
import { projectLimitRange } from '../../engine/limit-range.js';
import type { ListerWatcher, WatchEvent } from './reflector.js';

export const LIMIT_RANGE_RESOURCE = { resource: 'limitranges', kind: 'LimitRange', apiVersion: 'v1' } as const;

/**
 * A listed LimitRange as the API server sent it. client-node's list decodes items into its models,
 * which rename an item's `default` to `_default` (a reserved word in its TypeScript); watch events
 * arrive as plain JSON. Only the list's items go through here, so a manifest's `_default` never
 * counts.
 */
export function limitRangeFromClientModel(item: unknown): unknown {
  if (!isRecord(item) || !isRecord(item.spec) || !Array.isArray(item.spec.limits)) return item;
  const limits = item.spec.limits.map((limit: unknown) => {
    if (!isRecord(limit) || limit._default === undefined || limit.default !== undefined) return limit;
    const { _default, ...rest } = limit;
    return { ...rest, default: _default };
  });
  return { ...item, spec: { ...item.spec, limits } };
}

/** A list-page filter: each LimitRange as its projection, so a re-list holds one page of whole objects at most. */
export const limitRangeListProjection = (item: unknown): unknown => projectLimitRange(item);

/** A ListerWatcher that hands the reflector projections of LimitRanges instead of whole objects. */
export function limitRangeSource(source: ListerWatcher): ListerWatcher {
  return {
    async list() {
      const page = await source.list();
      return {
        items: page.items.map(limitRangeListProjection).filter((item) => item !== undefined),
        resourceVersion: page.resourceVersion,
      };
    },
    watch(resourceVersion, onEvent, onDone, options) {
      const project = (event: WatchEvent): WatchEvent => {
        if (event.type !== 'ADDED' && event.type !== 'MODIFIED' && event.type !== 'DELETED') return event;
        const object = projectLimitRange(event.object);
        return object ? { type: event.type, object } : event;
      };
      return source.watch(resourceVersion, (event) => onEvent(project(event)), onDone, options);
    },
  };
}
