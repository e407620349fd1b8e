// A built-in policy's CEL (its `cel` field) as the spec of a custom rule, so that one translation
// exports both to ValidatingAdmissionPolicy (vap.ts) and one compiler checks both (compile.ts).
import type { Policy } from '../engine/index.js';
import type { RuleSpec } from './compile.js';

/** The rule spec of a built-in policy that CEL can express; undefined for the others. */
export function builtinRuleSpec(policy: Policy): RuleSpec | undefined {
  const cel = policy.cel;
  if (cel === undefined || !('validations' in cel) || policy.source !== undefined) return undefined;
  return {
    id: policy.id,
    title: policy.title,
    why: policy.why,
    fix: policy.fix,
    kinds: [...policy.kinds],
    ...(cel.forEach !== undefined ? { forEach: cel.forEach } : {}),
    validations: cel.validations.map((v) => ({ expression: v.expression, message: v.message })),
  };
}

/** Why a built-in policy is not exported to ValidatingAdmissionPolicy; undefined when it is. */
export function notExportedBecause(policy: Policy): string | undefined {
  if (policy.source !== undefined || builtinRuleSpec(policy) !== undefined) return undefined;
  return policy.cel !== undefined && 'notExported' in policy.cel ? policy.cel.notExported : 'not written in CEL yet';
}
