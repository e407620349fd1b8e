// The chart practises what it preaches: everything it renders, in every configuration
// it ships (defaults, each certificate mode, each ci/ values file, the helm test pod
// included), passes every practice-gate policy with no finding at all -- judged by the
// engine with every policy set to deny, and by the built `practice-gate audit` CLI.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import t from 'tap';
import { POLICIES } from '../../policies/index.js';
import { ContextIndex, DEFAULT_CONFIG, compileConfig, evaluate } from '../../src/engine/index.js';
import { REPO, ciValuesFiles, parseObjects, templateText } from './helm.js';

const VARIANTS: Array<[string, string[]]> = [
  ['defaults', []],
  ['certs.mode=certManager', ['--set', 'certs.mode=certManager']],
  ['certs.mode=selfManaged', ['--set', 'certs.mode=selfManaged']],
  ['replicaCount=1', ['--set', 'replicaCount=1']],
  ['kube 1.29 (exec preStop)', ['--kube-version', '1.29.0']],
  ...ciValuesFiles().map((f): [string, string[]] => [f.slice(f.indexOf('ci/')), ['--values', f]]),
];

const everyPolicyDenies = compileConfig(
  { ...DEFAULT_CONFIG, mode: 'enforce', policies: Object.fromEntries(POLICIES.map((p) => [p.id, 'deny'])) },
  POLICIES,
);

t.test('the engine finds nothing in the rendered manifests', async (t) => {
  for (const [name, flags] of VARIANTS) {
    const objects = parseObjects(templateText(flags));
    const context = ContextIndex.fromObjects(objects);
    const judged = objects.map((o) => evaluate(o, context, everyPolicyDenies)).filter((e) => e !== undefined);
    t.same(
      judged.map((e) => e.kind).sort(),
      [...(objects.some((o) => o.kind === 'PodDisruptionBudget') ? ['PodDisruptionBudget'] : []), 'Deployment', 'Pod'].sort(),
      `${name}: the Deployment, its PDB and the test Pod are judged`,
    );
    const findings = judged.flatMap((e) => e.findings.map((f) => `${e.kind}/${e.name} ${f.policy}: ${f.message}`));
    t.same(findings, [], `${name}: no finding`);
  }
});

t.test('`practice-gate audit -` exits 0 on the rendered manifests', async (t) => {
  const cli = `${REPO}/dist/cli/practice-gate.js`;
  t.ok(existsSync(cli), `the CLI is built (npm run test:e2e builds it; or run npm run build): ${cli}`);
  for (const [name, flags] of VARIANTS) {
    // --fail-on warn: a warning is a finding too; the JSON summary shows the rest.
    const run = spawnSync(process.execPath, [`${REPO}/bin/practice-gate.js`, 'audit', '--fail-on', 'warn', '--format', 'json', '-'], {
      input: templateText(flags),
      encoding: 'utf8',
      timeout: 60_000,
    });
    t.equal(run.status, 0, `${name}: exit 0`, { stdout: run.stdout, stderr: run.stderr });
    const summary = (JSON.parse(run.stdout) as { summary: Record<string, number> }).summary;
    t.match(summary, { deny: 0, warn: 0, audit: 0, exempt: 0 }, `${name}: no finding, none exempted`);
    t.ok(summary.objects !== undefined && summary.objects >= 3, `${name}: the Deployment, PDB and test Pod were read`);
  }
});
