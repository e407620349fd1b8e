// One file of its own: 24 runs of the CLI, one per format and case.
import t from 'tap';
import { runCli } from '../helpers/cli.js';
import { deploymentYaml } from '../helpers/manifests.js';

const deployment = (name: string, securityContext = '') =>
  deploymentYaml(name, { container: securityContext === '' ? [] : [securityContext.trim()] });
// Only the policy under test, so that a warn-only object is easy to write.
const config = `policies:\n  run-as-non-root: deny\n  image-tag-pinned: warn\n${['read-only-root-filesystem', 'resource-requests', 'memory-limit', 'readiness-probe', 'liveness-probe', 'no-privilege-escalation', 'pdb-coverage', 'pdb-allows-disruption', 'cronjob-concurrency'].map((p) => `  ${p}: "off"\n`).join('')}`;

t.test(
  'every format keeps the exit status: 1 for a deny, 0 for a warn, 1 for a warn with --fail-on warn, 2 for a bad document',
  async (t) => {
    const dir = t.testdir({
      'config.yaml': config,
      'deny.yaml': deployment('api'),
      'warn.yaml': deployment('web', '\n          securityContext: { runAsNonRoot: true }').replace(':1.0', ':latest'),
      'broken.yaml': `${deployment('ok', '\n          securityContext: { runAsNonRoot: true }')}---\nkind: [broken\n`,
    });
    for (const format of ['table', 'json', 'sarif', 'junit', 'github', 'html']) {
      const run = (args: string[]) => runCli(['audit', '--config', 'config.yaml', '--format', format, ...args], { cwd: dir });
      t.equal((await run(['deny.yaml'])).code, 1, `${format}: deny`);
      t.equal((await run(['warn.yaml'])).code, 0, `${format}: warn`);
      t.equal((await run(['--fail-on', 'warn', 'warn.yaml'])).code, 1, `${format}: warn with --fail-on warn`);
      const broken = await run(['broken.yaml']);
      t.equal(broken.code, 2, `${format}: a malformed document`);
      t.match(broken.stdout, /broken\.yaml/, `${format}: the report names what it could not read`);
    }
  },
);
