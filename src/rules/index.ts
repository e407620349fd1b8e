export { RULE_COST_BUDGET, RuleCompileError, compileRule, ruleObjectReads } from './compile.js';
export type { RuleSpec, ValidationSpec } from './compile.js';
export { RuleError } from './rule-error.js';
export { compileRules, ruleIds, ruleSchema } from './schema.js';
export { vapObjects } from './vap.js';
export type { VapOptions } from './vap.js';
export { builtinRuleSpec, notExportedBecause } from './builtin-spec.js';
export type { ExpressionReads, ReadRoot, RootedPath } from './reads.js';
export { MAX_DEPTH } from './values.js';
