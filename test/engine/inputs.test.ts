// The fields an UPDATE is compared on (src/engine/inputs.ts) must cover everything a judgement
// reads, or an UPDATE could change a finding and be admitted as metadata-only. Checked by
// running every policy over its example manifests through a proxy that records each field
// evaluate() touches.
import t from 'tap';
import { POLICIES } from '../../policies/index.js';
import {
  ContextIndex,
  DEFAULT_CONFIG,
  WORKLOAD_KINDS,
  changesJudgedFields,
  compileConfig,
  evaluate,
  judgedFields,
  nameOf,
} from '../../src/engine/index.js';
import type { EngineConfig, FieldPath, KubeObject, Policy, WorkloadPolicy } from '../../src/engine/index.js';
import { examples } from '../helpers/manifests.js';
import { recording } from '../helpers/recording.js';
import type { Read } from '../helpers/recording.js';

const startsWith = (path: readonly string[], prefix: FieldPath) => prefix.length <= path.length && prefix.every((k, i) => path[i] === k);

/**
 * A read is covered when it is inside a compared field, or a step on the way to one (reading
 * `spec` to reach `spec.template.spec`). Listing the keys of a map is covered only inside a
 * compared field: listing all annotations would make every annotation an input.
 */
function uncovered(reads: readonly Read[], fields: readonly FieldPath[]): string[] {
  const out = new Set<string>();
  for (const r of reads) {
    const inside = fields.some((f) => startsWith(r.path, f));
    const onTheWay = !r.keys && fields.some((f) => startsWith(f, r.path));
    if (!inside && !onTheWay) out.add(`${r.keys ? 'keys of ' : ''}${r.path.join('.') || '(root)'}`);
  }
  return [...out];
}

function configFor(policies: readonly Policy[]): EngineConfig {
  return compileConfig(
    {
      ...DEFAULT_CONFIG,
      objectExemptions: true,
      exemptions: [{ kinds: ['Deployment'], names: ['nothing-*'], reason: 'r', expires: '2030-01-01' }],
    },
    policies,
  );
}

function readsOf(object: KubeObject, context: ContextIndex, config: EngineConfig): Read[] {
  const reads: Read[] = [];
  evaluate(recording(object, [], reads) as KubeObject, context, config, { now: 0 });
  return reads;
}

t.test('every field a policy or the engine reads is compared on UPDATE', async (t) => {
  let judged = 0;
  for (const policy of POLICIES) {
    const { good, bad } = examples(policy.id);
    const all = [...good.values(), ...bad.values()];
    const context = ContextIndex.fromObjects(all);
    const config = configFor([policy]);
    for (const object of all) {
      const kind = String(object.kind);
      if (!policy.kinds.includes(kind)) continue;
      judged++;
      const missing = uncovered(readsOf(object, context, config), judgedFields(kind, config));
      t.same(missing, [], `${policy.id} on ${kind} ${nameOf(object)}: reads nothing the comparison ignores`);
    }
  }
  t.ok(judged > 40, `${judged} example objects judged`);
});

t.test('the check catches a policy that reads a field it does not declare', async (t) => {
  const sneaky: WorkloadPolicy = {
    id: 'reads-strategy',
    title: 't',
    why: 't',
    fix: 't',
    defaultAction: 'deny',
    kinds: WORKLOAD_KINDS,
    target: 'workload',
    check: (w) =>
      w.object.spec && (w.object.spec as Record<string, unknown>).strategy ? [] : [{ path: 'spec.strategy', message: 'no strategy' }],
  };
  const object: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'a', annotations: { x: 'y' } },
    spec: { template: { spec: { containers: [] } } },
  };
  const config = configFor([sneaky]);
  t.same(uncovered(readsOf(object, new ContextIndex(), config), judgedFields('Deployment', config)), ['spec.strategy']);
  const declared = configFor([{ ...sneaky, reads: [['spec', 'strategy']] }]);
  t.same(uncovered(readsOf(object, new ContextIndex(), declared), judgedFields('Deployment', declared)), [], 'declaring it fixes it');
  const before = structuredClone(object);
  const after = structuredClone(object);
  (after.spec as Record<string, unknown>).strategy = { type: 'Recreate' };
  t.equal(changesJudgedFields(before, after, 'Deployment', config), false, 'undeclared: the strategy change would pass as metadata-only');
  t.equal(changesJudgedFields(before, after, 'Deployment', declared), true);
});

t.test('what an UPDATE may change without being judged', async (t) => {
  const config = compileConfig(DEFAULT_CONFIG, POLICIES);
  const base: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'api', namespace: 'shop', labels: { a: 'b' }, annotations: { x: 'y' } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'api' } },
      template: { metadata: { labels: { app: 'api' } }, spec: { containers: [{ name: 'c', image: 'i:1' }] } },
    },
  };
  const changed = (mutate: (o: any) => void) => {
    const after = structuredClone(base) as any;
    mutate(after);
    return changesJudgedFields(base, after, 'Deployment', config);
  };
  t.equal(
    changed((o) => (o.metadata.labels.team = 'x')),
    false,
    'labels',
  );
  t.equal(
    changed((o) => (o.metadata.annotations['argocd.argoproj.io/tracking-id'] = 'x')),
    false,
    'annotations',
  );
  t.equal(
    changed((o) => (o.metadata.finalizers = ['f'])),
    false,
    'finalizers',
  );
  t.equal(
    changed((o) => (o.metadata.resourceVersion = '2')),
    false,
    'resourceVersion',
  );
  t.equal(
    changed((o) => (o.status = { replicas: 2 })),
    false,
    'status',
  );
  t.equal(
    changed((o) => (o.spec.template.metadata.annotations = { 'kubectl.kubernetes.io/restartedAt': 'now' })),
    false,
    'pod template annotations',
  );
  t.equal(
    changed((o) => (o.metadata.annotations['practice-gate.io/exempt'] = 'all')),
    true,
    "practice-gate's own annotations",
  );
  t.equal(
    changed((o) => (o.spec.replicas = 3)),
    true,
    'replicas',
  );
  t.equal(
    changed((o) => (o.spec.template.metadata.labels.tier = 'web')),
    true,
    'pod labels (PDBs select them)',
  );
  t.equal(
    changed((o) => (o.spec.template.spec.containers[0].image = 'i:2')),
    true,
    'the pod spec',
  );
  t.equal(
    changed((o) => (o.metadata.ownerReferences = [{ kind: 'X', name: 'x', uid: 'u', controller: true }])),
    true,
    'the controller',
  );
  t.equal(
    changed((o) => (o.spec.template.spec = JSON.parse(JSON.stringify(o.spec.template.spec)))),
    false,
    'the same values, rebuilt',
  );
});
