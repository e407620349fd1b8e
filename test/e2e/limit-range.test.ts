// LimitRange defaults against a real kube-apiserver (whose LimitRanger admission plugin is on by
// default): `serve --kubeconfig` watches LimitRanges, so a Deployment without requests is refused
// until its namespace has a LimitRange that fills them in, in either order, and again once the
// LimitRange is deleted. `audit --cluster` says which LimitRange supplied the value.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { CLI, run, startCluster } from './fixture/cluster.js';
import type { Cluster } from './fixture/cluster.js';
import { waitFor } from './fixture/processes.js';
import { startWebhook } from './fixture/webhook.js';

type Obj = Record<string, any>;

let cluster: Cluster;

t.before(async () => {
  cluster = await startCluster();
});
t.teardown(async () => {
  await cluster?.stop();
});

async function kubectlOk(args: string[], input?: string): Promise<string> {
  const res = await cluster.kubectl(args, input);
  if (res.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${res.stderr}`);
  return res.stdout;
}

/** The e2e manifest that passes every policy, without its requests and limits. */
const deployment = (name: string): string => {
  const doc = parse(readFileSync(new URL('./manifests/compliant.yaml', import.meta.url), 'utf8')) as Obj;
  doc.metadata.name = name;
  delete doc.spec.template.spec.containers[0].resources;
  return JSON.stringify(doc);
};

const LIMIT_RANGE = JSON.stringify({
  apiVersion: 'v1',
  kind: 'LimitRange',
  metadata: { name: 'defaults' },
  spec: { limits: [{ type: 'Container', defaultRequest: { cpu: '100m' }, default: { memory: '256Mi' } }] },
});

/** Applies the Deployment until the webhook admits it: its watch sees a new LimitRange within moments. */
const appliedOnceAdmitted = (ns: string, name: string) =>
  waitFor(
    'the informer to see the LimitRange',
    async () => {
      const res = await cluster.kubectl(['apply', '-n', ns, '-f', '-'], deployment(name));
      return res.code === 0 ? res : undefined;
    },
    15_000,
    300,
  );

const denied = (stderr: string): boolean => /denied the request/.test(stderr) && /\[resource-requests\]/.test(stderr);

t.test('resource-requests on deny follows the LimitRanges of the namespace', async (t) => {
  const webhook = await startWebhook(cluster, {
    name: 'limit-ranges',
    readyTimeoutMs: 120_000,
    args: ['--kubeconfig', cluster.kubeconfig, '--audit-interval', '0'],
  });
  t.teardown(async () => {
    await cluster.kubectl(['delete', 'validatingwebhookconfiguration', 'practice-gate-e2e', '--ignore-not-found']);
    await webhook.stop();
  });

  t.test(
    'the Deployment first: denied, then admitted once a LimitRange defaults its requests, denied again once it is deleted',
    async (t) => {
      const ns = 'lr-after';
      await kubectlOk(['create', 'namespace', ns]);
      const refused = await cluster.kubectl(['apply', '-n', ns, '-f', '-'], deployment('web'));
      t.not(refused.code, 0, 'no requests and no LimitRange: refused');
      t.ok(denied(refused.stderr), refused.stderr);
      t.match(refused.stderr, /container "app" has no requests/);

      await kubectlOk(['apply', '-n', ns, '-f', '-'], LIMIT_RANGE);
      const admitted = await appliedOnceAdmitted(ns, 'web');
      t.notMatch(admitted.stderr, /\[(resource-requests|memory-limit)\]/, `no denial or warning: ${admitted.stderr}`);

      await kubectlOk(['delete', 'limitrange', 'defaults', '-n', ns]);
      const again = await waitFor(
        'the informer to drop the LimitRange',
        async () => {
          const res = await cluster.kubectl(['apply', '--dry-run=server', '-n', ns, '-f', '-'], deployment('other'));
          return res.code !== 0 ? res : undefined;
        },
        15_000,
        300,
      );
      t.ok(denied(again.stderr), again.stderr);
    },
  );

  t.test('the LimitRange first: the Deployment is admitted, and audit --cluster names the LimitRange', async (t) => {
    const ns = 'lr-before';
    await kubectlOk(['create', 'namespace', ns]);
    await kubectlOk(['apply', '-n', ns, '-f', '-'], LIMIT_RANGE);
    // The API server stores the item defaulted, as the projection does with one from a manifest: the default limit is the default request.
    const stored = JSON.parse(await kubectlOk(['get', 'limitrange', 'defaults', '-n', ns, '-o', 'json'])) as Obj;
    t.same(stored.spec.limits[0].defaultRequest, { cpu: '100m', memory: '256Mi' });
    const admitted = await appliedOnceAdmitted(ns, 'web');
    t.notMatch(admitted.stderr, /\[(resource-requests|memory-limit)\]/, admitted.stderr);

    const args = ['audit', '--cluster', '--namespace', ns, '--format', 'json', '--fail-on', 'never'];
    const audit = await run(process.execPath, [CLI, ...args, '--kubeconfig', cluster.kubeconfig]);
    t.equal(audit.code, 0, audit.stderr);
    const web = ((JSON.parse(audit.stdout) as Obj).results as Obj[]).find((r) => r.kind === 'Deployment' && r.name === 'web');
    t.notOk(
      web?.findings.some((f: Obj) => f.policy === 'resource-requests' || f.policy === 'memory-limit'),
      'no finding from the cluster audit either',
    );
    t.same(
      ((web?.notes ?? []) as Obj[]).map((n) => n.message),
      [
        `container "app": requests.cpu defaulted to 100m by LimitRange ${ns}/defaults when the pod is created`,
        `container "app": requests.memory defaulted to 256Mi by LimitRange ${ns}/defaults when the pod is created`,
        `container "app": limits.memory defaulted to 256Mi by LimitRange ${ns}/defaults when the pod is created`,
      ],
    );
  });
});
