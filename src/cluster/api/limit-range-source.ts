// The webhook's copy of the LimitRanges: only the container defaults resource-requests and
// memory-limit read (src/engine/limit-range.ts), not the min, max and ratio bounds.
import { projectLimitRange } from '../../engine/limit-range.js';
import type { ListerWatcher, WatchEvent } from './reflector.js';

export const LIMIT_RANGE_RESOURCE = { resource: 'limitranges', kind: 'LimitRange', apiVersion: 'v1' } as const;

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
