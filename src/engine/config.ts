import picomatch from 'picomatch';
import { compileWriters } from './owners.js';
import type { TrustedController, WriterTable } from './owners.js';
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
}

/** The config file's content after validation. */
export interface Config {
  mode: Mode;
  policies: Record<string, Action>;
  exemptions: Exemption[];
  objectExemptions: boolean;
  /** Third-party controllers whose writes for an owner are judged through that owner. */
  controllers?: TrustedController[];
}

export const DEFAULT_CONFIG: Config = { mode: 'enforce', policies: {}, exemptions: [], objectExemptions: false };

type Matcher = (value: string) => boolean;

interface CompiledExemption {
  namespaces: Matcher | undefined;
  names: Matcher | undefined;
  kinds: Matcher | undefined;
  policies: ReadonlySet<string> | undefined;
  reason: string;
}

export interface ActivePolicy {
  policy: Policy;
  action: Exclude<Action, 'off'>;
}

/** Config compiled for the hot path: globs are regexes, `off` policies are gone. */
export interface EngineConfig {
  readonly mode: Mode;
  readonly active: readonly ActivePolicy[];
  readonly exemptions: readonly CompiledExemption[];
  readonly objectExemptions: boolean;
  /** Who may write an object on behalf of its owner: kube-controller-manager and `controllers`. */
  readonly writers: WriterTable;
}

function globs(patterns: string[] | undefined): Matcher | undefined {
  if (!patterns || patterns.length === 0) return undefined;
  return picomatch(patterns, { dot: true });
}

export function compileConfig(config: Config, registry: readonly Policy[]): EngineConfig {
  const active: ActivePolicy[] = [];
  for (const policy of registry) {
    // Own keys only: the policies map is parsed from a file and must not answer `constructor`.
    const action = (Object.hasOwn(config.policies, policy.id) ? config.policies[policy.id] : undefined) ?? policy.defaultAction;
    if (action !== 'off') active.push({ policy, action });
  }
  return {
    mode: config.mode,
    active,
    objectExemptions: config.objectExemptions,
    writers: compileWriters(config.controllers),
    exemptions: config.exemptions.map((e) => ({
      namespaces: globs(e.namespaces),
      names: globs(e.names),
      kinds: globs(e.kinds),
      policies: e.policies && e.policies.length > 0 ? new Set(e.policies) : undefined,
      reason: e.reason,
    })),
  };
}

/** The reason of the first admin exemption covering this object and policy, if any. */
export function exemptionFor(
  config: EngineConfig,
  target: { namespace: string; name: string; kind: string },
  policyId: string,
): string | undefined {
  for (const e of config.exemptions) {
    if (e.namespaces && !e.namespaces(target.namespace)) continue;
    if (e.names && !e.names(target.name)) continue;
    if (e.kinds && !e.kinds(target.kind)) continue;
    if (e.policies && !e.policies.has(policyId)) continue;
    return e.reason;
  }
  return undefined;
}
