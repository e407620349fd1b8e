// Where each key and sequence item of a fast-parsed document starts, recorded from js-yaml's
// node events during the one fast parse, so that a finding's line costs no second parse.
// Offsets only (a number per key); lines and columns are worked out for the few that are asked.
// test/audit/fast-positions.test.ts holds every position to the one `yaml` gives.
import type { LoadOptions } from 'js-yaml';

/** A collection's own start, then `key, offset` pairs (mappings) or one offset per item (sequences). */
type Offsets = (string | number)[];

/** The start of every collection the fast path read, by the collection itself. */
const OFFSETS = new WeakMap<object, Offsets>();

/** A text whose line starts are counted once, when one of its positions is first asked for. */
export class PositionedText {
  #lineStarts: number[] | undefined;
  constructor(readonly text: string) {}

  /** 1-based line and column of an offset, as `yaml`'s LineCounter gives them. */
  position(offset: number): { line: number; column: number } {
    const starts = (this.#lineStarts ??= lineStarts(this.text));
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((starts[mid] as number) <= offset) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, column: offset - (starts[low] as number) + 1 };
  }
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** The subset of js-yaml's loader state its listener sees that we read. */
interface ListenerState {
  input: string;
  position: number;
  kind: string | null;
  result: unknown;
}

/**
 * A js-yaml `listener` that records the offsets. A node opens where its first character is
 * (keys and items are composed without seeking); a node is a key when `:` follows it on its
 * line. Each closed node is kept on a flat stack until its parent closes.
 */
export function positionListener(): NonNullable<LoadOptions['listener']> {
  const opened: number[] = [];
  const firstChild: number[] = [];
  // triples: offset, result, is-a-key
  const closed: unknown[] = [];
  return function listener(this: unknown, event: string, state: unknown): void {
    const s = state as ListenerState;
    if (event === 'open') {
      opened.push(s.position);
      firstChild.push(closed.length);
      return;
    }
    const start = opened.pop() as number;
    const from = firstChild.pop() as number;
    const result = s.result;
    // A collection read as a candidate key (`- {a: 1}`) closes again in its parent node: the first close has its keys.
    if (typeof result === 'object' && result !== null && !OFFSETS.has(result)) record(result, start, closed, from);
    closed.length = from;
    closed.push(start, result, s.kind === 'scalar' && colonFollows(s.input, s.position));
  };
}

function colonFollows(input: string, at: number): boolean {
  let i = at;
  while (input.charCodeAt(i) === 0x20) i++;
  return input.charCodeAt(i) === 0x3a;
}

function record(collection: object, start: number, closed: readonly unknown[], from: number): void {
  const offsets: Offsets = [start];
  if (Array.isArray(collection)) {
    for (let i = from, item = 0; i < closed.length; i += 3, item++) {
      offsets.push(closed[i] as number);
      if (closed[i + 2] !== true) continue;
      // A flow pair in a sequence (`[a: b]`): a one-key mapping of two nodes, starting at its key.
      const pair: unknown = collection[item];
      if (typeof pair === 'object' && pair !== null) OFFSETS.set(pair, [closed[i] as number, String(closed[i + 1]), closed[i] as number]);
      i += 3;
    }
    if (offsets.length !== collection.length + 1) offsets.length = 1;
  } else {
    for (let i = from; i < closed.length; i += 3) if (closed[i + 2] === true) offsets.push(String(closed[i + 1]), closed[i] as number);
  }
  OFFSETS.set(collection, offsets);
}

/** Where a node read by the fast path starts: a document's root, or a List's item. */
export interface FastNode {
  node: unknown;
  text: PositionedText;
}

/** The fast-parsed node of each object the audit judges (the object itself, or the List item it was copied from). */
const ORIGINS = new WeakMap<object, FastNode>();

export function rememberOrigin(object: object, origin: FastNode): void {
  ORIGINS.set(object, origin);
}

const hasOwn = (o: object, key: string): boolean => Object.prototype.hasOwnProperty.call(o, key);

/**
 * The offset of `segments` in a fast-parsed object, or of its nearest existing ancestor; the
 * same walk as locate.ts makes through `yaml`'s nodes. Undefined for an object the fast path did not read.
 */
export function fastLocate(object: object, segments: readonly (string | number)[]): { line: number; column: number } | undefined {
  const origin = ORIGINS.get(object);
  if (!origin) return undefined;
  let node = origin.node;
  let offset = typeof node === 'object' && node !== null ? (OFFSETS.get(node)?.[0] as number | undefined) : undefined;
  if (offset === undefined) return undefined;
  for (let i = 0; i < segments.length && typeof node === 'object' && node !== null; ) {
    const offsets = OFFSETS.get(node);
    if (!offsets) break;
    const segment = segments[i] as string | number;
    if (typeof segment === 'number') {
      if (!Array.isArray(node) || node[segment] === undefined) break;
      node = node[segment] as unknown;
      offset = (offsets[1 + segment] as number | undefined) ?? offset;
      i += 1;
      continue;
    }
    if (Array.isArray(node)) break;
    const step = keyStep(node as Record<string, unknown>, offsets, segments, i);
    if (!step) break;
    node = (node as Record<string, unknown>)[step.key];
    offset = step.offset ?? offset;
    i += step.consumed;
  }
  return origin.text.position(offset);
}

/** A map key, joined from several segments when the key holds dots (`practice-gate.io/exempt`). */
function keyStep(map: Record<string, unknown>, offsets: Offsets, segments: readonly (string | number)[], at: number): { key: string; offset: number | undefined; consumed: number } | undefined {
  for (let end = at + 1; end <= segments.length; end++) {
    const parts = segments.slice(at, end);
    if (parts.some((p) => typeof p === 'number')) break;
    const key = parts.join('.');
    if (!hasOwn(map, key)) continue;
    const index = offsets.indexOf(key, 1);
    return { key, offset: index === -1 ? undefined : (offsets[index + 1] as number), consumed: end - at };
  }
  return undefined;
}
