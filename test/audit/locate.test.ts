import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { auditTexts, helmTemplates, parseSourceFast, parseSourceWithYaml, pathSegments } from '../../src/audit/index.js';
import type { AuditFinding, AuditResult } from '../../src/audit/index.js';
import { DEFAULT_CONFIG, compileConfig } from '../../src/engine/index.js';
import { POLICIES } from '../../policies/index.js';

const config = compileConfig(DEFAULT_CONFIG, POLICIES);
const audit = (source: string, text: string) => auditTexts([{ source, text }], config, 'default');
const find = (result: AuditResult | undefined, policy: string): AuditFinding | undefined =>
  result?.findings.find((f) => f.policy === policy);
/** The text at a finding's line and column: what an editor would show under the cursor. */
const at = (text: string, f: AuditFinding | undefined): string => {
  const line = text.split('\n')[(f?.line ?? 0) - 1] ?? '';
  return line.slice((f?.column ?? 1) - 1);
};

const deployment = `# a comment above
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  annotations:
    practice-gate.io/note: "x"
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      containers:
        - name: app
          image: example/api:latest
          securityContext:
            runAsNonRoot: false
            readOnlyRootFilesystem: true
            allowPrivilegeEscalation: false
          resources:
            requests: { cpu: 100m, memory: 64Mi }
            limits: { memory: 64Mi }
          readinessProbe: { httpGet: { path: /, port: 80 } }
          livenessProbe: { httpGet: { path: /live, port: 80 } }
        - name: sidecar
          image: example/sidecar:1.0
`;

t.test('a finding points at the field it names, or at its nearest existing ancestor when the field is missing', async (t) => {
  const { report } = audit('deploy.yaml', deployment);
  const [result] = report.results;
  t.equal(result?.line, 2, 'the object starts at apiVersion, below the comment');
  const rootFinding = find(result, 'run-as-non-root');
  t.match(rootFinding, { file: 'deploy.yaml', line: 17, column: 13, container: 'app' });
  t.match(at(deployment, rootFinding), /^runAsNonRoot: false/, 'the named field itself');
  const tag = result?.findings.find((f) => f.policy === 'image-tag-pinned' && f.container === 'app');
  t.match(at(deployment, tag), /^image: example\/api:latest/);
  const sidecar = result?.findings.filter((f) => f.container === 'sidecar') ?? [];
  t.ok(sidecar.length > 0);
  for (const f of sidecar) t.match(at(deployment, f), /^name: sidecar/, `${f.policy}: missing in the sidecar, so the sidecar's entry`);
});

t.test('multi-document files and List items: each object is found in its own document or item', async (t) => {
  const text = `apiVersion: v1\nkind: Service\nmetadata: { name: s }\n---\n${deployment}---\napiVersion: v1\nkind: List\nitems:\n  - apiVersion: batch/v1\n    kind: CronJob\n    metadata: { name: nightly }\n    spec:\n      schedule: "@daily"\n      jobTemplate: { spec: { template: { spec: { containers: [{ name: c, image: "c:1" }] } } } }\n`;
  const { report } = audit('all.yaml', text);
  const [api, cron] = report.results;
  t.equal(api?.document, 2);
  t.match(at(text, find(api, 'run-as-non-root')), /^runAsNonRoot: false/);
  t.equal(cron?.kind, 'CronJob');
  const concurrency = find(cron, 'cronjob-concurrency');
  t.match(at(text, concurrency), /^spec:/, 'concurrencyPolicy is missing: its parent, the spec key');
  t.equal(concurrency?.line, text.split('\n').lastIndexOf('    spec:') + 1, "the List item's spec, not the Deployment's");
});

t.test('path segments: keys, indexes, and keys with dots are joined back when the map holds them', async (t) => {
  t.same(pathSegments('spec.template.spec.containers[0].image'), ['spec', 'template', 'spec', 'containers', 0, 'image']);
  t.same(pathSegments('metadata.annotations.practice-gate.io/exempt'), ['metadata', 'annotations', 'practice-gate', 'io/exempt']);
});

t.test('sources without findings keep the fast path and carry no positions', async (t) => {
  const good = deployment
    .replace('runAsNonRoot: false', 'runAsNonRoot: true')
    .replace(':latest', ':1.0')
    .replace(/ {8}- name: sidecar\n.*\n/, '')
    // A default-deny NetworkPolicy in the input covers it for network-policy-coverage.
    .concat('---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: { name: default-deny }\nspec: { podSelector: {} }\n');
  t.not(parseSourceFast({ source: 'good.yaml', text: good }), undefined, 'the fast parser reads it');
  const { report } = audit('good.yaml', good);
  t.same(
    report.results.map((r) => [r.findings.length, r.line]),
    [[0, undefined]],
  );
});

const helm = (docs: string[]) =>
  docs
    .map(
      (d) =>
        `---\n# Source: shop/templates/${d}.yaml\n${d === 'empty' ? '' : `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ${d} }\n`}`,
    )
    .join('');

t.test("helm's # Source: comments name the template of each document, split as the YAML parser splits them", async (t) => {
  const cases: Array<[string, string]> = [
    ['helm output', helm(['a', 'b', 'c'])],
    ['an empty template between two', helm(['a', 'empty', 'c'])],
    ['a leading comment and no first marker', `# Source: shop/templates/a.yaml\nkind: A\n---\n# Source: shop/templates/b.yaml\nkind: B\n`],
    [
      'content on a marker line, a block scalar with a comment-like line',
      `--- # Source: not/this.yaml\n# Source: shop/templates/a.yaml\nkind: A\ndata: |\n  # Source: inside/a/scalar.yaml\n---\nkind: B\n`,
    ],
    ['a trailing marker', `${helm(['a'])}---\n`],
  ];
  for (const [name, text] of cases) {
    const docs = parseAllDocuments(text);
    const names = helmTemplates(text, Array.isArray(docs) ? docs.length : 0);
    t.ok(names, `${name}: names found`);
    t.equal(names?.length, Array.isArray(docs) ? docs.length : -1, `${name}: one name per parsed document`);
  }
  t.same(helmTemplates(helm(['a', 'empty', 'c']), 3), ['shop/templates/a.yaml', 'shop/templates/empty.yaml', 'shop/templates/c.yaml']);
  t.same(
    helmTemplates(
      `--- # Source: not/this.yaml\n# Source: shop/templates/a.yaml\nkind: A\ndata: |\n  # Source: inside/a/scalar.yaml\n---\nkind: B\n`,
      2,
    ),
    ['shop/templates/a.yaml', undefined],
  );
  t.equal(
    helmTemplates(helm(['a', 'b']), 3),
    undefined,
    'a count that disagrees with the parser names nothing rather than the wrong document',
  );
  t.equal(helmTemplates('kind: A\n', 1), undefined, 'no # Source: comment at all');
});

t.test('findings and malformed documents on piped helm output name their template, on both parsing paths', async (t) => {
  const stream = `---\n# Source: shop/templates/svc.yaml\napiVersion: v1\nkind: Service\nmetadata: { name: s }\n---\n# Source: shop/templates/deploy.yaml\n${deployment}---\n# Source: shop/templates/broken.yaml\nkind: [unclosed\n`;
  const { report, problems } = audit('<stdin>', stream);
  t.match(report.results, [{ source: '<stdin>', document: 2, template: 'shop/templates/deploy.yaml' }]);
  t.match(problems, [{ source: '<stdin>', document: 3, template: 'shop/templates/broken.yaml' }]);
  const good = helm(['a', 'b']);
  t.same(
    parseSourceFast({ source: '<stdin>', text: good })?.objects.map((o) => o.template),
    ['shop/templates/a.yaml', 'shop/templates/b.yaml'],
    'fast path',
  );
  t.same(
    parseSourceWithYaml({ source: '<stdin>', text: good }).objects.map((o) => o.template),
    ['shop/templates/a.yaml', 'shop/templates/b.yaml'],
    'yaml path',
  );
});
