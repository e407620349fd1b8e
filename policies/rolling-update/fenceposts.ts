// How the controllers turn maxSurge/maxUnavailable into pod counts, as they do it
// (k8s.io/apimachinery intstr.GetScaledValueFromIntOrPercent and the deployment controller's
// ResolveFenceposts): a percentage of the replicas, maxSurge rounded up, maxUnavailable down.
import { isRecord } from '../../src/engine/index.js';

/** An IntOrString the API accepts here: a non-negative integer, or digits and `%`. */
export type Amount = { count: number } | { percent: number };

const PERCENT = /^(\d+)%$/;

/** The amount, or undefined when the API would refuse the value (a bare "25", "a%", -1, 1.5, true). */
export function amountOf(value: unknown): Amount | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? { count: value } : undefined;
  const match = typeof value === 'string' ? PERCENT.exec(value) : null;
  return match ? { percent: Number(match[1]) } : undefined;
}

export function scaled(amount: Amount, replicas: number, roundUp: boolean): number {
  if ('count' in amount) return amount.count;
  const exact = (amount.percent * replicas) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

/** A Deployment's surge and unavailable pod counts at `replicas`: both zero means one unavailable. */
export function resolveFenceposts(maxSurge: Amount, maxUnavailable: Amount, replicas: number): { surge: number; unavailable: number } {
  const surge = scaled(maxSurge, replicas, true);
  const unavailable = scaled(maxUnavailable, replicas, false);
  // The controller's own fallback: rounding down may leave nothing to do, so it allows one unavailable.
  return { surge, unavailable: surge === 0 && unavailable === 0 ? 1 : unavailable };
}

/** A field of an optional mapping: `{ present: false }` when the mapping or field is unset (or null). */
export function field(parent: unknown, key: string): { present: boolean; value: unknown } {
  const value = isRecord(parent) ? parent[key] : undefined;
  return { present: value !== undefined && value !== null, value };
}

export const show = (value: unknown): string => (typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value)));
