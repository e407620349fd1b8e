import t from 'tap';
import { admissionScopeSource, builtInScope, scopeOfWebhookConfiguration } from '../../src/cluster/scan/webhook-scope.js';
import type { KubeObject } from '../../src/engine/index.js';
import { captureLogger, httpError, WARN } from '../helpers/cluster.js';

// The selectors the Helm chart renders: release namespace, kube-system and a values list
// excluded by name, and the opt-out label.
const chartConfig = {
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'ValidatingWebhookConfiguration',
  metadata: { name: 'pg-practice-gate' },
  webhooks: [
    {
      name: 'validate.practice-gate.io',
      namespaceSelector: {
        matchExpressions: [
          { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['pg-system', 'kube-system', 'legacy'] },
          { key: 'practice-gate.io/ignore', operator: 'NotIn', values: ['true'] },
        ],
      },
      objectSelector: { matchExpressions: [{ key: 'practice-gate.io/ignore', operator: 'NotIn', values: ['true'] }] },
    },
  ],
};
const object = (labels: Record<string, string> = {}): KubeObject => ({
  kind: 'Deployment',
  apiVersion: 'apps/v1',
  metadata: { name: 'api', namespace: 'shop', labels },
});

t.test("the scope of the chart's webhook configuration: what the API server would send", async (t) => {
  const scope = scopeOfWebhookConfiguration('pg-practice-gate', chartConfig);
  if (!scope) throw new Error('no scope');
  t.equal(scope.source, 'ValidatingWebhookConfiguration pg-practice-gate');
  t.ok(scope.namespace('shop', {}), 'an ordinary namespace');
  t.notOk(scope.namespace('kube-system', {}), 'kube-system, by its name label even when the listed object lacks it');
  t.notOk(scope.namespace('pg-system', { 'kubernetes.io/metadata.name': 'pg-system' }), 'the release namespace');
  t.notOk(scope.namespace('legacy', {}), 'a namespace from the values list');
  t.notOk(scope.namespace('batch', { 'practice-gate.io/ignore': 'true' }), 'a namespace that opted out by label');
  t.ok(scope.namespace('batch', { 'practice-gate.io/ignore': 'false' }));
  t.ok(scope.object(object()), 'an object without labels');
  t.notOk(scope.object(object({ 'practice-gate.io/ignore': 'true' })), 'an object the objectSelector leaves out');
});

t.test('absent selectors mean everything; several webhooks: any one that would be called', async (t) => {
  const open = scopeOfWebhookConfiguration('x', { webhooks: [{ name: 'a' }] });
  t.ok(open?.namespace('kube-system', {}));
  t.ok(open?.object(object({ any: 'thing' })));
  const two = scopeOfWebhookConfiguration('x', {
    webhooks: [
      { name: 'a', namespaceSelector: { matchLabels: { team: 'a' } } },
      { name: 'b', namespaceSelector: { matchLabels: { team: 'b' } } },
    ],
  });
  t.ok(two?.namespace('n1', { team: 'b' }));
  t.notOk(two?.namespace('n2', { team: 'c' }));
  t.equal(scopeOfWebhookConfiguration('x', { webhooks: [] }), undefined, 'no webhooks: nothing to mirror');
  t.equal(scopeOfWebhookConfiguration('x', 'garbage'), undefined);
});

t.test("without the configuration: everything but kube-system and practice-gate's own namespace", async (t) => {
  const scope = builtInScope('pg-system');
  t.notOk(scope.namespace('kube-system', {}));
  t.notOk(scope.namespace('pg-system', {}));
  t.ok(scope.namespace('shop', {}));
  t.ok(scope.object(object({ 'practice-gate.io/ignore': 'true' })));
});

t.test('the scope is read for each scan; a missing or forbidden configuration falls back, and the log says so once', async (t) => {
  const { logger, lines } = captureLogger();
  let answer: () => Promise<unknown> = async () => chartConfig;
  const next = admissionScopeSource({ read: () => answer(), name: 'pg-practice-gate', ownNamespace: 'pg-system', logger });

  t.equal((await next()).source, 'ValidatingWebhookConfiguration pg-practice-gate');
  t.equal((await next()).source, 'ValidatingWebhookConfiguration pg-practice-gate');
  answer = async () => {
    throw httpError(404);
  };
  const missing = await next();
  t.match(missing.source, /^built-in exclusions \(kube-system, pg-system\)$/);
  answer = async () => {
    throw httpError(403);
  };
  await next();
  answer = async () => undefined;
  await next();
  answer = async () => chartConfig;
  await next();

  const scopeLines = lines.filter((l) => l.event === 'audit-scope');
  t.same(
    scopeLines.map((l) => [l.level, l.source, l.reason]),
    [
      [30, 'ValidatingWebhookConfiguration pg-practice-gate', undefined],
      [WARN, 'built-in exclusions (kube-system, pg-system)', 'not found'],
      [30, 'ValidatingWebhookConfiguration pg-practice-gate', undefined],
    ],
    'one line per change of source, a warning for the fallback',
  );
});
