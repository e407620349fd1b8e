import type { Logger } from 'pino';
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import { ContextIndex } from '../../engine/context.js';
import type { ClusterContext } from '../../engine/context.js';
import type { BackoffPolicy, Clock } from '../clock.js';
import { LIMIT_RANGE_RESOURCE, limitRangeSource } from './limit-range-source.js';
import { Reflector } from './reflector.js';
import type { ListerWatcher } from './reflector.js';
import { projectingSource, WORKLOAD_RESOURCES } from './workload-projection.js';
import { NETWORK_POLICY_RESOURCE, networkPolicySource } from './network-policy-projection.js';

/**
 * The resources the webhook's context is built from, and the kind each list's items are. The
 * workload kinds are kept as projections (workload-projection.ts), never whole.
 */
export const CONTEXT_RESOURCES = [
  { resource: 'namespaces', kind: 'Namespace', apiVersion: 'v1' },
  { resource: 'poddisruptionbudgets', kind: 'PodDisruptionBudget', apiVersion: 'policy/v1' },
  { resource: 'horizontalpodautoscalers', kind: 'HorizontalPodAutoscaler', apiVersion: 'autoscaling/v2' },
  ...WORKLOAD_RESOURCES,
  LIMIT_RANGE_RESOURCE,
  NETWORK_POLICY_RESOURCE,
] as const;

const WORKLOAD_RESOURCE_NAMES: ReadonlySet<string> = new Set(WORKLOAD_RESOURCES.map((r) => r.resource));

/** Resources kept as projections of their own (the workloads' is projectingSource). */
const PROJECTED_SOURCES: Partial<Record<string, (source: ListerWatcher) => ListerWatcher>> = {
  [LIMIT_RANGE_RESOURCE.resource]: limitRangeSource,
  [NETWORK_POLICY_RESOURCE.resource]: networkPolicySource,
};

/** What the reflector of a resource reads: projections for the workloads, LimitRanges and NetworkPolicies, whole objects for the rest. */
function projectedSource(sources: ContextSources, resource: ContextResource, kind: string, apiVersion: string): ListerWatcher {
  if (WORKLOAD_RESOURCE_NAMES.has(resource)) return projectingSource(sources[resource], kind, apiVersion);
  return PROJECTED_SOURCES[resource]?.(sources[resource]) ?? sources[resource];
}

export const STALENESS_METRIC = 'practice_gate_cache_staleness_seconds';

export type ContextResource = (typeof CONTEXT_RESOURCES)[number]['resource'];
export type ContextSources = Readonly<Record<ContextResource, ListerWatcher>>;

export interface ClusterCacheOptions {
  sources: ContextSources;
  logger: Logger;
  /** Where `practice_gate_cache_staleness_seconds` is registered (the server's registry). */
  registry?: Registry;
  clock?: Clock;
  backoff?: BackoffPolicy;
  /** Called with true once every resource has been listed (the server's `caches` readiness condition). */
  onSynced?: (synced: boolean) => void;
}

export interface ResourceStatus {
  synced: boolean;
  watching: boolean;
  objects: number;
  staleSeconds: number;
}

/**
 * Namespaces, PodDisruptionBudgets, HorizontalPodAutoscalers and the replicated workloads
 * (Deployments, StatefulSets, ReplicaSets, ReplicationControllers) kept in memory by watches, so
 * that a review reads its context without an API call: pdb-allows-disruption judges a PDB
 * against the live workloads it selects. LimitRanges too, as the container defaults they set:
 * resource-requests and memory-limit count what the LimitRanger will fill in. Workloads are kept as projections, a few hundred bytes
 * each, and a Deployment's ReplicaSets not at all.
 *
 * Readiness is one-way: once every resource has been listed it stays ready through API server
 * outages, because refusing reviews would turn an API server blip into failed deployments while
 * the last known state is still a good answer. The staleness gauge and the log say how old it is.
 */
export class ClusterCache {
  readonly #index = new ContextIndex();
  readonly #reflectors: Reflector[];
  readonly #registries = new Set<Registry>();
  readonly synced: Promise<void>;
  #started = false;

  constructor(options: ClusterCacheOptions) {
    const logger = options.logger.child({ component: 'informers' });
    this.#reflectors = CONTEXT_RESOURCES.map(
      ({ resource, kind, apiVersion }) =>
        new Reflector({
          resource,
          kind,
          apiVersion,
          source: projectedSource(options.sources, resource, kind, apiVersion),
          sink: this.#index,
          logger,
          ...(options.clock ? { clock: options.clock } : {}),
          ...(options.backoff ? { backoff: options.backoff } : {}),
        }),
    );
    this.synced = Promise.all(this.#reflectors.map((r) => r.synced)).then(() => {
      logger.info(
        { event: 'caches-synced' },
        'namespaces, PodDisruptionBudgets, HorizontalPodAutoscalers, workloads, LimitRanges and NetworkPolicies listed: ready',
      );
      options.onSynced?.(true);
    });
    if (options.registry) this.registerMetrics(options.registry);
  }

  /** Registers `practice_gate_cache_staleness_seconds` in the registry; returns how to unregister it. */
  registerMetrics(registry: Registry): () => void {
    const reflectors = this.#reflectors;
    new Gauge({
      name: STALENESS_METRIC,
      help: 'Seconds since the cached resource last followed the API server (0 while its watch is open).',
      labelNames: ['resource'],
      registers: [registry],
      collect() {
        for (const r of reflectors) this.set({ resource: r.resource }, r.stalenessSeconds());
      },
    });
    this.#registries.add(registry);
    return () => {
      registry.removeSingleMetric(STALENESS_METRIC);
      this.#registries.delete(registry);
    };
  }

  /** The engine's view: live, mutated in place by the watches. */
  get context(): ClusterContext {
    return this.#index;
  }

  get isSynced(): boolean {
    return this.#reflectors.every((r) => r.isSynced);
  }

  status(): Record<string, ResourceStatus> {
    return Object.fromEntries(
      this.#reflectors.map((r) => [
        r.resource,
        { synced: r.isSynced, watching: r.isCurrent, objects: r.size, staleSeconds: Math.round(r.stalenessSeconds()) },
      ]),
    );
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    for (const r of this.#reflectors) r.start();
  }

  async close(): Promise<void> {
    await Promise.all(this.#reflectors.map((r) => r.stop()));
    for (const registry of this.#registries) registry.removeSingleMetric(STALENESS_METRIC);
    this.#registries.clear();
  }
}
