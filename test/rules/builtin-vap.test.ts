// Every built-in policy with a `cel` field (exported by `practice-gate vap`) compiles with the
// project's CEL library and judges the policy's good and bad examples as its TypeScript check
// does, container by container: the cheap, in-process half of the differential proof whose
// other half runs the exported policies in a real kube-apiserver (test/e2e/vap.test.ts).
import t from 'tap';
import { POLICIES } from '../../policies/index.js';
import { compileRule } from '../../src/rules/index.js';
import { builtinRuleSpec, notExportedBecause } from '../../src/rules/builtin-spec.js';
import type { Finding, KubeObject, Policy } from '../../src/engine/index.js';
import { examples, judge } from '../helpers/manifests.js';

const EXPORTED = POLICIES.filter((p) => builtinRuleSpec(p) !== undefined);

/** Which containers fail ('' for the object itself); ephemeral containers are outside the CEL loop (docs/rules.md). */
function failing(findings: Finding[]): string[] {
  return [...new Set(findings.filter((f) => !/\.ephemeralContainers\[/.test(f.path)).map((f) => f.container ?? ''))].sort();
}

function celVerdict(policy: Policy, object: KubeObject): string[] {
  const spec = builtinRuleSpec(policy);
  if (spec === undefined) throw new Error(`${policy.id} has no CEL`);
  return failing(judge(compileRule(spec, policy.id, 'test', policy.defaultAction), object));
}

t.test('the exported built-ins are the ones CEL can express from the object alone', async (t) => {
  t.same(EXPORTED.map((p) => p.id).sort(), [
    'cronjob-concurrency',
    'image-tag-pinned',
    'liveness-probe',
    'memory-limit',
    'no-privilege-escalation',
    'read-only-root-filesystem',
    'readiness-probe',
    'resource-requests',
    'run-as-non-root',
  ]);
  const pdbCoverage = POLICIES.find((p) => p.id === 'pdb-coverage');
  t.match(pdbCoverage && notExportedBecause(pdbCoverage), /PDBs in the cluster/, 'pdb-coverage says why: it needs other objects');
  for (const policy of POLICIES.filter((p) => !EXPORTED.includes(p)))
    t.ok(notExportedBecause(policy), `${policy.id} says why it is not exported`);
});

for (const policy of EXPORTED) {
  t.test(`${policy.id}: the CEL judges every example as the TypeScript check does`, async (t) => {
    const { good, bad } = examples(policy.id);
    let broken = 0;
    for (const [dir, docs] of [
      ['good', good],
      ['bad', bad],
    ] as const) {
      for (const [name, object] of docs) {
        if (!policy.kinds.includes(String(object.kind))) continue;
        const expected = failing(judge(policy, object));
        t.same(celVerdict(policy, object), expected, `${dir}/${name}`);
        if (dir === 'bad' && expected.length > 0) broken++;
      }
    }
    t.ok(broken > 0, 'at least one bad example breaks the policy in CEL too');
  });
}
