// Where each admin exemption stands at a given time, for the reports that keep expiry from
// passing silently: serve's log and metric, `practice-gate exemptions`, audit summaries.
import { exemptionCovers } from './config.js';
import type { CompiledExemption, Deadline, EngineConfig, Exemption } from './config.js';

export type ExemptionState = 'active' | 'expiring' | 'expired';

export interface ExemptionStatus {
  /** Position in the config's `exemptions` list. */
  index: number;
  exemption: Exemption;
  compiled: CompiledExemption;
  expires?: Deadline;
  state: ExemptionState;
  /** `namespaces=monitoring names=node-exporter`: what it matches, for one-line reports. */
  scope: string;
}

export function exemptionScope(e: Exemption): string {
  const parts: string[] = [];
  if (e.namespaces) parts.push(`namespaces=${e.namespaces.join(',')}`);
  if (e.names) parts.push(`names=${e.names.join(',')}`);
  if (e.kinds) parts.push(`kinds=${e.kinds.join(',')}`);
  parts.push(`policies=${e.policies ? e.policies.join(',') : 'all'}`);
  return parts.join(' ');
}

export function exemptionStatuses(config: EngineConfig, now: number): ExemptionStatus[] {
  return config.exemptions.map((compiled, index) => {
    const expires = compiled.expires;
    const state: ExemptionState = !expires
      ? 'active'
      : now >= expires.at
        ? 'expired'
        : expires.at - now <= config.exemptionWarningMs
          ? 'expiring'
          : 'active';
    return {
      index,
      exemption: compiled.written,
      compiled,
      ...(expires ? { expires } : {}),
      state,
      scope: exemptionScope(compiled.written),
    };
  });
}

/** The first exemption that would cover this object and policy but has expired at `now`. */
export function expiredExemptionFor(
  config: EngineConfig,
  target: { namespace: string; name: string; kind: string },
  policyId: string,
  now: number,
): { index: number; exemption: CompiledExemption } | undefined {
  const index = config.exemptions.findIndex((e) => e.expires !== undefined && now >= e.expires.at && exemptionCovers(e, target, policyId));
  const exemption = config.exemptions[index];
  return exemption ? { index, exemption } : undefined;
}
