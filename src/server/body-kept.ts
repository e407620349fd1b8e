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
 * Numbers appended into a typed array that doubles when full: a plain array's push costs several
 * times as much for the hundreds of thousands a large container needs.
 */
export class Ints {
  data = new Int32Array(256);
  length = 0;

  push(n: number): void {
    if (this.length === this.data.length) {
      const grown = new Int32Array(this.data.length * 2);
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
    readonly names: ReadonlySet<string>,
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
