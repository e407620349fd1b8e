// The fast path (js-yaml, src/audit/fast-yaml.ts) must give exactly what the `yaml` library
// gives with the reference's options (YAML 1.1 as kubectl reads it), or decline so that `yaml` reads the input: same objects, same key order, same
// document numbers, and every problem with the same text and position as before the fast
// path existed. Each test compares parseSource with parseSourceWithYaml, the reference.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { Test } from 'tap';
import { parseAllDocuments } from 'yaml';
import { KUBECTL_YAML, formatProblem, parseSource, parseSourceFast, parseSourceWithYaml } from '../../src/audit/index.js';
import type { ParsedSource } from '../../src/audit/index.js';
import { fastDocuments } from '../../src/audit/fast-yaml.js';

/** A serialization that tells apart what deep equality can miss: key order, -0, NaN, undefined. */
function canon(value: unknown): string {
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (value === undefined) return 'undefined';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canon).join(',')}]`;
  if (Object.getPrototypeOf(value) !== Object.prototype) return `<${Object.prototype.toString.call(value)}>`;
  return `{${Object.entries(value)
    .map(([k, v]) => `${JSON.stringify(k)}:${canon(v)}`)
    .join(',')}}`;
}

/** Same result as the reference, whichever path read it; returns which path that was. */
function sameAsReference(t: Test, name: string, text: string): 'fast' | 'fallback' {
  const input = { source: `${name}.yaml`, text };
  const reference: ParsedSource = parseSourceWithYaml(input);
  const fast = parseSourceFast(input);
  if (fast !== undefined) t.equal(canon(fast), canon(reference), `${name}: the fast path gives the reference's result`);
  t.equal(canon(parseSource(input)), canon(reference), `${name}: parseSource gives the reference's result`);
  return fast === undefined ? 'fallback' : 'fast';
}

const POD = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n';

// Inputs the fast path reads itself: it must agree with `yaml` on every value.
const FAST: Record<string, string> = {
  'one document': POD,
  'multi-document with empty documents': `---\n${POD}---\n# only a comment\n---\n${POD}---\n`,
  'leading comment and document end markers': `# header\n---\n${POD}...\n---\n${POD}... # end\n`,
  'separator with a comment': `--- # Source: chart/templates/pod.yaml\n${POD}`,
  'no final newline': POD.trimEnd(),
  'empty input': '',
  'comments only': '# nothing here\n',
  'YAML 1.1 booleans, as kubectl reads them': `${POD}data:\n  a: on\n  b: off\n  c: yes\n  d: no\n  e: y\n  f: n\n  g: True\n  h: FALSE\n  i: tRue\n  j: "yes"\n`,
  'timestamps stay strings': `${POD}data:\n  a: 2024-01-01\n  b: 2024-01-01T10:00:00Z\n  c: 12:30:45\n  d: 1:20\n`,
  numbers: `${POD}nums: [010, 0o10, 0x1F, 0X1F, 0b101, 1_000, +1, -0, 1., .5, 1e3, 1E-3, .inf, -.Inf, .NaN, nan, 0755, 08, 12345678901234567890, 1e400, ., e5, -.e1, 1_0.5]\n`,
  nulls: `${POD}n: [null, Null, NULL, ~, nUll, '']\nm:\n`,
  'numbers and booleans as keys': `${POD}data:\n  0x10: a\n  1e3: b\n  true: c\n  -0: d\n  010: e\n`,
  'inherited names as keys': `${POD}data:\n  __proto__: {polluted: true}\n  constructor: x\n  toString: y\n`,
  'block scalars': `${POD}data:\n  a: |\n    x\n     y\n\n    z\n  b: >\n    folded\n    text\n\n    para\n  c: |-\n    strip\n  d: |+\n    keep\n\n  e: x\n`,
  'quoted scalars and escapes': `${POD}data:\n  a: "t\\tn\\nx\\x41u\\u00e9 \\\\ \\" \\/ \\N \\_ \\L \\P \\0 \\e"\n  b: 'it''s'\n  c: "multi\n    line\n\n    para"\n  d: "trail \\\n    cont"\n`,
  'plain multi-line scalars and comments': `${POD}data:\n  a: plain\n    continued\n\n    para\n  b: x # comment\n  c: x#not-a-comment\n`,
  'flow collections': `${POD}data: {b: [1, 2, {c: d}], "e": f, g: }\nh: [a, b, ]\ni: [x: 1, y]\n`,
  JSON: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [{ kind: 'Pod', metadata: { name: 'p' } }] }, null, 2),
  'typed list':
    'apiVersion: apps/v1\nkind: DeploymentList\nitems:\n  - metadata: { name: a }\n  - apiVersion: apps/v1beta2\n    metadata: { name: b }\n',
  'compact sequences': `${POD}a:\n- b\n- c\nd:\n  - e: 1\n    f: 2\n  -   g: 3\n`,
};

// Inputs the fast path leaves to `yaml`: it differs there, or `yaml` reports a problem.
const FALLBACK: Record<string, string> = {
  'anchors and aliases': `${POD}a: &x {b: 1}\nc: *x\n`,
  'merge of an alias': `${POD}base: &b {x: 1}\nspec:\n  <<: *b\n  z: 2\n`,
  'merge of a mapping': `${POD}spec:\n  <<: {a: 1}\n  b: 2\n`,
  tags: `${POD}a: !!str 1\nb: !!binary aGk=\n`,
  'YAML 1.1 directive': `%YAML 1.1\n---\n${POD}a: yes\n`,
  'null key': `${POD}~: x\n`,
  'a sequence as a key': `${POD}[a, b]: c\n`,
  'a sequence as a key in a flow mapping': `${POD}a: {x: 1, [y, z]: 2}\n`,
  'a sequence as a key without a value': `${POD}b: {[c]}\n`,
  'a mapping as a key': `${POD}{d: e}: f\n`,
  'template braces': `${POD}g: {{ .Values.x }}\n`,
  'explicit key': `${POD}? a\n: b\n`,
  'duplicate keys': `${POD}a: 1\na: 2\n`,
  'keys that are only duplicates for js-yaml': `${POD}1: a\n"1": b\ntrue: c\n"true": d\n`,
  tabs: `{\n\t"kind": "Pod"\n}\n`,
  'Windows line ends': POD.replace(/\n/g, '\r\n'),
  'byte-order mark': `\uFEFF${POD}`,
  'comment touching a quoted scalar': `${POD}a: "x"#c\n`,
  'empty sequence entry before a less indented one': `${POD}a:\n  -\n      - \n  - x\n`,
  'block scalar with an indentation indicator': `${POD}a: >1\n    \n    x\n`,
  'block scalar with leading blank lines': `${POD}a: >+\n     \n # comment\n`,
  'text right after a document marker': `${POD}---kind: Job\n`,
  'implicit key over 1024 characters': `${POD}${'k'.repeat(1100)}: v\n`,
  'bad indentation': `${POD}---\nkind: Deployment\nmetadata:\n  name: x\n   labels: y\n`,
  'not an object': `${POD}---\n- a\n`,
  'no kind': 'a: 1\n',
  'bad list items': 'apiVersion: v1\nkind: List\nitems:\n  - kind: Pod\n  - 42\n  - metadata: { name: c }\n',
  'unterminated quote': `${POD}a: "x\n`,
  'invalid escape': `${POD}a: "\\UFFFFFFFF"\n`,
};

t.test('inputs the fast path reads give the reference result', async (t) => {
  for (const [name, text] of Object.entries(FAST)) t.equal(sameAsReference(t, name, text), 'fast', `${name}: read by the fast path`);
});

t.test('inputs the fast path declines give the reference result, problems included', async (t) => {
  for (const [name, text] of Object.entries(FALLBACK)) t.equal(sameAsReference(t, name, text), 'fallback', `${name}: left to yaml`);
});

t.test('YAML 1.1 as kubectl reads it (go-yaml v2): booleans, octal, merge keys; timestamps stay strings', async (t) => {
  const values = fastDocuments(FAST.numbers!)?.[0] as { nums: unknown[] };
  t.same(
    values.nums.map(canon),
    [
      8,
      '"0o10"',
      31,
      '"0X1F"',
      5,
      1000,
      1,
      '-0',
      1,
      0.5,
      1000,
      0.001,
      'Infinity',
      '-Infinity',
      'NaN',
      '"nan"',
      493,
      8,
      12345678901234567000,
      'Infinity',
      '"."',
      '"e5"',
      '"-.e1"',
      10.5,
    ].map(String),
  );
  const data = (fastDocuments(FAST['YAML 1.1 booleans, as kubectl reads them']!)?.[0] as { data: Record<string, unknown> } | undefined)
    ?.data;
  t.same(data, { a: true, b: false, c: true, d: false, e: true, f: false, g: true, h: false, i: 'tRue', j: 'yes' });
  const times = (fastDocuments(FAST['timestamps stay strings']!)?.[0] as { data: Record<string, unknown> } | undefined)?.data;
  t.same(times, { a: '2024-01-01', b: '2024-01-01T10:00:00Z', c: '12:30:45', d: '1:20' }, 'no dates, no sexagesimal numbers');
  const merged = parseSource({ source: 'm.yaml', text: FALLBACK['merge of a mapping']! }).objects[0]?.object as { spec: unknown };
  t.same(merged.spec, { a: 1, b: 2 }, 'the reference merges `<<` keys');
  const aliased = parseSource({ source: 'm.yaml', text: FALLBACK['merge of an alias']! }).objects[0]?.object as { spec: unknown };
  t.same(aliased.spec, { x: 1, z: 2 });
});

t.test('document numbers: empty documents between separators still count', async (t) => {
  const { objects } = parseSource({ source: 'm.yaml', text: FAST['multi-document with empty documents']! });
  t.same(
    objects.map((o) => o.document),
    [1, 3],
  );
  const single = parseSource({ source: 's.yaml', text: `---\n${POD}` });
  t.same(
    single.objects.map((o) => o.document),
    [undefined],
    'one document: no number, as before',
  );
});

t.test('problems keep their exact text and position', async (t) => {
  const problems = (name: string) => parseSource({ source: 'x.yaml', text: FALLBACK[name]! }).problems.map(formatProblem);
  t.same(problems('duplicate keys'), ['x.yaml: document 1 (line 6): Map keys must be unique (column 1)\n    a: 1\n    a: 2\n    ^']);
  t.same(problems('bad indentation'), [
    'x.yaml: document 2 (line 8): Nested mappings are not allowed in compact mappings (column 9)\n    name: x\n            ^',
  ]);
  t.same(problems('bad list items'), [
    'x.yaml: document 1 (line 5): List items[1] is not a Kubernetes object',
    'x.yaml: document 1 (line 6): List items[2] has no kind',
  ]);
  t.same(problems('not an object'), ['x.yaml: document 2 (line 6): not a Kubernetes object (found a list)']);
});

t.test('an alias bomb is still refused by yaml', async (t) => {
  const names = 'abcdefghi';
  const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < names.length; i++)
    lines.push(
      `${names[i]}: &${names[i]} [${Array(10)
        .fill(`*${names[i - 1]}`)
        .join(', ')}]`,
    );
  const text = `kind: ConfigMap\n${lines.join('\n')}\n`;
  t.equal(fastDocuments(text), undefined);
  const { objects, problems } = parseSource({ source: 'bomb.yaml', text });
  t.same(objects, []);
  t.match(problems[0]?.message, /alias/i);
});

t.test('the repository manifests: same results', async (t) => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (/\.ya?ml$/.test(e.name)) files.push(join(dir, e.name));
    }
  };
  walk(join(root, 'examples'));
  walk(join(root, 'policies'));
  t.ok(files.length > 10);
  const fast = files.filter((f) => sameAsReference(t, f, readFileSync(f, 'utf8')) === 'fast');
  t.ok(fast.length > files.length / 2, 'most of them are read by the fast path');
});

t.test('generated inputs: the fast path agrees with yaml or declines', async (t) => {
  // A seeded generator of small YAML streams full of the constructs where parsers differ:
  // odd scalars, quoting, block scalars, comments, flow collections, nesting, separators.
  let seed = 7;
  const rnd = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const WORDS = [
    'true',
    'no',
    'on',
    'null',
    '~',
    '0',
    '-0',
    '010',
    '0o17',
    '0x1f',
    '1.',
    '.5',
    '1e5',
    '.inf',
    '.NaN',
    '2024-01-01',
    '1:30',
    'a b',
    'x: y',
    'x:y',
    'a #b',
    'a# b',
    '- x',
    '-x',
    "'",
    '"',
    '',
    'k',
    '12345678901234567890',
    'é',
    '💥',
  ];
  const word = () =>
    rnd() < 0.85
      ? pick(WORDS)
      : Array.from({ length: Math.floor(rnd() * 6) }, () => pick('ab1 .-_:#,/"\'\\[]{}|>?@%~\n'.split(''))).join('');
  const scalar = (indent: number, flow: boolean): string => {
    const w = word();
    const r = rnd();
    if (r < 0.45) return w;
    if (r < 0.65) return `"${w.replace(/["\\]/g, '\\$&').replace(/\n/g, pick(['\\n', '\n\n ', '\n  ']))}"`;
    if (r < 0.8 || flow) return `'${w.replace(/'/g, "''").replace(/\n/g, '\n ')}'`;
    const pad = ' '.repeat(indent + 2);
    const body = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () =>
      rnd() < 0.2 ? ' '.repeat(Math.floor(rnd() * (indent + 4))) : pad + word().replace(/\n/g, ''),
    );
    return `${pick(['|', '>', '|-', '>+', '|2'])}\n${body.join('\n')}`;
  };
  const flowNode = (depth: number): string => {
    if (depth > 2 || rnd() < 0.4) return scalar(0, true);
    const n = Math.floor(rnd() * 4);
    if (rnd() < 0.5) return `[${Array.from({ length: n }, () => flowNode(depth + 1)).join(pick([', ', ',', ',\n  ']))}]`;
    return `{${Array.from({ length: n }, () => `${word().replace(/\n/g, '')}${pick([': ', ':'])}${flowNode(depth + 1)}`).join(', ')}}`;
  };
  const block = (indent: number, depth: number): string => {
    if (depth > 3 || rnd() < 0.2) return ` ${rnd() < 0.3 ? flowNode(0) : scalar(indent, false)}`;
    if (rnd() < 0.4) {
      const at = ' '.repeat(rnd() < 0.5 ? indent : indent + 2);
      return Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => `\n${at}-${block(at.length + 2, depth + 1)}`).join('');
    }
    return Array.from(
      { length: 1 + Math.floor(rnd() * 4) },
      () =>
        `\n${' '.repeat(indent)}${word().replace(/\n/g, '')}:${block(indent + 2, depth + 1)}${rnd() < 0.1 ? pick([' # c', '# c']) : ''}`,
    ).join('');
  };
  const doc = () => (rnd() < 0.6 ? `kind: Pod${block(0, 0)}\n` : `${block(0, 0).replace(/^\n/, '')}\n`);
  let fast = 0;
  let mismatches = 0;
  for (let i = 0; i < 8000; i++) {
    const text = Array.from({ length: rnd() < 0.7 ? 1 : 2 + Math.floor(rnd() * 2) }, doc).join(pick(['---\n', '--- # c\n', '...\n---\n']));
    const input = { source: 'g.yaml', text };
    const got = parseSourceFast(input);
    if (got !== undefined && canon(got) !== canon(parseSourceWithYaml(input)))
      t.fail(`parseSourceFast differs from yaml on ${JSON.stringify(text)}`);
    // Stricter, document by document: no error in yaml, the same values, the same documents.
    const documents = fastDocuments(text);
    if (documents === undefined) continue;
    fast++;
    const docs = parseAllDocuments(text, KUBECTL_YAML);
    const reference = docs.some((d) => d.errors.length > 0) ? 'an error' : docs.map((d) => d.toJS({ maxAliasCount: 100 }) as unknown);
    // A stream of comments alone: no document for yaml, one empty one for js-yaml; nothing either way.
    const same = canon(documents) === canon(reference) || (canon(reference) === '[]' && canon(documents) === '[null]');
    if (!same) {
      mismatches++;
      if (mismatches <= 5) t.fail(`fastDocuments differs from yaml on ${JSON.stringify(text)}`);
    }
  }
  t.equal(mismatches, 0);
  t.ok(fast > 800, `the fast path read ${fast} of 8000 generated inputs`);
});
