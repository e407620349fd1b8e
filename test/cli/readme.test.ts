import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { POLICIES } from '../../policies/index.js';
import { parseConfigText } from '../../src/config/load.js';
import { spawnNode } from '../helpers/node-child.js';
import { eventually } from '../helpers/server.js';

// The README is the first thing a user copies from: its table and config example must
// stay true as policies are added.
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

t.test('the policies table lists every registered policy with its default action and title, and nothing else', async (t) => {
  const rows = [...readme.matchAll(/^\| `([a-z0-9-]+)` \| (deny|warn|audit) \| (.*) \|$/gm)];
  t.same(
    rows.map((m) => [m[1], m[2]]),
    POLICIES.map((p) => [p.id, p.defaultAction]),
  );
  // What it checks starts with the policy's title (`practice-gate policies` prints the same); details may follow.
  for (const [i, policy] of POLICIES.entries()) t.ok(rows[i]?.[3]?.startsWith(policy.title), `${policy.id}: "${policy.title}"`);
});

t.test('the full config example is a valid config', async (t) => {
  const section = readme.slice(readme.indexOf('## Configuration'));
  const example = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  if (example === undefined) throw new Error('no yaml example under ## Configuration');
  const config = parseConfigText(example, 'README.md');
  t.equal(config.mode, 'enforce');
  t.equal(config.objectExemptions, true);
  t.ok(config.exemptions.length > 0 && config.exemptions.every((e) => e.reason !== ''), 'exemptions with reasons');
});

t.test('the first lines give the main command and the test command, and .ci/run runs that test command', async (t) => {
  const firstBlock = /^# practice-gate\n+```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  t.match(
    firstBlock,
    /^npm ci && npm run build && npx practice-gate serve --dev\b/m,
    'the main job: the webhook on its embedded dev certificates',
  );
  const testLine = firstBlock.split('\n').find((line) => line.startsWith('npm ci && npm test'));
  if (!testLine) throw new Error('README: no `npm ci && npm test` line in the first block');
  const commands = testLine
    .replace(/#.*$/, '')
    .split('&&')
    .map((c) => c.trim())
    .slice(1);
  const ciLines = readFileSync(new URL('../../.ci/run', import.meta.url), 'utf8')
    .split('\n')
    .map((l) => l.trim());
  for (const command of commands) t.ok(ciLines.includes(command), `.ci/run runs \`${command}\``);
});

t.test('the first command, run as written, leaves a webhook configuration file kubectl can apply', async (t) => {
  // npm ci and npm run build print to stdout, so stdout is not the file to apply: the command
  // names its own file. Run what follows `npx practice-gate` with the built CLI (what npx
  // runs), in a scratch directory, on a free port instead of 8443.
  const firstLine = (/^# practice-gate\n+```sh\n([^\n]*)/.exec(readme)?.[1] ?? '').replace(/#.*$/, '').trim();
  const serve =
    firstLine
      .split('&&')
      .map((c) => c.trim())
      .at(-1) ?? '';
  t.match(serve, /^npx practice-gate serve --dev /);
  const args = serve.replace(/^npx practice-gate /, '').split(/\s+/);
  const file = args[args.indexOf('--dev-webhook-config') + 1] ?? '';
  t.equal(file, 'webhook.yaml', 'the README names the file it applies');
  t.match(readme, new RegExp(`kubectl apply -f ${file.replace('.', '\\.')}`), 'and applies that file');

  const dir = t.testdir({});
  const bin = fileURLToPath(new URL('../../bin/practice-gate.js', import.meta.url));
  const child = spawnNode([bin, ...args, '--port', '0'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  t.teardown(() => void child.kill('SIGKILL'));
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const written = join(dir, file);
  await eventually(() => stderr.includes('dev webhook configuration printed') && existsSync(written), 60_000);

  const docs = parseAllDocuments(readFileSync(written, 'utf8'));
  t.equal(docs.length, 1, 'one document');
  t.same(docs[0]?.errors, [], 'valid YAML');
  const config = docs[0]?.toJS() as {
    apiVersion: string;
    kind: string;
    webhooks: Array<{ clientConfig: { url: string; caBundle: string } }>;
  };
  t.match(config, {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: 'practice-gate-dev' },
  });
  t.match(config.webhooks[0]?.clientConfig.url, /^https:\/\/127\.0\.0\.1:\d+\/validate$/);
  t.match(Buffer.from(config.webhooks[0]?.clientConfig.caBundle ?? '', 'base64').toString(), /^-----BEGIN CERTIFICATE-----/);
  child.kill('SIGTERM');
});
