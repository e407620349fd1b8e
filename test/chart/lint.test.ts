// `helm lint --strict` and the values schema: a chart that lints clean with every ci/
// values file, and a misspelled or out-of-range value that fails the install instead
// of being silently ignored.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { POLICIES } from '../../policies/index.js';
import { CHART, NAMESPACE, RELEASE, assertSchemaRejects, ciValuesFiles, helm } from './helm.js';
import type { SchemaCase } from './helm.js';
import { DOCUMENTED_POLICY_IDS } from './policies.js';

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

t.test('the schema knows every policy id, and every registered policy is one of them', async (t) => {
  const schema = JSON.parse(readFileSync(`${CHART}/values.schema.json`, 'utf8'));
  const configPolicies = schema.properties.config.properties.policies;
  t.same(Object.keys(configPolicies.properties).sort(), [...DOCUMENTED_POLICY_IDS].sort());
  t.equal(configPolicies.additionalProperties, false);
  const exemptionPolicies = schema.properties.config.properties.exemptions.items.properties.policies.items.enum;
  t.same([...exemptionPolicies].sort(), [...DOCUMENTED_POLICY_IDS].sort());
  for (const policy of POLICIES) {
    t.ok((DOCUMENTED_POLICY_IDS as readonly string[]).includes(policy.id), `${policy.id} is accepted by the chart`);
  }
});

t.test('every object in the schema is closed', async (t) => {
  // Open objects are the ones that pass Kubernetes fields through unchanged.
  const open = new Set(['global', 'affinity', 'podAnnotations', 'podLabels', 'nodeSelector', 'serviceAccount.annotations',
    'webhook.objectSelector.matchLabels', 'monitoring.serviceMonitor.labels', 'monitoring.prometheusRule.labels',
    'monitoring.prometheusRule.alertLabels', 'monitoring.grafanaDashboard.labels', 'monitoring.grafanaDashboard.annotations']);
  const walk = (node: Record<string, unknown>, path: string): void => {
    if (node.type === 'object' && !open.has(path)) t.equal(node.additionalProperties, false, `${path || '(root)'} is closed`);
    const props = (node.properties ?? {}) as Record<string, Record<string, unknown>>;
    for (const [key, child] of Object.entries(props)) walk(child, path ? `${path}.${key}` : key);
    const items = node.items as Record<string, unknown> | undefined;
    if (items) walk(items, `${path}[]`);
  };
  walk(JSON.parse(readFileSync(`${CHART}/values.schema.json`, 'utf8')), '');
});
