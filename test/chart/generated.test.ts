// The chart's files that follow from the policy registry, checked without helm (npm test runs
// this file): the committed files are what `npm run generate` writes, and the templates read
// them instead of restating kinds, rules or the webhook's name.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { POLICIES } from '../../policies/index.js';
import {
  CHART_REGISTRY_FILE,
  VALUES_SCHEMA_FILE,
  VALUES_SCHEMA_SOURCE,
  chartRegistry,
  chartRegistryYaml,
  valuesSchemaJson,
} from '../../src/registry/chart.js';
import { WEBHOOK_NAME } from '../../src/server/webhook-name.js';

const REPO = new URL('../../', import.meta.url);
const read = (file: string) => readFileSync(new URL(file, REPO), 'utf8');
const STALE = 'is not what `npm run generate` writes from the policy registry: run it and commit the result';

t.test(`${CHART_REGISTRY_FILE} is generated from the registry`, async (t) => {
  t.equal(read(CHART_REGISTRY_FILE), chartRegistryYaml(POLICIES), `${CHART_REGISTRY_FILE} ${STALE}`);
  t.same(parse(read(CHART_REGISTRY_FILE)), chartRegistry(POLICIES), 'and reads back as the same data');
});

t.test(`${VALUES_SCHEMA_FILE} is generated from ${VALUES_SCHEMA_SOURCE} and the registry`, async (t) => {
  const source = JSON.parse(read(VALUES_SCHEMA_SOURCE)) as Record<string, unknown>;
  t.equal(read(VALUES_SCHEMA_FILE), valuesSchemaJson(source, POLICIES), `${VALUES_SCHEMA_FILE} ${STALE}`);
});

t.test('the templates take the webhook name, its rules and the kinds of the RBAC from files/registry.yaml', async (t) => {
  const templates = ['webhook.yaml', 'rbac.yaml', 'prometheusrule.yaml'].map((f) => read(`charts/practice-gate/templates/${f}`)).join('\n');
  t.notMatch(templates, /practice-gate\.io"|\.practice-gate\.io\b(?!\/)/, 'no webhook name written out');
  t.notMatch(templates, /deployments|poddisruptionbudgets|"pods"/, 'no judged kind written out');
  t.match(read('charts/practice-gate/templates/webhook.yaml'), /name: \{\{ \$registry\.webhookName \}\}/);
  t.equal(chartRegistry(POLICIES).webhookName, WEBHOOK_NAME, 'the name serve --dev gives its webhook');
});

t.test('the schema knows every policy id, through one definition of a policy setting', async (t) => {
  const schema = JSON.parse(read(VALUES_SCHEMA_FILE));
  const configPolicies = schema.properties.config.properties.policies;
  const ids = POLICIES.map((p) => p.id);
  t.same(Object.keys(configPolicies.properties), ids);
  for (const id of ids) t.same(configPolicies.properties[id], { $ref: '#/definitions/policySetting' }, id);
  t.equal(configPolicies.additionalProperties, false);
  t.same(schema.properties.config.properties.exemptions.items.properties.policies.items.enum, ids);
  t.match(schema.definitions.policySetting, {
    oneOf: [{ enum: ['deny', 'warn', 'audit', 'off', false] }, { type: 'object', additionalProperties: false }],
  });
});

t.test('every object in the schema is closed', async (t) => {
  // Open objects are the ones that pass Kubernetes fields through unchanged.
  const open = new Set([
    'global',
    'affinity',
    'podAnnotations',
    'podLabels',
    'nodeSelector',
    'serviceAccount.annotations',
    'webhook.objectSelector.matchLabels',
    'monitoring.serviceMonitor.labels',
    'monitoring.prometheusRule.labels',
    'monitoring.prometheusRule.alertLabels',
    'monitoring.grafanaDashboard.labels',
    'monitoring.grafanaDashboard.annotations',
  ]);
  const walk = (node: Record<string, unknown>, path: string): void => {
    if (node.type === 'object' && !open.has(path)) t.equal(node.additionalProperties, false, `${path || '(root)'} is closed`);
    const props = (node.properties ?? {}) as Record<string, Record<string, unknown>>;
    for (const [key, child] of Object.entries(props)) walk(child, path ? `${path}.${key}` : key);
    const items = node.items as Record<string, unknown> | undefined;
    if (items) walk(items, `${path}[]`);
    for (const branch of (node.oneOf ?? []) as Array<Record<string, unknown>>) walk(branch, path);
  };
  const schema = JSON.parse(read(VALUES_SCHEMA_FILE));
  walk(schema, '');
  for (const [name, definition] of Object.entries(schema.definitions as Record<string, Record<string, unknown>>))
    walk(definition, `#${name}`);
});

t.test('values.yaml keeps no hand list of policy ids: `practice-gate policies` lists them', async (t) => {
  // An example (`image-tag-pinned: deny, ...`) names ids as keys; a list names them bare, two or more to a line.
  const ids = POLICIES.map((p) => p.id);
  const lists = read('charts/practice-gate/values.yaml')
    .split('\n')
    .filter((line) => line.trimStart().startsWith('#'))
    .filter((line) => ids.filter((id) => new RegExp(`\\b${id}\\b(?!:)`).test(line)).length >= 2);
  t.same(lists, []);
});
