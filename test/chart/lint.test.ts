// `helm lint --strict` and the values schema: a chart that lints clean with every ci/
// values file, and a misspelled or out-of-range value that fails the install instead
// of being silently ignored.
// The schema's content without helm: generated.test.ts.
import t from 'tap';
import { CHART, NAMESPACE, RELEASE, assertSchemaRejects, ciValuesFiles, helm } from './helm.js';
import type { SchemaCase } from './helm.js';

t.test('helm lint --strict passes with the defaults and every ci/ values file', async (t) => {
  const files = ciValuesFiles();
  t.ok(files.length >= 6, 'ci/ has a values file per certificate mode and the variants');
  for (const values of [undefined, ...files]) {
    const run = helm(['lint', '--strict', CHART, '--namespace', NAMESPACE, ...(values ? ['--values', values] : [])]);
    t.equal(run.status, 0, `lint ${values ?? 'defaults'}`, { stdout: run.stdout, stderr: run.stderr });
    t.match(run.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  }
});

const REJECTED: SchemaCase[] = [
  ['a misspelled key', ['--set', 'webhook.failurPolicy=Fail'], /failurPolicy/],
  ['a misspelled top-level key', ['--set', 'replicas=3'], /replicas/],
  ['an unknown certificate mode', ['--set', 'certs.mode=manual'], /certs\.mode|mode/],
  ['an unknown failurePolicy', ['--set', 'webhook.failurePolicy=ignore'], /failurePolicy/],
  ['an unknown policy id', ['--set', 'config.policies.run-as-rooot=deny'], /run-as-rooot/],
  ['an unknown policy action', ['--set', 'config.policies.run-as-non-root=block'], /run-as-non-root/],
  ['a bare on (YAML 1.1 reads it as true): no such action', ['--set-json', 'config.policies={"pdb-coverage":true}'], /pdb-coverage/],
  ['an unknown config mode', ['--set', 'config.mode=dry-run'], /mode/],
  ['an exemption without a reason', ['--set-json', 'config.exemptions=[{"namespaces":["a"]}]'], /reason/],
  ['an exemption for everything', ['--set-json', 'config.exemptions=[{"reason":"x"}]'], /exemptions/],
  ['a PDB that blocks every drain', ['--set', 'podDisruptionBudget.maxUnavailable=0'], /maxUnavailable/],
  ['root', ['--set', 'runAsUser=0'], /runAsUser/],
  ['the latest tag', ['--set', 'image.tag=latest'], /tag/],
  ['a timeout above the API maximum', ['--set', 'webhook.timeoutSeconds=31'], /timeoutSeconds/],
  ['a lease duration that is not a duration', ['--set', 'clusterAudit.leaseDuration=soon'], /leaseDuration/],
];

t.test('the values schema rejects mistakes with a message naming the key', async (t) => {
  assertSchemaRejects(t, REJECTED);
});

t.test('a grace period shorter than the drain fails with the reason', async (t) => {
  const run = helm(['template', RELEASE, CHART, '--set', 'server.shutdownTimeoutSeconds=60']);
  t.not(run.status, 0);
  t.match(run.stderr, /terminationGracePeriodSeconds \(40\) must be at least .* \(70\)/);
});
