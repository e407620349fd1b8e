import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Command } from 'commander';
import { DurationError, formatDuration, parseDuration } from '../../src/cli/duration.js';
import { holderIdentity, KubeConfigError, loadKubeConfig, ownNamespace } from '../../src/cluster/api/kubeconfig.js';
import { addClusterServeFlags, clusterEnabled, clusterOptionsFromFlags, ClusterUsageError } from '../../src/cli/cluster-options.js';
import type { ClusterFlags } from '../../src/cli/cluster-options.js';
import { captureLogger } from '../helpers/cluster.js';

const DAY = 86_400_000;

function parse(args: string[]): ClusterFlags {
  const command = addClusterServeFlags(new Command('serve').exitOverride().configureOutput({ writeErr: () => {} }));
  command.parse(args, { from: 'user' });
  return command.opts<ClusterFlags>();
}

function kubeconfigFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pg-kubeconfig-'));
  const file = join(dir, 'config');
  writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{ name: test, cluster: { server: "https://10.0.0.1:6443" } }]',
      'users: [{ name: test, user: { token: abc } }]',
      'contexts: [{ name: test, context: { cluster: test, user: test, namespace: shop } }]',
      'current-context: test',
    ].join('\n'),
  );
  return file;
}

t.test('durations: Go-style units plus days and years; 0 switches off', async (t) => {
  t.equal(parseDuration('10m'), 600_000);
  t.equal(parseDuration('1h30m'), 5_400_000);
  t.equal(parseDuration('30d'), 30 * DAY);
  t.equal(parseDuration('1y'), 365 * DAY);
  t.equal(parseDuration('1.5s'), 1500);
  t.equal(parseDuration('0'), 0);
  for (const bad of ['', '10', '10 m', '5w', 'm', '-1m'])
    t.throws(() => parseDuration(bad, '--audit-interval'), DurationError, `"${bad}" refused`);
  t.throws(() => parseDuration('ten', '--audit-interval'), /--audit-interval: "ten" is not a duration; write it like 90s, 10m/);
  t.equal(formatDuration(30 * DAY), '30d');
  t.equal(formatDuration(90_000), '90s');
});

t.test('flag names and defaults the Helm chart relies on', async (t) => {
  const flags = parse([]);
  t.match(flags, {
    cluster: true,
    certSecret: 'practice-gate-tls',
    webhookConfig: 'practice-gate',
    service: 'practice-gate',
    certValidity: 365 * DAY,
    certRenewBefore: 30 * DAY,
    caPropagation: 60_000,
    caOverlap: 600_000,
    webhookPortName: 'https-webhook',
    auditInterval: 600_000,
    leaseName: 'practice-gate-audit',
    leaseDuration: 15_000,
    leaseRenewDeadline: 10_000,
    leaseRetryPeriod: 2_000,
  });
  t.equal(flags.namespace, undefined, 'namespace resolved later from POD_NAMESPACE');
  const set = parse([
    '--kubeconfig',
    '/k',
    '--self-managed-certs',
    '--cert-secret',
    'tls',
    '--webhook-config',
    'pg',
    '--service',
    'pg-svc',
    '--namespace',
    'pg-system',
    '--cert-validity',
    '90d',
    '--ca-validity',
    '1y',
    '--cert-renew-before',
    '10d',
    '--audit-interval',
    '0',
    '--lease-name',
    'pg-lease',
  ]);
  t.match(set, {
    kubeconfig: '/k',
    selfManagedCerts: true,
    certSecret: 'tls',
    webhookConfig: 'pg',
    service: 'pg-svc',
    namespace: 'pg-system',
    certValidity: 90 * DAY,
    caValidity: 365 * DAY,
    certRenewBefore: 10 * DAY,
    auditInterval: 0,
    leaseName: 'pg-lease',
  });
  t.equal(parse(['--no-cluster']).cluster, false);
  t.throws(() => parse(['--audit-interval', 'soon']), /is not a duration/);
  t.throws(() => parse(['--cert-secret', 'Bad_Name']), /must be a Kubernetes object name/);
});

t.test('cluster features: on in a pod or with --kubeconfig, off with --no-cluster', async (t) => {
  const pod = { KUBERNETES_SERVICE_HOST: '10.96.0.1' };
  t.equal(clusterEnabled({ cluster: true }, {}), false, 'off on a laptop without --kubeconfig');
  t.equal(clusterEnabled({ cluster: true }, pod), true);
  t.equal(clusterEnabled({ cluster: true, kubeconfig: '/k' }, {}), true);
  t.equal(clusterEnabled({ cluster: false }, pod), false);
  t.equal(clusterOptionsFromFlags(parse([]), captureLogger().logger, {}), undefined);
});

t.test('options from flags: namespace, identity, certificates, audit', async (t) => {
  const file = kubeconfigFile();
  const env = { POD_NAMESPACE: 'pg-system', POD_NAME: 'practice-gate-7c9-x2' };
  const options = clusterOptionsFromFlags(
    parse(['--kubeconfig', file, '--self-managed-certs', '--cert-validity', '10m', '--cert-renew-before', '5m']),
    captureLogger().logger,
    env,
  );
  t.equal(options?.namespace, 'pg-system');
  t.equal(options?.kubeConfig.getCurrentCluster()?.server, 'https://10.0.0.1:6443');
  t.match(options?.certs, {
    secretName: 'practice-gate-tls',
    webhookConfig: 'practice-gate',
    service: 'practice-gate',
    certValidityMs: 600_000,
    renewBeforeMs: 300_000,
  });
  t.match(options?.audit, {
    intervalMs: 600_000,
    leaseName: 'practice-gate-audit',
    identity: 'practice-gate-7c9-x2',
    webhookConfig: 'practice-gate',
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
  });
  const timed = clusterOptionsFromFlags(
    parse([
      '--kubeconfig',
      file,
      '--webhook-config',
      'pg',
      '--lease-duration',
      '60s',
      '--lease-renew-deadline',
      '40s',
      '--lease-retry-period',
      '5s',
    ]),
    captureLogger().logger,
    env,
  );
  t.match(
    timed?.audit,
    { webhookConfig: 'pg', leaseDurationMs: 60_000, renewDeadlineMs: 40_000, retryPeriodMs: 5_000 },
    'lease timings and the webhook configuration reach the audit',
  );
  t.equal(
    clusterOptionsFromFlags(parse(['--kubeconfig', file, '--audit-interval', '0']), captureLogger().logger, env)?.audit,
    undefined,
    'audit off with 0',
  );
  t.equal(
    clusterOptionsFromFlags(parse(['--kubeconfig', file]), captureLogger().logger, env)?.certs,
    undefined,
    'certificates from files unless --self-managed-certs',
  );
  const rotation = clusterOptionsFromFlags(
    parse(['--kubeconfig', file, '--self-managed-certs', '--ca-propagation', '5s', '--ca-overlap', '0', '--webhook-port-name', 'webhook']),
    captureLogger().logger,
    env,
  );
  t.match(
    rotation?.certs,
    { caPropagationMs: 5_000, caOverlapMs: 0, webhookPortName: 'webhook' },
    'CA rotation timings and the probed port reach the certificates',
  );
  t.equal(parse(['--webhook-port-name', '']).webhookPortName, '', "a Service's one unnamed port");
  t.throws(() => parse(['--webhook-port-name', 'HTTPS_Webhook']), /must be a Service port name/);
  t.throws(() => parse(['--webhook-port-name', 'a-very-long-port-name']), /must be a Service port name/);
});

t.test('flag combinations that cannot work are refused with what to change', async (t) => {
  const log = captureLogger().logger;
  t.throws(
    () => clusterOptionsFromFlags(parse(['--self-managed-certs']), log, {}),
    new ClusterUsageError('--self-managed-certs needs the cluster: run in a pod, or pass --kubeconfig'),
  );
  t.throws(
    () => clusterOptionsFromFlags(parse(['--self-managed-certs', '--no-cluster']), log, { KUBERNETES_SERVICE_HOST: 'x' }),
    /drop --no-cluster/,
  );
  t.throws(
    () =>
      clusterOptionsFromFlags(
        parse(['--kubeconfig', kubeconfigFile(), '--self-managed-certs', '--cert-validity', '30d', '--cert-renew-before', '30d']),
        log,
        {},
      ),
    /--cert-renew-before \(30d\) must be above 0 and below --cert-validity \(30d\)/,
  );
  t.throws(
    () =>
      clusterOptionsFromFlags(
        parse(['--kubeconfig', kubeconfigFile(), '--lease-duration', '10s', '--lease-renew-deadline', '10s']),
        log,
        {},
      ),
    /--lease-retry-period \(2s\) < --lease-renew-deadline \(10s\) < --lease-duration \(10s\) must hold/,
  );
  t.doesNotThrow(
    () =>
      clusterOptionsFromFlags(
        parse(['--kubeconfig', kubeconfigFile(), '--lease-duration', '10s', '--lease-renew-deadline', '10s', '--audit-interval', '0']),
        log,
        {},
      ),
    'no audit: lease timings do not matter',
  );
  t.throws(() => loadKubeConfig('/does/not/exist', {}), KubeConfigError);
  const home = mkdtempSync(join(tmpdir(), 'pg-home-'));
  t.throws(() => loadKubeConfig(undefined, { HOME: home }), {
    name: 'KubeConfigError',
    message: /^no kubeconfig found: KUBECONFIG is not set, .* does not exist/,
  });
});

t.test('own namespace: flag, POD_NAMESPACE, service account file, fallback', async (t) => {
  const noFile = () => {
    throw new Error('ENOENT');
  };
  t.equal(ownNamespace('flagged', { POD_NAMESPACE: 'env' }, noFile), 'flagged');
  t.equal(ownNamespace(undefined, { POD_NAMESPACE: 'env' }, noFile), 'env');
  t.equal(
    ownNamespace(undefined, {}, () => 'from-sa\n'),
    'from-sa',
  );
  t.equal(ownNamespace(undefined, {}, noFile), 'practice-gate');
  t.equal(holderIdentity({ POD_NAME: 'pod-1' }), 'pod-1');
  t.match(holderIdentity({}), new RegExp(`-${process.pid}$`));
});
