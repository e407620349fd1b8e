// The CEL environment custom rules compile in: the standard library of @marcbachmann/cel-js
// plus the Kubernetes extensions rules need in practice (docs/rules.md lists exactly which).
// Built once per process; every rule compiles against it and nothing is registered later.
import { Environment } from '@marcbachmann/cel-js';
import { Quantity } from './quantity.js';
import { find, findAll, matches } from './regex.js';

/** Every variable a rule may read; all are dynamic, as unstructured objects are in the API server. */
export const RULE_VARIABLES = ['object', 'oldObject', 'request', 'namespaceObject', 'podSpec', 'container'] as const;
export type RuleVariable = (typeof RULE_VARIABLES)[number];

/**
 * The function the loader puts around the range of each comprehension (ast.ts): it charges the
 * whole loop to the budget before the loop runs (elements x cost of the body), and once the budget
 * is spent it hands every later loop an empty range. CEL absorbs errors inside `||`, `&&` and
 * macros, so a throw could not stop the loops; the empty ranges do, and the evaluator refuses
 * the result of an evaluation that went over (compile.ts).
 */
export const RANGE_FUNCTION = '__pgRange';
/** RE2 `matches`: the loader renames calls of `matches` to it (compile.ts). */
export const RE2_MATCHES = '__pgMatches';

/** Structural limits at parse time, as the API server's CEL has them. */
export const PARSE_LIMITS = { maxAstNodes: 2000, maxDepth: 64, maxListElements: 1000, maxMapEntries: 1000, maxCallArguments: 32 };

/** The cost spent by the expression being evaluated; reset before each (one thread, synchronous). */
export interface StepCounter {
  spent: number;
  budget: number;
}

function sizeOf(range: unknown): number {
  if (Array.isArray(range)) return range.length;
  if (range instanceof Map) return range.size;
  return typeof range === 'object' && range !== null ? Object.keys(range).length : 0;
}

function emptyLike(range: unknown): unknown {
  return Array.isArray(range) ? [] : new Map();
}

export class BudgetExceeded extends Error {
  constructor(budget: number) {
    super(`over its cost budget of ${budget} steps`);
    this.name = 'BudgetExceeded';
  }
}

// Rules parse the same few quantities on every review (a literal cap such as quantity('4Gi'), the
// limits of the usual containers): parse each text once. Quantities are immutable; the cache is
// emptied when full, so a stream of distinct texts costs no more than parsing them.
const PARSED_LIMIT = 1024;
const parsed = new Map<string, Quantity | undefined>();

function parseQuantity(text: string): Quantity | undefined {
  if (parsed.has(text)) return parsed.get(text);
  const q = Quantity.parse(text);
  if (parsed.size >= PARSED_LIMIT) parsed.clear();
  parsed.set(text, q);
  return q;
}

function quantityOf(text: string): Quantity {
  const q = parseQuantity(text);
  if (q === undefined)
    throw new Error(`quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': "${text}"`);
  return q;
}

function integerOf(q: Quantity): bigint {
  const value = q.asInteger();
  if (value === undefined) throw new Error(`cannot convert quantity "${q.text}" to an integer`);
  return value;
}

type Comparable = bigint | number | string;

function ordered(list: readonly unknown[]): Comparable[] {
  return list.map((item) => {
    if (typeof item === 'bigint' || typeof item === 'number' || typeof item === 'string') return item;
    throw new Error('list elements must be int, double or string to compare them');
  });
}

function extreme(list: readonly unknown[], pick: (a: Comparable, b: Comparable) => boolean): Comparable {
  const items = ordered(list);
  if (items.length === 0) throw new Error('min/max of an empty list');
  return items.reduce((best, item) => (pick(item, best) ? item : best));
}

export function ruleEnvironment(counter: StepCounter): Environment {
  const env = new Environment({ enableOptionalTypes: true, homogeneousAggregateLiterals: false, limits: PARSE_LIMITS });
  for (const name of RULE_VARIABLES) env.registerVariable(name, 'dyn');
  env.registerType('Quantity', Quantity);
  env
    .registerFunction(`${RANGE_FUNCTION}(int, T): T`, (cost: bigint, range: unknown) => {
      if (counter.spent > counter.budget) return emptyLike(range);
      counter.spent += 1 + sizeOf(range) * Number(cost);
      return counter.spent > counter.budget ? emptyLike(range) : range;
    })
    .registerFunction(`string.${RE2_MATCHES}(string): bool`, matches)
    .registerFunction(`${RE2_MATCHES}(string, string): bool`, matches)
    .registerFunction('string.find(string): string', find)
    .registerFunction('string.findAll(string): list<string>', (s: string, p: string) => findAll(s, p))
    .registerFunction('string.findAll(string, int): list<string>', (s: string, p: string, n: bigint) => findAll(s, p, Number(n)))
    // Kubernetes strings extension (cel-go ext.Strings) beyond what the library has.
    .registerFunction('string.charAt(int): string', (s: string, i: bigint) => {
      if (i < 0n || i > BigInt(s.length)) throw new Error('index out of range');
      return s.charAt(Number(i));
    })
    .registerFunction('string.replace(string, string): string', (s: string, from: string, to: string) => s.split(from).join(to))
    .registerFunction('string.replace(string, string, int): string', (s: string, from: string, to: string, n: bigint) => {
      const parts = s.split(from);
      if (n < 0n || BigInt(parts.length - 1) <= n) return parts.join(to);
      return parts.slice(0, Number(n) + 1).join(to) + from + parts.slice(Number(n) + 1).join(from);
    })
    .registerFunction('string.reverse(): string', (s: string) => [...s].reverse().join(''))
    // Kubernetes lists library.
    .registerFunction('list.isSorted(): bool', (list: unknown[]) => ordered(list).every((v, i, all) => i === 0 || (all[i - 1] ?? v) <= v))
    .registerFunction('list<int>.sum(): int', (list: bigint[]) => list.reduce((a, b) => a + b, 0n))
    .registerFunction('list<double>.sum(): double', (list: number[]) => list.reduce((a, b) => a + b, 0))
    .registerFunction('list.min(): dyn', (list: unknown[]) => extreme(list, (a, b) => a < b))
    .registerFunction('list.max(): dyn', (list: unknown[]) => extreme(list, (a, b) => a > b))
    .registerFunction('list<T>.indexOf(T): int', (list: unknown[], item: unknown) => BigInt(list.indexOf(item)))
    .registerFunction('list<T>.lastIndexOf(T): int', (list: unknown[], item: unknown) => BigInt(list.lastIndexOf(item)))
    .registerFunction('list<T>.slice(int, int): list<T>', (list: unknown[], from: bigint, to: bigint) => {
      if (from < 0n || to < from || to > BigInt(list.length)) throw new Error('slice index out of range');
      return list.slice(Number(from), Number(to));
    })
    // Kubernetes quantity library.
    .registerFunction('quantity(string): Quantity', quantityOf)
    .registerFunction('isQuantity(string): bool', (s: string) => parseQuantity(s) !== undefined)
    .registerFunction('Quantity.sign(): int', (q: Quantity) => BigInt(q.sign()))
    .registerFunction('Quantity.isInteger(): bool', (q: Quantity) => q.isInteger())
    .registerFunction('Quantity.asInteger(): int', integerOf)
    .registerFunction('Quantity.asApproximateFloat(): double', (q: Quantity) => q.asApproximateFloat())
    .registerFunction('Quantity.compareTo(Quantity): int', (a: Quantity, b: Quantity) => BigInt(a.compareTo(b)))
    .registerFunction('Quantity.isLessThan(Quantity): bool', (a: Quantity, b: Quantity) => a.compareTo(b) < 0)
    .registerFunction('Quantity.isGreaterThan(Quantity): bool', (a: Quantity, b: Quantity) => a.compareTo(b) > 0)
    .registerFunction('Quantity.add(Quantity): Quantity', (a: Quantity, b: Quantity) => a.add(b))
    .registerFunction('Quantity.add(int): Quantity', (a: Quantity, b: bigint) => a.add(Quantity.of(b, 0)))
    .registerFunction('Quantity.sub(Quantity): Quantity', (a: Quantity, b: Quantity) => a.sub(b))
    .registerFunction('Quantity.sub(int): Quantity', (a: Quantity, b: bigint) => a.sub(Quantity.of(b, 0)));
  return env;
}
