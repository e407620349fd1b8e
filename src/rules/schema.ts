// The `rules:` list of the config file: its shape (zod) and its compilation into policies.
import { z } from 'zod';
import type { Action, ObjectPolicy } from '../engine/index.js';
import { RuleCompileError, compileRule } from './compile.js';
import type { RuleSpec } from './compile.js';

const KEBAB = /^[a-z0-9]+(-[a-z0-9]+)*$/;

export function ruleSchema(
  setting: z.ZodType<Action | { action?: Action | undefined }>,
  judgedKinds: readonly string[],
  builtIn: readonly string[],
) {
  const validation = z
    .strictObject({
      expression: z.string().trim().min(1),
      message: z.string().trim().min(1).optional(),
      messageExpression: z.string().trim().min(1).optional(),
      fieldPath: z
        .string()
        .regex(/^[A-Za-z0-9_.[\]-]*$/, 'a dotted field path like spec.replicas')
        .optional(),
    })
    .refine((v) => v.message === undefined || v.messageExpression === undefined, {
      message: 'give message or messageExpression, not both',
    });
  return z.strictObject({
    id: z
      .string()
      .regex(KEBAB, 'must be kebab-case (lower-case letters, digits and dashes), e.g. require-team-label')
      .refine((id) => !builtIn.includes(id), {
        error: (issue) => `"${String(issue.input)}" is a built-in policy; give your rule its own id`,
      }),
    title: z.string().trim().min(1),
    why: z.string().trim().min(1),
    fix: z.string().trim().min(1),
    action: setting.default('deny'),
    kinds: z.array(z.enum(judgedKinds as [string, ...string[]])).min(1),
    forEach: z.literal('containers').optional(),
    reads: z.array(z.string().trim().min(1)).min(1).optional(),
    validations: z.array(validation).min(1),
  });
}

/** The ids of the rules in a document, before it is validated (exemptions may name them). */
export function ruleIds(document: unknown): string[] {
  const rules = typeof document === 'object' && document !== null ? (document as { rules?: unknown }).rules : undefined;
  if (!Array.isArray(rules)) return [];
  return rules
    .map((r: unknown) => (typeof r === 'object' && r !== null ? (r as { id?: unknown }).id : undefined))
    .filter((id): id is string => typeof id === 'string');
}

/** Compiles validated rules; throws RuleCompileError naming the first bad expression. */
export function compileRules(
  specs: readonly (RuleSpec & { action: Action | { action?: Action | undefined } })[],
  source: string,
): ObjectPolicy[] {
  const seen = new Set<string>();
  return specs.map((spec, i) => {
    const where = `rules[${i}] (${spec.id})`;
    if (seen.has(spec.id)) throw new RuleCompileError(`${where}.id`, `another rule already has the id ${spec.id}`);
    seen.add(spec.id);
    const action = typeof spec.action === 'string' ? spec.action : (spec.action.action ?? 'deny');
    return compileRule(spec, where, source, action === 'off' ? 'deny' : action);
  });
}
