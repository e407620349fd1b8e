// practice-gate vap: every active custom rule as a ValidatingAdmissionPolicy and its Binding,
// in VAP's own variables, with the action, the excluded namespaces and the messages.
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { POLICIES } from '../../policies/index.js';
import { compileConfig } from '../../src/engine/index.js';
import { parseConfig } from '../../src/config/load.js';
import { vapObjects } from '../../src/rules/index.js';
import { runCli } from '../helpers/cli.js';
import { rule } from '../helpers/rules.js';

const exported = (rules: unknown[], extra: Record<string, unknown> = {}) =>
  vapObjects(compileConfig(parseConfig({ rules, ...extra }, 'test.yaml'), POLICIES), {
    excludedNamespaces: ['practice-gate', 'kube-system'],
  }) as { kind: string; spec: Record<string, unknown> }[];

t.test('each action maps to validationActions; off rules and built-in policies are not exported', async (t) => {
  const objects = exported([
    rule({ id: 'a', action: 'deny' }),
    rule({ id: 'b', action: 'warn' }),
    rule({ id: 'c', action: 'audit' }),
    rule({ id: 'd', action: 'off' }),
  ]);
  t.same(
    objects.map((o) => o.kind),
    [
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicyBinding',
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicyBinding',
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicyBinding',
    ],
  );
  t.same(
    objects.filter((o) => o.kind === 'ValidatingAdmissionPolicyBinding').map((o) => o.spec.validationActions),
    [['Deny'], ['Warn'], ['Audit']],
  );
  t.same(
    exported([rule({ action: 'deny' })], { mode: 'audit' })[1]?.spec.validationActions,
    ['Warn'],
    'audit mode warns instead of denying',
  );
});

t.test('the binding excludes the namespaces the webhook never judges', async (t) => {
  const [, binding] = exported([rule({})]);
  t.same(binding?.spec.matchResources, {
    namespaceSelector: {
      matchExpressions: [
        { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['practice-gate', 'kube-system'] },
        { key: 'practice-gate.io/ignore', operator: 'NotIn', values: ['true'] },
      ],
    },
  });
});

t.test('podSpec becomes a VAP variable; forEach: containers a loop over containers and init containers', async (t) => {
  const [policy] = exported([
    rule({
      kinds: ['Pod', 'CronJob'],
      forEach: 'containers',
      validations: [{ expression: "container.image != '' && podSpec.containers.size() > 0", message: 'image' }],
    }),
  ]);
  t.same(policy?.spec.variables, [
    { name: 'podSpec', expression: "object.kind in ['Pod'] ? object.spec : object.spec.jobTemplate.spec.template.spec" },
  ]);
  t.same(policy?.spec.validations, [
    {
      expression:
        '(!has(variables.podSpec.containers) || variables.podSpec.containers.all(container, container.image != "" && variables.podSpec.containers.size() > 0)) && ' +
        '(!has(variables.podSpec.initContainers) || variables.podSpec.initContainers.all(container, container.image != "" && variables.podSpec.containers.size() > 0))',
      message: 'image',
    },
  ]);
  t.same(policy?.spec.matchConstraints, {
    resourceRules: [
      { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['pods'] },
      { apiGroups: ['batch'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['cronjobs'] },
    ],
  });
});

t.test('practice-gate vap prints the example rules as YAML documents', async (t) => {
  const root = new URL('../../', import.meta.url).pathname;
  const run = await runCli(['vap', '--config', 'examples/rules/practice-gate.yaml', '--exclude-namespace', 'legacy'], { cwd: root });
  t.equal(run.code, 0);
  const docs = parseAllDocuments(run.stdout).map(
    (d) => d.toJS() as { kind: string; metadata: { name: string }; spec: Record<string, unknown> },
  );
  t.same(
    docs.map((d) => `${d.kind}/${d.metadata.name}`),
    [
      'ValidatingAdmissionPolicy/practice-gate-require-team-label',
      'ValidatingAdmissionPolicyBinding/practice-gate-require-team-label',
      'ValidatingAdmissionPolicy/practice-gate-allowed-registries',
      'ValidatingAdmissionPolicyBinding/practice-gate-allowed-registries',
      'ValidatingAdmissionPolicy/practice-gate-memory-limit-cap',
      'ValidatingAdmissionPolicyBinding/practice-gate-memory-limit-cap',
    ],
  );
  t.match(JSON.stringify(docs[1]?.spec), /"values":\["practice-gate","kube-system","legacy"\]/);
});
