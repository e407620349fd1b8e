// A webhook without a cluster connection (`serve --dev`, or no kubeconfig) sees one object at
// a time: it cannot know whether a PodDisruptionBudget or HPA exists. Policies whose findings
// say something is missing from the cluster are not run then, instead of stating a violation
// nobody checked; the server says so once when it starts.
import type { EngineConfig } from '../engine/index.js';

/** The config without the policies that need the cluster's objects. */
export function withoutClusterPolicies(config: EngineConfig): EngineConfig {
  if (!config.active.some((a) => a.policy.needsCluster === true)) return config;
  return { ...config, active: config.active.filter((a) => a.policy.needsCluster !== true) };
}

/** Ids of the policies `withoutClusterPolicies` leaves out of this config. */
export function clusterPolicyIds(config: EngineConfig): string[] {
  return config.active.filter((a) => a.policy.needsCluster === true).map((a) => a.policy.id);
}
