// The policy registry: the only list of policies. A policy file that is not imported here
// is never evaluated (test/policies/registry.test.ts fails when one is missing).
import type { Policy } from '../src/engine/index.js';
import cronjobConcurrency from './cronjob-concurrency.js';
import gracefulShutdown from './graceful-shutdown/policy.js';
import hpaManagedReplicas from './hpa-managed-replicas/policy.js';
import imageTagPinned from './image-tag-pinned.js';
import livenessNotReadiness from './liveness-not-readiness/policy.js';
import livenessProbe from './liveness-probe.js';
import memoryLimit from './memory-limit.js';
import noPrivilegeEscalation from './no-privilege-escalation.js';
import pdbAllowsDisruption from './pdb-allows-disruption.js';
import pdbCoverage from './pdb-coverage.js';
import readOnlyRootFilesystem from './read-only-root-filesystem.js';
import readinessProbe from './readiness-probe.js';
import resourceRequests from './resource-requests.js';
import rollingUpdate from './rolling-update/policy.js';
import runAsNonRoot from './run-as-non-root.js';

export const POLICIES: readonly Policy[] = [
  runAsNonRoot,
  readOnlyRootFilesystem,
  resourceRequests,
  memoryLimit,
  readinessProbe,
  livenessProbe,
  imageTagPinned,
  noPrivilegeEscalation,
  pdbCoverage,
  pdbAllowsDisruption,
  cronjobConcurrency,
  gracefulShutdown,
  rollingUpdate,
  livenessNotReadiness,
  hpaManagedReplicas,
];
