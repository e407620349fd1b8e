// How the cluster flags of `practice-gate serve` (cluster-flags.ts) become startCluster options. The Helm
// chart is written against exactly these names and against POD_NAME / POD_NAMESPACE.
import type { Logger } from 'pino';
import { ClusterUsageError } from './cluster-flags.js';
import type { ClusterFlags } from './cluster-flags.js';
import { formatDuration } from './duration.js';
import { holderIdentity, inCluster, loadKubeConfig, ownNamespace } from '../cluster/api/kubeconfig.js';
import type { ClusterOptions } from '../cluster/start.js';

export {
  addClusterServeFlags,
  ClusterUsageError,
  DEFAULT_AUDIT_INTERVAL_MS,
  DEFAULT_CERT_SECRET,
  DEFAULT_LEASE_NAME,
  DEFAULT_SERVICE,
  DEFAULT_WEBHOOK_CONFIG,
} from './cluster-flags.js';
export type { ClusterFlags } from './cluster-flags.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Cluster features are on in a pod or with --kubeconfig, unless --no-cluster. */
export function clusterEnabled(flags: Pick<ClusterFlags, 'cluster' | 'kubeconfig'>, env: Env = process.env): boolean {
  return flags.cluster !== false && (inCluster(env) || flags.kubeconfig !== undefined);
}

/** startCluster options for the flags, or undefined when cluster features are off. Throws ClusterUsageError, KubeConfigError. */
export function clusterOptionsFromFlags(flags: ClusterFlags, logger: Logger, env: Env = process.env): ClusterOptions | undefined {
  if (!clusterEnabled(flags, env)) {
    if (flags.selfManagedCerts) {
      throw new ClusterUsageError(
        flags.cluster === false
          ? '--self-managed-certs needs the cluster: drop --no-cluster'
          : '--self-managed-certs needs the cluster: run in a pod, or pass --kubeconfig',
      );
    }
    return undefined;
  }
  if (flags.selfManagedCerts && !(flags.certRenewBefore > 0 && flags.certRenewBefore < flags.certValidity)) {
    throw new ClusterUsageError(
      `--cert-renew-before (${formatDuration(flags.certRenewBefore)}) must be above 0 and below --cert-validity (${formatDuration(flags.certValidity)})`,
    );
  }
  if (flags.auditInterval > 0 && !(flags.leaseRetryPeriod < flags.leaseRenewDeadline && flags.leaseRenewDeadline < flags.leaseDuration)) {
    throw new ClusterUsageError(
      `--lease-retry-period (${formatDuration(flags.leaseRetryPeriod)}) < --lease-renew-deadline (${formatDuration(flags.leaseRenewDeadline)}) < --lease-duration (${formatDuration(flags.leaseDuration)}) must hold, or two replicas could audit at once`,
    );
  }
  const namespace = ownNamespace(flags.namespace, env);
  return {
    kubeConfig: loadKubeConfig(flags.kubeconfig, env),
    namespace,
    logger,
    informers: true,
    ...(flags.selfManagedCerts
      ? {
          certs: {
            secretName: flags.certSecret,
            webhookConfig: flags.webhookConfig,
            service: flags.service,
            certValidityMs: flags.certValidity,
            renewBeforeMs: flags.certRenewBefore,
            caPropagationMs: flags.caPropagation,
            caOverlapMs: flags.caOverlap,
            webhookPortName: flags.webhookPortName,
            ...(flags.caValidity !== undefined ? { caValidityMs: flags.caValidity } : {}),
          },
        }
      : {}),
    ...(flags.auditInterval > 0
      ? {
          audit: {
            intervalMs: flags.auditInterval,
            leaseName: flags.leaseName,
            identity: holderIdentity(env),
            webhookConfig: flags.webhookConfig,
            leaseDurationMs: flags.leaseDuration,
            renewDeadlineMs: flags.leaseRenewDeadline,
            retryPeriodMs: flags.leaseRetryPeriod,
          },
        }
      : {}),
  };
}
