// Object labels are written by whoever writes the object; namespace labels only by admins. A
// webhook objectSelector therefore hands every user an opt-out, and the chart must not offer
// one by default or suggest one in its examples. (The rendered webhook is checked with helm in
// test/chart/render.test.ts; these checks read the chart's files and need no helm.)
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parse } from 'yaml';

const CHART = fileURLToPath(new URL('../../charts/practice-gate/', import.meta.url));
const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** The comment lines just above `key:` (at two spaces' indent) in values.yaml. */
function commentAbove(text: string, key: string): string {
  const lines = text.split('\n');
  const at = lines.findIndex((line) => line.startsWith(`  ${key}:`));
  const comment: string[] = [];
  for (let i = at - 1; i >= 0 && lines[i]?.trimStart().startsWith('#'); i--) comment.unshift(lines[i] ?? '');
  return comment.join('\n');
}

t.test('the chart sets no objectSelector by default, and its comment suggests no self-service label', async (t) => {
  const text = readFileSync(`${CHART}values.yaml`, 'utf8');
  t.same((parse(text) as { webhook: { objectSelector: unknown } }).webhook.objectSelector, {});
  const comment = commentAbove(text, 'objectSelector');
  t.notMatch(comment, /practice-gate\.io\/ignore|key:/, 'no example label to copy');
  t.match(comment, /whoever writes the object/, 'says who sets object labels');
  t.match(comment, /self-service\s+#?\s*opt-out/, 'and what that makes of a selector');
});

t.test('no example values file narrows the webhook by object label', async (t) => {
  const dir = `${CHART}ci/`;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
    const values = (parse(readFileSync(`${dir}${file}`, 'utf8')) ?? {}) as { webhook?: { objectSelector?: unknown } };
    t.equal(values.webhook?.objectSelector, undefined, file);
  }
});

t.test('the install guide tells namespace labels (admins) from object labels (anyone who writes the object)', async (t) => {
  const guide = read('docs/install.md');
  t.match(guide, /`webhook\.objectSelector`[\s\S]*opt-out/);
  t.match(guide, /only who may update a Namespace/);
});
