import { isRecord, longRunningContainers } from '../../src/engine/index.js';
import type { Container, ContainerRef, Workload } from '../../src/engine/index.js';

/** Pod kinds that run for a long time; Job and CronJob pods run to completion. */
export const LONG_RUNNING_KINDS: readonly string[] = [
  'Pod',
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'ReplicationController',
  'PodTemplate',
];

/**
 * Pods that exit when their work is done: Job and CronJob pods, and any pod whose
 * restartPolicy is not Always (that is how a Job's own pods look at admission).
 */
export function runsToCompletion(workload: Workload): boolean {
  if (workload.batch) return true;
  const restart = (workload.podSpec as { restartPolicy?: unknown }).restartPolicy;
  return restart === 'Never' || restart === 'OnFailure';
}

/** Regular containers and native sidecars of a long-running pod that lack `probe`. */
export function withoutProbe(workload: Workload, probe: 'readinessProbe' | 'livenessProbe'): ContainerRef[] {
  if (runsToCompletion(workload)) return [];
  return longRunningContainers(workload).filter((ref) => !isRecord(ref.container[probe]));
}

/**
 * A container that declares a port can be sent traffic by a Service; one that declares none
 * (a load generator, a config reloader) cannot be a Service's named target, and its
 * readiness gates nothing worth gating.
 */
export function servesPorts(container: Container): boolean {
  const ports = (container as { ports?: unknown }).ports;
  return Array.isArray(ports) && ports.length > 0;
}

/** runsToCompletion in CEL, for the kinds of LONG_RUNNING_KINDS (none of them batch). */
export const RUNS_TO_COMPLETION_CEL = "podSpec.?restartPolicy.orValue('Always') in ['Never', 'OnFailure']";

/**
 * `container` is no regular container or native sidecar, in CEL. Names are unique across a pod's
 * containers and init containers (the API server refuses duplicates).
 */
export const NOT_LONG_RUNNING_CEL =
  "!(container.?restartPolicy.orValue('') == 'Always' || podSpec.?containers.orValue([]).exists(c, c.name == container.name))";
