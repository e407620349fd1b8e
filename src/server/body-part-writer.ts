// Cuts what the scanner kept of a large review (src/server/body-scan.ts) into parts of JSON text:
// the root first, then the members of each container too large for one part, a parent's before
// its children's (src/server/body-parts.ts joins them on the event loop).
import { Elements, Slice } from './body-kept.js';
import type { Bounds, KeySet, Kept } from './body-kept.js';

type Path = Array<string | number>;

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;

/** A container kept whole but larger than a part: left empty where it is, filled by parts of its own. */
interface Deferred {
  path: Path;
  slice: Slice;
  /** Keys of an object left out of it (an element's unread members). */
  skip?: KeySet;
}

/** An array whose elements go without their unread members, larger than a part: filled by parts of its own. */
interface DeferredElements {
  path: Path;
  elements: Elements;
}

/**
 * Bytes of JSON text per part: the event loop parses one in well under a millisecond. A part is
 * cut once it holds this many, so it may reach twice as many (one more member of up to this size)
 * and stays under V8's 128 KiB limit for a string in the young generation: each larger string is
 * placed in a space of its own, which made decoding 8 MiB of parts (and receiving them) ~40 ms
 * instead of ~1.
 */
export const PART_BYTES = 56 * 1024;

const isContainer = (body: Buffer, at: number) => body[at] === OPEN_BRACE || body[at] === OPEN_BRACKET;

/** The key a member's JSON text names. */
const keyOf = (text: string): string => (text.includes('\\') ? (JSON.parse(text) as string) : text.slice(1, -1));

/**
 * The members of one container on their way into parts: runs of them as they are in the body
 * (commas included) and texts written apart, closed into a part once about `budget` bytes are in.
 */
class Part {
  #segments: string[] = [];
  #used = 0;
  #runStart = -1;
  #runEnd = -1;

  constructor(
    readonly body: Buffer,
    readonly budget: number,
    /** Writes the part of these segments (joined by commas). */
    readonly close: (segments: string) => void,
  ) {}

  /** The member at bytes start..end of the body, joining the current run: callers skip() when the next one is not next to it. */
  run(start: number, end: number): void {
    if (this.#runStart < 0) this.#runStart = start;
    this.#runEnd = end;
    this.#count(end - start + 1);
  }

  /** A text of its own; `size` is what it counts toward the budget. */
  add(text: string, size: number): void {
    this.#endRun();
    this.#segments.push(text);
    this.#count(size);
  }

  /** Ends the current run: what follows is not next to it in the body. */
  skip(): void {
    this.#endRun();
  }

  flush(): void {
    this.#endRun();
    if (this.#segments.length > 0) this.close(this.#segments.join(','));
    this.#segments = [];
    this.#used = 0;
  }

  #count(size: number): void {
    this.#used += size;
    if (this.#used >= this.budget) this.flush();
  }

  #endRun(): void {
    if (this.#runStart >= 0) this.#segments.push(this.body.toString('utf8', this.#runStart, this.#runEnd));
    this.#runStart = -1;
  }
}

/** Where parts go as they are made, in order: an array, or src/server/body-parts.ts's EncodedParts. */
export interface PartSink {
  push(part: string): void;
}

/** Cuts the text of the review into parts of about `budget` bytes (src/server/body-parts.ts reads them). */
export class PartWriter {
  readonly #deferred: Array<Deferred | DeferredElements> = [];

  constructor(
    readonly body: Buffer,
    readonly budget: number,
    /** Where the members of a checked container are: noted when it was read, or read again. */
    readonly membersOf: (slice: Slice) => Bounds,
    readonly parts: PartSink,
  ) {}

  /** `kept` as text, with each container larger than a part left empty and deferred. */
  text(kept: Kept, path: Path, out: string[]): void {
    if (kept instanceof Elements) {
      if (!kept.drop) this.text(kept.end - kept.start > this.budget ? kept.asSlice() : new Slice(kept.start, kept.end), path, out);
      else if (kept.end - kept.start > this.budget) {
        this.#deferred.push({ path, elements: kept });
        out.push('[]');
      } else {
        const texts: string[] = [];
        for (let k = 0; k < kept.count; k++) texts.push(this.elementText(kept, k));
        out.push(`[${texts.join(',')}]`);
      }
      return;
    }
    if (kept instanceof Slice) {
      if (kept.end - kept.start > this.budget && isContainer(this.body, kept.start)) {
        this.#deferred.push({ path, slice: kept });
        out.push(this.body[kept.start] === OPEN_BRACE ? '{}' : '[]');
      } else out.push(this.body.toString('utf8', kept.start, kept.end));
      return;
    }
    out.push('{');
    let first = true;
    for (const [key, value] of kept.entries) {
      out.push(first ? '' : ',', JSON.stringify(key), ':');
      this.text(value, [...path, key], out);
      first = false;
    }
    out.push('}');
  }

  /** Writes the parts: the root first, then each deferred container's members, a parent's before its children's. */
  write(root: Kept): void {
    const out: string[] = [];
    this.text(root, [], out);
    this.parts.push(out.join(''));
    for (let next = this.#deferred.shift(); next; next = this.#deferred.shift()) {
      if ('elements' in next) this.#fillElements(next);
      else this.#fill(next);
    }
  }

  /** Element `k` as text: as it is in the body, or its runs of kept members between braces. */
  elementText(elements: Elements, k: number): string {
    const { items, runs } = elements;
    const count = items[4 * k + 3] as number;
    if (count < 0) return this.body.toString('utf8', items[4 * k], items[4 * k + 1]);
    const first = items[4 * k + 2] as number;
    let text = '{';
    for (let r = first; r < first + count; r++) {
      text += `${r === first ? '' : ','}${this.body.toString('utf8', runs[2 * r], runs[2 * r + 1])}`;
    }
    return `${text}}`;
  }

  /** The elements of a deferred array, without their unread members, in parts; an element larger than a part is deferred in turn. */
  #fillElements({ path, elements }: DeferredElements): void {
    const body = this.body;
    const { items } = elements;
    const pathText = JSON.stringify(path);
    const part = new Part(body, this.budget, (values) => this.parts.push(`{"path":${pathText},"values":[${values}]}`));
    for (let k = 0; k < elements.count; k++) {
      const start = items[4 * k] as number;
      const end = items[4 * k + 1] as number;
      const whole = items[4 * k + 3] === -1;
      const big = end - start > this.budget && isContainer(body, start);
      // Elements as they are in the body go in runs, commas included, as #fill writes them.
      if (whole && !big) part.run(start, end);
      else if (!big) part.add(this.elementText(elements, k), end - start + 1);
      else if (whole) {
        const placeholder: string[] = [];
        this.text(new Slice(start, end), [...path, k], placeholder);
        part.add(placeholder.join(''), 2);
      } else {
        this.#deferred.push({ path: [...path, k], slice: new Slice(start, end), skip: elements.names });
        part.add('{}', 2);
      }
    }
    part.flush();
  }

  #fill({ path, slice, skip }: Deferred): void {
    const body = this.body;
    const object = body[slice.start] === OPEN_BRACE;
    // Four numbers a member, read in place: a hundred thousand members must not cost an object each.
    const { data, length } = this.membersOf(slice);
    const count = length >> 2;
    const start = (k: number) => data[4 * k] as number;
    const keyText = (k: number) => body.toString('utf8', start(k), data[4 * k + 1]);
    const valueStart = (k: number) => data[4 * k + 2] as number;
    const valueEnd = (k: number) => data[4 * k + 3] as number;
    const big = (k: number) => valueEnd(k) - valueStart(k) > this.budget && isContainer(body, valueStart(k));
    // Where a key repeats, JSON.parse keeps the last value at the first key's place: parts
    // appended by path could not tell two deferred values apart, so such an object's go whole.
    const keys = object ? Array.from({ length: count }, (_, k) => keyOf(keyText(k))) : [];
    let anyBig = false;
    for (let k = 0; k < count && !anyBig; k++) anyBig = big(k);
    const defer = !object || !anyBig || new Set(keys).size === keys.length;
    const pathText = JSON.stringify(path);
    const part = new Part(body, this.budget, (members) =>
      this.parts.push(`{"path":${pathText},${object ? `"members":{${members}}` : `"values":[${members}]`}}`),
    );
    for (let k = 0; k < count; k++) {
      if (skip?.has(keys[k] ?? '')) part.skip();
      else if (defer && big(k)) {
        const placeholder: string[] = [];
        this.text(new Slice(valueStart(k), valueEnd(k)), [...path, object ? (keys[k] ?? '') : k], placeholder);
        part.add(`${object ? `${keyText(k)}:` : ''}${placeholder.join('')}`, 2);
      } else part.run(start(k), valueEnd(k));
    }
    part.flush();
  }
}
