import picomatch from 'picomatch';
import { compileWriters } from './owners.js';
import type { TrustedController, WriterTable } from './owners.js';
import { DAY_MS, parseInstant } from './instant.js';
import { judgedKinds } from './policy.js';
import type { Action, Policy } from './policy.js';

export type Mode = 'enforce' | 'audit';
export const MODES: readonly Mode[] = ['enforce', 'audit'];

/** An admin's exemption, as written in the config file. */
export interface Exemption {
  namespaces?: string[];
  names?: string[];
  kinds?: string[];
  policies?: string[];
  reason: string;
  /** When it stops applying (see parseInstant: a date is 00:00 UTC). */
  expires?: string;
}

/** UPDATEs that keep a finding the old object had: admitted with a warning, or judged like a CREATE. */
export type ExistingViolations = 'allow' | 'deny';

/** The rollout settings of one policy, besides its action. */
export interface PolicyRollout {
  /** Deny findings are answered as warnings naming this date until it comes. */
  from?: string;
  existingViolations?: ExistingViolations;
}

/** The config file's content after validation. */
export interface Config {
  mode: Mode;
  policies: Record<string, Action>;
  exemptions: Exemption[];
  objectExemptions: boolean;
  /** Third-party controllers whose writes for an owner are judged through that owner. */
  controllers?: TrustedController[];
  /** Default `allow`. */
  existingViolations?: ExistingViolations;
  rollout?: Record<string, PolicyRollout>;
  /** Exempt findings warn when their exemption expires within this many days (default 14). */
  exemptionWarningDays?: number;
  /** The admin's own rules, compiled when the file was loaded (src/rules/); judged after the registry's. */
  rules?: readonly Policy[];
}

export const DEFAULT_EXEMPTION_WARNING_DAYS = 14;

export const DEFAULT_CONFIG: Config = { mode: 'enforce', policies: {}, exemptions: [], objectExemptions: false };

type Matcher = (value: string) => boolean;

export interface CompiledExemption {
  namespaces: Matcher | undefined;
  names: Matcher | undefined;
  kinds: Matcher | undefined;
  policies: ReadonlySet<string> | undefined;
  reason: string;
  expires: Deadline | undefined;
  /** As written in the config, for reports. */
  written: Exemption;
}

/** An instant as the engine compares it, and as the admin wrote it (for messages). */
export interface Deadline {
  at: number;
  text: string;
}

export interface ActivePolicy {
  policy: Policy;
  action: Exclude<Action, 'off'>;
  /** Deny only from then; a warning naming the date before. */
  from?: Deadline;
  existingViolations: ExistingViolations;
}

/** Config compiled for the hot path: globs are regexes, `off` policies are gone. */
export interface EngineConfig {
  readonly mode: Mode;
  readonly active: readonly ActivePolicy[];
  readonly exemptions: readonly CompiledExemption[];
  readonly objectExemptions: boolean;
  /** Who may write an object on behalf of its owner: kube-controller-manager and `controllers`. */
  readonly writers: WriterTable;
  readonly exemptionWarningMs: number;
  /** The kinds of every registered policy, also those switched off: other kinds are not judged at all. */
  readonly judgedKinds: ReadonlySet<string>;
}

/**
 * A deadline from text the loader validated. Text that does not parse (a config built in code)
 * counts as already past: a typo must never postpone enforcement or prolong an exemption.
 */
export function deadline(text: string | undefined): Deadline | undefined {
  if (text === undefined) return undefined;
  return { at: parseInstant(text) ?? Number.NEGATIVE_INFINITY, text };
}

function globs(patterns: string[] | undefined): Matcher | undefined {
  if (!patterns || patterns.length === 0) return undefined;
  return picomatch(patterns, { dot: true });
}

export function compileConfig(config: Config, registry: readonly Policy[]): EngineConfig {
  const active: ActivePolicy[] = [];
  for (const policy of [...registry, ...(config.rules ?? [])]) {
    // Own keys only: the policies map is parsed from a file and must not answer `constructor`.
    const action = (Object.hasOwn(config.policies, policy.id) ? config.policies[policy.id] : undefined) ?? policy.defaultAction;
    const rollout = config.rollout !== undefined && Object.hasOwn(config.rollout, policy.id) ? config.rollout[policy.id] : undefined;
    const from = deadline(rollout?.from);
    const existingViolations = rollout?.existingViolations ?? config.existingViolations ?? 'allow';
    if (action !== 'off') active.push({ policy, action, existingViolations, ...(from ? { from } : {}) });
  }
  return {
    mode: config.mode,
    active,
    objectExemptions: config.objectExemptions,
    writers: compileWriters(config.controllers),
    exemptionWarningMs: (config.exemptionWarningDays ?? DEFAULT_EXEMPTION_WARNING_DAYS) * DAY_MS,
    judgedKinds: new Set(judgedKinds(registry)),
    exemptions: config.exemptions.map((e) => ({
      namespaces: globs(e.namespaces),
      names: globs(e.names),
      kinds: globs(e.kinds),
      policies: e.policies && e.policies.length > 0 ? new Set(e.policies) : undefined,
      reason: e.reason,
      expires: deadline(e.expires),
      written: e,
    })),
  };
}

/** True when the exemption covers this object and policy, expiry aside. */
export function exemptionCovers(
  e: CompiledExemption,
  target: { namespace: string; name: string; kind: string },
  policyId?: string,
): boolean {
  if (e.namespaces && !e.namespaces(target.namespace)) return false;
  if (e.names && !e.names(target.name)) return false;
  if (e.kinds && !e.kinds(target.kind)) return false;
  return policyId === undefined || !e.policies || e.policies.has(policyId);
}

/**
 * The first admin exemption covering this object and policy that has not expired at `now`
 * (without a time, every exemption with an expiry counts as expired).
 */
export function activeExemption(
  config: EngineConfig,
  target: { namespace: string; name: string; kind: string },
  policyId: string,
  now: number | undefined,
): CompiledExemption | undefined {
  for (const e of config.exemptions) {
    if (e.expires && (now === undefined || now >= e.expires.at)) continue;
    if (exemptionCovers(e, target, policyId)) return e;
  }
  return undefined;
}

/** The reason of the first admin exemption covering this object and policy, if any. */
export function exemptionFor(
  config: EngineConfig,
  target: { namespace: string; name: string; kind: string },
  policyId: string,
  now?: number,
): string | undefined {
  return activeExemption(config, target, policyId, now)?.reason;
}
