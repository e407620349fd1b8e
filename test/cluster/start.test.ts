import { X509Certificate } from 'node:crypto';
import t from 'tap';
import { Registry } from 'prom-client';
import { POLICIES } from '../../policies/index.js';
import { startCluster } from '../../src/cluster/start.js';
import { compileConfig, DEFAULT_CONFIG } from '../../src/engine/index.js';
import { captureLogger } from '../helpers/cluster.js';
import { FakeKubeApi } from '../helpers/kube-api.js';
import { waitUntil } from '../helpers/poll.js';

function fakeServer() {
  const conditions = new Map<string, boolean>();
  return {
    conditions,
    side: {
      state: {
        setCondition: (name: string, value: boolean) => void conditions.set(name, value),
        engineConfig: compileConfig(DEFAULT_CONFIG, POLICIES),
      },
      registry: new Registry(),
    },
  };
}

t.test('against an API server: certificates first, then informers that feed the context and readiness', async (t) => {
  const api = await new FakeKubeApi().start();
  t.teardown(() => api.stop());
  api.put('v1/namespaces', { metadata: { name: 'shop', labels: { 'practice-gate.io/mode': 'audit' } } });
  api.put('admissionregistration.k8s.io/v1/validatingwebhookconfigurations', {
    metadata: { name: 'practice-gate' },
    webhooks: [{ name: 'validate.practice-gate.io', clientConfig: {} }],
  });
  const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'app:1' }] } };
  api.put('apps/v1/deployments', {
    metadata: { namespace: 'shop', name: 'web', uid: 'u-web' },
    spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template },
  });
  const owner = [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'u-web', controller: true }];
  api.put('apps/v1/replicasets', {
    metadata: { namespace: 'shop', name: 'web-5d8f9', ownerReferences: owner },
    spec: { replicas: 3, template },
  });

  const cluster = await startCluster({
    kubeConfig: api.kubeConfig(),
    namespace: 'practice-gate',
    logger: captureLogger().logger,
    certs: { secretName: 'practice-gate-tls', webhookConfig: 'practice-gate', service: 'practice-gate' },
  });
  t.teardown(() => cluster.close());

  const secret = api.get('v1/secrets', 'practice-gate', 'practice-gate-tls') as { data: Record<string, string> } | undefined;
  t.ok(secret, 'the Secret was created before startCluster returned');
  const servingPem = Buffer.from(secret?.data['tls.crt'] ?? '', 'base64').toString('utf8');
  t.equal(cluster.certs?.current.fingerprint, new X509Certificate(servingPem).fingerprint256, 'serving material comes from the Secret');
  const webhook = api.get('admissionregistration.k8s.io/v1/validatingwebhookconfigurations', undefined, 'practice-gate') as {
    webhooks: Array<{ clientConfig: { caBundle?: string } }>;
  };
  t.equal(
    Buffer.from(webhook.webhooks[0]?.clientConfig.caBundle ?? '', 'base64').toString('utf8'),
    Buffer.from(secret?.data['ca.crt'] ?? '', 'base64').toString('utf8'),
  );

  t.same(cluster.conditions, ['caches']);
  const server = fakeServer();
  cluster.attach(server.side);
  await cluster.synced;
  t.equal(server.conditions.get('caches'), true, 'caches condition set once listed');
  t.equal(cluster.context?.namespaceLabels('shop')?.['practice-gate.io/mode'], 'audit');
  const workloads = cluster.context?.workloadsIn('shop') ?? [];
  t.same(
    workloads.map((w) => `${w.kind}/${w.name}/${String(w.replicas)}`),
    ['Deployment/web/3'],
    'the live Deployment is in the context, its ReplicaSet is not',
  );
  t.same(
    workloads[0]?.object.spec,
    {
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app' }] } },
      replicas: 3,
      selector: { matchLabels: { app: 'web' } },
    },
    'as a projection: the labels, and of each container its name and requests (none here)',
  );

  await waitUntil('watches open', () => api.openWatches >= 8); // seven informers and the Secret
  api.put('policy/v1/poddisruptionbudgets', {
    metadata: { namespace: 'shop', name: 'web' },
    spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } },
  });
  await waitUntil('the PDB reaches the context', () => (cluster.context?.pdbsIn('shop').length ?? 0) === 1);
  t.pass('a PDB created after start is in the context');

  const metrics = await server.side.registry.metrics();
  t.match(metrics, /practice_gate_cache_staleness_seconds\{resource="poddisruptionbudgets"\} 0/);
  await cluster.close();
  await waitUntil('watches closed', () => api.openWatches === 0);
});

t.test('against an API server: the leader runs the audit and writes PolicyReports', async (t) => {
  const api = await new FakeKubeApi().start();
  t.teardown(() => api.stop());
  api.put('v1/namespaces', { metadata: { name: 'shop' } });
  api.put('apps/v1/deployments', {
    metadata: { namespace: 'shop', name: 'web' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'app:latest' }] } },
    },
  });

  const cluster = await startCluster({
    kubeConfig: api.kubeConfig(),
    namespace: 'practice-gate',
    logger: captureLogger().logger,
    informers: false,
    audit: {
      intervalMs: 60_000,
      leaseName: 'practice-gate-audit',
      identity: 'pod-a',
      leaseDurationMs: 3000,
      renewDeadlineMs: 2000,
      retryPeriodMs: 500,
    },
  });
  t.teardown(() => cluster.close());
  t.same(cluster.conditions, [], 'no caches condition without informers');
  const server = fakeServer();
  cluster.attach(server.side);

  await waitUntil('a PolicyReport', () => api.get('wgpolicyk8s.io/v1alpha2/policyreports', 'shop', 'practice-gate') !== undefined);
  const report = api.get('wgpolicyk8s.io/v1alpha2/policyreports', 'shop', 'practice-gate') as {
    results: Array<{ policy: string; result: string; resources: Array<{ uid: string }> }>;
  };
  t.match(
    report.results.find((r) => r.policy === 'run-as-non-root'),
    { result: 'fail', resources: [{ uid: 'uid-web' }] },
  );
  t.match(api.get('coordination.k8s.io/v1/leases', 'practice-gate', 'practice-gate-audit'), { spec: { holderIdentity: 'pod-a' } });
  t.match(await server.side.registry.metrics(), /practice_gate_audit_leader 1/);
  t.match(await server.side.registry.metrics(), /practice_gate_violations\{namespace="shop",policy="run-as-non-root",action="deny"\} 1/);

  // close() waits for the hand-back only so long (a shutdown must not hang on the API server);
  // on a loaded machine the write can land just after it returns.
  await cluster.close();
  const holder = () =>
    (api.get('coordination.k8s.io/v1/leases', 'practice-gate', 'practice-gate-audit') as { spec: { holderIdentity?: string } }).spec
      .holderIdentity;
  await waitUntil('the lease handed back on close', () => holder() === '');
  t.equal(holder(), '', 'lease handed back on close');
});
