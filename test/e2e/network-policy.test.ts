// network-policy-coverage against a real kube-apiserver: `serve --kubeconfig` keeps the
// NetworkPolicies from its informer, and kubectl shows the warning (the action is set to warn
// here; its default, audit, only records it) until a NetworkPolicy selects the workload's pods,
// in either order of creation, and again once that NetworkPolicy is deleted.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { startCluster } from './fixture/cluster.js';
import type { Cluster } from './fixture/cluster.js';
import { waitFor } from './fixture/processes.js';
import { startWebhook } from './fixture/webhook.js';
import type { Webhook } from './fixture/webhook.js';

type Obj = Record<string, any>;

const POLICY = 'network-policy-coverage';
const manifest = (file: string): string => readFileSync(new URL(`./manifests/${file}`, import.meta.url), 'utf8');
/** replicated.yaml (compliant with every other policy) under another name, one replica, as JSON for kubectl. */
const workload = (name: string): string => {
  const doc = parse(manifest('replicated.yaml')) as Obj;
  doc.metadata.name = name;
  doc.spec.replicas = 1;
  return JSON.stringify(doc);
};
const warnings = (stderr: string): string[] => stderr.split('\n').filter((l) => l.startsWith('Warning:'));
const coverageWarnings = (stderr: string): string[] => warnings(stderr).filter((l) => l.includes(`[${POLICY}]`));

let cluster: Cluster;
let webhook: Webhook;

t.before(async () => {
  cluster = await startCluster();
  webhook = await startWebhook(cluster, {
    name: 'netpol',
    config: `mode: enforce\npolicies:\n  ${POLICY}: warn\n`,
    // Its readiness waits for the informers' first lists: on a loaded machine that takes more than the default 30 s.
    readyTimeoutMs: 120_000,
    args: ['--kubeconfig', cluster.kubeconfig, '--audit-interval', '0'],
  });
});
t.teardown(async () => {
  await cluster?.kubectl(['delete', 'validatingwebhookconfiguration', 'practice-gate-e2e', '--ignore-not-found']);
  await webhook?.stop();
  await cluster?.stop();
});

async function kubectlOk(args: string[], input?: string): Promise<string> {
  const res = await cluster.kubectl(args, input);
  if (res.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${res.stderr}`);
  return res.stdout;
}

/** A server-side dry run of a create under a fresh name: what the webhook says now, once `settled` holds. */
async function judgedUntil(ns: string, what: string, settled: (stderr: string) => boolean): Promise<string> {
  let n = 0;
  return waitFor(
    what,
    async () => {
      const res = await cluster.kubectl(['create', '--dry-run=server', '-n', ns, '-f', '-'], workload(`probe-${n++}`));
      return res.code === 0 && settled(res.stderr) ? res.stderr : undefined;
    },
    30_000,
    300,
  );
}

t.test('the NetworkPolicy first, then the workload: admitted without a word', async (t) => {
  const ns = 'netpol-first';
  await kubectlOk(['create', 'namespace', ns]);
  await kubectlOk(['apply', '-n', ns, '-f', '-'], manifest('network-policy.yaml'));
  await judgedUntil(ns, 'the informer to see the NetworkPolicy', (stderr) => coverageWarnings(stderr).length === 0);
  const created = await cluster.kubectl(['apply', '-n', ns, '-f', '-'], workload('replicated'));
  t.equal(created.code, 0, created.stderr);
  t.same(warnings(created.stderr), [], 'covered: no warning at all');
});

t.test('the workload first: warned; quiet once the NetworkPolicy exists; warned again once it is deleted', async (t) => {
  const ns = 'netpol-later';
  await kubectlOk(['create', 'namespace', ns]);
  // netpol-first's NetworkPolicy selects the same labels: another namespace's policy does not count.
  const created = await cluster.kubectl(['apply', '-n', ns, '-f', '-'], workload('replicated'));
  t.equal(created.code, 0, `warn admits it: ${created.stderr}`);
  const [line] = coverageWarnings(created.stderr);
  t.equal(line, `Warning: [practice-gate] [${POLICY}] no NetworkPolicy selects its pods, so any pod can reach them: add one`);
  t.ok((line?.length ?? 0) <= 120, `kubectl's line fits in 120 characters: ${line?.length}`);
  t.equal(warnings(created.stderr).length, 1, `the only finding: ${created.stderr}`);

  await kubectlOk(['apply', '-n', ns, '-f', '-'], manifest('network-policy.yaml'));
  const quiet = await judgedUntil(ns, 'the informer to see the NetworkPolicy', (stderr) => coverageWarnings(stderr).length === 0);
  t.same(warnings(quiet), [], 'covered by the NetworkPolicy: no warning');
  const again = await cluster.kubectl(['apply', '-n', ns, '-f', '-'], workload('replicated-2'));
  t.same(warnings(again.stderr), [], 'a new workload with the same labels is covered too');

  await kubectlOk(['delete', 'networkpolicy', 'replicated', '-n', ns]);
  const warned = await judgedUntil(ns, 'the informer to see the deletion', (stderr) => coverageWarnings(stderr).length === 1);
  t.match(coverageWarnings(warned)[0], /no NetworkPolicy selects its pods/, 'deleted: uncovered again');
});

t.test('a namespace-wide default deny (podSelector: {}) covers every workload of its namespace', async (t) => {
  const ns = 'netpol-deny-all';
  await kubectlOk(['create', 'namespace', ns]);
  const denyAll = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'default-deny' },
    spec: { podSelector: {} },
  };
  await kubectlOk(['apply', '-n', ns, '-f', '-'], JSON.stringify(denyAll));
  const stderr = await judgedUntil(ns, 'the informer to see the default deny', (s) => coverageWarnings(s).length === 0);
  t.same(warnings(stderr), []);
});
