import t from 'tap';
import { readFileSync, readdirSync, statSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { applyPatch, parsePatch } from 'diff';
import { parseAllDocuments } from 'yaml';
import { auditTexts } from '../../src/audit/index.js';
import { planFixes } from '../../src/fix/run.js';
import { DEFAULT_CONFIG, compileConfig } from '../../src/engine/index.js';
import { POLICIES } from '../../policies/index.js';
import { runCli } from '../helpers/cli.js';

const config = compileConfig(DEFAULT_CONFIG, POLICIES);
const SAFE = new Set(['run-as-non-root', 'read-only-root-filesystem', 'no-privilege-escalation', 'cronjob-concurrency']);
const fix = (files: Record<string, string>) =>
  planFixes(
    Object.entries(files).map(([source, text]) => ({ source, text })),
    config,
    'default',
  );
const policiesLeft = (files: Record<string, string>) =>
  auditTexts(
    Object.entries(files).map(([source, text]) => ({ source, text })),
    config,
    'default',
  ).report.results.flatMap((r) => r.findings.map((f) => f.policy));
/** The text after the fix, for every file (unchanged ones as they were). */
const after = (files: Record<string, string>, outcome: ReturnType<typeof fix>) =>
  Object.fromEntries(Object.entries(files).map(([source, text]) => [source, outcome.changed.get(source)?.after ?? text]));

const examples = (dir: string) => {
  const base = new URL(`../../examples/${dir}/`, import.meta.url);
  return Object.fromEntries(readdirSync(base).map((name) => [`examples/${dir}/${name}`, readFileSync(new URL(name, base), 'utf8')]));
};

t.test("the repository's examples: safe findings fixed, the rest named with a reason, a second run changes nothing", async (t) => {
  const bad = examples('bad');
  const first = fix(bad);
  t.ok(first.fixed.length >= 4, 'several fixes');
  t.same([...new Set(first.fixed.map((f) => f.finding.policy))].sort(), [...SAFE].sort(), 'every safe policy had something to fix');
  const fixed = after(bad, first);
  t.notOk(
    policiesLeft(fixed).some((p) => SAFE.has(p)),
    're-judged: no safe finding is left',
  );
  t.ok(first.notFixed.length > 0);
  for (const f of first.notFixed) t.notOk(SAFE.has(f.finding.policy), `${f.finding.policy} is left with a reason: ${f.reason}`);
  t.match(first.notFixed.find((f) => f.finding.policy === 'resource-requests')?.reason, /numbers only your team knows/);
  t.match(first.notFixed.find((f) => f.finding.policy === 'image-tag-pinned')?.reason, /needs a version/);
  const second = fix(fixed);
  t.equal(second.changed.size, 0, 'idempotent');
  t.same(second.fixed, []);
  t.equal(fix(examples('good')).changed.size, 0, 'examples/good: nothing to change');
  for (const [source, { before, after: text }] of first.changed) {
    const kept = before.split('\n');
    const now = text.split('\n');
    let i = 0;
    for (const line of now) if (line === kept[i]) i++;
    t.equal(i, kept.length, `${source}: every original line is still there, in order (the fix only adds or replaces values)`);
  }
});

const commented = `# Shop API: owned by team-a
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api   # the public name
  labels: &labels { app: api, "tier": 'web' }
spec:
  selector:
    matchLabels: *labels
  template:
    metadata: { labels: *labels }
    spec:
      containers:
      - name: app          # unindented sequence, as some teams write it
        image: "example/api:1.0"
        securityContext: {runAsNonRoot: false}
        resources: { requests: { cpu: 10m, memory: 64Mi }, limits: { memory: 64Mi } }
      - name: sidecar
        image: example/sidecar:2.0
        securityContext:
          readOnlyRootFilesystem: false # was true until the cache moved
          allowPrivilegeEscalation: false
          runAsNonRoot: true
...
---
# The nightly job
apiVersion: batch/v1
kind: CronJob
metadata: { name: nightly }
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - { name: job, image: "example/job:1.0", securityContext: { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false } }
`;

t.test('comments, order, quoting, anchors, flow style and document markers are kept; values are what the policies ask', async (t) => {
  const files = { 'app.yaml': commented };
  const outcome = fix(files);
  const text = outcome.changed.get('app.yaml')?.after ?? '';
  for (const kept of [
    '# Shop API: owned by team-a',
    'name: api   # the public name',
    `labels: &labels { app: api, "tier": 'web' }`,
    'matchLabels: *labels',
    '      - name: app          # unindented sequence',
    'image: "example/api:1.0"',
    '...\n---\n# The nightly job',
    'schedule: "0 3 * * *"',
  ]) {
    t.ok(text.includes(kept), `kept: ${kept}`);
  }
  t.match(
    text,
    /securityContext: \{runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false\}/,
    'a flow map gets its entries in flow style',
  );
  t.match(text, /readOnlyRootFilesystem: true # was true until the cache moved/, 'a value is replaced in place, its comment kept');
  t.match(text, /\n {2}concurrencyPolicy: Forbid\n/, 'a block map gets a line at its indentation');
  const docs = parseAllDocuments(text).map((d) => (Array.isArray(d) ? undefined : d.toJS()));
  const original = parseAllDocuments(commented).map((d) => (Array.isArray(d) ? undefined : d.toJS()));
  t.equal(docs.length, original.length, 'the same documents');
  t.same(docs[0].spec.template.spec.containers[0].securityContext, {
    runAsNonRoot: true,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
  });
  t.same(docs[0].spec.template.spec.containers[1].securityContext, {
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    runAsNonRoot: true,
  });
  t.equal(docs[1].spec.concurrencyPolicy, 'Forbid');
  delete docs[0].spec.template.spec.containers[0].securityContext;
  delete original[0].spec.template.spec.containers[0].securityContext;
  delete docs[0].spec.template.spec.containers[1].securityContext;
  delete original[0].spec.template.spec.containers[1].securityContext;
  delete docs[1].spec.concurrencyPolicy;
  t.same(docs, original, 'nothing else changed');
  t.equal(fix({ 'app.yaml': text }).changed.size, 0, 'a second run changes nothing');
});

t.test('what fix refuses: Go templates, fields behind an alias, choices a person made', async (t) => {
  const template = fix({ 'deploy.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n' });
  t.match(template.problems, [{ source: 'deploy.yaml', message: /Helm template \(Go template syntax\)/ }]);
  t.equal(template.changed.size, 0);

  const shared = `apiVersion: v1
kind: List
items:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: { name: a }
    spec:
      template:
        spec:
          securityContext: { runAsNonRoot: true }
          containers:
            - name: app
              image: a:1.0
              securityContext: &hardened { readOnlyRootFilesystem: true }
  - apiVersion: batch/v1
    kind: CronJob
    metadata: { name: b }
    spec:
      concurrencyPolicy: Allow
      jobTemplate: { spec: { template: { spec: { securityContext: { runAsNonRoot: true }, containers: [{ name: c, image: "c:1", securityContext: *hardened }] } } } }
`;
  const outcome = fix({ 'list.yaml': shared });
  const reasons = outcome.notFixed.map((f) => `${f.object} ${f.finding.policy}: ${f.reason}`);
  t.ok(
    reasons.some((r) => /CronJob default\/b no-privilege-escalation: .*anchor shared/.test(r)),
    'the alias: left to a person',
  );
  t.ok(
    reasons.some((r) => /Deployment default\/a no-privilege-escalation: .*anchor shared/.test(r)),
    'the anchor too: a change there changes b',
  );
  t.ok(reasons.some((r) => /CronJob default\/b cronjob-concurrency: concurrencyPolicy Allow was chosen/.test(r)));
  t.equal(outcome.changed.size, 0, 'nothing else to fix there');
});

t.test(
  'the command: --diff prints a patch and changes nothing; without it the file is replaced whole, mode kept, no temp file left',
  async (t) => {
    const dir = t.testdir({ 'app.yaml': commented, 'notes.txt': 'not a manifest' });
    chmodSync(join(dir, 'app.yaml'), 0o640);
    const diff = await runCli(['fix', '--diff', 'app.yaml'], { cwd: dir });
    t.equal(diff.code, 1, 'exit 1: deny findings (requests) are left for a person');
    t.equal(readFileSync(join(dir, 'app.yaml'), 'utf8'), commented, '--diff changes nothing');
    const [patch] = parsePatch(diff.stdout);
    t.equal(patch?.oldFileName, 'a/app.yaml');
    const patched = applyPatch(commented, diff.stdout);
    t.type(patched, 'string', 'the patch applies');
    t.match(
      diff.stderr,
      /^fixed {6}app\.yaml:\d+ {2}Deployment default\/api container "app": spec\.template\.spec\.containers\[0\]\.securityContext\.readOnlyRootFilesystem: true$/m,
    );
    t.match(diff.stderr, /would change 1 file \(5 fixes\); left: 2 deny/);

    const written = await runCli(['fix', '.'], { cwd: dir });
    t.equal(written.code, 1, written.stderr);
    t.equal(readFileSync(join(dir, 'app.yaml'), 'utf8'), patched, 'the file is what --diff showed');
    t.equal(statSync(join(dir, 'app.yaml')).mode & 0o777, 0o640, 'its mode is kept');
    t.same(readdirSync(dir).sort(), ['app.yaml', 'notes.txt'], 'no temporary file left behind');
    t.match(written.stdout, /changed 1 file/);
    const again = await runCli(['fix', 'app.yaml'], { cwd: dir });
    t.match(again.stdout, /changed 0 files \(0 fixes\)/, 'a second run changes nothing');

    const chart = t.testdir({ 't.yaml': 'kind: Deployment\nmetadata:\n  name: {{ .Values.name }}\n' });
    const refused = await runCli(['fix', 't.yaml'], { cwd: chart });
    t.equal(refused.code, 2);
    t.match(refused.stderr, /t\.yaml: a Helm template \(Go template syntax\)/);
  },
);
