// Custom findings answer like built-in ones: denials, warnings, audit annotations, metrics, the
// existing-violation rule on UPDATE; a rule that fails or runs over budget answers per --on-error.
import t from 'tap';
import { buildApp } from '../../src/server/app.js';
import { GateMetrics } from '../../src/server/metrics.js';
import { GateState } from '../../src/server/state.js';
import { admissionReview, deployment } from '../helpers/server.js';
import { logCapture } from '../helpers/log-capture.js';
import { rule, rulesConfig } from '../helpers/rules.js';

const RULES = [
  rule({
    id: 'team-label',
    action: 'deny',
    validations: [
      {
        expression: "has(object.metadata.labels) && 'team' in object.metadata.labels",
        message: 'add a team label',
        fieldPath: 'metadata.labels',
      },
    ],
  }),
  rule({
    id: 'few-replicas',
    action: 'warn',
    validations: [
      { expression: 'object.spec.replicas <= 5', messageExpression: "'replicas ' + string(object.spec.replicas) + ' above 5'" },
    ],
  }),
  rule({
    id: 'no-scale-down',
    action: 'deny',
    validations: [
      { expression: "request.operation != 'UPDATE' || oldObject.spec.replicas <= object.spec.replicas", message: 'do not scale down here' },
    ],
  }),
  // Over budget on any object with enough containers: three nested loops over the same list.
  rule({
    id: 'greedy',
    action: 'audit',
    validations: [
      {
        expression:
          'podSpec.containers.all(a, podSpec.containers.all(b, podSpec.containers.all(c, a.name != "" || b.name != "" || c.name != "")))',
      },
    ],
  }),
];

function setup(onError: 'allow' | 'deny') {
  const { lines, logger } = logCapture();
  const state = new GateState(rulesConfig(RULES), { conditions: [] });
  const metrics = new GateMetrics({ processMetrics: false });
  const app = buildApp({ state, metrics, logger, onError });
  const post = async (body: unknown) =>
    (
      await app.inject({ method: 'POST', url: '/validate', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) })
    ).json() as { response: Record<string, unknown> };
  return { app, lines, post, metrics: async () => (await app.inject('/metrics')).body };
}

const named = (replicas: number, labels?: Record<string, string>, containers = 1) => {
  const object = deployment(
    'api',
    'shop',
    Array.from({ length: containers }, (_, i) => ({ name: `c${i}`, nonRoot: true })),
    labels ? { labels } : {},
  );
  (object.spec as Record<string, unknown>).replicas = replicas;
  return object;
};

t.test('deny, warn and audit findings of custom rules reach the answer, the annotations and the metrics', async (t) => {
  const { app, post, metrics } = setup('allow');
  t.teardown(() => app.close());
  const { response } = await post(admissionReview(named(9)));
  t.equal(response.allowed, false);
  t.match((response.status as { message: string }).message, /\[team-label\] add a team label/);
  t.match(response.warnings, [/\[few-replicas\] replicas 9 above 5/]);
  t.match(JSON.stringify(response.auditAnnotations), /team-label/);
  t.match(await metrics(), 'practice_gate_findings_total{policy="team-label",action="deny"} 1');
  t.same((await post(admissionReview(named(2, { team: 'x' })))).response, { uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: true });
});

t.test('rules see request and oldObject; an UPDATE keeping an old finding is only warned about', async (t) => {
  const { app, post } = setup('allow');
  t.teardown(() => app.close());
  const update = (before: ReturnType<typeof named>, after: ReturnType<typeof named>) => {
    const review = admissionReview(after, { operation: 'UPDATE' });
    (review.request as Record<string, unknown>).oldObject = before;
    return post(review);
  };
  const down = await update(named(4, { team: 'x' }), named(2, { team: 'x' }));
  t.equal(down.response.allowed, false, 'scaling down is refused by the rule reading oldObject');
  t.match((down.response.status as { message: string }).message, /do not scale down here/);
  const existing = await update(named(2), named(3));
  t.equal(existing.response.allowed, true, 'the missing team label was already there: not refused on UPDATE');
  t.match(existing.response.warnings, [/team-label/]);
});

for (const onError of ['allow', 'deny'] as const) {
  t.test(`a rule over its cost budget answers per --on-error ${onError}, logged and counted with the rule id`, async (t) => {
    const { app, post, lines, metrics } = setup(onError);
    t.teardown(() => app.close());
    const { response } = await post(admissionReview(named(2, { team: 'x' }, 150)));
    t.equal(response.allowed, onError === 'allow');
    t.match(
      lines.find((l) => l.msg === 'judging failed'),
      { rule: 'greedy', err: { message: /custom rule greedy .* over its cost budget/ } },
    );
    t.match(await metrics(), 'practice_gate_rule_errors_total{rule="greedy",reason="over_budget"} 1');
  });
}
