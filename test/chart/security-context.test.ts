// The pods' security contexts on platforms that assign uids (OpenShift) and with an admin's
// overrides: still non-root with a read-only root filesystem unless an override says
// otherwise, checked by the values schema, and judged by practice-gate's own policies.
import t from 'tap';
import { POLICIES } from '../../policies/index.js';
import { ContextIndex, DEFAULT_CONFIG, compileConfig, evaluate } from '../../src/engine/index.js';
import type { KubeObject } from '../../src/engine/index.js';
import { CHART, assertSchemaRejects, one, render } from './helm.js';
import type { SchemaCase } from './helm.js';

type Obj = Record<string, any>;

const OPENSHIFT = ['--values', `${CHART}/ci/openshift-values.yaml`];

/** The security contexts of the webhook pod and of the helm test pod. */
function contexts(objects: KubeObject[]): Array<{ name: string; pod: Obj; container: Obj; resources: Obj }> {
  const deployment = one(objects, 'Deployment').spec.template.spec;
  const testPod = one(objects, 'Pod').spec;
  return [
    {
      name: 'webhook',
      pod: deployment.securityContext,
      container: deployment.containers[0].securityContext,
      resources: deployment.containers[0].resources,
    },
    {
      name: 'helm test',
      pod: testPod.securityContext,
      container: testPod.containers[0].securityContext,
      resources: testPod.containers[0].resources,
    },
  ];
}

const everyPolicyDenies = compileConfig(
  { ...DEFAULT_CONFIG, mode: 'enforce', policies: Object.fromEntries(POLICIES.map((p) => [p.id, 'deny'])) },
  POLICIES,
);

function findings(objects: KubeObject[]): string[] {
  const context = ContextIndex.fromObjects(objects);
  return objects.flatMap((o) => evaluate(o, context, everyPolicyDenies)?.findings.map((f) => `${f.policy} ${f.path}`) ?? []);
}

t.test(
  'uids assigned by the platform: runAsUser and runAsGroup null name no uid, gid or fsGroup, and the pods stay hardened',
  async (t) => {
    for (const flags of [OPENSHIFT, ['--set', 'runAsUser=null', '--set', 'runAsGroup=null']]) {
      const objects = render(flags);
      for (const { name, pod, container } of contexts(objects)) {
        t.same(pod, { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } }, `${flags.join(' ')}: ${name} pod`);
        t.same(
          container,
          {
            runAsNonRoot: true,
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
            privileged: false,
            capabilities: { drop: ['ALL'] },
            seccompProfile: { type: 'RuntimeDefault' },
          },
          `${flags.join(' ')}: ${name} container`,
        );
      }
      t.same(findings(objects), [], `${flags.join(' ')}: practice-gate's own policies find nothing (runAsNonRoot: true is enough)`);
    }
  },
);

t.test('ephemeral-storage in requests and limits reaches the webhook container', async (t) => {
  const [webhook] = contexts(render(OPENSHIFT));
  t.same(webhook?.resources, {
    requests: { cpu: '100m', memory: '256Mi', 'ephemeral-storage': '16Mi' },
    limits: { cpu: '1', memory: '512Mi', 'ephemeral-storage': '64Mi' },
  });
});

t.test("overrides: a key replaces the chart's, null removes it, and the rest of the defaults stay", async (t) => {
  const objects = render([
    '--set',
    'podSecurityContext.fsGroupChangePolicy=OnRootMismatch',
    '--set',
    'podSecurityContext.seccompProfile=null',
    '--set',
    'podSecurityContext.runAsUser=1000680000',
    '--set-json',
    'podSecurityContext.supplementalGroups=[1000680000]',
    '--set-json',
    'containerSecurityContext.capabilities={"add":["NET_BIND_SERVICE"]}',
    '--set',
    'containerSecurityContext.runAsUser=1000680000',
  ]);
  for (const { name, pod, container } of contexts(objects)) {
    t.same(
      pod,
      {
        runAsNonRoot: true,
        runAsUser: 1000680000,
        runAsGroup: 65532,
        fsGroup: 65532,
        fsGroupChangePolicy: 'OnRootMismatch',
        supplementalGroups: [1000680000],
      },
      `${name} pod: the override's uid wins over runAsUser, seccompProfile is gone`,
    );
    t.same(
      container,
      {
        runAsNonRoot: true,
        runAsUser: 1000680000,
        runAsGroup: 65532,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        privileged: false,
        capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] },
        seccompProfile: { type: 'RuntimeDefault' },
      },
      `${name} container: capabilities merged key by key`,
    );
  }
  t.same(findings(objects), []);
});

t.test("an override that weakens the container is found by practice-gate's own policies", async (t) => {
  const objects = render([
    '--set',
    'containerSecurityContext.readOnlyRootFilesystem=false',
    '--set',
    'containerSecurityContext.runAsNonRoot=null',
    '--set',
    'runAsUser=null',
  ]);
  t.same(
    findings(objects).sort(),
    [
      'read-only-root-filesystem spec.containers[0].securityContext.readOnlyRootFilesystem',
      'read-only-root-filesystem spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem',
    ],
    'runAsNonRoot stays on the pod, so removing it from the container is no finding; a writable root filesystem is',
  );
});

const REJECTED: SchemaCase[] = [
  ['a podSecurityContext that is not an object', ['--set', 'podSecurityContext=restricted'], /podSecurityContext/],
  ['a containerSecurityContext that is not an object', ['--set-json', 'containerSecurityContext=[1]'], /containerSecurityContext/],
  ['a misspelled pod field', ['--set', 'podSecurityContext.runAsUsr=1000'], /runAsUsr/],
  ['a misspelled container field', ['--set', 'containerSecurityContext.readOnlyRootFileSystem=true'], /readOnlyRootFileSystem/],
  ['a quoted uid', ['--set-string', 'podSecurityContext.runAsUser=1000'], /runAsUser/],
  ['uid 0 in an override', ['--set', 'containerSecurityContext.runAsUser=0'], /runAsUser/],
  ['a boolean written as a string', ['--set-string', 'containerSecurityContext.runAsNonRoot=true'], /runAsNonRoot/],
  ['an unknown seccomp profile type', ['--set', 'podSecurityContext.seccompProfile.type=Default'], /seccompProfile|type/],
  ['capabilities.drop that is not a list', ['--set', 'containerSecurityContext.capabilities.drop=ALL'], /drop/],
  ['a top-level runAsGroup as a string', ['--set-string', 'runAsGroup=65532'], /runAsGroup/],
  ['ephemeral-storage that is not a quantity', ['--set-json', 'resources.limits.ephemeral-storage=true'], /ephemeral-storage/],
];

t.test('the values schema rejects bad overrides with a message naming the key', async (t) => {
  assertSchemaRejects(t, REJECTED);
});
