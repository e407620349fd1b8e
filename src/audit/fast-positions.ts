// Where each key and sequence item of a fast-parsed document starts, recorded from js-yaml's
// node events during the one fast parse, so that a finding's line costs no second parse.
// Offsets only (a number per key); lines and columns are worked out for the few that are asked.
// test/audit/fast-positions.test.ts holds every position to the one `yaml` gives.
import type { LoadOptions } from 'js-yaml';

/**
 * Where the keys and items of one text's collections start, flat so that a text of thousands of
 * mappings costs a few arrays rather than objects per mapping. Each collection is a record at
 * some index of `log`: for a mapping, its key count n, then n times (offset, index of the key in
 * `names`, record of the value or -1); for a sequence, -1 - its item count, then per item
 * (offset, record of the item or -1).
 */
interface Log {
  log: number[];
  names: unknown[];
}

/** A text whose line starts are counted once, when one of its positions is first asked for. */
export class PositionedText {
  #lineStarts: number[] | undefined;
  constructor(readonly text: string) {}

  /** 1-based line and column of an offset, as `yaml`'s LineCounter gives them. */
  position(offset: number): { line: number; column: number } {
    this.#lineStarts ??= lineStarts(this.text);
    const starts = this.#lineStarts;
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

/** What the fast parse leaves for its positions: the record of each document's value. */
export interface PositionRecorder extends Log {
  listener: NonNullable<LoadOptions['listener']>;
  /** One per document, in order (-1 for a scalar or empty document). */
  documents: number[];
  /** Where each document's value starts. */
  starts: number[];
}

/**
 * A js-yaml `listener` that records the offsets. A node opens where its first character is
 * (keys and items are composed without seeking); a node is a key when `:` follows it on its
 * line. Each closed node stays on a stack (parallel arrays, `top` deep) until its parent closes.
 */
export function positionRecorder(): PositionRecorder {
  const opened: number[] = [];
  const firstChild: number[] = [];
  const offsets: number[] = [];
  const results: unknown[] = [];
  const records: number[] = [];
  const isKey: boolean[] = [];
  let top = 0;
  const log: number[] = [];
  const names: unknown[] = [];
  const recorder: PositionRecorder = {
    log,
    names,
    documents: [],
    starts: [],
    listener(event, state) {
      if (event === 'open') {
        opened.push(state.position);
        firstChild.push(top);
        return;
      }
      const start = opened.pop() as number;
      const from = firstChild.pop() as number;
      const result: unknown = state.result;
      let record = -1;
      if (typeof result === 'object' && result !== null) {
        // A collection read as a candidate key (`- {a: 1}`) closes again in its parent node.
        if (top - from === 1 && results[from] === result) record = records[from] as number;
        else record = Array.isArray(result) ? sequence(result.length, from, top) : mapping(from, top);
      }
      top = from;
      offsets[top] = start;
      results[top] = result;
      records[top] = record;
      isKey[top] = state.kind === 'scalar' && colonFollows(state.input, state.position);
      top++;
      if (opened.length === 0) {
        recorder.documents.push(record);
        recorder.starts.push(start);
        top = 0;
      }
    },
  };

  function mapping(from: number, to: number): number {
    const at = log.length;
    log.push(0);
    let count = 0;
    for (let i = from; i < to; i++) {
      if (!isKey[i]) continue;
      log.push(offsets[i] as number, names.length, i + 1 < to && !isKey[i + 1] ? (records[i + 1] as number) : -1);
      names.push(results[i]);
      count++;
    }
    log[at] = count;
    return at;
  }

  function sequence(length: number, from: number, to: number): number {
    const at = log.length;
    log.push(-1 - length);
    let count = 0;
    for (let i = from; i < to; i++, count++) {
      if (!isKey[i]) {
        log.push(offsets[i] as number, records[i] as number);
        continue;
      }
      // A flow pair in a sequence (`[a: b]`): a one-key mapping of two nodes, starting at its key.
      log.push(offsets[i] as number, -2 - i);
      i++;
    }
    if (count !== length) {
      log.length = at;
      log.push(-1);
      return at;
    }
    // The flow pairs' own records, after the sequence's.
    for (let item = 0; item < length; item++) {
      const slot = at + 1 + 2 * item + 1;
      const mark = log[slot] as number;
      if (mark > -2) continue;
      const i = -2 - mark;
      log[slot] = log.length;
      log.push(1, offsets[i] as number, names.length, i + 1 < to ? (records[i + 1] as number) : -1);
      names.push(results[i]);
    }
    return at;
  }

  return recorder;
}

function colonFollows(input: string, at: number): boolean {
  let i = at;
  while (input.charCodeAt(i) === 0x20) i++;
  return input.charCodeAt(i) === 0x3a;
}

/** Where an object the audit judges was read: its record in the log, where it starts, and the text. */
interface FastOrigin {
  positions: Log;
  record: number;
  start: number;
  text: PositionedText;
}

/** The fast-parsed origin of each object the audit judges (a document's value, or a List's item). */
const ORIGINS = new WeakMap<object, FastOrigin>();

/** Records where `object` was read: document `index` of the recorder, or item `item` of its List. */
export function rememberOrigin(
  object: object,
  recorder: PositionRecorder,
  index: number,
  item: number | undefined,
  text: PositionedText,
): void {
  const positions: Log = { log: recorder.log, names: recorder.names };
  let record = recorder.documents[index] ?? -1;
  let start = recorder.starts[index] as number;
  if (item !== undefined) {
    const items = child(positions, record, ['items'], 0);
    const entry = items ? child(positions, items.record, [item], 0) : undefined;
    record = entry?.record ?? -1;
    start = entry?.offset ?? start;
  }
  ORIGINS.set(object, { positions, record, start, text });
}

/**
 * One step down from a record: an item, or a key (joined from several segments when the key
 * holds dots, `practice-gate.io/exempt`, as locate.ts joins them).
 */
function child(
  { log, names }: Log,
  record: number,
  segments: readonly (string | number)[],
  at: number,
): { offset: number; record: number; consumed: number } | undefined {
  if (record < 0) return undefined;
  const head = log[record] as number;
  const segment = segments[at] as string | number;
  if (typeof segment === 'number') {
    if (head >= 0 || segment >= -1 - head) return undefined;
    const slot = record + 1 + 2 * segment;
    return { offset: log[slot] as number, record: log[slot + 1] as number, consumed: 1 };
  }
  if (head < 0) return undefined;
  for (let end = at + 1; end <= segments.length; end++) {
    const parts = segments.slice(at, end);
    if (parts.some((p) => typeof p === 'number')) break;
    const key = parts.join('.');
    for (let slot = record + 1; slot < record + 1 + 3 * head; slot += 3) {
      if (String(names[log[slot + 1] as number]) === key)
        return { offset: log[slot] as number, record: log[slot + 2] as number, consumed: end - at };
    }
  }
  return undefined;
}

/**
 * The position of `segments` in a fast-parsed object, or of its nearest existing ancestor;
 * the same walk as locate.ts makes through `yaml`'s nodes. Undefined for an object the fast
 * path did not read.
 */
export function fastLocate(object: object, segments: readonly (string | number)[]): { line: number; column: number } | undefined {
  const origin = ORIGINS.get(object);
  if (!origin) return undefined;
  let record = origin.record;
  let offset = origin.start;
  for (let i = 0; i < segments.length && record >= 0; ) {
    const step = child(origin.positions, record, segments, i);
    if (!step) break;
    offset = step.offset;
    record = step.record;
    i += step.consumed;
  }
  return origin.text.position(offset);
}
