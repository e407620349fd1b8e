// What the API side needs from the policy registry: the webhook's rules and the kinds a cluster
// scan lists. Pure functions of a registry (or of its judged kinds), so a test can run them on one
// that holds a stand-in policy (test/registry/derive.test.ts).
import { judgedKinds } from '../engine/policy.js';
import type { Policy } from '../engine/policy.js';
import { API_KINDS, apiKind, apiVersionOf } from './api-kinds.js';
import type { ApiKind } from './api-kinds.js';

/** What the engine's cluster context holds besides workloads: the namespace mode labels, PDBs, HPAs, LimitRanges' defaults and NetworkPolicies. */
export const CONTEXT_KINDS: readonly string[] = [
  'Namespace',
  'PodDisruptionBudget',
  'HorizontalPodAutoscaler',
  'LimitRange',
  'NetworkPolicy',
];

export interface WebhookRule {
  apiGroups: string[];
  apiVersions: string[];
  resources: string[];
  operations: string[];
  scope: 'Namespaced' | 'Cluster';
}

export interface ListedKind {
  kind: string;
  apiVersion: string;
  plural: string;
  namespaced: boolean;
}

/** The kinds, known to the API catalog, in its order. */
function inCatalogOrder(kinds: Iterable<string>): ApiKind[] {
  const wanted = new Set([...kinds].map((k) => apiKind(k).kind));
  return API_KINDS.filter((k) => wanted.has(k.kind));
}

/** Groups kinds the way rules want them: one entry per API group (core first, then by name), resources sorted. */
export function byGroup(kinds: readonly ApiKind[], key: (k: ApiKind) => string): Map<string, ApiKind[]> {
  const groups = new Map<string, ApiKind[]>();
  for (const k of [...kinds].sort((a, b) => (a.group === b.group ? a.plural.localeCompare(b.plural) : a.group.localeCompare(b.group)))) {
    const id = key(k);
    groups.set(id, [...(groups.get(id) ?? []), k]);
  }
  return groups;
}

/** The webhook's rules: CREATE and UPDATE of every kind a registered policy judges. */
export function webhookRules(registry: readonly Policy[]): WebhookRule[] {
  const groups = byGroup(
    inCatalogOrder(judgedKinds(registry)),
    (k) => `${k.group}/${k.version}/${k.namespaced ? 'Namespaced' : 'Cluster'}`,
  );
  return [...groups.values()].map((kinds) => {
    const [first] = kinds as [ApiKind, ...ApiKind[]];
    return {
      apiGroups: [first.group],
      apiVersions: [first.version],
      resources: kinds.map((k) => k.plural),
      operations: ['CREATE', 'UPDATE'],
      scope: first.namespaced ? 'Namespaced' : 'Cluster',
    };
  });
}

/** What a cluster scan lists: the context kinds, then the judged kinds (judgedKinds of a registry). */
export function scanKinds(judged: Iterable<string>): ListedKind[] {
  return inCatalogOrder([...CONTEXT_KINDS, ...judged]).map((k) => ({
    kind: k.kind,
    apiVersion: apiVersionOf(k),
    plural: k.plural,
    namespaced: k.namespaced,
  }));
}
