// Who may write an object on behalf of its owner: only a controller that makes objects of that
// kind for owners of that kind, and only for the owner the cache knows under that name.
import t from 'tap';
import {
  BUILTIN_TEMPLATE_WRITERS,
  ContextIndex,
  DEFAULT_CONFIG,
  EMPTY_CONTEXT,
  KUBE_CONTROLLER_MANAGER,
  WORKLOAD_KINDS,
  compileConfig,
  evaluate,
} from '../../src/engine/index.js';
import type { ClusterContext, Config, KubeObject, TrustedController, WorkloadPolicy } from '../../src/engine/index.js';

const denyAll: WorkloadPolicy = {
  id: 'deny-all',
  title: 't',
  why: 'w',
  fix: 'f',
  defaultAction: 'deny',
  kinds: WORKLOAD_KINDS,
  target: 'workload',
  check: () => [{ path: 'spec', message: 'bad' }],
};

const sa = (name: string) => `system:serviceaccount:kube-system:${name}`;
const DEVELOPER = 'dev@example.com';
const ARGO = 'system:serviceaccount:argo-rollouts:argo-rollouts';

function owned(kind: string, ownerKind: string, uid = 'uid-owner', ownerName = 'owner'): KubeObject {
  return {
    apiVersion: 'v1',
    kind,
    metadata: {
      name: 'made',
      namespace: 'shop',
      ownerReferences: [{ apiVersion: 'apps/v1', kind: ownerKind, name: ownerName, uid, controller: true }],
    },
    spec: { containers: [{ name: 'app' }] },
  };
}

function through(
  object: KubeObject,
  writer: string | undefined,
  options: { controllers?: TrustedController[]; context?: ClusterContext } = {},
): boolean | undefined {
  const config: Config = { ...DEFAULT_CONFIG, ...(options.controllers ? { controllers: options.controllers } : {}) };
  return evaluate(object, options.context ?? EMPTY_CONTEXT, compileConfig(config, [denyAll]), writer === undefined ? {} : { writer })
    ?.judgedThroughOwner;
}

t.test(
  'each kube-controller-manager controller writes its own kind for its own owner kind, under its own or the shared identity',
  async (t) => {
    const pairs: Array<[string, string, string]> = [
      ['replicaset-controller', 'Pod', 'ReplicaSet'],
      ['replication-controller', 'Pod', 'ReplicationController'],
      ['job-controller', 'Pod', 'Job'],
      ['statefulset-controller', 'Pod', 'StatefulSet'],
      ['daemon-set-controller', 'Pod', 'DaemonSet'],
      ['deployment-controller', 'ReplicaSet', 'Deployment'],
      ['cronjob-controller', 'Job', 'CronJob'],
    ];
    t.equal(BUILTIN_TEMPLATE_WRITERS.length, pairs.length, 'no built-in pair is left untested');
    for (const [controller, kind, ownerKind] of pairs) {
      t.equal(through(owned(kind, ownerKind), sa(controller)), true, `${controller}: ${kind} of a ${ownerKind}`);
      t.equal(through(owned(kind, ownerKind), KUBE_CONTROLLER_MANAGER), true, `${KUBE_CONTROLLER_MANAGER}: ${kind} of a ${ownerKind}`);
      t.equal(through(owned(kind, ownerKind), DEVELOPER), false, `a user: ${kind} claiming a ${ownerKind}`);
    }
  },
);

t.test('a ConfigMap owner lifts nothing, whoever writes the object', async (t) => {
  for (const writer of [DEVELOPER, sa('replicaset-controller'), KUBE_CONTROLLER_MANAGER, undefined]) {
    t.equal(through(owned('Pod', 'ConfigMap'), writer), false, `written by ${writer ?? 'nobody (a manifest)'}`);
  }
});

t.test('the right owner kind from the wrong user is judged as itself', async (t) => {
  t.equal(through(owned('Pod', 'ReplicaSet'), DEVELOPER), false, 'a developer');
  t.equal(through(owned('Pod', 'ReplicaSet'), sa('job-controller')), false, 'another controller');
  t.equal(
    through(owned('Pod', 'ReplicaSet'), 'system:serviceaccount:shop:replicaset-controller'),
    false,
    'a same-named account in a user namespace',
  );
  t.equal(through(owned('Job', 'CronJob'), DEVELOPER), false, 'a Job claiming a CronJob');
  t.equal(through(owned('ReplicaSet', 'Deployment'), DEVELOPER), false, 'a ReplicaSet claiming a Deployment');
});

t.test('the right user for the wrong owner kind or object kind is judged as itself', async (t) => {
  t.equal(
    through(owned('Pod', 'Deployment'), sa('replicaset-controller')),
    false,
    "the replicaset-controller never writes a Deployment's Pods",
  );
  t.equal(through(owned('Pod', 'ReplicaSet'), sa('deployment-controller')), false, 'the deployment-controller never writes Pods');
  t.equal(through(owned('Deployment', 'Deployment'), sa('deployment-controller')), false, 'nor Deployments');
  t.equal(through(owned('Job', 'CronJob'), sa('job-controller')), false, 'the job-controller never writes Jobs');
  t.equal(through(owned('Pod', 'Cluster'), KUBE_CONTROLLER_MANAGER), false, "an operator's owner kind is not kube-controller-manager's");
});

t.test("a made-up uid is refused when the cache knows the owner; an owner the cache lacks is taken on the controller's word", async (t) => {
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'owner', namespace: 'shop', uid: 'uid-real' },
    spec: {},
  };
  const context = ContextIndex.fromObjects([deployment]);
  const writer = sa('deployment-controller');
  t.equal(through(owned('ReplicaSet', 'Deployment', 'uid-real'), writer, { context }), true, 'the real uid');
  t.equal(through(owned('ReplicaSet', 'Deployment', 'uid-made-up'), writer, { context }), false, 'a made-up uid');
  t.equal(through(owned('ReplicaSet', 'Deployment', ''), writer, { context }), false, 'no uid at all');
  t.equal(through(owned('ReplicaSet', 'Deployment', 'uid-any', 'other'), writer, { context }), true, 'an owner the cache does not keep');
  t.equal(context.uidOf('shop', 'Deployment', 'owner'), 'uid-real');
  t.equal(context.uidOf('other', 'Deployment', 'owner'), undefined, 'namespaced');
  t.equal(context.uidOf('shop', 'StatefulSet', 'owner'), undefined, 'by kind');
});

t.test('a third-party controller is trusted for what the config names, and nothing else', async (t) => {
  const controllers: TrustedController[] = [{ username: ARGO, kinds: ['ReplicaSet'], ownerKinds: ['Rollout'] }];
  t.equal(through(owned('ReplicaSet', 'Rollout'), ARGO), false, 'not configured: judged as itself');
  t.equal(through(owned('ReplicaSet', 'Rollout'), ARGO, { controllers }), true, 'configured');
  t.equal(through(owned('ReplicaSet', 'Rollout'), DEVELOPER, { controllers }), false, 'a user claiming a Rollout');
  t.equal(through(owned('Pod', 'Rollout'), ARGO, { controllers }), false, 'a kind it is not trusted to write');
  t.equal(through(owned('ReplicaSet', 'Deployment'), ARGO, { controllers }), false, 'an owner kind it is not trusted for');
  t.equal(
    through(owned('ReplicaSet', 'Deployment'), sa('deployment-controller'), { controllers }),
    true,
    'the built-in controllers still count',
  );
});

t.test('without a writer (manifests, cluster scans) nothing is judged through its owner', async (t) => {
  t.equal(through(owned('Pod', 'ReplicaSet'), undefined), false);
  t.equal(through(owned('ReplicaSet', 'Deployment'), undefined), false);
});

t.test('names of Object.prototype in the writer, kinds and owner are names like any other', async (t) => {
  for (const name of Object.getOwnPropertyNames(Object.prototype)) {
    t.equal(through(owned('Pod', name), name), false, `owner kind and writer ${name}`);
    t.equal(through(owned('Pod', 'ReplicaSet'), name), false, `writer ${name}`);
    const object = owned('Pod', 'ReplicaSet');
    Object.defineProperty(object, 'kind', { value: name, enumerable: true });
    t.equal(through(object, sa('replicaset-controller')), undefined, `kind ${name} is not judged, and nothing throws`);
  }
});
