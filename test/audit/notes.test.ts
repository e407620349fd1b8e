// The offline audit says which LimitRange fills in what a manifest leaves out: a note per value,
// in the table and in the JSON, where the policy reports nothing.
import t from 'tap';
import { POLICIES } from '../../policies/index.js';
import { auditTexts, formatJson, formatTable } from '../../src/audit/index.js';
import { compileConfig, DEFAULT_CONFIG } from '../../src/engine/index.js';
import { deploymentYaml } from '../helpers/manifests.js';

const config = compileConfig(DEFAULT_CONFIG, POLICIES);
const LIMIT_RANGE = `apiVersion: v1
kind: LimitRange
metadata: { name: defaults, namespace: shop }
spec:
  limits:
    - type: Container
      defaultRequest: { cpu: 100m }
      default: { memory: 512Mi }
`;
const web = deploymentYaml('web', { namespace: 'shop' });

const resourceFindings = (text: string) =>
  auditTexts([{ source: 'deploy.yaml', text }], config, 'default').report.results[0]?.findings.filter(
    (f) => f.policy === 'resource-requests' || f.policy === 'memory-limit',
  );

t.test('with the LimitRange in the input: no finding, a note per defaulted value', async (t) => {
  const { report } = auditTexts([{ source: 'deploy.yaml', text: `${LIMIT_RANGE}---\n${web}` }], config, 'default');
  t.same(
    report.results.map((r) => `${r.kind}/${r.name}`),
    ['Deployment/web'],
    'the LimitRange is context, not judged',
  );
  t.same(resourceFindings(`${LIMIT_RANGE}---\n${web}`), []);
  t.same(report.results[0]?.notes, [
    {
      policy: 'resource-requests',
      container: 'app',
      path: 'spec.template.spec.containers[0].resources.requests.cpu',
      message: 'container "app": requests.cpu defaulted to 100m by LimitRange shop/defaults when the pod is created',
    },
    {
      policy: 'resource-requests',
      container: 'app',
      path: 'spec.template.spec.containers[0].resources.requests.memory',
      message: 'container "app": requests.memory defaulted to 512Mi by LimitRange shop/defaults when the pod is created',
    },
    {
      policy: 'memory-limit',
      container: 'app',
      path: 'spec.template.spec.containers[0].resources.limits.memory',
      message: 'container "app": limits.memory defaulted to 512Mi by LimitRange shop/defaults when the pod is created',
    },
  ]);
  const table = formatTable(report, { color: false });
  t.match(
    table,
    /NOTE {4}resource-requests\n {10}spec\.template\.spec\.containers\[0\]\.resources\.requests\.cpu\n {10}container "app": requests\.cpu defaulted/,
  );
  t.match(table, /NOTE {4}memory-limit/);
  t.match(JSON.parse(formatJson(report)).results[0].notes[0], { policy: 'resource-requests' });
});

t.test('without it, or with one for another namespace: the findings, and no note', async (t) => {
  t.same(
    resourceFindings(web)?.map((f) => f.policy),
    ['resource-requests', 'memory-limit'],
  );
  const elsewhere = LIMIT_RANGE.replace('namespace: shop', 'namespace: other');
  t.same(
    resourceFindings(`${elsewhere}---\n${web}`)?.map((f) => f.policy),
    ['resource-requests', 'memory-limit'],
  );
  const { report } = auditTexts([{ source: 'deploy.yaml', text: web }], config, 'default');
  t.equal(report.results[0]?.notes, undefined, 'no notes key in the JSON');
});
