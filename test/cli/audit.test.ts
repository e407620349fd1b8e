import t from 'tap';
import type { Test } from 'tap';
import type { FixtureDir } from '@tapjs/fixture';
import { join } from 'node:path';
import { POLICIES } from '../../policies/index.js';
import { runCli } from '../helpers/cli.js';

// Most tests judge with run-as-non-root alone, so that what they assert does not move when
// policies are added; the examples/ tests below use the whole registry.
const ONLY_RUN_AS_NON_ROOT = `policies:\n${POLICIES.filter((p) => p.id !== 'run-as-non-root')
  .map((p) => `  ${p.id}: off`)
  .join('\n')}\n`;

const root = (name: string, extra = '') => `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name}${extra} }
spec:
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      containers:
        - { name: app, image: "example/${name}:1.0" }
`;

const nonRoot = (name: string) => `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      securityContext: { runAsNonRoot: true }
      containers:
        - { name: app, image: "example/${name}:1.0" }
`;

const service = `apiVersion: v1
kind: Service
metadata: { name: api }
spec: { selector: { app: api }, ports: [{ port: 80 }] }
`;

const pdb = `apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: api }
spec: { maxUnavailable: 1, selector: { matchLabels: { app: api } } }
`;

interface JsonReport {
  results: Array<{
    source: string;
    document?: number;
    kind: string;
    namespace: string;
    name: string;
    findings: Array<Record<string, unknown>>;
  }>;
  summary: Record<string, number>;
  skipped?: unknown[];
}

/** A directory with the isolating config and the given files; returns a runner in that directory. */
function workspace(t: Test, files: FixtureDir = {}) {
  const dir = t.testdir({ 'only-run-as-non-root.yaml': ONLY_RUN_AS_NON_ROOT, ...files });
  const run = (args: string[], input?: string, env?: NodeJS.ProcessEnv) =>
    runCli(['audit', '--config', 'only-run-as-non-root.yaml', ...args], { cwd: dir, input, env });
  const json = async (args: string[], input?: string) => {
    const result = await run(['--format', 'json', ...args], input);
    return { ...result, report: JSON.parse(result.stdout) as JsonReport };
  };
  return { dir, run, json };
}

t.test('JSON output has exactly the documented shape', async (t) => {
  const { json } = workspace(t, { 'deploy.yaml': root('api') });
  const { code, report, stderr } = await json(['deploy.yaml']);
  t.equal(code, 1, 'a deny finding fails by default');
  t.equal(stderr, '');
  t.same(Object.keys(report), ['results', 'summary', 'skipped']);
  t.strictSame(report.skipped, [], 'nothing skipped');
  t.equal(report.results.length, 1);
  const [result] = report.results;
  t.same(
    Object.keys(result!),
    ['source', 'line', 'apiVersion', 'kind', 'namespace', 'name', 'findings'],
    'no document number for a one-document file',
  );
  t.match(result, { source: 'deploy.yaml', line: 1, apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'api' });
  const [finding] = result!.findings;
  t.same(Object.keys(finding!), ['policy', 'action', 'container', 'path', 'message', 'remediation', 'exempt', 'file', 'line', 'column']);
  // runAsNonRoot is missing: the finding points at its nearest existing ancestor, the container's `- {` entry.
  t.match(finding, { file: 'deploy.yaml', line: 10, column: 11 });
  t.match(finding, {
    policy: 'run-as-non-root',
    action: 'deny',
    container: 'app',
    path: 'spec.template.spec.containers[0].securityContext.runAsNonRoot',
    message: /container "app" may run as root/,
    remediation: /runAsNonRoot: true/,
    exempt: false,
  });
  t.strictSame(report.summary, { objects: 1, deny: 1, warn: 0, audit: 0, exempt: 0 });
});

t.test('multi-document YAML: workloads and PDBs are reported with their document, other kinds are not', async (t) => {
  const { json } = workspace(t, { 'all.yaml': `${root('api')}---\n${service}---\n${pdb}---\n${nonRoot('web')}` });
  const { code, report } = await json(['all.yaml']);
  t.equal(code, 1);
  t.same(
    report.results.map((r) => [r.kind, r.name, r.document, r.findings.length]),
    [
      ['Deployment', 'api', 1, 1],
      ['PodDisruptionBudget', 'api', 3, 0],
      ['Deployment', 'web', 4, 0],
    ],
    'passing objects appear with empty findings; the Service does not appear',
  );
  t.strictSame(report.summary, { objects: 3, deny: 1, warn: 0, audit: 0, exempt: 0 });
});

t.test('List objects: kind List and typed lists whose items carry no kind', async (t) => {
  const list = JSON.stringify({
    apiVersion: 'v1',
    kind: 'List',
    items: [
      JSON.parse(JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'a', namespace: 'shop' }, spec: {} })),
    ],
  });
  const typed = `apiVersion: apps/v1
kind: DeploymentList
items:
  - metadata: { name: b, namespace: shop }
    spec: { template: { spec: { containers: [{ name: app, image: "x:1" }] } } }
`;
  const { json } = workspace(t, { 'list.json': list, 'typed.yaml': typed });
  const { code, report } = await json(['list.json', 'typed.yaml']);
  t.equal(code, 1, 'the typed-list item runs as root');
  t.same(
    report.results.map((r) => [r.source, r.kind, `${r.namespace}/${r.name}`]),
    [
      ['list.json', 'Deployment', 'shop/a'],
      ['typed.yaml', 'Deployment', 'shop/b'],
    ],
  );
  t.same(
    report.results[1]!.findings.map((f) => f.container),
    ['app'],
    'typed-list items are judged as their kind',
  );
});

t.test('stdin: `-` reads a stream, e.g. from helm template', async (t) => {
  const { json } = workspace(t, {});
  const { code, report } = await json(['-'], `---\n# Source: chart/templates/deploy.yaml\n${root('api')}---\n${pdb}`);
  t.equal(code, 1);
  t.same(
    report.results.map((r) => [r.source, r.kind, r.document]),
    [
      ['<stdin>', 'Deployment', 1],
      ['<stdin>', 'PodDisruptionBudget', 2],
    ],
  );
});

t.test('a malformed document among good ones: the good ones are still judged, exit 2 names file and position', async (t) => {
  const text = `${root('first')}---\nkind: Deployment\nmetadata:\n  name: broken\n   labels: x\n---\n${root('last')}`;
  const { json } = workspace(t, { 'deploy.yaml': text });
  const { code, report, stderr } = await json(['deploy.yaml']);
  t.equal(code, 2, 'invalid input wins over findings');
  t.same(
    report.results.map((r) => [r.name, r.document]),
    [
      ['first', 1],
      ['last', 3],
    ],
  );
  t.equal(report.summary.deny, 2);
  t.match(stderr, /^practice-gate: deploy\.yaml: document 2 \(line 14\): /m, 'the line counts from the top of the file');
});

t.test('documents that are not Kubernetes objects are errors with their position', async (t) => {
  const text = `${nonRoot('ok')}---\n- just\n- a list\n---\nmetadata: { name: no-kind }\n---\n42\n`;
  const { json } = workspace(t, { 'odd.yaml': text });
  const { code, report, stderr } = await json(['odd.yaml']);
  t.equal(code, 2);
  t.same(
    report.results.map((r) => r.name),
    ['ok'],
  );
  t.match(stderr, /odd\.yaml: document 2 \(line 13\): not a Kubernetes object \(found a list\)/);
  t.match(stderr, /odd\.yaml: document 3 \(line 16\): not a Kubernetes object: it has no kind/);
  t.match(stderr, /odd\.yaml: document 4 \(line 18\): not a Kubernetes object \(found a number\)/);
});

t.test('unknown kinds are skipped silently', async (t) => {
  const { json } = workspace(t, { 'crd.yaml': 'apiVersion: example.com/v1\nkind: Widget\nmetadata: { name: w }\nspec: { size: 3 }\n' });
  const { code, report, stderr } = await json(['crd.yaml']);
  t.equal(code, 0);
  t.equal(stderr, '');
  t.strictSame(report, { results: [], summary: { objects: 0, deny: 0, warn: 0, audit: 0, exempt: 0 }, skipped: [] });
});

t.test('an empty file or empty stdin: no objects, exit 0, a note on stderr', async (t) => {
  const { json } = workspace(t, { 'empty.yaml': '', 'comments.yaml': '# nothing yet\n---\n' });
  for (const args of [['empty.yaml'], ['comments.yaml'], ['-']]) {
    const { code, report, stderr } = await json(args, '');
    const name = args.join(' ');
    t.equal(code, 0, name);
    t.same(report.results, [], name);
    t.match(stderr, /no Kubernetes objects found/, name);
  }
});

t.test('a bad config: exit 2, and the message names the file and the key', async (t) => {
  const { dir } = workspace(t, {
    'deploy.yaml': root('api'),
    'bad-action.yaml': 'policies:\n  run-as-non-root: block\n',
    'unknown-policy.yaml': 'policies:\n  no-such-policy: deny\n',
  });
  const badAction = await runCli(['audit', '--config', 'bad-action.yaml', 'deploy.yaml'], { cwd: dir });
  t.equal(badAction.code, 2);
  t.equal(badAction.stdout, '', 'nothing is judged with a config that cannot be trusted');
  t.match(badAction.stderr, /bad-action\.yaml/);
  t.match(badAction.stderr, /policies\.run-as-non-root/);
  const unknown = await runCli(['audit', '--config', 'unknown-policy.yaml', 'deploy.yaml'], { cwd: dir });
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /unknown-policy\.yaml[\s\S]*no-such-policy/);
  const missing = await runCli(['audit', '--config', 'nope.yaml', 'deploy.yaml'], { cwd: dir });
  t.equal(missing.code, 2);
  t.match(missing.stderr, /cannot read config nope\.yaml: no such file or directory$/m, 'in words, not ENOENT');
});

t.test('a directory is searched recursively for .yaml, .yml and .json, in sorted order', async (t) => {
  const { json } = workspace(t, {
    manifests: {
      'b.yaml': root('b'),
      'a.yml': root('a'),
      'notes.txt': 'kind: not a manifest',
      nested: {
        'c.json': JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'c' }, spec: { containers: [{ name: 'c' }] } }),
      },
    },
  });
  const { code, report } = await json(['manifests']);
  t.equal(code, 1);
  t.same(
    report.results.map((r) => r.source),
    [join('manifests', 'a.yml'), join('manifests', 'b.yaml'), join('manifests', 'nested', 'c.json')],
  );
});

t.test('a missing path: exit 2 naming it, and the other paths are still judged', async (t) => {
  const { json } = workspace(t, { 'deploy.yaml': nonRoot('api') });
  const { code, report, stderr } = await json(['missing.yaml', 'deploy.yaml']);
  t.equal(code, 2);
  t.match(stderr, /missing\.yaml: cannot read: no such file or directory$/m, 'in words, not ENOENT');
  t.same(
    report.results.map((r) => r.name),
    ['api'],
  );
});

t.test('exit status follows --fail-on', async (t) => {
  const warnConfig = `policies:\n  run-as-non-root: warn\n${ONLY_RUN_AS_NON_ROOT.replace('policies:\n', '')}`;
  const auditConfig = warnConfig.replace('run-as-non-root: warn', 'run-as-non-root: audit');
  const { dir } = workspace(t, {
    'root.yaml': root('api'),
    'clean.yaml': nonRoot('api'),
    'warn.yaml': warnConfig,
    'audit.yaml': auditConfig,
  });
  const cases: Array<[config: string, file: string, failOn: string | undefined, code: number]> = [
    ['only-run-as-non-root.yaml', 'root.yaml', undefined, 1],
    ['only-run-as-non-root.yaml', 'root.yaml', 'deny', 1],
    ['only-run-as-non-root.yaml', 'root.yaml', 'warn', 1],
    ['only-run-as-non-root.yaml', 'root.yaml', 'never', 0],
    ['warn.yaml', 'root.yaml', 'deny', 0],
    ['warn.yaml', 'root.yaml', 'warn', 1],
    ['warn.yaml', 'root.yaml', 'never', 0],
    ['audit.yaml', 'root.yaml', 'warn', 0],
    ['only-run-as-non-root.yaml', 'clean.yaml', 'warn', 0],
  ];
  for (const [config, file, failOn, expected] of cases) {
    const args = ['audit', '--config', config, ...(failOn ? ['--fail-on', failOn] : []), file];
    const { code } = await runCli(args, { cwd: dir });
    t.equal(code, expected, args.join(' '));
  }
});

t.test('usage errors exit 2', async (t) => {
  const { dir } = workspace(t, { 'deploy.yaml': root('api') });
  for (const args of [
    ['audit'],
    ['audit', '--format', 'xml', 'deploy.yaml'],
    ['audit', '--fail-on', 'sometimes', 'deploy.yaml'],
    ['audit', '--namespace', '', 'deploy.yaml'],
  ]) {
    const { code, stderr } = await runCli(args, { cwd: dir });
    t.equal(code, 2, args.join(' '));
    t.not(stderr, '', `${args.join(' ')} explains itself`);
  }
});

t.test('actions after config and mode; exemptions are counted apart and never fail', async (t) => {
  const exemptConfig = `${ONLY_RUN_AS_NON_ROOT}exemptions:\n  - names: ["legacy-*"]\n    reason: vendor image runs as root, ticket OPS-12\n`;
  const auditMode = `mode: audit\n${ONLY_RUN_AS_NON_ROOT}`;
  const { dir } = workspace(t, {
    'exempt.yaml': exemptConfig,
    'audit-mode.yaml': auditMode,
    'all.yaml': `${root('legacy-billing')}---\n${root('api')}`,
  });

  const exempt = await runCli(['audit', '--format', 'json', '--config', 'exempt.yaml', 'all.yaml'], { cwd: dir });
  const report = JSON.parse(exempt.stdout) as JsonReport;
  t.match(report.results[0]!.findings[0], { exempt: true, exemptReason: 'vendor image runs as root, ticket OPS-12', action: 'deny' });
  t.equal(report.results[1]!.findings[0]!.exemptReason, undefined, 'only exempt findings carry a reason');
  t.strictSame(report.summary, { objects: 2, deny: 1, warn: 0, audit: 0, exempt: 1 });

  const onlyExempt = await runCli(['audit', '--config', 'exempt.yaml', '--fail-on', 'warn', '-'], {
    cwd: dir,
    input: root('legacy-billing'),
  });
  t.equal(onlyExempt.code, 0, 'an exempt finding does not fail the run');

  const audit = await runCli(['audit', '--format', 'json', '--config', 'audit-mode.yaml', 'all.yaml'], { cwd: dir });
  t.equal(audit.code, 0, 'in audit mode a deny is reported as warn');
  t.same(JSON.parse(audit.stdout).summary, { objects: 2, deny: 0, warn: 2, audit: 0, exempt: 0 });
});

t.test('object exemptions by annotation, when the config allows them', async (t) => {
  const annotated = root(
    'batch',
    `, annotations: { practice-gate.io/exempt: run-as-non-root, practice-gate.io/exempt-reason: "needs root for chown" }`,
  );
  const { dir } = workspace(t, {
    'annotated.yaml': annotated,
    'allow.yaml': `objectExemptions: true\n${ONLY_RUN_AS_NON_ROOT}`,
  });
  const allowed = await runCli(['audit', '--format', 'json', '--config', 'allow.yaml', 'annotated.yaml'], { cwd: dir });
  t.equal(allowed.code, 0);
  t.match(JSON.parse(allowed.stdout).results[0].findings[0], { exempt: true, exemptReason: 'needs root for chown' });
  const ignored = await runCli(['audit', '--config', 'only-run-as-non-root.yaml', 'annotated.yaml'], { cwd: dir });
  t.equal(ignored.code, 1, 'the annotation means nothing unless objectExemptions is on');
});

t.test('--namespace: documents without one belong to it, and so does the context built from them', async (t) => {
  const ns = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels: { practice-gate.io/mode: enforce }\n';
  const auditMode = `mode: audit\n${ONLY_RUN_AS_NON_ROOT}`;
  const { dir, json } = workspace(t, {
    'all.yaml': `${ns}---\n${root('api')}---\n${root('other', ', namespace: elsewhere')}`,
    'audit-mode.yaml': auditMode,
  });

  const audited = async (args: string[]) => {
    const res = await runCli(['audit', '--format', 'json', '--config', 'audit-mode.yaml', ...args], { cwd: dir });
    return (JSON.parse(res.stdout) as JsonReport).results.map((r) => [r.namespace, r.findings[0]?.action]);
  };
  t.same(
    await audited(['all.yaml']),
    [
      ['default', 'warn'],
      ['elsewhere', 'warn'],
    ],
    'audit mode: deny becomes warn',
  );
  t.same(
    await audited(['--namespace', 'shop', 'all.yaml']),
    [
      ['shop', 'deny'],
      ['elsewhere', 'warn'],
    ],
    'the shop Namespace in the same input enforces its objects; an explicit namespace is kept',
  );
  const inDefault = await json(['all.yaml']);
  t.same(
    inDefault.report.results.map((r) => r.namespace),
    ['default', 'elsewhere'],
  );
});

t.test('a Namespace in the manifests cannot relax enforcement: its audit label is ignored, with a note', async (t) => {
  const ns = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels: { practice-gate.io/mode: audit }\n';
  const { json } = workspace(t, { 'all.yaml': `${ns}---\n${root('api', ', namespace: shop')}` });
  const res = await json(['all.yaml']);
  t.equal(res.code, 1, 'the deny still fails the build');
  t.same(
    res.report.results.map((r) => [r.namespace, r.findings[0]?.action]),
    [['shop', 'deny']],
  );
  t.match(
    res.stderr,
    'practice-gate: all.yaml: document 1: Namespace shop: label practice-gate.io/mode=audit ignored offline: only the --config file can relax enforcement',
  );
});

t.test('table output: grouped by object, every detail of a finding, a summary, no colour in a pipe', async (t) => {
  const { run } = workspace(t, { 'deploy.yaml': `${root('api')}---\n${pdb}` });
  const { code, stdout } = await run(['deploy.yaml']);
  t.equal(code, 1);
  t.notMatch(stdout, /\x1b\[/, 'no ANSI escape codes when stdout is not a TTY');
  const lines = stdout.split('\n');
  t.equal(lines[0], 'Deployment default/api (deploy.yaml:1)', 'an object with findings: file:line');
  t.match(lines[1], /^ {2}DENY +run-as-non-root +container "app"$/);
  t.match(
    stdout,
    /^ {4,}deploy\.yaml:10:11 {2}spec\.template\.spec\.containers\[0\]\.securityContext\.runAsNonRoot$/m,
    'each finding: file:line:column, then the field',
  );
  t.match(stdout, /^ {4,}container "app" may run as root/m);
  t.match(stdout, /^ {4,}fix:\n {6,}securityContext:\n {8,}runAsNonRoot: true/m, 'the fix is shown indented, as YAML');
  t.match(stdout, /^PodDisruptionBudget default\/api \(deploy\.yaml, document 2\)\n {2}passes every policy$/m);
  t.match(lines.at(-2), /^2 objects judged: 1 deny, 0 warn, 0 audit, 0 exempt$/);
});

t.test('examples/good passes every registered policy; examples/bad fails with findings from many', async (t) => {
  const repo = new URL('../../', import.meta.url);
  const good = await runCli(['audit', '--format', 'json', 'examples/good'], { cwd: repo.pathname });
  t.equal(good.code, 0, good.stderr);
  const goodReport = JSON.parse(good.stdout) as JsonReport;
  t.same(goodReport.results.map((r) => r.kind).sort(), ['CronJob', 'Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget']);
  t.same(
    goodReport.results.flatMap((r) => r.findings),
    [],
    'not a single finding, not even warn or audit',
  );

  const bad = await runCli(['audit', '--format', 'json', 'examples/bad'], { cwd: repo.pathname });
  t.equal(bad.code, 1, bad.stderr);
  const badReport = JSON.parse(bad.stdout) as JsonReport;
  for (const result of badReport.results) t.not(result.findings.length, 0, `${result.kind} ${result.name} shows something to fix`);
  const policies = new Set(badReport.results.flatMap((r) => r.findings.map((f) => f.policy)));
  for (const id of [
    'run-as-non-root',
    'readiness-probe',
    'liveness-probe',
    'image-tag-pinned',
    'cronjob-concurrency',
    'pdb-allows-disruption',
  ]) {
    t.ok(policies.has(id), `examples/bad shows ${id}`);
  }
});
