import t from 'tap';
import { createRequire } from 'node:module';
import { DOMParser } from '@xmldom/xmldom';
import { auditTexts } from '../../src/audit/index.js';
import type { AuditReport } from '../../src/audit/index.js';
import { formatContext, formatGithub, formatJunit, formatSarif } from '../../src/audit/formats/index.js';
import type { FormatContext } from '../../src/audit/formats/index.js';
import { DEFAULT_CONFIG, compileConfig } from '../../src/engine/index.js';
import { POLICIES } from '../../policies/index.js';
import { deploymentYaml } from '../helpers/manifests.js';

// The SARIF 2.1.0 schema (final, rtm.5) as Microsoft's SARIF SDK ships it; draft-04, hence ajv-draft-04.
const require = createRequire(import.meta.url);
const schema = require('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json') as object;
const Ajv = (require('ajv-draft-04') as typeof import('ajv-draft-04')).default;
const addFormats = (require('ajv-formats') as typeof import('ajv-formats')).default;
const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false });
addFormats(ajv);
const validateSarif = ajv.compile(schema);

const config = compileConfig(
  { ...DEFAULT_CONFIG, exemptions: [{ names: ['legacy'], policies: ['read-only-root-filesystem'], reason: 'OPS-12: writes /var/cache' }] },
  POLICIES,
);
const context = (failOn: FormatContext['failOn'] = 'deny'): FormatContext => formatContext(config, POLICIES, failOn);

const workload = (name: string) =>
  deploymentYaml(name, {
    namespace: 'shop',
    container: [
      'securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false }',
      'resources: { requests: { cpu: 10m, memory: 64Mi }, limits: { memory: 64Mi } }',
      'readinessProbe: { httpGet: { path: /, port: 80 } }',
      'livenessProbe: { httpGet: { path: /, port: 80 } }',
    ],
  });

/** One file with deny, warn and exempt findings on two objects, a bad document, and a piped helm stream with a deny. */
function sample(): AuditReport {
  const noLimit = workload('api').replace(', limits: { memory: 64Mi }', '');
  const files = [
    { source: 'k8s/apps.yaml', text: `${noLimit}---\n${workload('legacy')}---\nkind: [broken\n` },
    {
      source: '<stdin>',
      text: `---\n# Source: shop/templates/root.yaml\n${workload('root').replace('runAsNonRoot: true', 'runAsUser: 0')}`,
    },
  ];
  const outcome = auditTexts(files, config, 'default');
  return { ...outcome.report, skipped: outcome.problems };
}

t.test('SARIF: valid against the SARIF 2.1.0 schema, one rule per policy, results with lines and levels', async (t) => {
  const report = sample();
  const log = JSON.parse(formatSarif(report, context())) as {
    version: string;
    runs: Array<{
      tool: { driver: { rules: Array<{ id: string; help: { text: string } }> } };
      results: Array<Record<string, any>>;
      invocations: Array<Record<string, any>>;
    }>;
  };
  t.ok(validateSarif(log), JSON.stringify(validateSarif.errors?.slice(0, 3)));
  t.equal(log.version, '2.1.0');
  const [run] = log.runs;
  t.same(
    run?.tool.driver.rules.map((r) => r.id),
    POLICIES.map((p) => p.id),
    'one rule per policy',
  );
  t.match(run?.tool.driver.rules.find((r) => r.id === 'run-as-non-root')?.help.text, /runAsNonRoot: true/, 'the fix is the help');

  const ro = run?.results.find((r) => r.ruleId === 'read-only-root-filesystem' && r.message.text.includes('shop/api'));
  t.match(ro, {
    level: 'error',
    locations: [{ physicalLocation: { artifactLocation: { uri: 'k8s/apps.yaml' }, region: { startLine: 12, startColumn: 11 } } }],
  });
  t.notOk(ro?.suppressions, 'not exempt');
  const exempt = run?.results.find((r) => r.ruleId === 'read-only-root-filesystem' && r.message.text.includes('shop/legacy'));
  t.match(
    exempt,
    { suppressions: [{ kind: 'external', justification: 'OPS-12: writes /var/cache' }] },
    'exempt: suppressed with its reason',
  );
  t.equal(exempt?.locations[0].physicalLocation.region.startLine, 28, 'second document: lines count from the top of the file');

  const root = run?.results.find((r) => r.ruleId === 'run-as-non-root');
  t.match(
    root,
    { level: 'error', locations: [{ physicalLocation: { artifactLocation: { uri: 'shop/templates/root.yaml' } } }] },
    'piped helm output: the template',
  );
  t.notOk(root?.locations[0].physicalLocation.region, "no lines: they are the stream's, not the template's");
  t.match(run?.invocations, [
    { executionSuccessful: false, toolExecutionNotifications: [{ level: 'error', message: { text: /k8s\/apps\.yaml: document 3/ } }] },
  ]);

  t.notOk(validateSarif({ version: '2.1.0', runs: [{ results: [] }] }), 'the validator does reject a log without a tool');
});

const xml = (text: string) => new DOMParser().parseFromString(text, 'text/xml');

t.test('JUnit: a case per object and active policy, failures for deny, and for warn with --fail-on warn', async (t) => {
  const report = sample();
  const doc = xml(formatJunit(report, context()));
  const cases = Array.from(doc.getElementsByTagName('testcase'));
  const api = cases.filter((c) => c.getAttribute('classname') === 'Deployment shop/api');
  const workloadPolicies = POLICIES.filter((p) => p.kinds.includes('Deployment')).map((p) => p.id);
  t.same(api.map((c) => c.getAttribute('name')).sort(), [...workloadPolicies].sort(), 'every policy that judges a Deployment');
  const ro = api.find((c) => c.getAttribute('name') === 'read-only-root-filesystem');
  t.equal(ro?.getElementsByTagName('failure')[0]?.getAttribute('type'), 'deny');
  t.match(ro?.getElementsByTagName('failure')[0]?.textContent, /k8s\/apps\.yaml:12: deny: .*readOnlyRootFilesystem[\s\S]*fix:/);
  t.equal(ro?.getAttribute('line'), '12', 'the securityContext the missing field belongs in');
  const passing = api.find((c) => c.getAttribute('name') === 'run-as-non-root');
  t.equal(passing?.childNodes.length, 0, 'a policy the object meets is a passing case');
  const exempt = cases.find(
    (c) => c.getAttribute('classname') === 'Deployment shop/legacy' && c.getAttribute('name') === 'read-only-root-filesystem',
  );
  t.equal(exempt?.getElementsByTagName('skipped')[0]?.getAttribute('message'), 'exempt: OPS-12: writes /var/cache');
  const root = cases.find((c) => c.getAttribute('classname') === 'Deployment shop/root' && c.getAttribute('name') === 'run-as-non-root');
  t.equal(root?.getAttribute('file'), 'shop/templates/root.yaml');
  const broken = cases.find((c) => c.getElementsByTagName('error').length > 0);
  t.match(broken?.getElementsByTagName('error')[0]?.getAttribute('message'), /document 3/, 'a malformed document is an error case');

  const suites = doc.getElementsByTagName('testsuites')[0];
  t.equal(Number(suites?.getAttribute('tests')), cases.length);
  t.equal(Number(suites?.getAttribute('failures')), cases.filter((c) => c.getElementsByTagName('failure').length > 0).length);

  const failures = (failOn: FormatContext['failOn']) => xml(formatJunit(report, context(failOn))).getElementsByTagName('failure').length;
  const warnOnly = report.results.flatMap((r) => r.findings).filter((f) => f.action === 'warn' && !f.exempt);
  t.ok(warnOnly.length > 0, 'the sample has warn findings');
  t.ok(failures('warn') > failures('deny'), 'with --fail-on warn, warn findings fail too');
  t.equal(failures('never'), 0);
});

t.test('JUnit: characters XML cannot carry are escaped or dropped, so the file always parses', async (t) => {
  const report: AuditReport = {
    results: [
      {
        source: 'a&b.yaml',
        apiVersion: 'v1',
        kind: 'Pod',
        namespace: 'x',
        name: '<p>',
        findings: [
          { policy: 'run-as-non-root', action: 'deny', path: 'spec', message: 'say "hi" \u0001 & <b>', remediation: ']]>', exempt: false },
        ],
      },
    ],
    summary: { objects: 1, deny: 1, warn: 0, audit: 0, exempt: 0 },
  };
  const doc = xml(formatJunit(report, context()));
  t.equal(doc.getElementsByTagName('testcase')[0]?.getAttribute('classname'), 'Pod x/<p>');
  t.equal(doc.getElementsByTagName('failure')[0]?.getAttribute('message'), 'say "hi"  & <b>');
});

/** `::error file=a,line=1::text` as GitHub reads it: command, properties, message (both unescaped). */
function parseCommand(line: string): { command: string; props: Record<string, string>; message: string } | undefined {
  const match = /^::(\w+)(?: ([^:]*))?::(.*)$/.exec(line);
  if (!match) return undefined;
  const unescapeGithub = (s: string) =>
    s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%');
  const props = Object.fromEntries(
    (match[2] ?? '')
      .split(',')
      .filter(Boolean)
      .map((p) => p.split('=', 2).map(unescapeGithub) as [string, string]),
  );
  return { command: match[1] ?? '', props, message: unescapeGithub(match[3] ?? '') };
}

t.test('GitHub annotations: one per open finding, on its file and line, with the fix; exempt ones only counted', async (t) => {
  const report = sample();
  const lines = formatGithub(report).trimEnd().split('\n');
  const commands = lines.map(parseCommand).filter((c) => c !== undefined);
  const open = report.results.flatMap((r) => r.findings).filter((f) => !f.exempt);
  t.equal(commands.length, open.length + 1, 'every open finding, plus the bad document');
  const ro = commands.find((c) => c.message.includes('shop/api') && c.props.title?.includes('read-only-root-filesystem'));
  t.match(ro, { command: 'error', props: { file: 'k8s/apps.yaml', line: '12', col: '11' } });
  t.match(ro?.message, /readOnlyRootFilesystem[\s\S]*\nfix:\n[\s\S]*readOnlyRootFilesystem: true/, 'message and fix survive the escaping');
  t.match(
    commands.find((c) => c.props.title?.includes('memory-limit')),
    { command: 'warning', props: { file: 'k8s/apps.yaml', line: '13' } },
    'warn: a warning',
  );
  const root = commands.find((c) => c.message.includes('shop/root'));
  t.equal(root?.props.file, undefined, "piped output: no file, its lines are not the repository's");
  t.match(root?.props.title, /shop\/templates\/root\.yaml/);
  t.match(
    commands.find((c) => c.message.includes('document 3')),
    { command: 'error', props: { file: 'k8s/apps.yaml' } },
  );
  t.match(lines.at(-1), /^practice-gate: 3 objects judged: \d+ deny, \d+ warn, \d+ audit, 1 exempt$/);
  t.notOk(
    commands.some((c) => c.message.includes('OPS-12')),
    'exempt findings are not annotated',
  );
});
