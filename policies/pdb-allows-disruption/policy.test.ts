import t from 'tap';
import { parse } from 'yaml';
import policy from './policy.js';
import { metaOf } from '../../src/engine/index.js';
import type { KubeObject } from '../../src/engine/index.js';
import { examples, judge } from '../../test/helpers/manifests.js';

// Each file holds its PDBs and the workloads/HPAs they are judged against, as an offline audit of the file would.
const { good, bad, get } = examples('pdb-allows-disruption');
const pdbs = (file: Map<string, KubeObject>) => [...file].filter(([, obj]) => obj.kind === 'PodDisruptionBudget');
const inBad = (obj: KubeObject, context: Iterable<KubeObject> = bad.values()) => judge(policy, obj, context);

t.test('good examples pass', async (t) => {
  t.equal(pdbs(good).length, 8);
  for (const [name, obj] of good) t.same(judge(policy, obj, good.values()), [], name);
});

t.test('maxUnavailable 0 or "0%" warns at spec.maxUnavailable', async (t) => {
  for (const name of ['max-zero', 'max-zero-percent']) {
    const findings = inBad(get(name));
    t.equal(findings.length, 1, name);
    t.match(findings[0], { policy: 'pdb-allows-disruption', action: 'warn', path: 'spec.maxUnavailable' }, name);
    t.notOk(findings[0]?.container);
    t.match(findings[0]?.message, /maxUnavailable 0 lets no pod be evicted/);
  }
});

t.test('minAvailable "100%" warns at spec.minAvailable with a fix that parses', async (t) => {
  const findings = inBad(get('min-hundred-percent'));
  t.same(
    findings.map((f) => f.path),
    ['spec.minAvailable'],
  );
  t.match(findings[0]?.message, /minAvailable 100% lets no pod be evicted/);
  t.same(parse(findings[0]?.remediation ?? ''), { spec: { maxUnavailable: 1 } });
});

t.test('minAvailable equal to or above the replicas of a selected workload', async (t) => {
  const equal = inBad(get('min-equals-replicas'));
  t.same(
    equal.map((f) => f.path),
    ['spec.minAvailable'],
  );
  t.match(equal[0]?.message, /minAvailable 3 holds all of Deployment "web" \(3 replicas\)/);
  const above = inBad(get('min-above-replicas'));
  t.match(above[0]?.message, /minAvailable 5 holds all of StatefulSet "db" \(3 replicas\)/, 'selected through matchExpressions');
});

t.test('minAvailable is compared with what the workload may run', async (t) => {
  const scaled = get('min-at-hpa-floor');
  t.match(inBad(scaled)[0]?.message, /Deployment "scaled" \(HPA minReplicas 2\)/, 'the HPA floor, not spec.replicas');
  const withoutHpa = [...bad.values()].filter((o) => o.kind !== 'HorizontalPodAutoscaler');
  t.same(inBad(scaled, withoutHpa), [], 'without the HPA its 5 replicas leave room');
  t.match(inBad(get('min-at-default-hpa-floor'))[0]?.message, /\(HPA minReplicas 1\)/, 'minReplicas defaults to 1');
});

t.test('a percentage of minAvailable rounds up, as the disruption controller does', async (t) => {
  t.match(inBad(get('min-percent-of-one'))[0]?.message, /minAvailable 50% holds all of Deployment "singleton" \(1 replica\)/);
});

t.test('workloads without a replica count or in other namespaces are not compared', async (t) => {
  const pdb = get('min-equals-replicas');
  const elsewhere = [...bad.values()].map((o) => (metaOf(o).name === 'web' ? { ...o, metadata: { name: 'web', namespace: 'other' } } : o));
  t.same(inBad(pdb, elsewhere), []);
  const daemon = { ...bad.get('web'), kind: 'DaemonSet' } as KubeObject;
  t.same(inBad(pdb, [daemon]), []);
});

t.test('every bad example fails', async (t) => {
  t.equal(pdbs(bad).length, 8);
  for (const [name, obj] of pdbs(bad)) t.not(inBad(obj).length, 0, name);
});
