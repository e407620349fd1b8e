import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import type { Document, LineCounter, Node, YAMLError } from 'yaml';
import { isRecord } from '../engine/index.js';
import type { KubeObject } from '../engine/index.js';
import { PositionedText, positionRecorder, rememberOrigin } from './fast-positions.js';
import { FLOAT, FLOAT_EXP, fastDocuments } from './fast-yaml.js';
import { helmTemplates } from './helm-source.js';
import type { InputProblem, SourceText } from './sources.js';

// The `yaml` library reads only what the fast path declines: loaded then, not at start-up
// (a require shares the instance that an `import 'yaml'` elsewhere gets).
const require = createRequire(import.meta.url);
let yamlLibrary: typeof Yaml | undefined;
function yaml(): typeof Yaml {
  yamlLibrary ??= require('yaml') as typeof Yaml;
  return yamlLibrary;
}

/** A Kubernetes object read from an input, with where it came from for the report. */
export interface SourceObject {
  object: KubeObject;
  source: string;
  /** 1-based document, set only when the source holds several (one-document files need no number). */
  document?: number;
  /** 0-based index in the `items` of a List document, for finding the object's lines again. */
  item?: number;
  /** The chart template the document was rendered from, as helm's `# Source:` comment names it. */
  template?: string;
}

export interface ParsedSource {
  objects: SourceObject[];
  problems: InputProblem[];
}

/** `kind: List`, or any `*List` (`DeploymentList`, ...) whose items are the objects. */
function isList(value: Record<string, unknown>): value is Record<string, unknown> & { items: unknown[] } {
  return typeof value.kind === 'string' && value.kind.endsWith('List') && Array.isArray(value.items);
}

/** The yaml library's message without its own position suffix, which we state our way. */
function yamlErrorText(err: YAMLError): { line: number | undefined; message: string } {
  const start = err.linePos?.[0];
  const match = /^(.*?) at line \d+, column \d+:?\s*\n?([\s\S]*)$/.exec(err.message);
  const head = match?.[1] ?? err.message;
  const excerpt = (match?.[2] ?? '').replace(/\s+$/, '');
  const column = start ? ` (column ${start.col})` : '';
  const shown =
    excerpt === ''
      ? ''
      : `\n${excerpt
          .split('\n')
          .map((l) => `    ${l}`)
          .join('\n')}`;
  return { line: start?.line, message: `${head}${column}${shown}` };
}

function lineOf(node: Node | null | undefined, lines: LineCounter): number | undefined {
  const offset = node?.range?.[0];
  return offset === undefined ? undefined : lines.linePos(offset).line;
}

/** The node of `items[index]` in a List document, to point at the item's own line. */
function itemNode(doc: Document.Parsed, index: number): Node | undefined {
  const { isMap, isSeq } = yaml();
  if (!isMap(doc.contents)) return undefined;
  const items = doc.contents.get('items', true);
  const item: unknown = isSeq(items) ? items.items[index] : undefined;
  return item && typeof item === 'object' && 'range' in item ? (item as Node) : undefined;
}

/** Where a problem in one document is: the document itself, or `items[index]` of its List. */
type ProblemAt = (message: string, itemIndex?: number) => void;

/**
 * The Kubernetes objects of one document's value (nothing for an empty document), and its
 * problems through `problemAt`. The same for both parsers, so that they cannot disagree.
 */
function objectsOf(
  value: unknown,
  source: string,
  at: { document?: number; template?: string },
  objects: SourceObject[],
  problemAt: ProblemAt,
): void {
  // helm and kustomize emit empty documents between `---`: nothing to judge, nothing wrong.
  if (value === null || value === undefined) return;
  if (!isRecord(value)) {
    problemAt(`not a Kubernetes object (found ${Array.isArray(value) ? 'a list' : `a ${typeof value}`})`);
    return;
  }
  if (typeof value.kind !== 'string' || value.kind === '') {
    problemAt('not a Kubernetes object: it has no kind');
    return;
  }
  if (!isList(value)) {
    objects.push({ object: value as KubeObject, source, ...at });
    return;
  }
  // Typed lists straight from the API (DeploymentList) leave kind off their items.
  const itemKind = value.kind === 'List' ? undefined : value.kind.slice(0, -'List'.length);
  value.items.forEach((item: unknown, index) => {
    if (!isRecord(item)) {
      problemAt(`${value.kind} items[${index}] is not a Kubernetes object`, index);
    } else if (typeof item.kind === 'string' && item.kind !== '') {
      objects.push({ object: item as KubeObject, source, ...at, item: index });
    } else if (itemKind) {
      objects.push({ object: { apiVersion: value.apiVersion, ...item, kind: itemKind } as KubeObject, source, ...at, item: index });
    } else {
      problemAt(`${value.kind} items[${index}] has no kind`, index);
    }
  });
}

/**
 * Every Kubernetes object in one input: multi-document YAML, JSON (a YAML subset), and
 * List objects. Each malformed document becomes a problem naming its position; the
 * other documents are still returned.
 *
 * Most inputs are read by the fast path (fast-yaml.ts); whenever it declines, or finds
 * anything to report (which needs the positions only `yaml` keeps), the input is read again
 * by `yaml`, the reference.
 */
export function parseSource(input: SourceText): ParsedSource {
  return parseSourceFast(input) ?? parseSourceWithYaml(input);
}

/** The fast path alone: undefined when it declines or when the input has a problem to report. */
export function parseSourceFast({ source, text }: SourceText): ParsedSource | undefined {
  const positions = positionRecorder();
  const values = fastDocuments(text, positions.listener);
  if (values === undefined) return undefined;
  const multi = values.length > 1;
  const templates = helmTemplates(text, values.length);
  const objects: SourceObject[] = [];
  let problem = false;
  values.forEach((value, i) => {
    if (!problem)
      objectsOf(value, source, documentAt(i, multi, templates), objects, () => {
        problem = true;
      });
  });
  if (problem) return undefined;
  // Each object keeps the node it was read as, for its findings' positions (fast-positions.ts).
  const positioned = new PositionedText(text);
  for (const item of objects) rememberOrigin(item.object, positions, (item.document ?? 1) - 1, item.item, positioned);
  return { objects, problems: [] };
}

/**
 * Manifests mean what kubectl makes of them: kubectl and helm read YAML with go-yaml v2, which
 * speaks YAML 1.1 (`yes`, `on`, `y` are true; `<<` merges mappings; `010` is octal) but keeps
 * timestamps as strings and knows no sexagesimal numbers (`1:30` stays a string). So: the
 * `yaml` library's 1.1 schema without its time types.
 */
export const KUBECTL_YAML = {
  version: '1.1',
  customTags: (tags: Yaml.Tags): Yaml.Tags =>
    tags
      .filter((tag) => !(typeof tag === 'object' && (tag.format === 'TIME' || tag.tag === 'tag:yaml.org,2002:timestamp')))
      .map((tag) => {
        if (typeof tag !== 'object' || tag.tag !== 'tag:yaml.org,2002:float' || !(tag.test instanceof RegExp)) return tag;
        const scalar = tag as Yaml.ScalarTag;
        if (tag.format === 'EXP') return { ...scalar, test: FLOAT_EXP };
        return tag.test.test('.') ? { ...scalar, test: FLOAT } : tag;
      }),
} satisfies Yaml.DocumentOptions & Yaml.SchemaOptions;

/** The reference: the `yaml` library, with the line of every problem. */
export function parseSourceWithYaml({ source, text }: SourceText): ParsedSource {
  const { LineCounter, parseAllDocuments } = yaml();
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, ...KUBECTL_YAML });
  const multi = docs.length > 1;
  const templates = helmTemplates(text, docs.length);
  const objects: SourceObject[] = [];
  const problems: InputProblem[] = [];

  docs.forEach((doc, i) => {
    const document = i + 1;
    if (doc.errors.length > 0) {
      let previous: string | undefined;
      for (const err of doc.errors) {
        // The parser often reports one mistake several ways at the same spot: the first says it best.
        const position = String(err.pos[0]);
        if (position === previous) continue;
        previous = position;
        const { line, message } = yamlErrorText(err);
        problems.push({ source, document, ...(line !== undefined ? { line } : {}), ...templateField(templates, i), message });
      }
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS();
    } catch (err) {
      problems.push({
        source,
        document,
        ...lineField(lineOf(doc.contents, lines)),
        ...templateField(templates, i),
        message: (err as Error).message,
      });
      return;
    }
    const docLine = lineOf(doc.contents, lines);
    objectsOf(value, source, documentAt(i, multi, templates), objects, (message, itemIndex) => {
      const line = itemIndex === undefined ? docLine : (lineOf(itemNode(doc, itemIndex), lines) ?? docLine);
      problems.push({ source, document, ...lineField(line), ...templateField(templates, i), message });
    });
  });
  return { objects, problems };
}

/** Where a document is: its number in a stream, and the template helm rendered it from. */
function documentAt(
  index: number,
  multi: boolean,
  templates: readonly (string | undefined)[] | undefined,
): { document?: number; template?: string } {
  return { ...(multi ? { document: index + 1 } : {}), ...templateField(templates, index) };
}

function templateField(templates: readonly (string | undefined)[] | undefined, index: number): { template?: string } {
  const template = templates?.[index];
  return template === undefined ? {} : { template };
}

function lineField(line: number | undefined): { line?: number } {
  return line === undefined ? {} : { line };
}
