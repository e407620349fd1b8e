// What the scanner (src/server/body-scan.ts) keeps of a large review, as places in its bytes, and
// what the part writer (src/server/body-part-writer.ts) writes out of them.

/**
 * A value kept whole: its bytes in the body, and for a container the scanner read, where its
 * members are, four numbers each (start, key end, value start, value end; in an array the key
 * is empty): a container larger than a part is cut at its members without scanning it again.
 */
export class Slice {
  constructor(
    readonly start: number,
    readonly end: number,
    readonly bounds?: Bounds,
  ) {}
}

/**
 * The typed arrays of Ints, kept from one scan for the next: a worker scans one body at a time, and
 * a scan is synchronous. New memory costs a page fault per 4 KiB as it is first written: the arrays
 * of a 16 MiB review (~8 MiB) cost the worker ~2,000 of them, 25 ms on the bench's machine, each
 * time. At most KEPT_BYTES are kept, the largest arrays first.
 */
class IntArrays {
  static readonly KEPT_BYTES = 16 * 1024 * 1024;
  #free: Int32Array[] = [];
  readonly #lent: Int32Array[] = [];

  /** An array of at least `length` (its numbers are left from earlier use: readers stop at Ints#length). */
  take(length: number): Int32Array {
    let best = -1;
    for (let k = 0; k < this.#free.length; k++) {
      const size = (this.#free[k] as Int32Array).length;
      if (size >= length && (best < 0 || size < (this.#free[best] as Int32Array).length)) best = k;
    }
    const array = best >= 0 ? (this.#free.splice(best, 1)[0] as Int32Array) : new Int32Array(length);
    this.#lent.push(array);
    return array;
  }

  /** Every array taken since the last call is free again: the scan that held them is over. */
  reclaim(): void {
    const all = [...this.#free, ...this.#lent.splice(0)].sort((a, b) => b.length - a.length);
    this.#free = [];
    let bytes = 0;
    for (const array of all) {
      bytes += array.byteLength;
      if (bytes <= IntArrays.KEPT_BYTES) this.#free.push(array);
    }
  }
}

export const INT_ARRAYS = new IntArrays();

/**
 * Numbers appended into a typed array that doubles when full: a plain array's push costs several
 * times as much for the hundreds of thousands a large container needs.
 */
export class Ints {
  data = INT_ARRAYS.take(256);
  length = 0;

  push(n: number): void {
    if (this.length === this.data.length) {
      const grown = INT_ARRAYS.take(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = n;
  }
}

/** Where a container's members are: four numbers each, start, key end, value start and value end. */
export class Bounds extends Ints {
  member(start: number, keyEnd: number, valueStart: number): void {
    this.push(start);
    this.push(keyEnd);
    this.push(valueStart);
  }

  end(valueEnd: number): void {
    this.push(valueEnd);
  }
}

/**
 * A value no judgement reads but an UPDATE compares (ProjectionPlan#othersCompared): left out, or
 * replaced by a mark, once the scan has compared it with the other object's (body-scan.ts).
 */
export class Compared extends Slice {}

/**
 * A value only asked whether it is there (ProjectionPlan#present): an empty object stands in for
 * it once the scan has compared it with the other object's, or it is kept whole where they differ.
 */
export class Present extends Slice {}

/** An object read field by field: the kept keys, in JSON.parse's order. */
export class Fields {
  readonly entries = new Map<string, Kept>();
}

/**
 * An array whose object elements have unread members (a pod's containers): where each element
 * is, and for those with an unread member the runs of members kept around them. Typed arrays, not
 * an object per element: a 16 MiB review has ~50,000 containers.
 */
export class Elements {
  /** Set by dropUnread: written without the unread members (else as it is in the body). */
  drop = false;

  constructor(
    readonly start: number,
    readonly end: number,
    /** Per element: start, end, first run in `runs`, run count (-1: nothing unread in it). */
    readonly items: Int32Array,
    readonly count: number,
    /** Start and end of each run of kept members. */
    readonly runs: Int32Array,
    /** Element index, start and end of each unread member: what an UPDATE compares. */
    readonly unread: Int32Array,
    readonly unreadCount: number,
    /** The unread keys (src/server/body-projection.ts). */
    readonly names: KeySet,
  ) {}

  /** The elements as a Slice with their bounds, for #fill to cut at. */
  asSlice(): Slice {
    const bounds = new Bounds();
    for (let k = 0; k < this.count; k++) {
      const start = this.items[4 * k] as number;
      bounds.member(start, start, start);
      bounds.end(this.items[4 * k + 1] as number);
    }
    return new Slice(this.start, this.end, bounds);
  }
}

export type Kept = Slice | Fields | Elements;

/** The keys a test takes: a set, or every key but a set's. */
export interface KeySet {
  has(key: string): boolean;
}
