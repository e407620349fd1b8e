// Rewrites of a checked rule's syntax tree before it is planned for evaluation: `matches` runs on
// RE2, and each comprehension pays for all its iterations from the rule's cost budget up front.
import type { ASTNode } from '@marcbachmann/cel-js';
import { RANGE_FUNCTION, RE2_MATCHES } from './cel-env.js';
// After cel-env.js, which loads the library's main module: loaded first, the serializer fails on a
// circular import inside the library ("Cannot access 'UnsignedInt' before initialization").
import { serialize } from '@marcbachmann/cel-js/serialize';

/** Macros that run their body once per element. */
const COMPREHENSIONS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);

interface Node {
  op: string;
  args: unknown;
  start?: number;
  end?: number;
}

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as Node).op === 'string';
}

/** Every node below and including `node`, depth first. */
export function* nodes(node: unknown): Generator<Node> {
  if (Array.isArray(node)) {
    for (const item of node) yield* nodes(item);
    return;
  }
  if (!isNode(node)) return;
  yield node;
  if (Array.isArray(node.args) || isNode(node.args)) yield* nodes(node.args);
}

export function countNodes(node: unknown): number {
  let count = 0;
  for (const _ of nodes(node)) count++;
  return count;
}

/** Literal patterns of `matches`, `find` and `findAll` calls, with where they are. */
export function regexLiterals(ast: ASTNode): { pattern: string; start: number }[] {
  const out: { pattern: string; start: number }[] = [];
  for (const node of nodes(ast)) {
    if ((node.op !== 'rcall' && node.op !== 'call') || !Array.isArray(node.args)) continue;
    const [name] = node.args as [unknown];
    if (name !== 'matches' && name !== 'find' && name !== 'findAll') continue;
    const callArgs = node.args[node.op === 'rcall' ? 2 : 1] as unknown;
    const pattern = Array.isArray(callArgs) ? (callArgs[node.op === 'rcall' ? 0 : 1] as unknown) : undefined;
    if (isNode(pattern) && pattern.op === 'value' && typeof pattern.args === 'string')
      out.push({ pattern: pattern.args, start: pattern.start ?? 0 });
  }
  return out;
}

/** The range of a comprehension, charged per element with the size of the bodies run for each. */
function charged(range: unknown, bodies: unknown[]): Node {
  return { op: 'call', args: [RANGE_FUNCTION, [{ op: 'value', args: BigInt(countNodes(bodies) + 1) }, range]] };
}

/** The expression to plan: the checked tree with RE2 `matches` and budgeted comprehensions. */
export function instrumented(ast: ASTNode): string {
  return serialize(instrument(ast) as ASTNode);
}

function instrument(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(instrument);
  if (!isNode(node)) return node;
  const args = Array.isArray(node.args) || isNode(node.args) ? instrument(node.args) : node.args;
  const out: Node = { op: node.op, args };
  if ((node.op === 'rcall' || node.op === 'call') && Array.isArray(args)) {
    if (args[0] === 'matches') args[0] = RE2_MATCHES;
    if (node.op === 'rcall' && typeof args[0] === 'string' && COMPREHENSIONS.has(args[0]) && Array.isArray(args[2])) {
      args[1] = charged(args[1], (args[2] as unknown[]).slice(1));
    }
  }
  return out;
}

/** The expression with every free use of identifier `name` replaced by `object.field`. */
export function rewriteIdentifier(ast: ASTNode, name: string, object: string, field: string): string {
  const replace = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(replace);
    if (!isNode(node)) return node;
    if (node.op === 'id' && node.args === name) return { op: '.', args: [{ op: 'id', args: object }, field] };
    return { op: node.op, args: Array.isArray(node.args) || isNode(node.args) ? replace(node.args) : node.args };
  };
  return serialize(replace(ast) as ASTNode);
}
