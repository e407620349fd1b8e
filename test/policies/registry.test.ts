import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parse } from 'yaml';
import { POLICIES } from '../../policies/index.js';
import { ContextIndex, WORKLOAD_KINDS, toWorkload, kindOf, namespaceOf } from '../../src/engine/index.js';
import type { KubeObject, PodDisruptionBudget, Policy, Violation } from '../../src/engine/index.js';
import { loadManifests } from '../helpers/manifests.js';

const POLICY_DIR = new URL('../../policies/', import.meta.url);
const KEBAB = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
// A policy is a folder policies/<id>/ with policy.ts; policies/lib/ holds what they share.
const folders = readdirSync(POLICY_DIR, { withFileTypes: true })
  .filter((e) => e.isDirectory() && existsSync(new URL(`${e.name}/policy.ts`, POLICY_DIR)))
  .map((e) => e.name);

t.test('every policy folder is registered in POLICIES, and nothing else is', async (t) => {
  t.equal(folders.length, POLICIES.length, `policy folders: ${folders.join(', ')}`);
  for (const id of folders) {
    const module = (await import(new URL(`${id}/policy.js`, POLICY_DIR).href)) as { default?: Policy };
    t.ok(module.default && POLICIES.includes(module.default), `${id}/policy.ts is imported in policies/index.ts`);
    t.equal(module.default?.id, id, `${id}/policy.ts: id equals the folder name`);
    for (const file of ['policy.test.ts', 'examples/good.yaml', 'examples/bad.yaml'])
      t.ok(existsSync(new URL(`${id}/${file}`, POLICY_DIR)), `${id}/${file}`);
  }
});

t.test('policies/index.ts is what scripts/policy-registry.mjs generates from the folders', async (t) => {
  const script = fileURLToPath(new URL('../../scripts/policy-registry.mjs', import.meta.url));
  const run = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
  t.equal(run.status, 0, run.stderr);
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
    t.ok(['workload', 'pdb', 'object'].includes(policy.target), 'target');
    if (policy.target === 'workload')
      t.same(
        policy.kinds.filter((k) => !WORKLOAD_KINDS.includes(k)),
        [],
        'a workload policy judges workload kinds only',
      );
    t.equal(typeof policy.check, 'function', 'check');
    const fix: unknown = parse(policy.fix);
    t.ok(typeof fix === 'object' && fix !== null, 'fix parses as a YAML mapping');
    if (policy.target === 'pdb') t.same(policy.kinds, ['PodDisruptionBudget']);
  });
}

// The engine clamps long messages; policies should never need it for ordinary names.
t.test('messages of every bad example fit in 120 characters and name what to set', async (t) => {
  for (const policy of POLICIES) {
    const bad = [...loadManifests(new URL(`${policy.id}/examples/bad.yaml`, POLICY_DIR)).values()];
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
  if (!policy.kinds.includes(kindOf(object))) return [];
  const namespace = namespaceOf(object) ?? 'default';
  if (policy.target === 'pdb') return policy.check(object as PodDisruptionBudget, namespace, context);
  const workload = toWorkload(object, 'default');
  if (policy.target === 'object') return policy.check(object, { namespace, workload, admission: undefined }, context);
  return workload ? policy.check(workload, context) : [];
}
