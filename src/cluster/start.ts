import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ClusterContext } from '../engine/context.js';
import type { EngineConfig } from '../engine/config.js';
import { SelfManagedCerts } from './certs/certs.js';
import { KubeClients } from './api/client.js';
import { DEFAULT_PROBE_TIMEOUT_MS, tlsProbe } from './certs/rollout.js';
import { ClusterCache } from './api/informers.js';
import type { ContextSources } from './api/informers.js';
import { workloadListProjection } from './api/workload-projection.js';
import { limitRangeListProjection } from './api/limit-range-source.js';
import { projectNetworkPolicy } from './api/network-policy-projection.js';
import { LeaderElector } from './leader/leader.js';
import { AuditMetrics } from './scan/metrics.js';
import { ReportPublisher } from './scan/reports.js';
import { ClusterAuditor, SCAN_KINDS } from './scan/scanner.js';
import { admissionScopeSource } from './scan/webhook-scope.js';

export interface CertOptions {
  secretName: string;
  webhookConfig: string;
  service: string;
  certValidityMs?: number;
  caValidityMs?: number;
  renewBeforeMs?: number;
  caPropagationMs?: number;
  caOverlapMs?: number;
  recheckMs?: number;
  /** The webhook port's name on the Service (and so on its EndpointSlices); default https-webhook, the chart's. */
  webhookPortName?: string;
  /** Handshake timeout of the probe of each replica before the old CA retires. */
  probeTimeoutMs?: number;
}

export interface AuditOptions {
  intervalMs: number;
  leaseName: string;
  /** Lease holder: the pod name. */
  identity: string;
  /** The webhook's ValidatingWebhookConfiguration: its selectors decide what the audit judges. */
  webhookConfig?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export interface ClusterOptions {
  kubeConfig: KubeConfig;
  /** Where practice-gate keeps its Secret and Lease. */
  namespace: string;
  logger: Logger;
  /** Watch namespaces, PDBs, HPAs, the replicated workloads and LimitRanges for the webhook's context (default true). */
  informers?: boolean;
  /** Self-managed certificates; absent when the server gets its certificate from files. */
  certs?: CertOptions;
  /** The background cluster audit; absent (or interval 0) to switch it off. */
  audit?: AuditOptions;
}

/** What the cluster features need from the running server. */
export interface ServerSide {
  state: { setCondition(name: string, value: boolean): void; readonly engineConfig: EngineConfig };
  registry: Registry;
}

export interface ClusterHandle {
  /** The live context for reviews (undefined without informers). */
  context: ClusterContext | undefined;
  /** Serving certificates from the Secret (undefined without --self-managed-certs): the server's TLS source. */
  certs: SelfManagedCerts | undefined;
  /** Readiness conditions the server must declare false at start: `caches` with informers. */
  conditions: string[];
  /** Resolves when every informer has listed once. */
  synced: Promise<void>;
  /** Connects to the running server: readiness, metrics, the engine config for the audit; starts the audit. */
  attach(server: ServerSide): void;
  close(): Promise<void>;
}

function contextSources(clients: KubeClients): ContextSources {
  const ref = (kind: string) => {
    const found = SCAN_KINDS.find((k) => k.kind === kind);
    if (!found) throw new Error(`unknown kind ${kind}`);
    return found;
  };
  // Projected page by page, so that even a re-list holds only one page of whole workloads.
  const workload = (kind: string) => {
    const found = ref(kind);
    return clients.listerWatcher(found, { project: workloadListProjection(found.kind, found.apiVersion) });
  };
  return {
    namespaces: clients.listerWatcher(ref('Namespace')),
    poddisruptionbudgets: clients.listerWatcher(ref('PodDisruptionBudget')),
    horizontalpodautoscalers: clients.listerWatcher(ref('HorizontalPodAutoscaler')),
    deployments: workload('Deployment'),
    statefulsets: workload('StatefulSet'),
    replicasets: workload('ReplicaSet'),
    replicationcontrollers: workload('ReplicationController'),
    limitranges: clients.listerWatcher(ref('LimitRange'), { project: limitRangeListProjection }),
    // Projected page by page like the workloads: network-policy-projection.ts.
    networkpolicies: clients.listerWatcher(ref('NetworkPolicy'), { project: projectNetworkPolicy }),
  };
}

/**
 * Starts the cluster features against a real API server: certificates first (awaited: the server
 * cannot listen without them), informers in the background. The audit and its leader election
 * start at attach(), once there is a server to take the engine config and metrics from.
 * Usable without the server (an e2e harness passes its own ServerSide).
 */
export async function startCluster(options: ClusterOptions): Promise<ClusterHandle> {
  const clients = new KubeClients(options.kubeConfig);
  const log = options.logger;
  const closers: Array<() => Promise<void> | void> = [];
  let closing: Promise<void> | undefined;
  // Last started, first stopped: the audit hands its Lease back before the informers go.
  const closeAll = (): Promise<void> =>
    (closing ??= (async () => {
      for (const close of [...closers].reverse()) await close();
    })());

  let certs: SelfManagedCerts | undefined;
  if (options.certs) {
    const c = options.certs;
    certs = new SelfManagedCerts({
      secrets: clients.secretStore(options.namespace, c.secretName),
      webhooks: clients.webhookStore(c.webhookConfig),
      secretWatch: clients.listerWatcher(
        { apiVersion: 'v1', kind: 'Secret', plural: 'secrets' },
        { namespace: options.namespace, fieldSelector: `metadata.name=${c.secretName}` },
      ),
      replicas: {
        slices: clients.endpointSliceSource(options.namespace, c.service),
        // SNI as the API server sends it for a Service reference.
        probe: tlsProbe(`${c.service}.${options.namespace}.svc`, c.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS),
        ...(c.webhookPortName !== undefined ? { portName: c.webhookPortName } : {}),
      },
      namespace: options.namespace,
      secretName: c.secretName,
      webhookConfig: c.webhookConfig,
      service: c.service,
      logger: log,
      ...(c.certValidityMs !== undefined ? { certValidityMs: c.certValidityMs } : {}),
      ...(c.caValidityMs !== undefined ? { caValidityMs: c.caValidityMs } : {}),
      ...(c.renewBeforeMs !== undefined ? { renewBeforeMs: c.renewBeforeMs } : {}),
      ...(c.caPropagationMs !== undefined ? { caPropagationMs: c.caPropagationMs } : {}),
      ...(c.caOverlapMs !== undefined ? { caOverlapMs: c.caOverlapMs } : {}),
      ...(c.recheckMs !== undefined ? { recheckMs: c.recheckMs } : {}),
    });
    const started = certs;
    closers.push(() => started.close());
    try {
      await started.start();
    } catch (err) {
      await closeAll();
      throw err;
    }
  }

  let cache: ClusterCache | undefined;
  const conditions: string[] = [];
  let setCachesCondition: ((ready: boolean) => void) | undefined;
  let syncedEarly = false;
  if (options.informers ?? true) {
    conditions.push('caches');
    const informers = new ClusterCache({
      sources: contextSources(clients),
      logger: log,
      onSynced: (ready) => {
        if (setCachesCondition) setCachesCondition(ready);
        else syncedEarly = ready;
      },
    });
    cache = informers;
    informers.start();
    closers.push(() => informers.close());
  }

  let attached = false;
  return {
    context: cache?.context,
    certs,
    conditions,
    synced: cache?.synced ?? Promise.resolve(),
    attach(server: ServerSide): void {
      if (attached) throw new Error('cluster features are already attached to a server');
      attached = true;
      setCachesCondition = (ready) => server.state.setCondition('caches', ready);
      if (syncedEarly) setCachesCondition(true);
      // Registered now: the server's registry did not exist when the informers started.
      if (cache) closers.push(cache.registerMetrics(server.registry));
      const audit = options.audit;
      if (!audit || audit.intervalMs <= 0) return;
      const metrics = new AuditMetrics(server.registry);
      closers.push(() => metrics.close());
      const auditor = new ClusterAuditor({
        reader: clients.clusterReader(),
        config: () => server.state.engineConfig,
        logger: log,
        metrics,
        reports: new ReportPublisher(clients.policyReportStore(), log),
        intervalMs: audit.intervalMs,
        ...(audit.webhookConfig !== undefined
          ? {
              scope: admissionScopeSource({
                read: () => clients.admission.readValidatingWebhookConfiguration({ name: audit.webhookConfig as string }),
                name: audit.webhookConfig,
                ownNamespace: options.namespace,
                logger: log,
              }),
            }
          : {}),
      });
      const elector = new LeaderElector({
        store: clients.leaseStore(options.namespace, audit.leaseName),
        identity: audit.identity,
        logger: log,
        ...(audit.leaseDurationMs !== undefined ? { leaseDurationMs: audit.leaseDurationMs } : {}),
        ...(audit.renewDeadlineMs !== undefined ? { renewDeadlineMs: audit.renewDeadlineMs } : {}),
        ...(audit.retryPeriodMs !== undefined ? { retryPeriodMs: audit.retryPeriodMs } : {}),
        onStartedLeading: (signal) => {
          metrics.setLeader(true);
          return auditor.runWhileLeading(signal);
        },
        onStoppedLeading: () => metrics.setLeader(false),
      });
      elector.start();
      closers.push(() => elector.close());
    },
    close: closeAll,
  };
}
