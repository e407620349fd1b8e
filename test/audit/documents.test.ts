import t from 'tap';
import { formatProblem, parseSource } from '../../src/audit/index.js';
import { nameOf } from '../../src/engine/index.js';

t.test('documents are numbered only when a source holds several; empty ones are skipped silently', async (t) => {
  const one = parseSource({ source: 'one.yaml', text: 'kind: Pod\nmetadata: { name: a }\n' });
  t.same(one.objects, [{ object: { kind: 'Pod', metadata: { name: 'a' } }, source: 'one.yaml' }]);
  const many = parseSource({ source: 'many.yaml', text: '---\nkind: Pod\n---\n# only a comment\n---\nkind: Job\n' });
  t.same(
    many.objects.map((o) => [o.object.kind, o.document]),
    [
      ['Pod', 1],
      ['Job', 3],
    ],
  );
  t.same(many.problems, []);
});

t.test('JSON input, including what kubectl prints', async (t) => {
  const text = JSON.stringify(
    { apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } }] },
    null,
    '\t',
  );
  const parsed = parseSource({ source: 'pods.json', text });
  t.same(parsed.problems, []);
  t.same(
    parsed.objects.map((o) => nameOf(o.object)),
    ['p'],
  );
});

t.test('typed lists give their items the kind and apiVersion the API left off', async (t) => {
  const text =
    'apiVersion: apps/v1\nkind: DeploymentList\nitems:\n  - metadata: { name: a }\n  - apiVersion: apps/v1beta2\n    metadata: { name: b }\n';
  const { objects } = parseSource({ source: 'l.yaml', text });
  t.same(
    objects.map((o) => [o.object.apiVersion, o.object.kind, nameOf(o.object)]),
    [
      ['apps/v1', 'Deployment', 'a'],
      ['apps/v1beta2', 'Deployment', 'b'],
    ],
  );
});

t.test('a bad List item points at its own line; the good items are kept', async (t) => {
  const text = 'apiVersion: v1\nkind: List\nitems:\n  - kind: Pod\n    metadata: { name: a }\n  - 42\n  - metadata: { name: c }\n';
  const { objects, problems } = parseSource({ source: 'l.yaml', text });
  t.same(
    objects.map((o) => nameOf(o.object)),
    ['a'],
  );
  t.same(problems.map(formatProblem), [
    'l.yaml: document 1 (line 6): List items[1] is not a Kubernetes object',
    'l.yaml: document 1 (line 7): List items[2] has no kind',
  ]);
});

t.test('a YAML error: one problem per spot, with the line, column and the offending text', async (t) => {
  const { objects, problems } = parseSource({
    source: 'd.yaml',
    text: 'kind: Pod\n---\nkind: Deployment\nmetadata:\n  name: x\n   labels: y\n',
  });
  t.same(
    objects.map((o) => o.object.kind),
    ['Pod'],
  );
  t.equal(problems.length, 1, 'the parser reports this mistake twice at one spot; the user sees it once');
  t.match(problems[0], { source: 'd.yaml', document: 2, line: 5 });
  t.match(problems[0]?.message, /^Nested mappings are not allowed in compact mappings \(column 9\)\n {4}name: x\n {4} +\^$/);
});

t.test('an alias bomb is a problem, not a hang', async (t) => {
  // Each level repeats the one before ten times: a billion x's from a few hundred bytes.
  const names = 'abcdefghi';
  const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < names.length; i++)
    lines.push(
      `${names[i]}: &${names[i]} [${Array(10)
        .fill(`*${names[i - 1]}`)
        .join(', ')}]`,
    );
  const { objects, problems } = parseSource({ source: 'bomb.yaml', text: `kind: ConfigMap\n${lines.join('\n')}\n` });
  t.same(objects, []);
  t.equal(problems.length, 1);
  t.match(problems[0]?.message, /alias/i);
});

t.test('formatProblem states only the parts that are known', async (t) => {
  t.equal(formatProblem({ source: 'x', message: 'cannot read: ENOENT' }), 'x: cannot read: ENOENT');
  t.equal(formatProblem({ source: 'x', document: 2, message: 'm' }), 'x: document 2: m');
  t.equal(formatProblem({ source: 'x', document: 2, line: 14, message: 'm' }), 'x: document 2 (line 14): m');
});
