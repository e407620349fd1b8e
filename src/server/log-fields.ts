// Strings from a request that reach a log line. The object itself is never logged (its env
// values may hold secrets); its uid, kind, namespace and name are, and each is whatever the
// sender wrote: one 1 MB uid made a 1 MB log line. Real ones are short (uids 36 characters,
// names at most 253), so a cap above that changes no real line.

export const MAX_LOGGED_CHARS = 256;

/** `value` if it is short, else its start and how long it was. */
export function clip(value: string, max = MAX_LOGGED_CHARS): string {
  return value.length <= max ? value : `${value.slice(0, max)}…(${value.length} characters)`;
}

/**
 * An error for a log line, in the shape pino gives errors (`err: {type, message, stack}`), with
 * the message clipped wherever it appears: a thrown message can quote input.
 */
export function loggedError(err: unknown): { type: string; message: string; stack?: string } {
  if (!(err instanceof Error)) return { type: typeof err, message: clip(String(err)) };
  const message = clip(err.message);
  const frames = (err.stack ?? '').split('\n').filter((line) => line.startsWith('    at '));
  return { type: err.name, message, stack: [`${err.name}: ${message}`, ...frames].join('\n') };
}
