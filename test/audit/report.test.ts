import t from 'tap';
import { buildReport, contextFor, failsOn, summarize } from '../../src/audit/index.js';
import type { AuditResult, FailOn, SourceObject } from '../../src/audit/index.js';
import { DEFAULT_CONFIG, compileConfig } from '../../src/engine/index.js';
import type { WorkloadPolicy } from '../../src/engine/index.js';

// A stand-in policy that only looks at the context, so these tests do not depend on real policies.
const needsPdb: WorkloadPolicy = {
  id: 'needs-pdb',
  title: 'A PDB exists in the namespace',
  why: 'test',
  fix: 'kind: PodDisruptionBudget',
  defaultAction: 'deny',
  kinds: ['Deployment', 'ReplicaSet', 'Pod'],
  target: 'workload',
  check: (workload, context) =>
    context.pdbsIn(workload.namespace).length > 0 ? [] : [{ path: 'metadata', message: `no PDB in ${workload.namespace}` }],
};

const item = (object: SourceObject['object'], source = 'm.yaml', document?: number): SourceObject => ({
  object,
  source,
  ...(document !== undefined ? { document } : {}),
});
const deployment = (name: string, namespace?: string) =>
  item({ kind: 'Deployment', apiVersion: 'apps/v1', metadata: { name, ...(namespace ? { namespace } : {}) } });
const pdb = (namespace?: string) =>
  item({ kind: 'PodDisruptionBudget', apiVersion: 'policy/v1', metadata: { name: 'p', ...(namespace ? { namespace } : {}) } }, 'pdb.yaml');

function judge(items: SourceObject[], namespace = 'default') {
  return buildReport(items, contextFor(items, namespace), compileConfig(DEFAULT_CONFIG, [needsPdb]), namespace);
}

t.test('the context is every document given: a PDB in another file counts, in the same default namespace', async (t) => {
  // The PDB is context only: no policy of this registry judges PodDisruptionBudgets, so it has no result of its own.
  const covered = judge([deployment('api'), pdb()]);
  t.same(
    covered.results.map((r) => [r.kind, r.findings.length]),
    [['Deployment', 0]],
  );
  const elsewhere = judge([deployment('api', 'shop'), pdb()]);
  t.match(elsewhere.results[0]?.findings, [{ policy: 'needs-pdb', message: 'no PDB in shop' }]);
  const movedTogether = judge([deployment('api'), pdb()], 'shop');
  t.same(
    movedTogether.results.map((r) => [r.namespace, r.findings.length]),
    [['shop', 0]],
  );
});

t.test('results keep the source and document, and leave out kinds that are not judged', async (t) => {
  const report = judge([
    item({ kind: 'Service', metadata: { name: 's' } }),
    item({ kind: 'Deployment', apiVersion: 'apps/v1', metadata: { name: 'a' } }, 'all.yaml', 2),
  ]);
  t.strictSame(report.results, [
    {
      source: 'all.yaml',
      document: 2,
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: 'default',
      name: 'a',
      findings: [
        {
          policy: 'needs-pdb',
          action: 'deny',
          path: 'metadata',
          message: 'no PDB in default',
          remediation: 'kind: PodDisruptionBudget',
          exempt: false,
        },
      ],
    },
  ]);
});

t.test('the summary counts non-exempt findings per action and exempt ones apart', async (t) => {
  const finding = (action: 'deny' | 'warn' | 'audit', exempt = false) => ({
    policy: 'p',
    action,
    path: 'x',
    message: 'm',
    remediation: 'r',
    exempt,
  });
  const results: AuditResult[] = [
    {
      source: 's',
      apiVersion: 'v1',
      kind: 'Pod',
      namespace: 'n',
      name: 'a',
      findings: [finding('deny'), finding('deny', true), finding('warn')],
    },
    { source: 's', apiVersion: 'v1', kind: 'Pod', namespace: 'n', name: 'b', findings: [finding('audit'), finding('warn', true)] },
    { source: 's', apiVersion: 'v1', kind: 'Pod', namespace: 'n', name: 'c', findings: [] },
  ];
  t.strictSame(summarize(results), { objects: 3, deny: 1, warn: 1, audit: 1, exempt: 2 });
});

t.test('failsOn: deny fails on deny, warn on deny or warn, never never', async (t) => {
  const summary = (deny: number, warn: number, audit: number) => ({ objects: 1, deny, warn, audit, exempt: 5 });
  const cases: Array<[FailOn, number, number, number, boolean]> = [
    ['deny', 1, 0, 0, true],
    ['deny', 0, 3, 3, false],
    ['warn', 1, 0, 0, true],
    ['warn', 0, 1, 0, true],
    ['warn', 0, 0, 4, false],
    ['never', 9, 9, 9, false],
  ];
  for (const [failOn, deny, warn, audit, fails] of cases) {
    t.equal(failsOn(summary(deny, warn, audit), failOn), fails, `${failOn} with ${deny} deny, ${warn} warn, ${audit} audit`);
  }
});

t.test('objects made by a controller are judged through their owner when the owner is among the documents', async (t) => {
  const owner = item({ kind: 'Deployment', apiVersion: 'apps/v1', metadata: { name: 'web', uid: 'uid-web' } });
  const byUid = item({
    kind: 'ReplicaSet',
    apiVersion: 'apps/v1',
    metadata: {
      name: 'made-by-uid',
      uid: 'uid-rs',
      ownerReferences: [{ kind: 'Deployment', name: 'renamed', uid: 'uid-web', controller: true }],
    },
  });
  const byName = item({
    kind: 'ReplicaSet',
    apiVersion: 'apps/v1',
    metadata: { name: 'made-by-name', ownerReferences: [{ kind: 'Deployment', name: 'web', controller: true }] },
  });
  const pod = item({
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: { name: 'made-by-rs', ownerReferences: [{ kind: 'ReplicaSet', name: 'made-by-uid', uid: 'uid-rs', controller: true }] },
  });
  const report = judge([owner, byUid, byName, pod, deployment('own')]);
  t.same(
    report.results.map((r) => [r.name, r.findings.map((f) => f.action)]),
    [
      ['web', ['deny']],
      ['made-by-uid', ['audit']],
      ['made-by-name', ['audit']],
      ['made-by-rs', ['audit']],
      ['own', ['deny']],
    ],
  );
  t.strictSame(report.summary, { objects: 5, deny: 2, warn: 0, audit: 3, exempt: 0 });
});

t.test('an owner among the documents lifts nothing when it is not of a kind that makes the object', async (t) => {
  const configMap = item({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'mine', uid: 'uid-cm' } });
  const deploymentOwner = item({ kind: 'Deployment', apiVersion: 'apps/v1', metadata: { name: 'web', uid: 'uid-web' } });
  const claims = (name: string, kind: string, ownerKind: string, ownerName: string, uid: string) =>
    item({ kind, apiVersion: 'v1', metadata: { name, ownerReferences: [{ kind: ownerKind, name: ownerName, uid, controller: true }] } });
  const report = judge([
    configMap,
    deploymentOwner,
    claims('pod-of-a-configmap', 'Pod', 'ConfigMap', 'mine', 'uid-cm'),
    claims('pod-of-a-deployment', 'Pod', 'Deployment', 'web', 'uid-web'),
    claims('deployment-of-a-deployment', 'Deployment', 'Deployment', 'web', 'uid-web'),
  ]);
  t.same(
    report.results.map((r) => [r.name, r.findings.map((f) => f.action)]),
    [
      ['web', ['deny']],
      ['pod-of-a-configmap', ['deny']],
      ['pod-of-a-deployment', ['deny']],
      ['deployment-of-a-deployment', ['deny']],
    ],
  );
  t.equal(report.summary.audit, 0);
});

t.test('an ownerReference to something not in the documents lifts nothing: the object is judged as itself', async (t) => {
  const claimed = item({
    kind: 'Deployment',
    apiVersion: 'apps/v1',
    metadata: { name: 'claims-an-owner', ownerReferences: [{ kind: 'ConfigMap', name: 'mine', uid: '1', controller: true }] },
  });
  const notController = item({ kind: 'Deployment', apiVersion: 'apps/v1', metadata: { name: 'web', uid: 'uid-web' } });
  const report = judge([claimed, notController]);
  t.same(
    report.results.map((r) => [r.name, r.findings.map((f) => f.action)]),
    [
      ['claims-an-owner', ['deny']],
      ['web', ['deny']],
    ],
  );
  t.equal(report.summary.audit, 0);
});
