// The cluster flags of `practice-gate serve`: their names, help and defaults. The Helm chart is
// written against exactly these names. Kept apart from cluster-options.ts, which turns them into
// startCluster options and loads @kubernetes/client-node, so that registering `serve` (which every
// command does, `audit` included) loads nothing heavy.
import { InvalidArgumentError, Option } from 'commander';
import type { Command } from 'commander';
import {
  DEFAULT_CA_OVERLAP_MS,
  DEFAULT_CA_PROPAGATION_MS,
  DEFAULT_CERT_VALIDITY_MS,
  DEFAULT_RENEW_BEFORE_MS,
  DEFAULT_WEBHOOK_PORT_NAME,
} from '../cluster/certs/cert-defaults.js';
import { DurationError, formatDuration, parseDuration } from './duration.js';
import { LEASE_DURATION_MS, RENEW_DEADLINE_MS, RETRY_PERIOD_MS } from '../cluster/leader/leader.js';

export const DEFAULT_CERT_SECRET = 'practice-gate-tls';
export const DEFAULT_WEBHOOK_CONFIG = 'practice-gate';
export const DEFAULT_SERVICE = 'practice-gate';
export const DEFAULT_LEASE_NAME = 'practice-gate-audit';
export const DEFAULT_AUDIT_INTERVAL_MS = 10 * 60_000;

export interface ClusterFlags {
  kubeconfig?: string;
  /** False with --no-cluster. */
  cluster: boolean;
  selfManagedCerts?: boolean;
  certSecret: string;
  webhookConfig: string;
  service: string;
  namespace?: string;
  certValidity: number;
  caValidity?: number;
  certRenewBefore: number;
  caPropagation: number;
  caOverlap: number;
  webhookPortName: string;
  auditInterval: number;
  leaseName: string;
  leaseDuration: number;
  leaseRenewDeadline: number;
  leaseRetryPeriod: number;
}

/** A flag combination that cannot work; the message says what to change. */
export class ClusterUsageError extends Error {
  override name = 'ClusterUsageError';
}

function duration(flag: string) {
  return (value: string): number => {
    try {
      return parseDuration(value, flag);
    } catch (err) {
      throw new InvalidArgumentError(err instanceof DurationError ? err.message : String(err));
    }
  };
}

function name(flag: string) {
  return (value: string): string => {
    // Kubernetes object names (RFC 1123 subdomain): better refused here than by the API server later.
    if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(value)) {
      throw new InvalidArgumentError(`${flag} must be a Kubernetes object name (lowercase letters, digits, '-' and '.')`);
    }
    return value;
  };
}

function portName(value: string): string {
  // A Service port name (IANA_SVC_NAME), or '' for the one unnamed port of a Service.
  if (value !== '' && !(value.length <= 15 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value) && /[a-z]/.test(value))) {
    throw new InvalidArgumentError(
      "--webhook-port-name must be a Service port name (up to 15 lowercase letters, digits and '-'), or empty for an unnamed port",
    );
  }
  return value;
}

/** Adds the cluster flags to `serve`. */
export function addClusterServeFlags(command: Command): Command {
  return command
    .option(
      '--kubeconfig <file>',
      'kubeconfig for the cluster features (in a pod: its service account; cluster features are on in a pod or with this flag)',
    )
    .option('--no-cluster', 'no cluster features: no informers, no cluster audit, no self-managed certificates')
    .option(
      '--self-managed-certs',
      'keep the CA and serving certificate in a Secret, renew them, and set caBundle on the webhook configuration',
    )
    .option(
      '--cert-secret <name>',
      'with --self-managed-certs: the Secret (in --namespace) holding ca.crt, ca.key, tls.crt, tls.key',
      name('--cert-secret'),
      DEFAULT_CERT_SECRET,
    )
    .option(
      '--webhook-config <name>',
      "this webhook's ValidatingWebhookConfiguration: the cluster audit judges what its selectors send; with --self-managed-certs its webhooks get caBundle",
      name('--webhook-config'),
      DEFAULT_WEBHOOK_CONFIG,
    )
    .option(
      '--service <name>',
      'with --self-managed-certs: the Service in front of the webhook (names in the certificate)',
      name('--service'),
      DEFAULT_SERVICE,
    )
    .option(
      '--namespace <namespace>',
      'namespace of the Secret and Lease (default: $POD_NAMESPACE, else the service account namespace, else practice-gate)',
      name('--namespace'),
    )
    .addOption(
      new Option('--cert-validity <duration>', 'lifetime of the serving certificate (e.g. 365d)')
        .argParser(duration('--cert-validity'))
        .default(DEFAULT_CERT_VALIDITY_MS, formatDuration(DEFAULT_CERT_VALIDITY_MS)),
    )
    .addOption(
      new Option('--ca-validity <duration>', 'lifetime of the CA (default: 5 x --cert-validity)').argParser(duration('--ca-validity')),
    )
    .addOption(
      new Option('--cert-renew-before <duration>', 'renew a certificate when less than this is left')
        .argParser(duration('--cert-renew-before'))
        .default(DEFAULT_RENEW_BEFORE_MS, formatDuration(DEFAULT_RENEW_BEFORE_MS)),
    )
    .addOption(
      new Option(
        '--ca-propagation <duration>',
        'with --self-managed-certs: how long a new CA is in caBundle before it signs the serving certificate',
      )
        .argParser(duration('--ca-propagation'))
        .default(DEFAULT_CA_PROPAGATION_MS, formatDuration(DEFAULT_CA_PROPAGATION_MS)),
    )
    .addOption(
      new Option(
        '--ca-overlap <duration>',
        'with --self-managed-certs: the least time the old CA stays in caBundle after the switch; it leaves once every endpoint of --service serves the new CA',
      )
        .argParser(duration('--ca-overlap'))
        .default(DEFAULT_CA_OVERLAP_MS, formatDuration(DEFAULT_CA_OVERLAP_MS)),
    )
    .option(
      '--webhook-port-name <name>',
      "with --self-managed-certs: the port of --service (on its EndpointSlices) whose endpoints are checked for the new CA's certificate before the old CA leaves caBundle",
      portName,
      DEFAULT_WEBHOOK_PORT_NAME,
    )
    .addOption(
      new Option('--audit-interval <duration>', 'cluster audit period; 0 switches the audit off')
        .argParser(duration('--audit-interval'))
        .default(DEFAULT_AUDIT_INTERVAL_MS, formatDuration(DEFAULT_AUDIT_INTERVAL_MS)),
    )
    .option(
      '--lease-name <name>',
      'Lease (in --namespace) electing the one replica that runs the cluster audit',
      name('--lease-name'),
      DEFAULT_LEASE_NAME,
    )
    .addOption(
      new Option('--lease-duration <duration>', 'how long the other replicas wait for a silent leader before taking the Lease over')
        .argParser(duration('--lease-duration'))
        .default(LEASE_DURATION_MS, formatDuration(LEASE_DURATION_MS)),
    )
    .addOption(
      new Option(
        '--lease-renew-deadline <duration>',
        'the leader stops auditing when it could not renew for this long (below --lease-duration)',
      )
        .argParser(duration('--lease-renew-deadline'))
        .default(RENEW_DEADLINE_MS, formatDuration(RENEW_DEADLINE_MS)),
    )
    .addOption(
      new Option('--lease-retry-period <duration>', 'pause between attempts to acquire or renew the Lease (below --lease-renew-deadline)')
        .argParser(duration('--lease-retry-period'))
        .default(RETRY_PERIOD_MS, formatDuration(RETRY_PERIOD_MS)),
    );
}
