import t from 'tap';
import { readFileSync } from 'node:fs';
import { POLICIES } from '../../policies/index.js';
import { parseConfigText } from '../../src/config/load.js';

// The README is the first thing a user copies from: its table and config example must
// stay true as policies are added.
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

t.test('the policies table lists every registered policy with its default action, and nothing else', async (t) => {
  const rows = [...readme.matchAll(/^\| `([a-z0-9-]+)` \| (deny|warn|audit) \|/gm)].map((m) => [m[1], m[2]]);
  t.same(rows, POLICIES.map((p) => [p.id, p.defaultAction]));
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
  t.match(firstBlock, /^npm ci && npm run build && npx practice-gate serve --dev\b/m, 'the main job: the webhook on its embedded dev certificates');
  const testLine = firstBlock.split('\n').find((line) => line.startsWith('npm ci && npm test'));
  if (!testLine) throw new Error('README: no `npm ci && npm test` line in the first block');
  const commands = testLine.replace(/#.*$/, '').split('&&').map((c) => c.trim()).slice(1);
  const ciLines = readFileSync(new URL('../../.ci/run', import.meta.url), 'utf8').split('\n').map((l) => l.trim());
  for (const command of commands) t.ok(ciLines.includes(command), `.ci/run runs \`${command}\``);
});
