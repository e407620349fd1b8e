import t from 'tap';
import { parse } from 'yaml';
import policy from './policy.js';
import { kindOf, metaOf } from '../../src/engine/index.js';
import type { KubeObject } from '../../src/engine/index.js';
import { examples, judge } from '../../test/helpers/manifests.js';

// Each file holds its cases and the PDBs/HPAs they are judged against, as an offline audit of the file would.
const { good, bad, get } = examples('pdb-coverage');
const judged = (file: Map<string, KubeObject>) => [...file].filter(([, obj]) => policy.kinds.includes(kindOf(obj)));
const inBad = (obj: KubeObject, context: Iterable<KubeObject> = bad.values()) => judge(policy, obj, context);

t.test('good examples pass', async (t) => {
  t.equal(judged(good).length, 9, 'all good workloads are of judged kinds but the DaemonSet');
  for (const [name, obj] of good) t.same(judge(policy, obj, good.values()), [], name);
});

t.test('no PDB: the finding points at the template labels and the fix is a PDB for them', async (t) => {
  const findings = inBad(get('no-pdb'));
  t.equal(findings.length, 1);
  t.match(findings[0], { policy: 'pdb-coverage', action: 'warn', path: 'spec.template.metadata.labels' });
  t.notOk(findings[0]?.container);
  t.match(findings[0]?.message, /^3 replicas but no PodDisruptionBudget covers it/);
  t.match(parse(findings[0]?.remediation ?? ''), {
    kind: 'PodDisruptionBudget',
    metadata: { name: 'no-pdb', namespace: 'bare' },
    spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'no-pdb' } } },
  });
});

t.test('the suggested PDB uses the workload selector, not version labels of the template', async (t) => {
  const pdb = parse(inBad(get('no-pdb'))[0]?.remediation ?? '') as { spec: { selector: unknown } };
  t.same(pdb.spec.selector, { matchLabels: { app: 'no-pdb' } });
  const rc = parse(inBad(get('legacy-rc'))[0]?.remediation ?? '') as { spec: { selector: unknown } };
  t.same(rc.spec.selector, { matchLabels: { app: 'legacy' } }, 'a ReplicationController selector is a plain map');
});

t.test('an HPA that may scale to 2 or more makes a single-replica workload replicated', async (t) => {
  const findings = inBad(get('hpa-driven'));
  t.equal(findings.length, 1);
  t.match(findings[0]?.message, /^HPA "hpa-driven-hpa" scales it to 10 but no PodDisruptionBudget/);
  const withoutHpa = [...bad.values()].filter((o) => o.kind !== 'HorizontalPodAutoscaler');
  t.same(inBad(get('hpa-driven'), withoutHpa), [], 'without its HPA it runs one replica');
});

t.test('a PDB in another namespace does not cover the workload', async (t) => {
  t.match(inBad(get('other-ns'))[0]?.message, /no PodDisruptionBudget/);
  const moved = { ...get('other-ns'), metadata: { name: 'other-ns', namespace: 'team-b' } };
  t.same(inBad(moved), [], 'the same workload in the PDB namespace is covered');
});

t.test('overlapping PDBs: the finding names both and says evictions will be refused', async (t) => {
  const findings = inBad(get('overlapping'));
  t.equal(findings.length, 1);
  t.equal(findings[0]?.path, 'spec.template.metadata.labels');
  t.match(findings[0]?.message, /"shop-pdb", "namespace-pdb"/);
  t.match(findings[0]?.message, /every eviction is refused/);
});

t.test('matchExpressions are honoured', async (t) => {
  t.match(inBad(get('replica-db'))[0]?.message, /no PodDisruptionBudget/);
  const primary = structuredClone(get('replica-db')) as { spec: { template: { metadata: { labels: Record<string, string> } } } };
  primary.spec.template.metadata.labels.role = 'primary';
  t.same(inBad(primary as KubeObject), [], 'pods the expression admits are covered');
});

t.test('a PDB without a selector covers nothing', async (t) => {
  t.equal(inBad(get('selectorless-pdb')).length, 1);
});

t.test('a ReplicaSet is judged unless a controller owns it', async (t) => {
  t.equal(inBad(get('bare-replicaset')).length, 1);
  const owned = structuredClone(get('bare-replicaset'));
  owned.metadata = { ...metaOf(owned), ownerReferences: [{ kind: 'Deployment', name: 'x', controller: true }] };
  t.same(inBad(owned), []);
});

t.test('every bad example fails', async (t) => {
  t.equal(judged(bad).length, 8);
  for (const [name, obj] of judged(bad)) t.not(inBad(obj).length, 0, name);
});
