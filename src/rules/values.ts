// Objects as CEL sees them. JSON integers are CEL ints (the API server decodes them as int64), so
// `object.spec.replicas > 1` compares ints; other numbers stay doubles. Objects become Maps: a key
// named `__proto__` or `constructor` from a request is data, never JavaScript's (the library
// classifies a plain object by its `constructor`, which such a key would replace).

import { valueNestsDeeperThan } from '../engine/index.js';

/** Deeper than any real Kubernetes object; deeper input is refused rather than walked. */
export const MAX_DEPTH = 100;

export class TooDeep extends Error {
  constructor() {
    super(`the object nests deeper than ${MAX_DEPTH} levels`);
    this.name = 'TooDeep';
  }
}

/**
 * A JSON object as a CEL map whose values are converted when first read. Converting a whole object
 * up front cost a Map per object of it: a 16 MiB review (52,000 containers and their managedFields)
 * took the process past the chart's 256 MiB limit and 2-3 s, for a rule that reads one label
 * (docs/performance.md, "Custom rules on large objects"). The keys, their order and every value read
 * are what converting it whole gives; each value is converted once.
 */
class JsonMap extends Map<string, unknown> {
  readonly #source: Record<string, unknown>;
  readonly #depth: number;
  readonly #keys: string[];

  constructor(source: Record<string, unknown>, depth: number) {
    super();
    this.#source = source;
    this.#depth = depth;
    this.#keys = Object.keys(source).filter((key) => source[key] !== undefined);
  }

  override get size(): number {
    return this.#keys.length;
  }

  override has(key: string): boolean {
    return typeof key === 'string' && Object.hasOwn(this.#source, key) && this.#source[key] !== undefined;
  }

  override get(key: string): unknown {
    if (!this.has(key)) return undefined;
    if (!super.has(key)) super.set(key, convert(this.#source[key], this.#depth + 1));
    return super.get(key);
  }

  override *keys(): MapIterator<string> {
    yield* this.#keys;
  }

  override *values(): MapIterator<unknown> {
    for (const key of this.#keys) yield this.get(key);
  }

  override *entries(): MapIterator<[string, unknown]> {
    for (const key of this.#keys) yield [key, this.get(key)];
  }

  override [Symbol.iterator](): MapIterator<[string, unknown]> {
    return this.entries();
  }

  override forEach(callback: (value: unknown, key: string, map: Map<string, unknown>) => void, thisArg?: unknown): void {
    for (const key of this.#keys) callback.call(thisArg, this.get(key), key, this);
  }

  override set(): this {
    throw new TypeError('a CEL value is read-only');
  }

  override delete(): boolean {
    throw new TypeError('a CEL value is read-only');
  }

  override clear(): void {
    throw new TypeError('a CEL value is read-only');
  }
}

// cel-js tells a map from other values by `value.constructor === Map`; a JsonMap is one.
Object.defineProperty(JsonMap.prototype, 'constructor', { value: Map, writable: true, configurable: true });

/** One level of `value` as CEL sees it: objects below it become JsonMaps, converted as they are read. */
function convert(value: unknown, depth: number): unknown {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : value;
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) throw new TooDeep();
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = convert(value[i], depth + 1);
    return out;
  }
  return new JsonMap(value as Record<string, unknown>, depth);
}

// Several rules read the same object in one review: convert it once. Keyed weakly by the
// object, so nothing outlives the review; objects are never mutated while they are judged.
const converted = new WeakMap<object, unknown>();

/**
 * The CEL value of a JSON value (converted once per object, each part when it is first read).
 * A value nested deeper than MAX_DEPTH is refused whole, as converting it up front did, whether
 * or not a rule reads that deep: the walk that tells allocates nothing.
 */
export function celValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return convert(value, 0);
  let out = converted.get(value);
  if (out === undefined) {
    if (valueNestsDeeperThan(value, MAX_DEPTH)) throw new TooDeep();
    out = convert(value, 0);
    converted.set(value, out);
  }
  return out;
}
