// Objects as CEL sees them. JSON integers are CEL ints (the API server decodes them as int64), so
// `object.spec.replicas > 1` compares ints; other numbers stay doubles. Objects become Maps: a key
// named `__proto__` or `constructor` from a request is data, never JavaScript's (the library
// classifies a plain object by its `constructor`, which such a key would replace).

/** Deeper than any real Kubernetes object; deeper input is refused rather than walked. */
export const MAX_DEPTH = 100;

export class TooDeep extends Error {
  constructor() {
    super(`the object nests deeper than ${MAX_DEPTH} levels`);
    this.name = 'TooDeep';
  }
}

function convert(value: unknown, depth: number): unknown {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : value;
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) throw new TooDeep();
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = convert(value[i], depth + 1);
    return out;
  }
  const out = new Map<string, unknown>();
  for (const key of Object.keys(value)) {
    const item = (value as Record<string, unknown>)[key];
    if (item !== undefined) out.set(key, convert(item, depth + 1));
  }
  return out;
}

// Several rules read the same object in one review: convert it once. Keyed weakly by the
// object, so nothing outlives the review; objects are never mutated while they are judged.
const converted = new WeakMap<object, unknown>();

/** The CEL value of a JSON value (converted once per object). */
export function celValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return convert(value, 0);
  let out = converted.get(value);
  if (out === undefined) {
    out = convert(value, 0);
    converted.set(value, out);
  }
  return out;
}
