import t from 'tap';
import { runCli } from '../helpers/cli.js';
import { deploymentYaml } from '../helpers/manifests.js';

const deployment = (name: string, securityContext = '') =>
  deploymentYaml(name, { container: securityContext === '' ? [] : [securityContext.trim()] });
// Only the policy under test, so that a warn-only object is easy to write.
const config = `policies:\n  run-as-non-root: deny\n  image-tag-pinned: warn\n${['read-only-root-filesystem', 'resource-requests', 'memory-limit', 'readiness-probe', 'liveness-probe', 'no-privilege-escalation', 'pdb-coverage', 'pdb-allows-disruption', 'cronjob-concurrency'].map((p) => `  ${p}: "off"\n`).join('')}`;

t.test('JSON lists skipped documents with their error, not only stderr and the exit status', async (t) => {
  const dir = t.testdir({
    'config.yaml': config,
    'broken.yaml': `${deployment('ok', '\n          securityContext: { runAsNonRoot: true }')}---\nkind: [broken\n`,
  });
  const { code, stdout, stderr } = await runCli(['audit', '--config', 'config.yaml', '--format', 'json', 'broken.yaml', 'missing.yaml'], {
    cwd: dir,
  });
  t.equal(code, 2);
  const report = JSON.parse(stdout) as {
    results: unknown[];
    skipped: Array<{ source: string; document?: number; line?: number; message: string }>;
  };
  t.equal(report.results.length, 1, 'the good document is still judged');
  t.match(report.skipped, [
    { source: 'missing.yaml', message: /ENOENT|no such file/ },
    { source: 'broken.yaml', document: 2, line: Number, message: /Flow sequence/ },
  ]);
  t.match(stderr, /broken\.yaml: document 2/, 'stderr still says it');
});

t.test('an unrendered chart: one line with the helm template command, not an error per template line', async (t) => {
  const { code, stdout, stderr } = await runCli(['audit', 'charts/practice-gate'], { cwd: new URL('../../', import.meta.url).pathname });
  t.equal(code, 2);
  const lines = stderr.trimEnd().split('\n');
  t.equal(lines.length, 1, stderr);
  t.equal(
    lines[0],
    'practice-gate: charts/practice-gate: a Helm chart, not rendered manifests: render it first: helm template my-release charts/practice-gate | practice-gate audit -',
  );
  t.match(stdout, /No workloads/);
  const nested = t.testdir({
    'app.yaml': deployment('api', '\n          securityContext: { runAsNonRoot: true }'),
    chart: {
      'Chart.yaml': 'apiVersion: v2\nname: c\nversion: 1.0.0\n',
      templates: { 'd.yaml': '{{ if .Values.x }}\nkind: Deployment\n{{ end }}\n' },
    },
  });
  const inDir = await runCli(['audit', '--format', 'json', '.'], { cwd: nested });
  t.equal(inDir.code, 2);
  t.match(
    JSON.parse(inDir.stdout),
    { results: [{ name: 'api' }], skipped: [{ source: 'chart', message: /helm template my-release chart \|/ }] },
    'a chart inside a directory: skipped with the hint, the rest judged',
  );
});

t.test('piped helm template output: findings name the template, not only the document number', async (t) => {
  const dir = t.testdir({ 'config.yaml': config });
  const stream = ['svc', 'deploy']
    .map(
      (name) =>
        `---\n# Source: shop/templates/${name}.yaml\n${name === 'svc' ? 'apiVersion: v1\nkind: Service\nmetadata: { name: s }\n' : deployment('api')}`,
    )
    .join('');
  const table = await runCli(['audit', '--config', 'config.yaml', '-'], { cwd: dir, input: stream });
  t.equal(table.code, 1);
  t.match(table.stdout, /^Deployment default\/api \(shop\/templates\/deploy\.yaml, <stdin>:\d+\)$/m);
  const json = await runCli(['audit', '--config', 'config.yaml', '--format', 'json', '-'], { cwd: dir, input: stream });
  t.match(JSON.parse(json.stdout), { results: [{ source: '<stdin>', document: 2, template: 'shop/templates/deploy.yaml' }] });
});
