import t from 'tap';
import { selectorMatches } from '../../src/engine/index.js';
import type { LabelSelector } from '../../src/engine/index.js';

const web = { app: 'web', tier: 'front', env: 'prod' };
const matches = (selector: unknown, labels: Record<string, string> = web) => selectorMatches(selector as LabelSelector, labels);

t.test('an empty selector selects everything; a missing one nothing', async (t) => {
  t.equal(matches({}), true);
  t.equal(matches({}, {}), true);
  t.equal(matches({ matchLabels: {}, matchExpressions: [] }), true);
  t.equal(matches(undefined), false);
  t.equal(matches(null), false);
});

t.test('matchLabels: every pair must be present with that value', async (t) => {
  t.equal(matches({ matchLabels: { app: 'web' } }), true);
  t.equal(matches({ matchLabels: { app: 'web', tier: 'front' } }), true);
  t.equal(matches({ matchLabels: { app: 'web', tier: 'back' } }), false);
  t.equal(matches({ matchLabels: { missing: 'x' } }), false);
  t.equal(matches({ matchLabels: { constructor: 'x' } }), false, 'inherited properties are not labels');
});

t.test('matchExpressions operators', async (t) => {
  t.equal(matches({ matchExpressions: [{ key: 'app', operator: 'In', values: ['api', 'web'] }] }), true);
  t.equal(matches({ matchExpressions: [{ key: 'app', operator: 'In', values: ['api'] }] }), false);
  t.equal(matches({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }), false, 'In needs the key');
  t.equal(matches({ matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['api'] }] }), true);
  t.equal(matches({ matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] }), false);
  t.equal(matches({ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }), true, 'NotIn holds for a missing key');
  t.equal(matches({ matchExpressions: [{ key: 'env', operator: 'Exists' }] }), true);
  t.equal(matches({ matchExpressions: [{ key: 'zone', operator: 'Exists' }] }), false);
  t.equal(matches({ matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }), true);
  t.equal(matches({ matchExpressions: [{ key: 'env', operator: 'DoesNotExist' }] }), false);
  t.equal(matches({ matchExpressions: [{ key: 'toString', operator: 'Exists' }] }), false, 'inherited properties are not labels');
});

t.test('matchLabels and every expression must all hold', async (t) => {
  const selector = {
    matchLabels: { app: 'web' },
    matchExpressions: [
      { key: 'tier', operator: 'In', values: ['front'] },
      { key: 'canary', operator: 'DoesNotExist' },
    ],
  };
  t.equal(matches(selector), true);
  t.equal(matches(selector, { ...web, canary: 'yes' }), false);
  t.equal(matches(selector, { ...web, app: 'api' }), false);
});

t.test('malformed selectors select nothing and never throw', async (t) => {
  for (const selector of [
    5,
    'app=web',
    [],
    { matchLabels: 'app=web' },
    { matchLabels: [] },
    { matchExpressions: {} },
    { matchExpressions: [null] },
    { matchExpressions: [{ operator: 'Exists' }] },
    { matchExpressions: [{ key: 'app', operator: 'Equals', values: ['web'] }] },
    { matchExpressions: [{ key: 'app', operator: 'In', values: 'web' }] },
  ]) {
    t.equal(matches(selector), false, JSON.stringify(selector));
  }
});
