import { isRecord } from '../../engine/k8s.js';

/**
 * The HTTP status of a failed API call, however client-node reported it: the generated APIs
 * throw ApiException with a numeric `code`, a watch that is refused ends with an Error carrying
 * `statusCode`, and a watch stream reports a Status object with `code`. Network errors (no status)
 * give undefined: their `code` is a string such as ECONNREFUSED.
 */
export function statusOf(err: unknown): number | undefined {
  if (!isRecord(err) && !(err instanceof Error)) return undefined;
  const record = err as Record<string, unknown>;
  if (typeof record.code === 'number') return record.code;
  if (typeof record.statusCode === 'number') return record.statusCode;
  return undefined;
}

export const isNotFound = (err: unknown): boolean => statusOf(err) === 404;
export const isConflict = (err: unknown): boolean => statusOf(err) === 409;
/** 410 Gone: the resourceVersion a watch resumes from is too old; only a fresh list helps. */
export const isGone = (err: unknown): boolean => statusOf(err) === 410;

/**
 * One line for a log: ApiException messages embed the response headers and body, which is noise
 * in a log line and may be long; the Status message from the body says what went wrong.
 */
export function describeError(err: unknown): string {
  const status = statusOf(err);
  const record = isRecord(err) || err instanceof Error ? (err as Record<string, unknown>) : {};
  const body = record.body;
  const bodyMessage = isRecord(body) && typeof body.message === 'string' ? body.message : typeof body === 'string' ? body : undefined;
  if (status !== undefined) return `HTTP ${status}${bodyMessage ? `: ${bodyMessage}` : ''}`;
  if (err instanceof Error) {
    const code = typeof record.code === 'string' ? ` (${record.code})` : '';
    return `${err.message.split('\n')[0] ?? err.name}${code}`;
  }
  return String(err);
}
