// Edits manifests as text, at the places the `yaml` library's parse tree points to: a value is
// replaced where it stands, a missing field is inserted into its nearest existing map (a line in
// a block map, `, key: value` in a flow map). Every other byte stays as written, so comments,
// key order, quoting, anchors, flow or block style and document separators are kept.
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import type { Document, LineCounter, Node } from 'yaml';
import { KUBECTL_YAML, pathSegments } from '../audit/index.js';

const require = createRequire(import.meta.url);
const yaml = (): typeof Yaml => require('yaml') as typeof Yaml;

/** One field to set: in document `document` (1-based), under `items[item]` of a List, at `path`. */
export interface FieldEdit {
  document: number;
  item?: number;
  path: string;
  value: boolean | string;
}

interface Parsed {
  docs: Document.Parsed[];
  lines: LineCounter;
}

function parse(text: string): Parsed {
  const { LineCounter, parseAllDocuments } = yaml();
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, ...KUBECTL_YAML });
  return { docs: Array.isArray(docs) ? docs : [], lines };
}

const keyPath = (edit: Pick<FieldEdit, 'item' | 'path'>): (string | number)[] => [
  ...(edit.item !== undefined ? ['items', edit.item] : []),
  ...pathSegments(edit.path),
];

/** The value at a path as the manifest has it (undefined when missing). */
export function valueAt(text: string, edit: Omit<FieldEdit, 'value'>): unknown {
  const node: unknown = parse(text).docs[edit.document - 1]?.getIn(keyPath(edit), true);
  return yaml().isScalar(node) ? node.value : node === undefined ? undefined : node;
}

/** The path runs through an anchor or an alias: that node is shared with other places, so editing it is a person's call. */
export function sharedOnPath(text: string, edit: Omit<FieldEdit, 'value'>): boolean {
  const { isAlias } = yaml();
  const doc = parse(text).docs[edit.document - 1];
  const path = keyPath(edit);
  for (let i = 1; i <= path.length; i++) {
    const node: unknown = doc?.getIn(path.slice(0, i), true);
    if (isAlias(node) || (typeof node === 'object' && node !== null && 'anchor' in node && typeof node.anchor === 'string')) return true;
  }
  return false;
}

const scalar = (value: boolean | string): string => String(value);

/** `a: {b: v}` as flow, or as indented block lines. */
function flowText(keys: readonly string[], value: boolean | string): string {
  const [first, ...rest] = keys;
  return rest.length === 0 ? `${first}: ${scalar(value)}` : `${first}: { ${flowText(rest, value)} }`;
}
function blockText(keys: readonly string[], value: boolean | string, indent: string): string {
  const [first, ...rest] = keys;
  if (rest.length === 0) return `${indent}${first}: ${scalar(value)}\n`;
  return `${indent}${first}:\n${blockText(rest, value, `${indent}  `)}`;
}

/** One edit on the text, or undefined when its place cannot be edited safely (the caller says why). */
function applyOne(text: string, edit: FieldEdit): string | undefined {
  const { isMap, isScalar, isSeq } = yaml();
  const { docs, lines } = parse(text);
  const doc = docs[edit.document - 1];
  if (!doc) return undefined;
  const path = keyPath(edit);
  // The deepest existing node on the path.
  let node: unknown = doc.contents;
  let depth = 0;
  for (; depth < path.length; depth++) {
    const segment = path[depth];
    const next: unknown = isMap(node)
      ? node.get(segment, true)
      : isSeq(node) && typeof segment === 'number'
        ? node.items[segment]
        : undefined;
    if (next === undefined || next === null) break;
    node = next;
  }
  if (depth === path.length) {
    if (!isScalar(node) || !node.range) return undefined;
    return text.slice(0, node.range[0]) + scalar(edit.value) + text.slice(node.range[1]);
  }
  const missing = path.slice(depth);
  if (!isMap(node) || !node.range || missing.some((k) => typeof k !== 'string')) return undefined;
  const keys = missing as string[];
  if (node.flow) {
    // Before the closing brace, after the last entry: `{ a: 1 }` -> `{ a: 1, b: true }`.
    const close = text.lastIndexOf('}', node.range[1]);
    if (close < node.range[0]) return undefined;
    let end = close;
    while (end > node.range[0] && /\s/.test(text[end - 1] ?? '')) end--;
    const empty = node.items.length === 0;
    const insert = empty ? ` ${flowText(keys, edit.value)} ` : `, ${flowText(keys, edit.value)}`;
    return text.slice(0, end) + insert + text.slice(empty ? close : end);
  }
  const first = node.items[0]?.key as Node | undefined;
  if (!first?.range) return undefined;
  const indent = ' '.repeat(lines.linePos(first.range[0]).col - 1);
  // After the line the map's last value ends on (its trailing comment included).
  let at = node.range[1];
  if (text[at - 1] !== '\n') {
    const newline = text.indexOf('\n', at);
    at = newline === -1 ? text.length : newline + 1;
  }
  const prefix = at === text.length && !text.endsWith('\n') ? '\n' : '';
  return text.slice(0, at) + prefix + blockText(keys, edit.value, indent) + text.slice(at);
}

/** The text with every edit applied, one at a time (a field inserted by one edit is where the next one goes); undefined if one cannot be. */
export function applyEdits(text: string, edits: readonly FieldEdit[]): string | undefined {
  let current = text;
  for (const edit of edits) {
    const next = applyOne(current, edit);
    if (next === undefined) return undefined;
    current = next;
  }
  return current;
}
