// A parsed value cut into parts of bounded size, and put back together. A worker posting one
// message of a whole value makes the receiving thread deserialize all of it in one go: for the
// projection of a 16 MiB review that is tens of milliseconds the event loop cannot answer
// /healthz. Sent as separate JSON texts (UTF-8 in one buffer, EncodedParts), it is rebuilt one part
// per turn of the loop. JSON, not structured clone: V8's JSON.parse builds plain data about twice as
// fast as v8.deserialize, and it is the parser the event loop uses for small bodies, so both paths
// build the same values (`__proto__` keys as own properties included).

/** A key on the way from the root: an array index or an object key. */
type Key = string | number;

/**
 * Children of the container at `path`, appended in order: `values` of an array, of an object its
 * `keys` and `values`, or `members` (src/server/body-scan.ts sends runs of an object's members as they are).
 */
interface Slice {
  path: Key[];
  keys?: string[];
  values?: unknown[];
  members?: Record<string, unknown>;
}

/**
 * Nodes (objects, arrays, primitives; long strings count per 256 characters) per part: a part
 * deserializes in about a millisecond.
 */
export const PART_NODES = 8192;

/** The size of `value` in nodes, counted no further than `limit`. */
function sizeUpTo(value: unknown, limit: number): number {
  if (typeof value === 'string') return 1 + (value.length >> 8);
  if (typeof value !== 'object' || value === null) return 1;
  let size = 1;
  for (const child of Object.values(value)) {
    size += sizeUpTo(child, limit - size);
    if (size > limit) return size;
  }
  return size;
}

/**
 * The value as serialized parts of about `budget` nodes each: the first holds the value with
 * every container too large for one part left empty; each next one appends children to a
 * container an earlier part placed (a parent's slices always come before its children's).
 */
export function splitValue(value: unknown, budget = PART_NODES): string[] {
  const slices: Slice[] = [];
  const place = (child: unknown, path: Key[], size = sizeUpTo(child, budget)): unknown => {
    if (typeof child !== 'object' || child === null || size <= budget) return child;
    const array = Array.isArray(child);
    let slice: Slice | undefined;
    let used = 0;
    const entries: Array<[Key, unknown]> = array ? child.map((v, i) => [i, v]) : Object.entries(child);
    for (const [key, v] of entries) {
      if (!slice || used >= budget) {
        slice = array ? { path, values: [] } : { path, keys: [], values: [] };
        slices.push(slice);
        used = 0;
      }
      const size = sizeUpTo(v, budget);
      used += Math.min(size, budget);
      slice.keys?.push(key as string);
      slice.values?.push(place(v, [...path, key], size));
    }
    return array ? [] : {};
  };
  const root = place(value, []);
  return [JSON.stringify(root), ...slices.map((slice) => JSON.stringify(slice))];
}

/** Own data property, never the prototype (keys of user data may be `__proto__`). */
function define(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function containerAt(root: unknown, path: readonly Key[]): object {
  let at = root;
  for (const key of path) at = typeof at === 'object' && at !== null ? Object.getOwnPropertyDescriptor(at, key)?.value : undefined;
  if (typeof at !== 'object' || at === null) throw new Error('a part of the parsed body names a container that is not there');
  return at;
}

/** Parts as UTF-8 in one buffer, each ending where `ends` says: what a worker posts. */
export interface PartBytes {
  memory: ArrayBuffer;
  ends: number[];
}

/**
 * Parts written as UTF-8 into one buffer as they are made, so that the worker holds none of them as
 * a string: its heap stays the size of one part, and the event loop gets them as bytes (moved, not
 * copied) that it decodes one part at a time, each string dying young instead of all of them
 * outliving the collections of a whole rebuild.
 */
export class EncodedParts {
  #bytes: Buffer;
  #used = 0;
  readonly #ends: number[] = [];

  constructor(capacity: number) {
    this.#bytes = Buffer.allocUnsafeSlow(Math.max(capacity, 64 * 1024));
  }

  push(part: string): void {
    // UTF-8 takes at most three bytes per UTF-16 unit.
    const most = this.#used + 3 * part.length;
    if (most > this.#bytes.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(most, 2 * this.#bytes.length));
      this.#bytes.copy(grown, 0, 0, this.#used);
      this.#bytes = grown;
    }
    this.#used += this.#bytes.write(part, this.#used, 'utf8');
    this.#ends.push(this.#used);
  }

  /** The parts written so far, to post; this writer is done with them. */
  bytes(): PartBytes {
    return { memory: this.#bytes.buffer as ArrayBuffer, ends: this.#ends };
  }
}

/** Each part's text, decoded only when it is asked for. */
export function* partTexts({ memory, ends }: PartBytes): Generator<string> {
  const bytes = Buffer.from(memory);
  let start = 0;
  for (const end of ends) {
    yield bytes.toString('utf8', start, end);
    start = end;
  }
}

/** Rebuilds the value from splitValue's parts, yielding to the event loop between parts. */
export async function joinParts(parts: Iterable<string>): Promise<unknown> {
  const each = parts[Symbol.iterator]();
  const first = each.next();
  if (first.done) throw new Error('the parsed body came back empty');
  const root: unknown = JSON.parse(first.value);
  for (let next = each.next(); !next.done; next = each.next()) {
    await new Promise((resolve) => setImmediate(resolve));
    const slice = JSON.parse(next.value) as Slice;
    const target = containerAt(root, slice.path);
    if (Array.isArray(target)) target.push(...(slice.values ?? []));
    else if (slice.members) {
      // As JSON.parse would: a key met again keeps its place and takes the later value.
      for (const key of Object.keys(slice.members)) define(target, key, slice.members[key]);
    } else {
      for (const [i, v] of (slice.values ?? []).entries()) define(target, slice.keys?.[i] ?? '', v);
    }
  }
  return root;
}
