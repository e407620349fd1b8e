// Owner claims against a real kube-apiserver. A user with create/patch rights in one namespace
// (a ServiceAccount token, through kubectl) cannot get a refused object admitted by writing an
// ownerReference into it; the controllers of kube-controller-manager still can write for the
// owners the webhook judged. This cluster runs no kube-controller-manager, so the controller
// writes are made by the admin impersonating the controller's service account: the API server
// then sends the webhook exactly the userInfo a real controller's write carries.
import t from 'tap';
import type { Test } from 'tap';
import { startCluster } from './fixture/cluster.js';
import type { Cluster, CommandResult } from './fixture/cluster.js';
import { waitFor } from './fixture/processes.js';
import { startWebhook } from './fixture/webhook.js';
import type { Webhook } from './fixture/webhook.js';

type Obj = Record<string, any>;

const NS = 'team';
/** Where serve keeps its Lease and Secret (--namespace) in cluster-aware mode. */
const OWN_NS = 'practice-gate';
const controller = (name: string) => `system:serviceaccount:kube-system:${name}`;

let cluster: Cluster;
let webhook: Webhook;
let devToken: string;

async function kubectlOk(args: string[], input?: string): Promise<string> {
  const res = await cluster.kubectl(args, input);
  if (res.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${res.stderr}`);
  return res.stdout;
}

/** kubectl as the namespace user: its own token, not the admin's. */
const asDev = (args: string[], input?: string): Promise<CommandResult> => cluster.kubectl(['--token', devToken, '-n', NS, ...args], input);
/** kubectl as the admin impersonating a kube-controller-manager controller. */
const asController = (name: string, args: string[], input?: string): Promise<CommandResult> =>
  cluster.kubectl(['--as', controller(name), '-n', NS, ...args], input);

const ROOT = { runAsUser: 0, privileged: true };
const SAFE = { runAsNonRoot: true, runAsUser: 10001, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false };

function podSpec(securityContext: Obj, restartPolicy = 'Always'): Obj {
  return {
    restartPolicy,
    containers: [
      {
        name: 'app',
        image: 'registry.example.com/shop/api:1.4.2',
        securityContext,
        resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '128Mi' } },
        ...(restartPolicy === 'Always'
          ? { readinessProbe: { httpGet: { path: '/ready', port: 8080 } }, livenessProbe: { httpGet: { path: '/live', port: 8080 } } }
          : {}),
      },
    ],
  };
}

const owner = (apiVersion: string, kind: string, name: string, uid: string) => [
  { apiVersion, kind, name, uid, controller: true, blockOwnerDeletion: true },
];

const pod = (name: string, securityContext: Obj, ownerReferences?: Obj[]): string =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: name }, ...(ownerReferences ? { ownerReferences } : {}) },
    spec: podSpec(securityContext),
  });

const replicaSet = (name: string, securityContext: Obj, ownerReferences?: Obj[]): string =>
  JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, ...(ownerReferences ? { ownerReferences } : {}) },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: podSpec(securityContext) },
    },
  });

const job = (name: string, securityContext: Obj, ownerReferences?: Obj[]): string =>
  JSON.stringify({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, ...(ownerReferences ? { ownerReferences } : {}) },
    spec: { template: { metadata: { labels: { app: name } }, spec: podSpec(securityContext, 'Never') } },
  });

function deployment(name: string): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: podSpec(SAFE) } },
  });
}

const exists = async (kind: string, name: string): Promise<boolean> =>
  (await cluster.kubectl(['get', kind, name, '-n', NS, '-o', 'name'])).code === 0;
const uidOf = async (kind: string, name: string): Promise<string> =>
  (await kubectlOk(['get', kind, name, '-n', NS, '-o', 'jsonpath={.metadata.uid}'])).trim();

function refused(t: Test, res: CommandResult, subject: string): void {
  t.not(res.code, 0, 'refused');
  t.match(res.stderr, 'admission webhook "validate.practice-gate.io" denied the request');
  t.match(res.stderr, subject);
  t.match(res.stderr, '[run-as-non-root]');
}

t.before(async () => {
  cluster = await startCluster();
  await kubectlOk(['create', 'namespace', NS]);
  await kubectlOk(['create', 'namespace', OWN_NS]);
  // The namespace user: create, patch and read workloads and ConfigMaps in one namespace, nothing else.
  await kubectlOk(['create', 'serviceaccount', 'dev', '-n', NS]);
  await kubectlOk([
    'create',
    'role',
    'dev',
    '-n',
    NS,
    '--verb=create,patch,get,list',
    '--resource=pods,configmaps,replicasets.apps,deployments.apps,jobs.batch,cronjobs.batch',
  ]);
  await kubectlOk(['create', 'rolebinding', 'dev', '-n', NS, '--role=dev', `--serviceaccount=${NS}:dev`]);
  devToken = (await kubectlOk(['create', 'token', 'dev', '-n', NS, '--duration=1h'])).trim();
  // Cluster-aware, so the informer cache knows the Deployments whose uid a claim must match.
  webhook = await startWebhook(cluster, {
    name: 'bypass',
    env: { POD_NAME: 'bypass-0' },
    args: ['--kubeconfig', cluster.kubeconfig, '--namespace', OWN_NS, '--audit-interval', '0'],
  });
});
t.teardown(async () => {
  await webhook?.stop();
  await cluster?.stop();
});

t.test('the namespace user can write only in its namespace', async (t) => {
  t.equal((await asDev(['auth', 'can-i', 'create', 'pods'])).stdout.trim(), 'yes');
  t.equal((await asDev(['auth', 'can-i', 'patch', 'replicasets.apps'])).stdout.trim(), 'yes');
  t.equal((await cluster.kubectl(['--token', devToken, 'auth', 'can-i', 'create', 'pods', '-n', 'default'])).stdout.trim(), 'no');
  t.equal((await asDev(['auth', 'can-i', 'patch', 'namespaces'])).stdout.trim(), 'no');
});

t.test('a root, privileged Pod claiming a ConfigMap the user owns as its controller is refused', async (t) => {
  await asDev(['create', 'configmap', 'mine', '--from-literal=a=b']);
  const uid = await uidOf('configmap', 'mine');
  t.ok(uid, 'a real ConfigMap with its real uid');
  refused(t, await asDev(['create', '-f', '-'], pod('plain-root', ROOT)), 'Pod team/plain-root');
  refused(
    t,
    await asDev(['create', '-f', '-'], pod('claims-configmap', ROOT, owner('v1', 'ConfigMap', 'mine', uid))),
    'Pod team/claims-configmap',
  );
  t.notOk(await exists('pod', 'claims-configmap'), 'nothing was stored');
});

t.test('a Job claiming a CronJob and a ReplicaSet claiming a Deployment, with made-up uids, are refused', async (t) => {
  const madeUp = '2f0a3c1e-9d8b-4c7a-b6e5-000000000001';
  refused(
    t,
    await asDev(['create', '-f', '-'], job('claims-cronjob', ROOT, owner('batch/v1', 'CronJob', 'nightly', madeUp))),
    'Job team/claims-cronjob',
  );
  refused(
    t,
    await asDev(['create', '-f', '-'], replicaSet('claims-deployment', ROOT, owner('apps/v1', 'Deployment', 'web', madeUp))),
    'ReplicaSet team/claims-deployment',
  );
  t.notOk(await exists('job', 'claims-cronjob'));
  t.notOk(await exists('replicaset', 'claims-deployment'));
});

t.test('kubectl patch cannot add an owner claim together with root to a stored ReplicaSet', async (t) => {
  const created = await asDev(['create', '-f', '-'], replicaSet('patched', SAFE));
  t.equal(created.code, 0, created.stderr);
  const patch = JSON.stringify([
    { op: 'add', path: '/metadata/ownerReferences', value: owner('apps/v1', 'Deployment', 'web', '2f0a3c1e-9d8b-4c7a-b6e5-000000000002') },
    { op: 'replace', path: '/spec/template/spec/containers/0/securityContext', value: ROOT },
  ]);
  refused(t, await asDev(['patch', 'replicaset', 'patched', '--type=json', '-p', patch]), 'ReplicaSet team/patched');
  const stored = await kubectlOk([
    'get',
    'replicaset',
    'patched',
    '-n',
    NS,
    '-o',
    'jsonpath={.spec.template.spec.containers[0].securityContext.runAsUser}',
  ]);
  t.equal(stored, '10001', 'the stored ReplicaSet is unchanged');
});

t.test('what kube-controller-manager writes for a judged owner is only recorded, and only for that owner', async (t) => {
  await kubectlOk(['create', '-n', NS, '-f', '-'], deployment('web'));
  const webUid = await uidOf('deployment', 'web');

  // The deployment-controller writing the ReplicaSet of the Deployment the webhook judged: admitted.
  const rs = await asController(
    'deployment-controller',
    ['create', '-f', '-'],
    replicaSet('web-5d8f', ROOT, owner('apps/v1', 'Deployment', 'web', webUid)),
  );
  t.equal(rs.code, 0, rs.stderr);
  t.notMatch(rs.stderr, /Warning/, 'no warning: the findings are recorded in the audit log only');
  const rsUid = await uidOf('replicaset', 'web-5d8f');

  // The replicaset-controller writing that ReplicaSet's Pod: admitted.
  const made = await asController(
    'replicaset-controller',
    ['create', '-f', '-'],
    pod('web-5d8f-x2x4q', ROOT, owner('apps/v1', 'ReplicaSet', 'web-5d8f', rsUid)),
  );
  t.equal(made.code, 0, made.stderr);

  // The same writes from the namespace user are refused.
  refused(
    t,
    await asDev(['create', '-f', '-'], replicaSet('web-6c9a', ROOT, owner('apps/v1', 'Deployment', 'web', webUid))),
    'ReplicaSet team/web-6c9a',
  );
  refused(
    t,
    await asDev(['create', '-f', '-'], pod('web-5d8f-y7z8w', ROOT, owner('apps/v1', 'ReplicaSet', 'web-5d8f', rsUid))),
    'Pod team/web-5d8f-y7z8w',
  );

  // A controller writing for an owner that is not the one the cache knows is judged as itself
  // (once the watch has brought the Deployment into the cache: until then the controller's word is taken).
  const wrongOwner = replicaSet('web-7e1b', ROOT, owner('apps/v1', 'Deployment', 'web', '2f0a3c1e-9d8b-4c7a-b6e5-000000000003'));
  await waitFor(
    "the webhook's cache to know Deployment web",
    async () =>
      (await asController('deployment-controller', ['create', '--dry-run=server', '-f', '-'], wrongOwner)).code !== 0 ? true : undefined,
    30_000,
    300,
  );
  refused(t, await asController('deployment-controller', ['create', '-f', '-'], wrongOwner), 'ReplicaSet team/web-7e1b');
  t.notOk(await exists('replicaset', 'web-7e1b'));
  // A controller writing an object kind it never makes is judged as itself.
  refused(
    t,
    await asController(
      'replicaset-controller',
      ['create', '-f', '-'],
      pod('rs-claims-deployment', ROOT, owner('apps/v1', 'Deployment', 'web', webUid)),
    ),
    'Pod team/rs-claims-deployment',
  );
  refused(
    t,
    await asController(
      'job-controller',
      ['create', '-f', '-'],
      pod('wrong-controller', ROOT, owner('apps/v1', 'ReplicaSet', 'web-5d8f', rsUid)),
    ),
    'Pod team/wrong-controller',
  );
});
