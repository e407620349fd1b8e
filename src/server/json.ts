// The body parser for AdmissionReviews. JSON.parse alone, so that the object reaches the
// engine exactly as the API server sent it: no schema coercion, no defaults, nothing stripped.
// JSON.parse defines a `__proto__` key as a plain own property (it never sets a prototype) and
// nothing downstream merges objects, so such keys are harmless and kept as sent.

import { valueNestsDeeperThan } from '../engine/index.js';

/** Deeper than any real object; deep enough that recursive code elsewhere cannot overflow. */
export const MAX_JSON_DEPTH = 512;

/** A body the parser refuses; `statusCode` is what the client gets. */
export class BodyError extends Error {
  /** 415 for a body labelled as something the gate does not read (src/server/body-headers.ts). */
  constructor(
    message: string,
    readonly statusCode: 400 | 415 = 400,
  ) {
    super(message);
    this.name = 'BodyError';
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/** Index of the quote closing the string that opens at `open`, or -1 when it never closes. */
function closingQuote(text: string, open: number): number {
  let at = open;
  for (;;) {
    at = text.indexOf('"', at + 1);
    if (at < 0) return -1;
    let backslashes = 0;
    for (let k = at - 1; text.charCodeAt(k) === BACKSLASH; k--) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
}

/**
 * True when objects and arrays in `text` nest deeper than `limit`. A flat scan, no recursion:
 * strings are skipped with indexOf, since most of a Kubernetes object's bytes are strings.
 * Also answers for text that is not valid JSON, so a deep body is refused as too deep first.
 */
export function nestsDeeperThan(text: string, limit: number): boolean {
  if (text.length <= limit) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = closingQuote(text, i);
      if (i < 0) return false; // unterminated string: JSON.parse reports it
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/**
 * Bodies longer than this are scanned before they are parsed, so a deep one is refused in
 * microseconds instead of being built first (7 MiB of `[` takes V8 ~0.8 s to parse, a flat
 * 7 MiB body ~0.3 s). Below it a deep body costs at most ~11 ms to parse and refuse.
 */
const SCAN_FIRST_LENGTH = 256 * 1024;

/**
 * What is wrong with the JSON, without the parser's own message: V8 quotes the text around
 * the error, and a body is an object whose env values may be secrets.
 */
function syntaxProblem(err: unknown): string {
  const message = err instanceof Error ? err.message : '';
  const position = /\bat position (\d+)/.exec(message)?.[1];
  if (position !== undefined) return `syntax error at character ${position}`;
  if (message.startsWith('Unexpected end of JSON input')) return 'it ends before the JSON value does';
  return 'syntax error';
}

export function parseJsonBody(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  if (/^\s*$/.test(text)) throw new BodyError('the body is empty: expected an AdmissionReview JSON object');
  const tooDeep = () => new BodyError(`the body nests objects or arrays deeper than ${maxDepth} levels`);
  if (text.length > SCAN_FIRST_LENGTH && nestsDeeperThan(text, maxDepth)) throw tooDeep();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    // Depth is reported before syntax, as when the text was scanned before parsing.
    if (nestsDeeperThan(text, maxDepth)) throw tooDeep();
    throw new BodyError(`the body is not valid JSON: ${syntaxProblem(err)}`);
  }
  // The same answer as nestsDeeperThan of the text, at a fraction of the cost (7 µs instead of
  // 46 µs for 113 KiB): V8's JSON.parse does not recurse, so the value exists however deep it is.
  if (valueNestsDeeperThan(value, maxDepth)) throw tooDeep();
  return value;
}
