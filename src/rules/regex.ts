// Regular expressions with RE2 semantics, as the API server's CEL runs them. JavaScript's RegExp
// backtracks (`(a+)+$` on a long string runs for minutes); RE2 matches in linear time and refuses
// what it cannot match that way (backreferences, lookaround), exactly as the API server does.
import { RE2JS } from 're2js';

const MAX_CACHED = 256;
const compiled = new Map<string, RE2JS>();

/** The compiled pattern; throws with RE2's own message when RE2 rejects it. */
export function re2(pattern: string): RE2JS {
  let regex = compiled.get(pattern);
  if (regex === undefined) {
    regex = RE2JS.compile(pattern);
    // Patterns built from objects could grow the cache without bound: start over instead.
    if (compiled.size >= MAX_CACHED) compiled.clear();
    compiled.set(pattern, regex);
  }
  return regex;
}

/** CEL `matches`: true when the pattern matches anywhere in the text (RE2 partial match). */
export function matches(text: string, pattern: string): boolean {
  return re2(pattern).test(text);
}

/** Kubernetes' `find`: the first match, or '' when there is none. */
export function find(text: string, pattern: string): string {
  const found = re2(pattern).exec(text);
  return found === null ? '' : String(found[0] ?? '');
}

/** Kubernetes' `findAll`: every non-overlapping match, at most `limit` of them when limit >= 0. */
export function findAll(text: string, pattern: string, limit = -1): string[] {
  if (limit === 0) return [];
  const out: string[] = [];
  for (const match of re2(pattern).matchAll(text)) {
    out.push(match[0]);
    if (limit > 0 && out.length >= limit) break;
  }
  return out;
}
