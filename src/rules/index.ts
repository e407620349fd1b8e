export { RULE_COST_BUDGET, RuleCompileError, compileRule } from './compile.js';
export type { RuleSpec, ValidationSpec } from './compile.js';
export { RuleError } from './rule-error.js';
export { compileRules, ruleIds, ruleSchema } from './schema.js';
export { vapObjects } from './vap.js';
export type { VapOptions } from './vap.js';
export { builtinRuleSpec, notExportedBecause } from './builtin-spec.js';
