// Where in its file a finding is: the line and column of the field it names, or of the nearest
// field that exists when the named one is missing (a missing securityContext points at its
// container). Objects the fast parser read carry their positions from that parse
// (fast-positions.ts); the others, read by `yaml`, are read again by `yaml` with positions.
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import type { Document, LineCounter } from 'yaml';
import { KUBECTL_YAML } from './documents.js';
import { fastLocate } from './fast-positions.js';
import type { SourceObject } from './documents.js';
import type { SourceText } from './sources.js';

const require = createRequire(import.meta.url);
const yaml = (): typeof Yaml => require('yaml') as typeof Yaml;

export interface Position {
  /** 1-based, as editors and CI annotations count. */
  line: number;
  column: number;
}

/** `spec.containers[0].image` as keys and indexes: `['spec', 'containers', 0, 'image']`. */
export function pathSegments(path: string): (string | number)[] {
  const segments: (string | number)[] = [];
  for (const match of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    segments.push(match[2] !== undefined ? Number(match[2]) : (match[1] as string));
  }
  return segments;
}

interface Parsed {
  docs: Document.Parsed[];
  lines: LineCounter;
}

export class Locator {
  readonly #texts = new Map<string, string>();
  readonly #parsed = new Map<string, Parsed>();

  constructor(texts: readonly SourceText[]) {
    for (const { source, text } of texts) this.#texts.set(source, text);
  }

  #parse(source: string): Parsed | undefined {
    const cached = this.#parsed.get(source);
    if (cached) return cached;
    const text = this.#texts.get(source);
    if (text === undefined) return undefined;
    const { LineCounter, parseAllDocuments } = yaml();
    const lines = new LineCounter();
    const docs = parseAllDocuments(text, { lineCounter: lines, ...KUBECTL_YAML });
    const parsed = { docs: Array.isArray(docs) ? docs : [], lines };
    this.#parsed.set(source, parsed);
    return parsed;
  }

  /** The position of `path` in the object, or of its nearest existing ancestor; undefined for an object not read from a text. */
  locate(item: SourceObject, path: string): Position | undefined {
    const fast = fastLocate(item.object, pathSegments(path));
    if (fast) return fast;
    const parsed = this.#parse(item.source);
    const doc = parsed?.docs[(item.document ?? 1) - 1];
    if (!parsed || !doc) return undefined;
    const { isMap, isSeq } = yaml();
    let node: unknown = doc.contents;
    if (item.item !== undefined) {
      const items = isMap(node) ? node.get('items', true) : undefined;
      node = isSeq(items) ? items.items[item.item] : undefined;
    }
    let offset = rangeStart(node);
    const segments = pathSegments(path);
    for (let i = 0; i < segments.length && node !== undefined; ) {
      const step = this.#child(doc, node, segments, i);
      if (!step) break;
      node = step.node;
      offset = step.offset ?? offset;
      i += step.consumed;
    }
    if (offset === undefined) return undefined;
    const { line, col } = parsed.lines.linePos(offset);
    return { line, column: col };
  }

  /** One step down: a sequence index, or a map key (a key may hold dots: `practice-gate.io/exempt`). */
  #child(
    doc: Document.Parsed,
    node: unknown,
    segments: readonly (string | number)[],
    at: number,
  ): { node: unknown; offset: number | undefined; consumed: number } | undefined {
    const { isAlias, isMap, isScalar, isSeq } = yaml();
    const target = isAlias(node) ? node.resolve(doc) : node;
    const segment = segments[at];
    if (typeof segment === 'number') {
      if (!isSeq(target)) return undefined;
      const child: unknown = target.items[segment];
      return child === undefined ? undefined : { node: child, offset: rangeStart(child), consumed: 1 };
    }
    if (!isMap(target)) return undefined;
    for (let end = at + 1; end <= segments.length; end++) {
      const parts = segments.slice(at, end);
      if (parts.some((p) => typeof p === 'number')) break;
      const key = parts.join('.');
      const pair = target.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
      if (pair) return { node: pair.value ?? undefined, offset: rangeStart(pair.key), consumed: end - at };
    }
    return undefined;
  }
}

function rangeStart(node: unknown): number | undefined {
  if (typeof node !== 'object' || node === null || !('range' in node)) return undefined;
  const range = (node as { range?: [number, number, number] | null }).range;
  return range?.[0];
}
