// What an AdmissionReview says about itself before its objects, read from the first bytes of a
// body too large to parse whole. The API server encodes the review with Go's encoding/json, in
// struct order: kind, apiVersion, then request.uid, kind, resource, ..., name, namespace,
// operation, userInfo, and only then object and oldObject. So everything needed to answer it
// (the uid) and to log it (kind, namespace, name) sits in the first few hundred bytes, whatever
// the size of the objects.

/** How much of an oversized body is kept to read its head: far more than the API server needs. */
export const HEAD_BYTES = 64 * 1024;

export interface ReviewHead {
  apiVersion?: string;
  reviewKind?: string;
  uid?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  operation?: string;
}

/** The fields read, by their path in the review (arrays never match). */
const WANTED = new Map<string, keyof ReviewHead>([
  ['apiVersion', 'apiVersion'],
  ['kind', 'reviewKind'],
  ['request.uid', 'uid'],
  ['request.kind.kind', 'kind'],
  ['request.name', 'name'],
  ['request.namespace', 'namespace'],
  ['request.operation', 'operation'],
]);

interface Frame {
  array: boolean;
  path: string;
  key: string | undefined;
  expectKey: boolean;
}

const BACKSLASH = 0x5c;

/** Index of the quote closing the string that opens at `open`, or -1 when the text ends first. */
function closingQuote(text: string, open: number): number {
  for (let at = text.indexOf('"', open + 1); at >= 0; at = text.indexOf('"', at + 1)) {
    let backslashes = 0;
    for (let k = at - 1; text.charCodeAt(k) === BACKSLASH; k--) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
  return -1;
}

const childPath = (frame: Frame): string =>
  frame.array ? `${frame.path}[]` : frame.path === '' ? (frame.key ?? '') : `${frame.path}.${frame.key ?? ''}`;

/**
 * Reads the head fields from the start of a JSON AdmissionReview, which may be cut anywhere.
 * A tokenizer, not a parser: it follows nesting and keys, decodes only the strings it keeps,
 * and stops at request.object (user data from there on) or wherever the text ends or stops
 * being JSON. The first occurrence of a field wins.
 */
export function readReviewHead(text: string): ReviewHead {
  const head: ReviewHead = {};
  const stack: Frame[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const top = stack[stack.length - 1];
    if (c === '{' || c === '[') {
      stack.push({ array: c === '[', path: top ? childPath(top) : '', key: undefined, expectKey: c === '{' });
      i++;
    } else if (c === '}' || c === ']') {
      stack.pop();
      if (stack.length === 0) break;
      i++;
    } else if (c === ',') {
      if (top && !top.array) top.expectKey = true;
      i++;
    } else if (c === '"') {
      const end = closingQuote(text, i);
      if (end < 0 || !top) break;
      let value: unknown;
      try {
        value = JSON.parse(text.slice(i, end + 1));
      } catch {
        break;
      }
      if (typeof value !== 'string') break;
      if (!top.array && top.expectKey) {
        top.key = value;
        top.expectKey = false;
        if (top.path === 'request' && (value === 'object' || value === 'oldObject')) break;
      } else {
        const field = WANTED.get(childPath(top));
        if (field !== undefined && head[field] === undefined) head[field] = value;
      }
      i = end + 1;
    } else {
      i++; // ':', whitespace, and the characters of numbers, true, false and null
    }
  }
  return head;
}
