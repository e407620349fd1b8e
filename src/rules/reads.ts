// What of the object a rule's CEL can read, found from its syntax tree, so that a large review
// judged by custom rules keeps only that (src/server/body-projection.ts) instead of the whole
// object. It must never miss a field: a projection without a field the rule reads would judge
// another object. So every value taken from the object is either read further by a field or an
// index the tree names (followed), ranged over by a macro (its elements followed, a map kept
// whole), or used in any other way (compared, passed to a function, returned): then it is kept
// whole. Anything this walk does not know makes it give up, and the object is kept whole.
import { EACH } from '../server/projection-plan.js';

/**
 * Where a path starts: the variable a rule reads it from (oldObject reads as object does).
 * `request` holds the request's own fields, never the objects (src/server/admission-facts.ts),
 * and a review keeps those whole: it reads nothing of the object.
 */
export type ReadRoot = 'object' | 'podSpec' | 'container';

export interface RootedPath {
  root: ReadRoot;
  /** Field names, and EACH for every element of a list. */
  path: readonly string[];
}

/**
 * Paths whose values a rule may read whole, paths it ranges over (each element or key), and
 * paths it asks only whether they are there (`has()`): their value is never read.
 */
export interface ExpressionReads {
  whole: RootedPath[];
  ranged: RootedPath[];
  present: RootedPath[];
}

/** The three ways a rule reads a path, the keys of ExpressionReads. */
export const READ_WAYS = ['whole', 'ranged', 'present'] as const;

export const noReads = (): ExpressionReads => ({ whole: [], ranged: [], present: [] });

const ROOTS: Readonly<Record<string, RootedPath>> = {
  object: { root: 'object', path: [] },
  oldObject: { root: 'object', path: [] },
  podSpec: { root: 'podSpec', path: [] },
  container: { root: 'container', path: [] },
};

const COMPREHENSIONS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);
const BINARY = new Set(['||', '&&', '==', '!=', '<', '<=', '>', '>=', 'in', '+', '-', '*', '/', '%']);
const UNARY = new Set(['!_', '-_']);

interface Node {
  op: string;
  args: unknown;
}

const isNode = (value: unknown): value is Node =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as Node).op === 'string';

/** A bare name: a variable, bound or not. */
const isName = (node: unknown): node is Node & { args: string } => isNode(node) && node.op === 'id' && typeof node.args === 'string';

const isNull = (node: unknown): boolean => isNode(node) && node.op === 'value' && node.args === null;

/** A shape of tree this walk does not follow. */
class CannotTell extends Error {}

type Scope = ReadonlyMap<string, RootedPath[]>;

const under = (paths: readonly RootedPath[], step: string): RootedPath[] => paths.map((p) => ({ root: p.root, path: [...p.path, step] }));

class Walk {
  readonly reads: ExpressionReads = noReads();

  need(paths: readonly RootedPath[]): void {
    this.reads.whole.push(...paths);
  }

  /** Walks `node` and keeps whatever of the object its value is, whole. */
  used(node: unknown, scope: Scope): void {
    this.need(this.value(node, scope));
  }

  /** The paths of the object `node`'s value may be (none when it is not read from the object); reads on the way are recorded. */
  value(node: unknown, scope: Scope): RootedPath[] {
    if (!isNode(node)) throw new CannotTell();
    const { op, args } = node;
    if (op === 'value') return [];
    if (op === 'id') {
      if (typeof args !== 'string') throw new CannotTell();
      const bound = scope.get(args);
      if (bound) return bound;
      return Object.hasOwn(ROOTS, args) ? [ROOTS[args] as RootedPath] : [];
    }
    if (!Array.isArray(args)) {
      if (UNARY.has(op)) {
        this.used(args, scope);
        return [];
      }
      throw new CannotTell();
    }
    if (op === '.' || op === '.?') {
      const [target, field] = args as [unknown, unknown];
      if (typeof field !== 'string') throw new CannotTell();
      return under(this.value(target, scope), field);
    }
    if (op === '[]' || op === '[?]') return this.index(args[0], args[1], scope);
    if (op === 'call') return this.call(args[0], args[1], scope);
    if (op === 'rcall') return this.method(args[0], args[1], args[2], scope);
    if (op === '?:') {
      this.used(args[0], scope);
      return [...this.value(args[1], scope), ...this.value(args[2], scope)];
    }
    if ((op === '==' || op === '!=') && args.some(isNull)) {
      // `oldObject == null` asks whether there is an old object, which a projection keeps: no field is read.
      const paths = args.flatMap((arg) => this.value(arg, scope));
      this.need(paths.filter((p) => p.root !== 'object' || p.path.length > 0));
      return [];
    }
    if (BINARY.has(op) || op === 'list') {
      for (const arg of args) this.used(arg, scope);
      return [];
    }
    if (op === 'map') {
      for (const entry of args) {
        if (!Array.isArray(entry)) throw new CannotTell();
        for (const part of entry) this.used(part, scope);
      }
      return [];
    }
    throw new CannotTell();
  }

  index(target: unknown, key: unknown, scope: Scope): RootedPath[] {
    const paths = this.value(target, scope);
    if (isNode(key) && key.op === 'value') {
      if (typeof key.args === 'string') return under(paths, key.args);
      if (typeof key.args === 'bigint') return under(paths, EACH);
    }
    // Any other key: which field it names is not known here.
    this.used(key, scope);
    this.need(paths);
    return [];
  }

  call(name: unknown, args: unknown, scope: Scope): RootedPath[] {
    if (!Array.isArray(args)) throw new CannotTell();
    if (name === 'has') {
      const [field] = args as [unknown];
      if (!isNode(field) || (field.op !== '.' && field.op !== '.?') || args.length !== 1) throw new CannotTell();
      // Whether the field is there: what holds it is read on the way, the field's value is not.
      this.reads.present.push(...this.value(field, scope));
      return [];
    }
    for (const arg of args) this.used(arg, scope);
    return [];
  }

  method(name: unknown, target: unknown, args: unknown, scope: Scope): RootedPath[] {
    if (!Array.isArray(args) || typeof name !== 'string') throw new CannotTell();
    if (name === 'bind' && isNode(target) && target.op === 'id' && target.args === 'cel') {
      const [variable, init, body] = args as [unknown, unknown, unknown];
      if (!isName(variable) || args.length !== 3) throw new CannotTell();
      return this.value(body, new Map([...scope, [variable.args, this.value(init, scope)]]));
    }
    if (COMPREHENSIONS.has(name)) return this.comprehension(name, target, args, scope);
    if (name === 'orValue') return [...this.value(target, scope), ...args.flatMap((arg) => this.value(arg, scope))];
    if (name === 'value' && args.length === 0) return this.value(target, scope);
    this.used(target, scope);
    for (const arg of args) this.used(arg, scope);
    return [];
  }

  comprehension(name: string, target: unknown, args: unknown[], scope: Scope): RootedPath[] {
    const [variable, ...bodies] = args;
    // One iteration variable: one body, or for map a filter and a transform. Two bodies of any
    // other macro, or a map's filter that is a bare name, may be a second variable: not followed.
    const [first] = bodies;
    const oneVariable = bodies.length === 1 || (name === 'map' && bodies.length === 2 && !isName(first));
    if (!isName(variable) || !oneVariable) throw new CannotTell();
    const range = this.value(target, scope);
    this.reads.ranged.push(...range);
    const inner = new Map([...scope, [variable.args, under(range, EACH)]]);
    for (const body of bodies) this.used(body, inner);
    // A filtered list holds some of the range's elements, as they are.
    return name === 'filter' ? range : [];
  }
}

/** What the expression may read of the object, or undefined when the walk cannot tell. */
export function expressionReads(ast: unknown): ExpressionReads | undefined {
  const walk = new Walk();
  try {
    walk.used(ast, new Map());
  } catch (err) {
    if (err instanceof CannotTell) return undefined;
    throw err;
  }
  return walk.reads;
}
