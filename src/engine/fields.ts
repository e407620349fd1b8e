// Readers for fields of objects that arrive unchecked (k8s.ts types them `unknown`). Kubernetes
// reads null as unset. A value of another type is neither the value nor unset: the API server
// refuses it, but an offline manifest can carry it, so a policy names it in its finding
// (wrongType) instead of reading it as either, and a quoted "0" never passes for a uid.
import { isRecord } from './k8s.js';

/** T when every field of T is `unknown`: only then is any record truthfully a T. */
type Unchecked<T> = { [K in keyof T]: unknown extends T[K] ? T[K] : never };

const EMPTY: object = Object.freeze({});

/**
 * An untrusted value read as T, whose fields are all `unknown`, or an empty T when it is not a
 * record: `fieldsOf<SecurityContext>(container.securityContext).runAsUser` is `unknown`.
 */
export function fieldsOf<T extends Unchecked<T>>(value: unknown): Readonly<T> {
  return (isRecord(value) ? value : EMPTY) as T;
}

/** Unset as Kubernetes reads it: absent or null. */
export function isUnset(value: unknown): value is undefined | null {
  return value === undefined || value === null;
}

export type FieldType = 'boolean' | 'integer' | 'string' | 'object';

function hasType(value: unknown, type: FieldType): boolean {
  if (type === 'integer') return Number.isSafeInteger(value);
  if (type === 'object') return isRecord(value);
  return typeof value === type;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)} (a string)`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${String(value)} (a ${typeof value})`;
  return Array.isArray(value) ? 'a list' : `a${typeof value === 'object' ? 'n object' : ` ${typeof value}`}`;
}

/**
 * For a set value of the wrong type, what it is and what belongs there, e.g.
 * `runAsUser is "0" (a string), not an integer`; undefined when it is unset or of the type.
 */
export function wrongType(field: string, value: unknown, type: FieldType): string | undefined {
  if (isUnset(value) || hasType(value, type)) return undefined;
  return `${field} is ${describe(value)}, not ${type === 'integer' || type === 'object' ? 'an' : 'a'} ${type}`;
}
