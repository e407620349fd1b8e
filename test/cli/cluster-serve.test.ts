// The cluster flags through the real CLI, against the fake API server: what the chart runs.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import t from 'tap';
import type { Test } from 'tap';
import { builtCli } from '../helpers/cli.js';
import { FakeKubeApi } from '../helpers/kube-api.js';
import { spawnNode } from '../helpers/node-child.js';
import { pollUntil, waitUntil } from '../helpers/poll.js';

function practiceGate(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawnNode([builtCli(), ...args], {
    env: { ...process.env, KUBERNETES_SERVICE_HOST: '', KUBECONFIG: '', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** A loaded machine can take tens of seconds to start node and load the server. */
const CHILD_WAIT = { timeoutMs: 60_000, intervalMs: 50 };

async function fakeCluster(t: Test) {
  const api = await new FakeKubeApi().start();
  t.teardown(() => api.stop());
  const dir = mkdtempSync(join(tmpdir(), 'pg-cluster-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      // client-node refuses plain HTTP unless TLS verification is off: the fake speaks HTTP.
      `clusters: [{ name: fake, cluster: { server: "http://127.0.0.1:${api.port}", insecure-skip-tls-verify: true } }]`,
      'users: [{ name: tester, user: { token: test-token } }]',
      'contexts: [{ name: fake, context: { cluster: fake, user: tester } }]',
      'current-context: fake',
    ].join('\n'),
  );
  return { api, kubeconfig };
}

function json(url: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }));
    }).on('error', reject);
  });
}

function servedCertificate(port: number): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const raw = socket.getPeerCertificate().raw;
      socket.end();
      resolve(new X509Certificate(raw));
    });
    socket.on('error', reject);
  });
}

t.test("serve --kubeconfig --self-managed-certs: serves the Secret's certificate, ready once caches synced", async (t) => {
  const { api, kubeconfig } = await fakeCluster(t);
  api.put('admissionregistration.k8s.io/v1/validatingwebhookconfigurations', {
    metadata: { name: 'practice-gate' },
    webhooks: [{ name: 'validate.practice-gate.io', clientConfig: {} }],
  });
  // The PodDisruptionBudgets cache cannot sync until the test lets it.
  const releasePdbs = api.holdLists('policy/v1/poddisruptionbudgets');
  const gate = practiceGate(
    [
      'serve',
      '--kubeconfig',
      kubeconfig,
      '--self-managed-certs',
      '--port',
      '0',
      '--probe-port',
      '0',
      '--host',
      '127.0.0.1',
      '--audit-interval',
      '0',
    ],
    { POD_NAMESPACE: 'pg-system', POD_NAME: 'practice-gate-0' },
  );
  t.teardown(() => gate.child.kill('SIGKILL'));

  const listening = await pollUntil(
    'the listening log line',
    () =>
      gate
        .stdout()
        .split('\n')
        .filter((l) => l.includes('"practice-gate listening"'))
        .map((l) => JSON.parse(l) as { port: number; probePort: number; fingerprint: string })[0],
    CHILD_WAIT,
  );
  const secret = api.get('v1/secrets', 'pg-system', 'practice-gate-tls') as { data: Record<string, string> };
  const fromSecret = new X509Certificate(Buffer.from(secret.data['tls.crt'] ?? '', 'base64'));
  t.equal(listening.fingerprint, fromSecret.fingerprint256, 'the Secret in POD_NAMESPACE holds what is served');
  t.equal((await servedCertificate(listening.port)).fingerprint256, fromSecret.fingerprint256, 'over TLS too');

  // The caches sync in the background after the server listens: ready once every informer listed.
  t.match(
    await json(`http://127.0.0.1:${listening.probePort}/readyz`),
    { status: 503, body: { ready: false, conditions: { certificates: true, caches: false } } },
    'not ready while a cache has not synced, though it serves its certificate',
  );
  releasePdbs();
  const ready = await pollUntil(
    'readiness',
    async () => {
      const answer = await json(`http://127.0.0.1:${listening.probePort}/readyz`);
      return answer.status === 200 ? answer : undefined;
    },
    { ...CHILD_WAIT, intervalMs: 100 },
  );
  t.match(ready, { status: 200, body: { ready: true, conditions: { certificates: true, caches: true } } }, 'ready once it has');

  gate.child.kill('SIGTERM');
  t.equal(await gate.exited, 0, 'exits 0 on SIGTERM, cluster features closed');
  t.equal(api.openWatches, 0, 'no watch left open');
});

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

t.test('serve --self-managed-certs with the API server unreachable: alive, not ready, still trying; SIGTERM exits 0', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pg-cluster-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const kubeconfig = join(dir, 'kubeconfig');
  const nowhere = await freePort();
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{ name: gone, cluster: { server: "http://127.0.0.1:${nowhere}", insecure-skip-tls-verify: true } }]`,
      'users: [{ name: tester, user: { token: test-token } }]',
      'contexts: [{ name: gone, context: { cluster: gone, user: tester } }]',
      'current-context: gone',
    ].join('\n'),
  );
  const probePort = await freePort();
  const gate = practiceGate(
    [
      'serve',
      '--kubeconfig',
      kubeconfig,
      '--self-managed-certs',
      '--port',
      '0',
      '--probe-port',
      String(probePort),
      '--host',
      '127.0.0.1',
      '--audit-interval',
      '0',
    ],
    { POD_NAMESPACE: 'pg-system', POD_NAME: 'practice-gate-0' },
  );
  t.teardown(() => gate.child.kill('SIGKILL'));

  await waitUntil('a failed attempt to reach the API server', () => gate.stdout().includes('"certs-failed"'), CHILD_WAIT);
  const live = await json(`http://127.0.0.1:${probePort}/healthz`);
  t.match(live, { status: 200, body: { status: 'ok' } }, 'the liveness probe passes: the process is only waiting');
  const ready = await json(`http://127.0.0.1:${probePort}/readyz`);
  t.match(ready, { status: 503, body: { ready: false, conditions: { certificates: false } } }, 'not ready: no certificate to serve yet');
  await waitUntil('a second attempt', () => gate.stdout().split('"certs-failed"').length > 2, CHILD_WAIT);

  gate.child.kill('SIGTERM');
  t.equal(await gate.exited, 0, 'a stop while waiting is a clean exit');
});

t.test('serve --self-managed-certs without a cluster: exit 2 saying what to add', async (t) => {
  const gate = practiceGate(['serve', '--self-managed-certs', '--port', '0']);
  t.equal(await gate.exited, 2);
  t.match(gate.stderr(), /--self-managed-certs needs the cluster: run in a pod, or pass --kubeconfig/);
});

t.test("audit --cluster prints the offline audit's JSON for a live namespace", async (t) => {
  const { api, kubeconfig } = await fakeCluster(t);
  api.put('v1/namespaces', { metadata: { name: 'shop' } });
  api.put('apps/v1/deployments', {
    metadata: { namespace: 'shop', name: 'web' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'app:latest' }] } },
    },
  });
  api.put('apps/v1/deployments', {
    metadata: { namespace: 'other', name: 'elsewhere' },
    spec: { template: { spec: { containers: [{ name: 'x' }] } } },
  });
  const gate = practiceGate(['audit', '--cluster', '--kubeconfig', kubeconfig, '--namespace', 'shop', '--format', 'json']);
  t.equal(await gate.exited, 1, 'a deny finding');
  const report = JSON.parse(gate.stdout()) as { results: Array<{ name: string; source: string }> };
  t.same(
    report.results.map((r) => r.name),
    ['web'],
    'only the namespace asked for',
  );
  t.equal(report.results[0]?.source, 'cluster fake');

  const noPaths = practiceGate(['audit']);
  t.equal(await noPaths.exited, 2, 'without --cluster, paths are still required');
  t.match(noPaths.stderr(), /missing required argument 'paths' \(or use --cluster\)/);
});
