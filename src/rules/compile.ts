// A custom rule from the config, compiled once into a policy the engine judges beside the
// built-in ones. Every expression is parsed and type-checked here, at load; an error names the
// rule, the validation and the position, and the old config stays (src/server/config-watch.ts).
import type { ASTNode } from '@marcbachmann/cel-js';
import type { ClusterContext, FieldPath, KubeObject, ObjectPolicy, ObjectSubject, Violation } from '../engine/index.js';
import { instrumented, regexLiterals } from './ast.js';
import { BudgetExceeded, ruleEnvironment } from './cel-env.js';
import type { RuleVariable, StepCounter } from './cel-env.js';
import { READ_WAYS, expressionReads, noReads } from './reads.js';
import type { ExpressionReads } from './reads.js';
import { re2 } from './regex.js';
import { RuleError } from './rule-error.js';
import { celValue } from './values.js';

/** Cost units one expression may spend per evaluation: the API server's per-expression limit. */
export const RULE_COST_BUDGET = 1_000_000;

export interface ValidationSpec {
  expression: string;
  message?: string | undefined;
  messageExpression?: string | undefined;
  fieldPath?: string | undefined;
}

/** A rule as written in the config (validated by schema.ts). */
export interface RuleSpec {
  id: string;
  title: string;
  why: string;
  fix: string;
  kinds: string[];
  forEach?: 'containers' | undefined;
  /** Field paths (dotted) the rule reads; the whole object when absent. */
  reads?: string[] | undefined;
  validations: ValidationSpec[];
}

/** A rule's expression the config cannot use; `where` is its config path, e.g. `rules[0].validations[1].expression`. */
export class RuleCompileError extends Error {
  constructor(
    readonly where: string,
    message: string,
  ) {
    super(`${where}: ${message}`);
    this.name = 'RuleCompileError';
  }
}

type Evaluator = (context: Record<RuleVariable, unknown>) => unknown;

interface CompiledValidation {
  expression: string;
  check: Evaluator;
  message: string | Evaluator;
  fieldPath: string | undefined;
  /** What its expression and messageExpression may read of the object (undefined: cannot tell). */
  reads: Array<ExpressionReads | undefined>;
}

interface CompiledExpression {
  evaluate: Evaluator;
  reads: ExpressionReads | undefined;
}

const counter: StepCounter = { spent: 0, budget: RULE_COST_BUDGET };
const env = ruleEnvironment(counter);

function position(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return `line ${line}, column ${offset - before.lastIndexOf('\n')}`;
}

/** The library's message without its code frame, and where in the expression it points. */
function describe(err: unknown, text: string): string {
  const error = err as { message?: unknown; range?: { start?: unknown } };
  const message = String(error.message ?? err).split('\n')[0] ?? '';
  const start = typeof error.range?.start === 'number' ? error.range.start : undefined;
  return start === undefined ? message : `${message} (at ${position(text, start)})`;
}

function compileExpression(text: string, where: string, wants: 'bool' | 'string'): CompiledExpression {
  let ast: ASTNode;
  try {
    const result = env.check(text);
    if (!result.valid) throw result.error ?? new Error('invalid expression');
    if (result.type !== wants && result.type !== 'dyn') throw new Error(`must evaluate to ${wants}, not ${result.type}`);
    ast = env.parse(text).ast;
  } catch (err) {
    throw new RuleCompileError(where, `${describe(err, text)}\n      ${text.split('\n').join('\n      ')}`);
  }
  for (const { pattern, start } of regexLiterals(ast)) {
    try {
      re2(pattern);
    } catch (err) {
      throw new RuleCompileError(
        where,
        `the regular expression ${JSON.stringify(pattern)} is not RE2, which Kubernetes uses: ${(err as Error).message} (at ${position(text, start)})`,
      );
    }
  }
  const planned = env.parse(instrumented(ast));
  return { evaluate: (context) => planned(context), reads: expressionReads(ast) };
}

function dottedPath(path: string): FieldPath {
  return path.split('.').filter((part) => part !== '');
}

/** Runs one expression within the budget; a RuleError names the rule when it fails. */
function run(rule: string, index: number, evaluator: Evaluator, context: Record<RuleVariable, unknown>): unknown {
  counter.spent = 0;
  let result: unknown;
  try {
    result = evaluator(context);
  } catch (err) {
    throw new RuleError(rule, index, counter.spent > counter.budget ? new BudgetExceeded(counter.budget) : err);
  }
  // Loops past the budget ran on empty ranges: whatever came out of them is no verdict.
  if (counter.spent > counter.budget) throw new RuleError(rule, index, new BudgetExceeded(counter.budget));
  return result;
}

function namespaceObject(namespace: string, context: ClusterContext): unknown {
  const labels = context.namespaceLabels(namespace);
  return labels === undefined ? null : { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels } };
}

// A workload's pod spec path is one of a handful (workload.ts): split each once, not per review.
const splitPaths = new Map<string, FieldPath>();

/** A field of a converted object (values.ts: objects are Maps). */
function valueAt(root: unknown, path: string): unknown {
  let keys = splitPaths.get(path);
  if (keys === undefined) {
    keys = dottedPath(path);
    if (splitPaths.size < 64) splitPaths.set(path, keys);
  }
  let cur = root;
  for (const key of keys) cur = cur instanceof Map ? (cur.get(key) as unknown) : undefined;
  return cur ?? null;
}

interface SharedInputs {
  namespace: string;
  admission: ObjectSubject['admission'];
  context: ClusterContext;
  /** The namespace's labels as the context held them: an informer update replaces them. */
  labels: unknown;
  variables: Record<RuleVariable, unknown>;
}

// Every rule of one evaluation reads the same variables: built once per object and evaluation (the
// engine hands each policy a new subject, but the same object, admission facts and context).
// Keyed weakly by the object, so nothing outlives the review.
const shared = new WeakMap<KubeObject, SharedInputs>();

/** The variables of one evaluation; an object too deep to convert fails the rule, never passes it. */
function inputs(rule: string, object: KubeObject, subject: ObjectSubject, context: ClusterContext): Record<RuleVariable, unknown> {
  const last = shared.get(object);
  const labels = context.namespaceLabels(subject.namespace);
  if (
    last !== undefined &&
    last.namespace === subject.namespace &&
    last.admission === subject.admission &&
    last.context === context &&
    last.labels === labels
  ) {
    return last.variables;
  }
  const variables = convertInputs(rule, object, subject, context);
  shared.set(object, { namespace: subject.namespace, admission: subject.admission, context, labels, variables });
  return variables;
}

function convertInputs(rule: string, object: KubeObject, subject: ObjectSubject, context: ClusterContext): Record<RuleVariable, unknown> {
  try {
    const cel = celValue(object);
    return {
      object: cel,
      oldObject: subject.admission ? celValue(subject.admission.oldObject ?? null) : null,
      request: subject.admission ? celValue(subject.admission.request) : null,
      namespaceObject: celValue(namespaceObject(subject.namespace, context)),
      podSpec: subject.workload ? valueAt(cel, subject.workload.podSpecPath) : null,
      container: null,
    };
  } catch (err) {
    throw new RuleError(rule, 0, err);
  }
}

/** Each compiled rule's spec as written, for the VAP export. */
const specs = new WeakMap<object, RuleSpec>();

/** What each rule may read of the object, where its expressions tell. */
const objectReads = new WeakMap<object, ExpressionReads>();

/**
 * What a custom rule's expressions may read of the object (src/rules/reads.ts); undefined for a
 * built-in policy, or where an expression's reads cannot be told. What an UPDATE compares is the
 * policy's `reads` (inputs.ts): the whole object for a rule that declares none.
 */
export function ruleObjectReads(policy: object): ExpressionReads | undefined {
  return objectReads.get(policy);
}

/** What all of a rule's expressions may read; undefined when one of them cannot tell. */
function readsOf(validations: readonly CompiledValidation[]): ExpressionReads | undefined {
  const reads = noReads();
  for (const found of validations.flatMap((v) => v.reads)) {
    if (!found) return undefined;
    for (const way of READ_WAYS) reads[way].push(...found[way]);
  }
  return reads;
}

/** The spec a custom rule was compiled from; undefined for built-in policies. */
export function ruleSpecOf(policy: object): RuleSpec | undefined {
  return specs.get(policy);
}

export function compileRule(spec: RuleSpec, where: string, source: string, defaultAction: ObjectPolicy['defaultAction']): ObjectPolicy {
  const validations: CompiledValidation[] = spec.validations.map((v, i) => {
    const check = compileExpression(v.expression, `${where}.validations[${i}].expression`, 'bool');
    const message =
      v.messageExpression !== undefined
        ? compileExpression(v.messageExpression, `${where}.validations[${i}].messageExpression`, 'string')
        : undefined;
    return {
      expression: v.expression,
      check: check.evaluate,
      message: message?.evaluate ?? v.message ?? `failed expression: ${v.expression}`,
      fieldPath: v.fieldPath,
      reads: [check.reads, ...(message ? [message.reads] : [])],
    };
  });
  const judge = (variables: Record<RuleVariable, unknown>, basePath: string, container: string | undefined, out: Violation[]) => {
    validations.forEach((v, i) => {
      const verdict = run(spec.id, i, v.check, variables);
      if (verdict === true) return;
      if (verdict !== false) throw new RuleError(spec.id, i, new Error(`the expression gave ${typeof verdict}, not a bool`));
      const written = typeof v.message === 'string' ? v.message : run(spec.id, i, v.message, variables);
      // As in the API server: an empty or unusable messageExpression falls back to the default.
      const message = typeof written === 'string' && written.trim() !== '' ? written : `failed expression: ${v.expression}`;
      const path = v.fieldPath === undefined ? basePath : [basePath, v.fieldPath].filter((p) => p !== '').join('.');
      out.push({ path, message, ...(container !== undefined ? { container } : {}) });
    });
  };
  const policy: ObjectPolicy = {
    id: spec.id,
    title: spec.title,
    why: spec.why,
    fix: spec.fix,
    defaultAction,
    kinds: spec.kinds,
    source,
    // Conservative: without a declaration the rule may read any field, so any change is judged.
    reads: spec.reads === undefined ? [[]] : spec.reads.map(dottedPath),
    target: 'object',
    check(object: KubeObject, subject: ObjectSubject, context: ClusterContext): Violation[] {
      const variables = inputs(spec.id, object, subject, context);
      const podSpec = variables.podSpec;
      const out: Violation[] = [];
      if (spec.forEach !== 'containers') {
        judge(variables, '', undefined, out);
        return out;
      }
      for (const ref of subject.workload?.containers ?? []) {
        if (ref.list === 'ephemeralContainers') continue;
        const container = podSpec instanceof Map ? (podSpec.get(ref.list) as unknown) : null;
        judge({ ...variables, container: Array.isArray(container) ? container[ref.index] : null }, ref.path, ref.name, out);
      }
      return out;
    },
  };
  specs.set(policy, spec);
  const reads = readsOf(validations);
  if (reads) objectReads.set(policy, reads);
  return policy;
}

/** The syntax tree of an expression that loaded (the config checked it). */
export function parseRule(expression: string): ASTNode {
  return env.parse(expression).ast;
}
