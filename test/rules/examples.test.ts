// The example rules in examples/rules/ judge their good and bad manifests as documented, through
// the CLI an admin or a CI job runs: practice-gate audit --config.
import { readdirSync } from 'node:fs';
import t from 'tap';
import { runCli } from '../helpers/cli.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const CONFIG = 'examples/rules/practice-gate.yaml';
const CUSTOM = new Set(['require-team-label', 'allowed-registries', 'memory-limit-cap']);

interface Report {
  results: { source: string; findings: { policy: string; action: string; container?: string; path: string; message: string }[] }[];
}

async function customFindings(dir: string) {
  const run = await runCli(['audit', '--config', CONFIG, '--format', 'json', `examples/rules/${dir}`], { cwd: ROOT });
  const report = JSON.parse(run.stdout) as Report;
  return report.results.map((r) => ({ file: r.source.replace(/^.*\//, ''), findings: r.findings.filter((f) => CUSTOM.has(f.policy)) }));
}

t.test('the good examples pass every example rule', async (t) => {
  const results = await customFindings('good');
  t.same(results.map((r) => r.file).sort(), readdirSync(`${ROOT}examples/rules/good`).sort(), 'every good manifest judged');
  for (const r of results) t.same(r.findings, [], r.file);
});

t.test('each bad example breaks the rule it is named for, with the message, action and path', async (t) => {
  const byFile = Object.fromEntries((await customFindings('bad')).map((r) => [r.file, r.findings]));
  t.match(byFile['no-team.yaml'], [
    {
      policy: 'require-team-label',
      action: 'deny',
      path: 'metadata.labels',
      message: 'Deployment no-team has no team label: add metadata.labels.team',
    },
  ]);
  t.equal(byFile['no-team.yaml']?.length, 1);
  t.match(byFile['public-image.yaml'], [{ policy: 'allowed-registries', action: 'warn', message: /registry\.example\.com/ }]);
  t.equal(byFile['public-image.yaml']?.length, 1);
  t.same(byFile['memory-hog.yaml'], [
    {
      policy: 'memory-limit-cap',
      action: 'deny',
      container: 'report',
      path: 'spec.jobTemplate.spec.template.spec.containers[0].resources.limits.memory',
      message: 'container "report" has a memory limit of 8Gi, above the 4Gi cap: set resources.limits.memory: 4Gi or less',
      remediation: 'resources:\n  limits:\n    memory: 4Gi',
      exempt: false,
      file: 'examples/rules/bad/memory-hog.yaml',
      line: 18,
      column: 27,
    },
  ]);
});
