import t from 'tap';
import { POLICIES } from '../../policies/index.js';
import { runCli } from '../helpers/cli.js';

t.test('--format json lists every registered policy with what a user needs', async (t) => {
  const { code, stdout, stderr } = await runCli(['policies', '--format', 'json']);
  t.equal(code, 0);
  t.equal(stderr, '');
  const listed = (JSON.parse(stdout) as { policies: Array<Record<string, unknown>> }).policies;
  t.same(
    listed.map((p) => p.id),
    POLICIES.map((p) => p.id),
    'every policy, in registry order',
  );
  for (const [i, policy] of POLICIES.entries()) {
    t.strictSame(
      listed[i],
      {
        id: policy.id,
        defaultAction: policy.defaultAction,
        title: policy.title,
        kinds: [...policy.kinds],
        why: policy.why,
        fix: policy.fix,
        source: 'built-in',
      },
      policy.id,
    );
  }
});

t.test('the table shows id, default action, title, why and the fix for each policy', async (t) => {
  const { code, stdout } = await runCli(['policies']);
  t.equal(code, 0);
  t.notMatch(stdout, /\x1b\[/, 'no colour in a pipe');
  for (const policy of POLICIES) {
    t.match(
      stdout,
      new RegExp(`^${policy.id} +default: ${policy.defaultAction}\\n {2}${escapeRegExp(policy.title)}\\n {2}why: `, 'm'),
      policy.id,
    );
    const firstFixLine = policy.fix.split('\n')[0]!;
    t.match(stdout, new RegExp(`^ {4}${escapeRegExp(firstFixLine)}$`, 'm'), `${policy.id} fix, indented`);
  }
});

t.test('an unknown format is a usage error', async (t) => {
  const { code, stderr } = await runCli(['policies', '--format', 'yaml']);
  t.equal(code, 2);
  t.match(stderr, /Allowed choices are table, json/);
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

t.test('--config adds the custom rules of a config file, with where they come from', async (t) => {
  const root = new URL('../../', import.meta.url).pathname;
  const { code, stdout } = await runCli(['policies', '--format', 'json', '--config', 'examples/rules/practice-gate.yaml'], { cwd: root });
  t.equal(code, 0);
  const listed = (JSON.parse(stdout) as { policies: Array<Record<string, unknown>> }).policies;
  t.match(listed.slice(POLICIES.length), [
    { id: 'require-team-label', defaultAction: 'deny', source: 'examples/rules/practice-gate.yaml' },
    { id: 'allowed-registries', defaultAction: 'warn' },
    { id: 'memory-limit-cap', defaultAction: 'deny', kinds: ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob'] },
  ]);
  const table = await runCli(['policies', '--config', 'examples/rules/practice-gate.yaml'], { cwd: root });
  t.match(table.stdout, /^memory-limit-cap +default: deny, custom rule from examples\/rules\/practice-gate\.yaml$/m);
  const broken = await runCli(['policies', '--config', 'missing.yaml'], { cwd: root });
  t.equal(broken.code, 2, 'a config that cannot be read is a usage error');
  t.match(broken.stderr, /missing\.yaml/);
});
