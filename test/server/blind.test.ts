import t from 'tap';
import { POLICIES } from '../../policies/index.js';
import { ContextIndex, DEFAULT_CONFIG, compileConfig, evaluate } from '../../src/engine/index.js';
import type { KubeObject } from '../../src/engine/index.js';
import { clusterPolicyIds, withoutClusterPolicies } from '../../src/server/blind.js';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

const config = compileConfig(DEFAULT_CONFIG, POLICIES);
// The README's compliant example: a Deployment of 3 replicas with its Service, PDB and HPA.
const good = parseAllDocuments(readFileSync(new URL('../../examples/good/api.yaml', import.meta.url), 'utf8')).map(
  (d) => d.toJS() as KubeObject,
);
const api = good.find((o) => o.kind === 'Deployment') as KubeObject;

t.test('only the policies that state what is missing from the cluster need it', async (t) => {
  t.same(clusterPolicyIds(config), ['pdb-coverage', 'network-policy-coverage']);
  t.same(
    POLICIES.filter((p) => p.needsCluster).map((p) => p.id),
    ['pdb-coverage', 'network-policy-coverage'],
  );
});

t.test('without the cluster the compliant example has no finding; with its PDB it has none either', async (t) => {
  const blind = evaluate(api, ContextIndex.fromObjects([]), withoutClusterPolicies(config));
  t.same(blind?.findings, []);
  const seeing = evaluate(api, ContextIndex.fromObjects(good), config);
  t.same(seeing?.findings, [], 'the PDB and HPA beside it satisfy pdb-coverage');
  // Its replicas are the HPA's: with a count of its own, an empty context would claim no PDB covers it.
  const stated = evaluate({ ...api, spec: { ...(api.spec as object), replicas: 3 } }, ContextIndex.fromObjects([]), config);
  t.same(
    stated?.findings.map((f) => f.policy),
    ['pdb-coverage', 'network-policy-coverage'],
    'what an empty context would wrongly state',
  );
});

t.test('a config that turned those policies off is returned as it is', async (t) => {
  const off = compileConfig({ ...DEFAULT_CONFIG, policies: { 'pdb-coverage': 'off', 'network-policy-coverage': 'off' } }, POLICIES);
  t.equal(withoutClusterPolicies(off), off);
  t.same(clusterPolicyIds(off), []);
});
