import { BudgetExceeded } from './cel-env.js';

/**
 * A custom rule that could not judge an object: it threw, or ran over its cost budget. Thrown out
 * of evaluate(), so the webhook answers per --on-error and logs it with the rule id, as it does
 * for anything that stops a judgement; never read as "no finding".
 */
export class RuleError extends Error {
  readonly overBudget: boolean;

  constructor(
    readonly rule: string,
    readonly validation: number,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    super(`custom rule ${rule} (validations[${validation}]) failed: ${reason}`, { cause });
    this.name = 'RuleError';
    this.overBudget = cause instanceof BudgetExceeded;
  }
}
