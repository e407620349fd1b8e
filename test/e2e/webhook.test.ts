// The webhook as its users meet it: kubectl against a real kube-apiserver that calls
// practice-gate over HTTPS. Asserts what kubectl prints and what the API server stored.
import { readFileSync, writeFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { startCluster } from './fixture/cluster.js';
import type { Cluster } from './fixture/cluster.js';
import { waitFor } from './fixture/processes.js';
import { startWebhook } from './fixture/webhook.js';
import type { Webhook } from './fixture/webhook.js';

const manifest = (file: string): string => readFileSync(new URL(`./manifests/${file}`, import.meta.url), 'utf8');
interface Doc {
  metadata: { name: string; annotations?: Record<string, string> };
  spec: { template: { spec: { securityContext?: unknown } } };
}
const asDoc = (file: string): Doc => parse(manifest(file)) as Doc;
/** A manifest under another name, optionally changed, as JSON for kubectl. */
const variant = (file: string, name: string, change: (d: Doc) => void = () => {}): string => {
  const doc = asDoc(file);
  doc.metadata.name = name;
  change(doc);
  return JSON.stringify(doc);
};
const withoutNonRoot = (d: Doc): void => {
  delete d.spec.template.spec.securityContext;
};

let cluster: Cluster;
let webhook: Webhook;

t.before(async () => {
  cluster = await startCluster();
  webhook = await startWebhook(cluster);
});
t.teardown(async () => {
  await webhook?.stop();
  await cluster?.stop();
});

const exists = async (kind: string, name: string): Promise<boolean> =>
  (await cluster.kubectl(['get', kind, name, '-o', 'name'])).code === 0;

/** Swaps the webhook's config file and waits until the running server uses it. */
async function setConfig(content: string, proof: () => Promise<boolean>): Promise<void> {
  writeFileSync(webhook.configFile, content);
  await waitFor('the webhook to reload its config', async () => ((await proof()) ? true : undefined), 30_000, 300);
}
const dryRunRoot = () => cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], variant('root.yaml', 'probe-mode'));

t.test('a compliant Deployment is created with no warnings', async (t) => {
  const res = await cluster.kubectl(['apply', '-f', '-'], manifest('compliant.yaml'));
  t.equal(res.code, 0, res.stderr);
  t.match(res.stdout, 'deployment.apps/compliant created');
  t.notMatch(res.stderr, /Warning/);
  t.ok(await exists('deployment', 'compliant'));
});

t.test('a Deployment that runs as root is refused with the policy, container and fix', async (t) => {
  const res = await cluster.kubectl(['apply', '-f', '-'], manifest('root.yaml'));
  t.not(res.code, 0);
  t.match(res.stderr, 'admission webhook "validate.practice-gate.io" denied the request');
  t.match(res.stderr, 'Deployment default/root');
  t.match(res.stderr, '[run-as-non-root]');
  t.match(res.stderr, 'container "app"');
  t.match(res.stderr, 'runAsNonRoot: true');
  t.notOk(await exists('deployment', 'root'), 'nothing was stored');
});

t.test('warn-level findings: created, and kubectl prints Warning lines naming the policies', async (t) => {
  const res = await cluster.kubectl(['apply', '-f', '-'], manifest('warn-only.yaml'));
  t.equal(res.code, 0, res.stderr);
  t.match(res.stdout, 'deployment.apps/warn-only created');
  const warnings = res.stderr.split('\n').filter((l) => l.startsWith('Warning:'));
  t.ok(
    warnings.some((w) => w.includes('memory-limit') && w.includes('"app"')),
    res.stderr,
  );
  t.ok(
    warnings.some((w) => w.includes('liveness-probe')),
    res.stderr,
  );
  t.ok(await exists('deployment', 'warn-only'));
});

t.test('server-side dry run is judged like the real thing and stores nothing', async (t) => {
  const res = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], manifest('root.yaml'));
  t.not(res.code, 0);
  t.match(res.stderr, '[run-as-non-root]');
  t.notOk(await exists('deployment', 'root'));
});

t.test('UPDATE: breaking a compliant Deployment is refused, fixing a broken one is admitted', async (t) => {
  const broken = await cluster.kubectl(['apply', '-f', '-'], variant('compliant.yaml', 'compliant', withoutNonRoot));
  t.not(broken.code, 0);
  t.match(broken.stderr, '[run-as-non-root]');
  const stored = await cluster.kubectl([
    'get',
    'deployment',
    'compliant',
    '-o',
    'jsonpath={.spec.template.spec.securityContext.runAsNonRoot}',
  ]);
  t.equal(stored.stdout, 'true', 'the stored object kept its securityContext');

  // store a non-compliant object while the namespace is audited, then fix it under enforce
  await setConfig('mode: audit\n', async () => (await dryRunRoot()).code === 0);
  const created = await cluster.kubectl(['apply', '-f', '-'], variant('compliant.yaml', 'to-fix', withoutNonRoot));
  t.equal(created.code, 0, created.stderr);
  await setConfig('mode: enforce\n', async () => (await dryRunRoot()).code !== 0);
  const fixed = await cluster.kubectl(['apply', '-f', '-'], variant('compliant.yaml', 'to-fix'));
  t.equal(fixed.code, 0, fixed.stderr);
  t.match(fixed.stdout, 'deployment.apps/to-fix configured');
});

t.test('mode audit: the root Deployment is created, the warning says it would be denied, the audit log keeps it', async (t) => {
  await setConfig('mode: audit\n', async () => (await dryRunRoot()).code === 0);
  t.teardown(() => setConfig('mode: enforce\n', async () => (await dryRunRoot()).code !== 0));
  const res = await cluster.kubectl(['apply', '-f', '-'], variant('root.yaml', 'audited'));
  t.equal(res.code, 0, res.stderr);
  t.match(res.stdout, 'deployment.apps/audited created');
  const warning = res.stderr.split('\n').find((l) => l.startsWith('Warning:') && l.includes('run-as-non-root'));
  t.ok(warning, res.stderr);
  t.match(warning ?? '', /\] would deny: /, 'the warning says enforce mode would deny it');

  const event = await waitFor(
    'the audit event for deployments/audited',
    async () => {
      const lines = readFileSync(cluster.auditLog, 'utf8').split('\n').filter(Boolean);
      for (const line of lines) {
        const ev = JSON.parse(line) as {
          verb?: string;
          stage?: string;
          objectRef?: { resource?: string; name?: string };
          annotations?: Record<string, string>;
        };
        if (
          ev.stage === 'ResponseComplete' &&
          ev.objectRef?.resource === 'deployments' &&
          ev.objectRef.name === 'audited' &&
          ev.verb !== 'get'
        )
          return ev;
      }
      return undefined;
    },
    15_000,
  );
  const keys = Object.keys(event.annotations ?? {});
  t.ok(
    keys.some((k) => k.endsWith('practice-gate.io/run-as-non-root')),
    `audit annotations: ${keys.join(', ')}`,
  );
});

t.test('without a cluster connection pdb-coverage is not run: no blind warning, and the log said why once', async (t) => {
  // This webhook has no kubeconfig, so it cannot see PDBs; test/e2e/cluster.test.ts has one and warns.
  const res = await cluster.kubectl(['apply', '-f', '-'], manifest('replicated.yaml'));
  t.equal(res.code, 0, res.stderr);
  t.notOk(
    res.stderr.split('\n').some((l) => l.startsWith('Warning:') && l.includes('pdb-coverage')),
    res.stderr,
  );
  const said = await webhook.logged(
    'the blind policy',
    (e) => typeof e.msg === 'string' && e.msg.includes('no cluster connection: not running pdb-coverage'),
  );
  t.ok(said.length >= 1, 'the webhook log says pdb-coverage is not run without a cluster');
});

t.test('failurePolicy: with the webhook stopped, Fail refuses workload writes and Ignore admits them', async (t) => {
  t.equal(await webhook.stop(), 0, 'the webhook exits 0 on SIGTERM');
  t.teardown(async () => {
    await webhook.start();
    await webhook.register('Fail');
  });
  await webhook.register('Fail');
  const refused = await cluster.kubectl(['apply', '-f', '-'], variant('compliant.yaml', 'while-down-fail'));
  t.not(refused.code, 0);
  t.match(refused.stderr, /failed calling webhook "validate\.practice-gate\.io"/);
  t.notOk(await exists('deployment', 'while-down-fail'));
  t.comment(`failurePolicy Fail, webhook down: ${refused.stderr.trim()}`);

  await webhook.register('Ignore');
  const admitted = await waitFor(
    'Ignore to take effect',
    async () => {
      const res = await cluster.kubectl(['apply', '-f', '-'], variant('compliant.yaml', 'while-down-ignore'));
      return res.code === 0 ? res : undefined;
    },
    30_000,
    500,
  );
  t.match(admitted.stdout, 'deployment.apps/while-down-ignore created');
  t.comment(`failurePolicy Ignore, webhook down: ${admitted.stdout.trim()} ${admitted.stderr.trim()}`);
});

t.test('restart under failurePolicy Fail: nothing non-compliant gets in, and calls succeed again after', async (t) => {
  let stop = false;
  const outcomes: { code: number | null; stderr: string }[] = [];
  const loop = (async () => {
    for (let i = 0; !stop; i++) {
      const res = await cluster.kubectl(['apply', '-f', '-'], variant('root.yaml', `loop-${i % 5}`));
      outcomes.push({ code: res.code, stderr: res.stderr });
    }
  })();
  await new Promise((r) => setTimeout(r, 1_500));
  t.equal(await webhook.stop(), 0);
  await new Promise((r) => setTimeout(r, 1_500));
  await webhook.start();
  const back = await waitFor(
    'the API server to reach the restarted webhook',
    async () => {
      const res = await cluster.kubectl(['apply', '-f', '-'], variant('root.yaml', 'loop-probe'));
      return res.stderr.includes('denied the request') ? res : undefined;
    },
    60_000,
    300,
  );
  stop = true;
  await loop;
  t.match(back.stderr, '[run-as-non-root]');
  t.ok(outcomes.length > 0, `the loop ran ${outcomes.length} applies`);
  t.equal(outcomes.filter((o) => o.code === 0).length, 0, 'no apply of the non-compliant Deployment succeeded');
  const listed = await cluster.kubectl(['get', 'deployments', '-o', 'name']);
  t.notMatch(listed.stdout, /loop-/, 'nothing non-compliant was stored');
});
