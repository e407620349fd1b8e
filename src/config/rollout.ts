// The config keys of a rollout from audit to enforce: deadlines, existing violations, exemption
// expiry. Validated here; the engine reads them through Config (src/engine/config.ts).
import { z } from 'zod';
import { parseInstant } from '../engine/index.js';
import type { Action, Config, ExistingViolations, PolicyRollout } from '../engine/index.js';

export const INSTANT_HELP =
  'must be a date YYYY-MM-DD (00:00 UTC) or a time YYYY-MM-DDTHH:MM[:SS] with Z or an offset like +01:00 (UTC when none)';

/** A date or time as admins write it; YAML may hand over a Date when a tool quoted nothing. */
export const instant = z
  .union([z.string(), z.date().transform((d) => d.toISOString())])
  .refine((text) => parseInstant(text) !== undefined, { message: INSTANT_HELP });

const existingViolations = z.enum(['allow', 'deny']);

/** `policies.<id>` written as an object: the action and its rollout settings. */
export function policyRollout(action: z.ZodType<Action>) {
  return z.strictObject({ action: action.optional(), from: instant.optional(), existingViolations: existingViolations.optional() });
}

export const rolloutFields = {
  existingViolations: existingViolations.optional(),
  exemptionWarningDays: z.number().int().min(0).max(3650).optional(),
};

type PolicySetting =
  | Action
  | { action?: Action | undefined; from?: string | undefined; existingViolations?: ExistingViolations | undefined };

interface Parsed extends Omit<Config, 'policies' | 'rollout'> {
  policies: Partial<Record<string, PolicySetting>>;
}

/** The validated document as the engine's Config: actions in `policies`, the rest in `rollout`. */
export function splitRollout(parsed: Parsed): Config {
  const policies: Record<string, Action> = {};
  const rollout: Record<string, PolicyRollout> = {};
  for (const [id, setting] of Object.entries(parsed.policies)) {
    if (setting === undefined) continue;
    if (typeof setting === 'string') {
      policies[id] = setting;
      continue;
    }
    if (setting.action !== undefined) policies[id] = setting.action;
    const own: PolicyRollout = {};
    if (setting.from !== undefined) own.from = setting.from;
    if (setting.existingViolations !== undefined) own.existingViolations = setting.existingViolations;
    if (Object.keys(own).length > 0) rollout[id] = own;
  }
  const { existingViolations: global, exemptionWarningDays, ...rest } = parsed;
  const config: Config = { ...rest, policies };
  if (Object.keys(rollout).length > 0) config.rollout = rollout;
  if (global !== undefined) config.existingViolations = global;
  if (exemptionWarningDays !== undefined) config.exemptionWarningDays = exemptionWarningDays;
  return config;
}
