import t from 'tap';
import { ContextIndex, selectorMatches } from '../../src/engine/index.js';
import type { KubeObject, LabelSelector, PodDisruptionBudget } from '../../src/engine/index.js';

const pdb = (name: string, selector: unknown, namespace = 'shop'): KubeObject =>
  ({
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name, namespace },
    spec: { maxUnavailable: 1, selector },
  }) as KubeObject;

const names = (pdbs: readonly PodDisruptionBudget[]) => pdbs.map((p) => (p.metadata as { name: string }).name);

const selecting = (pdbs: readonly PodDisruptionBudget[], labels: Record<string, string>) =>
  names(pdbs.filter((p) => selectorMatches((p.spec as { selector?: LabelSelector }).selector as LabelSelector, labels)));

const PDBS = [
  pdb('web', { matchLabels: { app: 'web' } }),
  pdb('web-front', { matchLabels: { app: 'web', tier: 'front' } }),
  pdb('front-only', { matchLabels: { tier: 'front' } }),
  pdb('expressions', { matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'api'] }] }),
  pdb('everything', {}),
  pdb('no-selector', undefined),
  pdb('bad-labels', { matchLabels: { app: 7 } }),
  pdb('api', { matchLabels: { app: 'api' } }),
  pdb('other-namespace', { matchLabels: { app: 'web' } }, 'other'),
];

t.test('the candidates hold every PDB that selects the labels, in pdbsIn order', async (t) => {
  const index = ContextIndex.fromObjects(PDBS);
  const cases: Array<Record<string, string>> = [
    { app: 'web' },
    { app: 'web', tier: 'front' },
    { tier: 'front' },
    { app: 'api', tier: 'back' },
    { team: 'x' },
    {},
  ];
  for (const labels of cases) {
    const candidates = index.pdbCandidates('shop', labels);
    t.same(selecting(candidates, labels), selecting(index.pdbsIn('shop'), labels), `labels ${JSON.stringify(labels)}`);
    const order = names(index.pdbsIn('shop'));
    const positions = names(candidates).map((n) => order.indexOf(n));
    t.same(
      positions,
      [...positions].sort((a, b) => a - b),
      'in the namespace order',
    );
  }
  t.same(
    names(index.pdbCandidates('shop', { app: 'api' })),
    ['expressions', 'everything', 'no-selector', 'bad-labels', 'api'],
    'labelled PDBs of other apps are skipped',
  );
  t.same(index.pdbCandidates('nowhere', { app: 'web' }), []);
});

t.test('the index follows upserts and removals', async (t) => {
  const index = ContextIndex.fromObjects([pdb('web', { matchLabels: { app: 'web' } })]);
  t.same(names(index.pdbCandidates('shop', { app: 'web' })), ['web']);
  index.upsert(pdb('web', { matchLabels: { app: 'api' } }));
  t.same(names(index.pdbCandidates('shop', { app: 'web' })), [], 'a changed selector moves the PDB');
  t.same(names(index.pdbCandidates('shop', { app: 'api' })), ['web']);
  index.upsert(pdb('web-2', { matchLabels: { app: 'web' } }));
  t.same(names(index.pdbCandidates('shop', { app: 'web' })), ['web-2']);
  index.remove(pdb('web-2', {}));
  t.same(names(index.pdbCandidates('shop', { app: 'web' })), [], 'a removed PDB is gone');
});
