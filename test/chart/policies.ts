// The policy ids the chart's values schema and config accept: the full set practice-gate
// documents. The registry fills up as policies land, so config rendering is checked
// against this list, and policies.test.ts checks the registry never has an id the chart
// would reject.
import type { Policy } from '../../src/engine/index.js';

export const DOCUMENTED_POLICY_IDS = [
  'run-as-non-root', 'read-only-root-filesystem', 'resource-requests', 'memory-limit', 'readiness-probe',
  'liveness-probe', 'image-tag-pinned', 'no-privilege-escalation', 'pdb-coverage', 'pdb-allows-disruption',
  'cronjob-concurrency', 'graceful-shutdown', 'rolling-update', 'liveness-not-readiness', 'hpa-managed-replicas',
] as const;

/** Stand-ins that carry only an id: enough for config validation, which reads ids alone. */
export const DOCUMENTED_POLICIES: Policy[] = DOCUMENTED_POLICY_IDS.map((id) => ({
  id,
  title: id,
  why: '',
  fix: '',
  defaultAction: 'warn',
  kinds: [],
  target: 'workload',
  check: () => [],
}));
