// Reads a large AdmissionReview's bytes without building it. JSON.parse of a 10 MiB review builds
// hundreds of thousands of objects (managedFields, volumes) that no judgement reads, and that is
// most of its cost; this scanner checks every byte against JSON's grammar but builds only what the
// projection (src/server/body-projection.ts) keeps, as slices of the body's text.
//
// It answers the same as JSON.parse of the body's UTF-8 decoding followed by the projection, or
// not at all: a body it does not accept (invalid, nested deeper than the parser allows, empty) is
// left to the parser (parseJsonBody), whose answer and messages are the event loop's. So it must
// never accept what JSON.parse refuses (test/server/body-scan.test.ts holds both ways over seeded
// mutations). Bytes of 0x80 and over are accepted only inside strings: the UTF-8 decoder turns
// anything there into some character, invalid sequences into U+FFFD, and JSON.parse accepts any
// character in a string but none outside one. Duplicate keys: the last value wins at the first
// key's place, as JSON.parse does (a Map keeps the first insertion's order).
import { Bounds, Compared, Elements, Fields, INT_ARRAYS, Ints, Present, Slice } from './body-kept.js';
import type { KeySet, Kept } from './body-kept.js';
import { PART_BYTES, PartWriter } from './body-part-writer.js';
import type { PartSink } from './body-part-writer.js';
import { MAX_JSON_DEPTH } from './json.js';
// Not body-projection.ts: the worker must not load the policies the projection is built from.
import { EACH } from './projection-plan.js';
import type { ProjectionPlan } from './projection-plan.js';

/** Thrown, once made, for any body the scanner leaves to the parser. */
class NotScanned extends Error {}
const NOT_SCANNED = new NotScanned('left to the parser');

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/** After a backslash in a string: the escapes JSON has (`u` is followed by four hex digits). */
const ESCAPES = new Uint8Array(256);
for (const c of '"\\/bfnrtu') ESCAPES[c.charCodeAt(0)] = 1;
const HEX = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;

class Scanner {
  i = 0;
  depth = 0;
  /** The deepest the body nests, as far as it has been read. */
  deepest = 0;
  readonly n: number;

  constructor(readonly b: Buffer) {
    this.n = b.length;
  }

  space(): void {
    const { b, n } = this;
    let i = this.i;
    while (i < n) {
      const c = b[i] as number;
      if (c !== SPACE && c !== LF && c !== CR && c !== TAB) break;
      i++;
    }
    this.i = i;
  }

  /** The byte at the cursor after white space; past the end, a byte no rule accepts. */
  peek(): number {
    this.space();
    return this.i < this.n ? (this.b[this.i] as number) : -1;
  }

  expect(c: number): void {
    if (this.peek() !== c) throw NOT_SCANNED;
    this.i++;
  }

  /** Past the comma or the `close` that follows a member or an element: true when another follows. */
  another(close: number): boolean {
    const next = this.peek();
    this.i++;
    if (next === close) return false;
    if (next !== COMMA) throw NOT_SCANNED;
    return true;
  }

  /** Skips the string whose opening quote is at the cursor; true when it holds an escape or a non-ASCII byte. */
  string(): boolean {
    const { b, n } = this;
    let i = this.i + 1;
    let plain = true;
    for (;;) {
      if (i >= n) throw NOT_SCANNED;
      const c = b[i++] as number;
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        plain = false;
        if (i >= n || ESCAPES[b[i] as number] !== 1) throw NOT_SCANNED;
        if (b[i++] === 0x75) {
          if (i + 4 > n) throw NOT_SCANNED;
          for (let k = 0; k < 4; k++) if (HEX[b[i++] as number] !== 1) throw NOT_SCANNED;
        }
      } else if (c < SPACE) throw NOT_SCANNED;
      else if (c >= 0x80) plain = false;
    }
    this.i = i;
    return !plain;
  }

  digits(): void {
    const { b, n } = this;
    const start = this.i;
    while (this.i < n && (b[this.i] as number) >= ZERO && (b[this.i] as number) <= NINE) this.i++;
    if (this.i === start) throw NOT_SCANNED;
  }

  number(): void {
    const { b } = this;
    if (b[this.i] === MINUS) this.i++;
    if (b[this.i] === ZERO) this.i++;
    else this.digits();
    if (b[this.i] === DOT) {
      this.i++;
      this.digits();
    }
    if ((b[this.i] as number | undefined) === 0x65 || (b[this.i] as number | undefined) === 0x45) {
      this.i++;
      if (b[this.i] === PLUS || b[this.i] === MINUS) this.i++;
      this.digits();
    }
  }

  literal(word: string): void {
    const { b, n } = this;
    if (this.i + word.length > n) throw NOT_SCANNED;
    for (let k = 0; k < word.length; k++) if (b[this.i + k] !== word.charCodeAt(k)) throw NOT_SCANNED;
    this.i += word.length;
  }

  open(): void {
    if (++this.depth > MAX_JSON_DEPTH) throw NOT_SCANNED;
    if (this.depth > this.deepest) this.deepest = this.depth;
    this.i++;
  }

  /** Skips the value at the cursor, checking it. */
  value(): void {
    const c = this.peek();
    if (c === QUOTE) this.string();
    else if (c === OPEN_BRACE) {
      this.open();
      if (this.peek() === CLOSE_BRACE) this.i++;
      else {
        for (;;) {
          if (this.peek() !== QUOTE) throw NOT_SCANNED;
          this.string();
          this.expect(COLON);
          this.value();
          if (!this.another(CLOSE_BRACE)) break;
        }
      }
      this.depth--;
    } else if (c === OPEN_BRACKET) {
      this.open();
      if (this.peek() === CLOSE_BRACKET) this.i++;
      else {
        do this.value();
        while (this.another(CLOSE_BRACKET));
      }
      this.depth--;
    } else if (c === 0x74) this.literal('true');
    else if (c === 0x66) this.literal('false');
    else if (c === 0x6e) this.literal('null');
    else if (c === MINUS || (c >= ZERO && c <= NINE)) this.number();
    else throw NOT_SCANNED;
  }

  /** The value at the cursor, checked and skipped: where it is in the body, as a `Place`. */
  skipped<T extends Slice>(Place: new (start: number, end: number) => T): T {
    this.peek();
    const start = this.i;
    this.value();
    return new Place(start, this.i);
  }

  /**
   * value() for a value kept whole, noting where a container's members are (see Slice). The same
   * grammar as value()'s, written out for the top level only: value() stays as lean as it is.
   */
  whole(): Slice {
    const c = this.peek();
    const start = this.i;
    if (c !== OPEN_BRACE && c !== OPEN_BRACKET) return this.skipped(Slice);
    const bounds = new Bounds();
    this.open();
    if (this.peek() === (c === OPEN_BRACE ? CLOSE_BRACE : CLOSE_BRACKET)) this.i++;
    else while (this.member(c === OPEN_BRACE, bounds));
    this.depth--;
    return new Slice(start, this.i, bounds);
  }

  /** One member of the container whole() reads, noted in `bounds`; true when another follows. */
  member(object: boolean, bounds: Bounds): boolean {
    const start = this.peek() === QUOTE || !object ? this.i : -1;
    if (start < 0) throw NOT_SCANNED;
    let keyEnd = start;
    if (object) {
      this.string();
      keyEnd = this.i;
      this.expect(COLON);
      this.peek();
    }
    bounds.member(start, keyEnd, this.i);
    this.value();
    bounds.end(this.i);
    return this.another(object ? CLOSE_BRACE : CLOSE_BRACKET);
  }

  /** True when the key whose quotes are at start and end is one of `names` (decoded when it holds escapes). */
  keyIn(start: number, end: number, escaped: boolean, names: readonly Buffer[], decoded: ReadonlySet<string>): boolean {
    if (escaped) return decoded.has(JSON.parse(this.b.toString('utf8', start, end)) as string);
    const { b } = this;
    const length = end - start - 2;
    for (const name of names) {
      if (name.length !== length) continue;
      // Byte by byte: Buffer#compare's argument checks cost more than comparing a short key.
      let j = 0;
      while (j < length && b[start + 1 + j] === name[j]) j++;
      if (j === length) return true;
    }
    return false;
  }

  /**
   * The array at the cursor, each object element read member by member for the unread keys of
   * `each`: those it marks unread, or where it compares others, every key it does not keep.
   */
  elements(each: ProjectionPlan): Elements {
    const compared = each.othersCompared === true;
    const decoded = new Set([...each.children].filter(([, child]) => child.unread !== compared).map(([key]) => key));
    const names = [...decoded].map((key) => Buffer.from(key, 'utf8'));
    const unreadKeys: KeySet = compared ? { has: (key) => !decoded.has(key) } : decoded;
    const start = this.i;
    const items = new Ints();
    const runs = new Ints();
    const unread = new Ints();
    this.open();
    if (this.peek() === CLOSE_BRACKET) this.i++;
    else {
      for (let k = 0; ; k++) {
        const object = this.peek() === OPEN_BRACE;
        const itemStart = this.i;
        const firstRun = runs.length >> 1;
        let runCount = -1;
        if (object) runCount = this.element(k, names, decoded, compared, runs, unread);
        else this.value();
        items.push(itemStart);
        items.push(this.i);
        items.push(firstRun);
        items.push(runCount);
        if (!this.another(CLOSE_BRACKET)) break;
      }
    }
    this.depth--;
    return new Elements(start, this.i, items.data, items.length >> 2, runs.data, unread.data, unread.length / 3, unreadKeys);
  }

  /**
   * The object at the cursor, element `k` of an array: where its unread members are (`unread`)
   * and the runs of members around them (`runs`). Unread: a key of `names`, or when `kept`, a key
   * that is not. The number of runs, or -1 when it has no unread member.
   */
  element(k: number, names: readonly Buffer[], decoded: ReadonlySet<string>, kept: boolean, runs: Ints, unread: Ints): number {
    const runsBefore = runs.length;
    let runStart = -1;
    let runEnd = -1;
    let any = false;
    this.open();
    if (this.peek() === CLOSE_BRACE) this.i++;
    else {
      for (;;) {
        if (this.peek() !== QUOTE) throw NOT_SCANNED;
        const memberStart = this.i;
        const escaped = this.string();
        const keyEnd = this.i;
        this.expect(COLON);
        this.value();
        if (this.keyIn(memberStart, keyEnd, escaped, names, decoded) !== kept) {
          any = true;
          if (runStart >= 0) {
            runs.push(runStart);
            runs.push(runEnd);
            runStart = -1;
          }
          unread.push(k);
          unread.push(memberStart);
          unread.push(this.i);
        } else {
          if (runStart < 0) runStart = memberStart;
          runEnd = this.i;
        }
        if (!this.another(CLOSE_BRACE)) break;
      }
    }
    this.depth--;
    if (!any) return -1;
    if (runStart >= 0) {
      runs.push(runStart);
      runs.push(runEnd);
    }
    return (runs.length - runsBefore) >> 1;
  }

  /** The value at the cursor as `plan` keeps it. */
  kept(plan: ProjectionPlan): Kept {
    if (plan.present && !plan.whole && !plan.keepOthers && !plan.each && plan.children.size === 0) return this.skipped(Present);
    if (plan.each && !plan.whole && this.peek() === OPEN_BRACKET) return this.elements(plan.each);
    if (this.peek() !== OPEN_BRACE || plan.whole) return this.whole();
    const fields = new Fields();
    this.open();
    if (this.peek() === CLOSE_BRACE) this.i++;
    else {
      for (;;) {
        if (this.peek() !== QUOTE) throw NOT_SCANNED;
        const start = this.i;
        const key = this.string()
          ? (JSON.parse(this.b.toString('utf8', start, this.i)) as string)
          : this.b.toString('latin1', start + 1, this.i - 1);
        this.expect(COLON);
        const child = plan.children.get(key) ?? (plan.keepOthers ? WHOLE_CHILD : undefined);
        if (child) fields.entries.set(key, this.kept(child));
        else if (plan.othersCompared) fields.entries.set(key, this.skipped(Compared));
        else this.value();
        if (!this.another(CLOSE_BRACE)) break;
      }
    }
    this.depth--;
    return fields;
  }
}

/** Every path marked unread under `plan` (relative to the object). */
export function unreadPaths(plan: ProjectionPlan, prefix: string[] = []): string[][] {
  if (plan.unread) return [prefix];
  const inElements = plan.each ? unreadPaths(plan.each, [...prefix, EACH]) : [];
  return [...[...plan.children].flatMap(([key, child]) => unreadPaths(child, [...prefix, key])), ...inElements];
}

const WHOLE_CHILD: ProjectionPlan = { whole: true, keepOthers: false, children: new Map(), unread: false };

function at(kept: Kept | undefined, path: readonly string[]): Kept | undefined {
  let cur = kept;
  for (const key of path) cur = cur instanceof Fields ? cur.entries.get(key) : undefined;
  return cur;
}

/** The parent Fields of `path` and the key in it, when the path is there and kept whole. */
function unreadSlice(object: Kept | undefined, path: readonly string[]): { parent: Fields; key: string; slice: Slice } | undefined {
  const parent = at(object, path.slice(0, -1));
  const key = path[path.length - 1];
  if (!(parent instanceof Fields) || key === undefined) return undefined;
  const slice = parent.entries.get(key);
  return slice instanceof Slice ? { parent, key, slice } : undefined;
}

/** The arrays (outside any array) whose elements' other members are compared (ProjectionPlan#othersCompared). */
function comparedArrays(plan: ProjectionPlan, prefix: string[] = []): string[][] {
  const here = plan.each?.othersCompared ? [prefix] : [];
  return [...here, ...[...plan.children].flatMap(([key, child]) => comparedArrays(child, [...prefix, key]))];
}

/**
 * Leaves out the unread fields object and oldObject hold alike, or that one holds and there is no
 * other object, and settles the Compared and Present ones.
 */
function dropUnread(body: Buffer, review: Kept, plan: ProjectionPlan): void {
  const request = at(review, ['request']);
  const object = at(request, ['object']);
  const oldObject = at(request, ['oldObject']);
  const objectPlan = plan.children.get('request')?.children.get('object');
  if (!objectPlan) return;
  const arrays = new Set<string>();
  const settleArray = (array: string[]) => {
    if (!arrays.has(array.join('\0'))) dropUnreadMembers(body, at(object, array), at(oldObject, array), object, oldObject);
    arrays.add(array.join('\0'));
  };
  for (const array of comparedArrays(objectPlan)) settleArray(array);
  settleStandIns(body, object, oldObject, true);
  for (const path of unreadPaths(objectPlan)) {
    const each = path.indexOf(EACH);
    if (each >= 0) {
      settleArray(path.slice(0, each));
      continue;
    }
    const a = unreadSlice(object, path);
    const b = unreadSlice(oldObject, path);
    const alike = a && b && body.subarray(a.slice.start, a.slice.end).equals(body.subarray(b.slice.start, b.slice.end));
    if (alike || (a && !(oldObject instanceof Fields))) a?.parent.entries.delete(a.key);
    if (alike || (b && !(object instanceof Fields))) b?.parent.entries.delete(b.key);
  }
}

const sameBytes = (body: Buffer, a: Slice, b: Slice): boolean => body.compare(body, a.start, a.end, b.start, b.end) === 0;

/**
 * Settles the Compared and Present fields of object (`a`) and oldObject (`b`), read alike.
 * Compared: where both hold the same bytes, or there is nothing to compare them with, they are
 * left out; otherwise exactly one of the two keeps an empty object in their place. Present: an
 * empty object stands in for the value where both hold the same bytes or there is nothing to
 * compare; otherwise (they differ, or only one holds the key) it is kept whole.
 * So comparing the projections finds the change the whole objects have (bytes that differ in a
 * value JSON.parse reads the same, as in `1.0` and `1`, count as a change: an UPDATE is judged the
 * more for it, never the less).
 */
function settleStandIns(body: Buffer, a: Kept | undefined, b: Kept | undefined, update: boolean): void {
  const fa = a instanceof Fields ? a : undefined;
  const fb = b instanceof Fields ? b : undefined;
  // Where only one of the two is an object, comparing them finds a change already.
  const both = update && fa !== undefined && fb !== undefined;
  for (const [key, value] of fa?.entries ?? []) {
    const other = fb?.entries.get(key);
    if (value instanceof Compared) {
      if (both && !(other instanceof Compared && sameBytes(body, value, other))) fa?.entries.set(key, new Fields());
      else fa?.entries.delete(key);
      if (other instanceof Compared) fb?.entries.delete(key);
    } else if (value instanceof Present) {
      const alike = other instanceof Present && sameBytes(body, value, other);
      if (alike || !both) fa?.entries.set(key, new Fields());
      if (alike) fb?.entries.set(key, new Fields());
    } else settleStandIns(body, value, both ? other : undefined, both);
  }
  for (const [key, value] of fb?.entries ?? []) {
    // Where `a` holds the key too, it was settled above.
    if (both && fa?.entries.has(key) === true) continue;
    if (value instanceof Compared) {
      if (both) fb?.entries.set(key, new Fields());
      else fb?.entries.delete(key);
    } else if (value instanceof Present) {
      if (!both) fb?.entries.set(key, new Fields());
    } else settleStandIns(body, undefined, value, false);
  }
}

/** The unread members of two arrays' elements are the same bytes at the same elements. */
function sameUnread(body: Buffer, a: Elements, b: Elements): boolean {
  if (a.count !== b.count || a.unreadCount !== b.unreadCount) return false;
  for (let i = 0; i < 3 * a.unreadCount; i += 3) {
    if (a.unread[i] !== b.unread[i]) return false;
    if (body.compare(body, a.unread[i + 1], a.unread[i + 2], b.unread[i + 1], b.unread[i + 2]) !== 0) return false;
  }
  return true;
}

/** dropUnread for the members of an array's elements (a pod's containers): by the same rule, array by array. */
function dropUnreadMembers(
  body: Buffer,
  a: Kept | undefined,
  b: Kept | undefined,
  object: Kept | undefined,
  oldObject: Kept | undefined,
): void {
  const ea = a instanceof Elements ? a : undefined;
  const eb = b instanceof Elements ? b : undefined;
  const alike = ea !== undefined && eb !== undefined && sameUnread(body, ea, eb);
  if (ea && (alike || !(oldObject instanceof Fields))) ea.drop = true;
  if (eb && (alike || !(object instanceof Fields))) eb.drop = true;
}

/** Where the members of the (already checked) container `slice` are (see Slice): noted when it was read, or read again. */
function members(body: Buffer, slice: Slice): Bounds {
  if (slice.bounds) return slice.bounds;
  const scanner = new Scanner(body);
  scanner.i = slice.start;
  return scanner.whole().bounds ?? new Bounds();
}

/**
 * The review in `body` projected by `plan`, as JSON text cut into parts of about `budget` bytes
 * (one part when it is shorter); undefined when the body is not one the scanner vouches for
 * (then JSON.parse decides, and gives the error).
 */
export function scanReviewParts(body: Buffer, plan: ProjectionPlan, budget = PART_BYTES): string[] | undefined {
  const parts: string[] = [];
  return scanReviewInto(body, plan, parts, budget) ? parts : undefined;
}

/**
 * scanReviewParts with each part handed to `sink` as it is made; false when the body is not one the
 * scanner vouches for (what the sink got of it is then to be thrown away).
 */
export function scanReviewInto(body: Buffer, plan: ProjectionPlan, sink: PartSink, budget = PART_BYTES): boolean {
  const scanner = new Scanner(body);
  try {
    const review = scanner.kept(plan);
    scanner.space();
    if (scanner.i !== scanner.n) return false;
    // Custom rules refuse an object nested this deep whole: they must get it whole to refuse it.
    if (plan.wholeBeyondDepth !== undefined && scanner.deepest > plan.wholeBeyondDepth)
      return scanReviewInto(body, WHOLE_CHILD, sink, budget);
    dropUnread(body, review, plan);
    new PartWriter(body, budget, (slice) => members(body, slice), sink).write(review);
    return true;
  } catch (err) {
    if (err === NOT_SCANNED) return false;
    throw err;
  } finally {
    // Nothing kept of this scan outlives it: its parts are text.
    INT_ARRAYS.reclaim();
  }
}

/** The review in `body` projected by `plan`, as one JSON text; undefined as for scanReviewParts. */
export function scanReview(body: Buffer, plan: ProjectionPlan): string | undefined {
  return scanReviewParts(body, plan, Number.POSITIVE_INFINITY)?.[0];
}
