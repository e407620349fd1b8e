// Which findings `practice-gate fix` may fix by itself: only where the policy's answer is one
// value that needs no knowledge of the application. Everything else is named with the reason a
// person has to decide it.
import type { AuditFinding } from '../audit/index.js';

export type FixPlan = { value: boolean | string } | { reason: string };

const NEEDS_A_PERSON: Record<string, string> = {
  'resource-requests': 'requests need numbers only your team knows: measure what the container uses under normal load',
  'memory-limit': 'a memory limit needs a number only your team knows: its usual peak, with some headroom',
  'image-tag-pinned': 'a tag needs a version: pick the release (or digest) to run',
  'readiness-probe': "a probe needs the container's own health endpoint and port",
  'liveness-probe': "a probe needs the container's own health endpoint and port",
  'pdb-coverage': 'a PodDisruptionBudget needs your availability target (how many pods may go at once)',
  'pdb-allows-disruption': 'how many pods may be evicted at once is your decision',
  'graceful-shutdown': 'a preStop pause and a grace period depend on how long the application takes to drain',
  'rolling-update': 'whether two versions may run side by side (volumes, schema changes) is your decision',
  'liveness-not-readiness': 'a separate liveness check needs an endpoint the application serves',
  'hpa-managed-replicas': 'dropping replicas needs the last-applied record edited first, or the next apply scales to 1',
};

const last = (path: string): string => path.slice(path.lastIndexOf('.') + 1);

/** The value that fixes a finding at its path, or why it cannot be fixed automatically. */
export function planFix(finding: AuditFinding, current: unknown): FixPlan {
  const field = last(finding.path);
  switch (finding.policy) {
    case 'run-as-non-root':
      if (field === 'runAsNonRoot') return { value: true };
      return { reason: 'it runs as uid 0: choose a non-zero uid the image can run as' };
    case 'read-only-root-filesystem':
      if (field === 'readOnlyRootFilesystem') return { value: true };
      break;
    case 'no-privilege-escalation':
      if (field === 'allowPrivilegeEscalation') return { value: false };
      return { reason: 'privileged: true was set on purpose: remove it once the container does without the rights of the node' };
    case 'cronjob-concurrency':
      if (current === undefined || current === null) return { value: 'Forbid' };
      if (current === 'Allow') return { reason: 'concurrencyPolicy Allow was chosen: choose Forbid or Replace' };
      // A case mistake (`forbid`) has one meaning.
      if (typeof current === 'string' && ['forbid', 'replace'].includes(current.toLowerCase()))
        return { value: current[0]?.toUpperCase() + current.slice(1).toLowerCase() };
      return { reason: `unknown concurrencyPolicy ${JSON.stringify(current)}: choose Forbid or Replace` };
  }
  return { reason: NEEDS_A_PERSON[finding.policy] ?? 'no safe automatic fix' };
}
