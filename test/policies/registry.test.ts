import { readdirSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { POLICIES } from '../../policies/index.js';
import { ContextIndex, toWorkload } from '../../src/engine/index.js';
import type { KubeObject, PodDisruptionBudget, Policy, Violation } from '../../src/engine/index.js';
import { loadManifests } from '../helpers/manifests.js';

const POLICY_DIR = new URL('../../policies/', import.meta.url);
const KEBAB = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
const files = readdirSync(POLICY_DIR, { withFileTypes: true })
  .filter((e) => e.isFile() && e.name.endsWith('.ts') && e.name !== 'index.ts')
  .map((e) => e.name);

t.test('every policy file is registered in POLICIES, and nothing else is', async (t) => {
  t.equal(files.length, POLICIES.length, `policy files: ${files.join(', ')}`);
  for (const file of files) {
    const module = (await import(new URL(file, POLICY_DIR).href)) as { default?: Policy };
    t.ok(module.default && POLICIES.includes(module.default), `${file} is imported in policies/index.ts`);
    t.equal(module.default?.id, file.slice(0, -'.ts'.length), `${file}: id equals the file name`);
  }
});

t.test('run-as-non-root stays first, ids are unique', async (t) => {
  t.equal(POLICIES[0]?.id, 'run-as-non-root');
  const ids = POLICIES.map((p) => p.id);
  t.same([...new Set(ids)], ids);
});

for (const policy of POLICIES) {
  t.test(`${policy.id} carries all metadata`, async (t) => {
    t.match(policy.id, KEBAB, 'id is kebab-case');
    t.ok(policy.title.trim().length > 0, 'title');
    t.ok(policy.why.trim().length >= 80, 'why explains the practice');
    t.ok(['deny', 'warn', 'audit'].includes(policy.defaultAction), 'defaultAction');
    t.ok(policy.kinds.length > 0, 'kinds');
    t.ok(policy.target === 'workload' || policy.target === 'pdb', 'target');
    t.equal(typeof policy.check, 'function', 'check');
    const fix: unknown = parse(policy.fix);
    t.ok(typeof fix === 'object' && fix !== null, 'fix parses as a YAML mapping');
    if (policy.target === 'pdb') t.same(policy.kinds, ['PodDisruptionBudget']);
  });
}

// The engine clamps long messages; policies should never need it for ordinary names.
t.test('messages of every bad example fit in 120 characters and name what to set', async (t) => {
  for (const policy of POLICIES) {
    const bad = [...loadManifests(new URL(`${policy.id}/bad.yaml`, import.meta.url)).values()];
    const context = ContextIndex.fromObjects(bad);
    const violations: Violation[] = [];
    for (const object of bad) violations.push(...checkDirectly(policy, object, context));
    t.not(violations.length, 0, `${policy.id} has failing examples`);
    for (const v of violations) {
      t.ok(v.message.length <= 120, `${policy.id}: ${v.message.length} chars: ${v.message}`);
      t.match(v.message, /[:;] (set|add|use|pin|keep)\b/, `${policy.id}: says what to do: ${v.message}`);
      if (v.container !== undefined) t.ok(v.message.includes(`"${v.container}"`), `${policy.id}: names the container`);
      if (v.remediation !== undefined) t.doesNotThrow(() => parse(v.remediation ?? ''), `${policy.id}: remediation parses`);
    }
  }
});

function checkDirectly(policy: Policy, object: KubeObject, context: ContextIndex): Violation[] {
  if (!policy.kinds.includes(object.kind ?? '')) return [];
  if (policy.target === 'pdb') return policy.check(object as PodDisruptionBudget, object.metadata?.namespace ?? 'default', context);
  const workload = toWorkload(object, 'default');
  if (policy.target === 'object') return policy.check(object, { namespace: 'default', workload, admission: undefined }, context);
  return workload ? policy.check(workload, context) : [];
}
