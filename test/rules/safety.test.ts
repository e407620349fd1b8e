// Hostile input cannot stall a review: deep objects, huge lists, backtracking regexes and broken
// expressions end in a verdict, a RuleError (answered per --on-error) or a config error, and the
// work done is bounded by the cost budget. Runs within tap's timeout only if that holds.
import t from 'tap';
import { RULE_COST_BUDGET, RuleError } from '../../src/rules/index.js';
import { deployment, findings, loadError, rule } from '../helpers/rules.js';

const judge = (expression: string, object: unknown, extra: Record<string, unknown> = {}) =>
  findings([rule({ validations: [{ expression }], ...extra })], object);

t.test('a regex that backtracks in JavaScript runs in linear time on RE2', async (t) => {
  const object = deployment([{ name: `${'a'.repeat(100_000)}!`, image: 'x' }]);
  // JavaScript's RegExp takes longer than the universe's age for this; RE2 answers at once.
  t.same(judge("!object.spec.template.spec.containers[0].name.matches('^(a+)+$')", object), []);
  t.same(judge("object.spec.template.spec.containers[0].name.find('(a|aa)+!$') != ''", object), []);
});

t.test('a pattern built at run time that RE2 refuses is a rule error, not a pass', async (t) => {
  const object = deployment([{ name: '(a)\\1', image: 'x' }]);
  t.throws(() => judge("'aa'.matches(object.spec.template.spec.containers[0].name)", object), RuleError);
});

t.test('nested loops over a huge list run over budget and stop there', async (t) => {
  const object = deployment(Array.from({ length: 5000 }, (_, i) => ({ name: `c${i}`, image: 'x' })));
  const nested = 'podSpec.containers.all(a, podSpec.containers.exists(b, a.name == b.name))';
  const err = t.throws(() => judge(nested, object)) as RuleError;
  t.ok(err instanceof RuleError && err.overBudget, `over the budget of ${RULE_COST_BUDGET}`);
  // Errors inside || are absorbed by CEL; the budget still holds.
  t.throws(() => judge(`true || ${nested}`.replace('true ||', 'object.kind == "x" ||'), object), /over its cost budget/);
  t.throws(() => judge(`podSpec.containers.map(a, podSpec.containers.map(b, b.name)).size() > 0`, object), /over its cost budget/);
  t.same(judge('podSpec.containers.all(a, a.image == "x")', object), [], 'one loop over 5,000 containers is within budget');
});

t.test('an object nested deeper than any Kubernetes object is a rule error', async (t) => {
  let deep: Record<string, unknown> = {};
  const object = deployment([]);
  (object.spec as Record<string, unknown>).extra = deep;
  for (let i = 0; i < 100_000; i++) {
    const next = {};
    deep.x = next;
    deep = next;
  }
  t.throws(() => judge('true', object), /nests deeper than 100 levels/);
});

t.test('huge maps and strings, odd numbers and prototype keys do not break a rule', async (t) => {
  const labels = Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, 'v']));
  t.same(judge("size(object.metadata.labels) == 50000 && object.metadata.labels.all(k, k.startsWith('k'))", deployment([], labels)), []);
  const odd = deployment([]);
  (odd.spec as Record<string, unknown>).replicas = 1e300;
  t.same(judge('object.spec.replicas > 1.0', odd), [], 'a number beyond int64 stays a double');
  const proto = JSON.parse('{"kind":"Deployment","metadata":{"name":"p","__proto__":{"admin":true}},"spec":{}}') as unknown;
  t.same(judge("!has(object.metadata.admin) && '__proto__' in object.metadata", proto), []);
});

/** A small deterministic generator: the same "random" expressions on every run. */
function* mutations(seed: number, count: number): Generator<string> {
  const pieces = [
    'object',
    '.',
    'metadata',
    'spec',
    '(',
    ')',
    '[',
    ']',
    "'x'",
    '1',
    '==',
    '&&',
    '||',
    '!',
    'all',
    'has',
    ',',
    'c',
    '?',
    ':',
    '.?',
    'quantity',
    '"',
    '\\',
    '{',
    '}',
    'matches',
    '+',
    '-',
    'in',
    ' ',
  ];
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31);
  for (let i = 0; i < count; i++) {
    let text = '';
    const length = 1 + (next() % 24);
    for (let j = 0; j < length; j++) text += pieces[next() % pieces.length];
    yield text;
  }
}

t.test('broken expressions are config errors or working rules, nothing else', async (t) => {
  let rejected = 0;
  let loaded = 0;
  for (const expression of mutations(7, 600)) {
    const message = loadError([rule({ validations: [{ expression }] })]);
    if (message === '') {
      loaded++;
      // One that loads must judge an object or fail as a rule, never crash the engine.
      try {
        judge(expression, deployment([{ name: 'a', image: 'b' }]));
      } catch (err) {
        if (!(err instanceof RuleError)) t.fail(`${expression}: ${String(err)}`);
      }
    } else {
      rejected++;
      if (!/rules\[0\]( \(my-rule\))?\.validations\[0\]\.expression/.test(message)) t.fail(`${expression}: ${message}`);
    }
  }
  t.ok(rejected > 300, `${rejected} rejected with the rule named`);
  t.ok(loaded > 0, `${loaded} loaded and judged`);
});

t.test('expressions too large or too deep for the parser limits are refused at load', async (t) => {
  t.match(loadError([rule({ validations: [{ expression: `${'('.repeat(500)}true${')'.repeat(500)}` }] })]), /maxDepth/);
  t.match(loadError([rule({ validations: [{ expression: Array.from({ length: 3000 }, () => 'true').join(' && ') }] })]), /maxAstNodes/);
});
