// Custom rules judge objects as ValidatingAdmissionPolicy does: the same variables, ints as
// ints, the Kubernetes extensions, and findings that flow like the built-in policies' findings.
import t from 'tap';
import { ContextIndex, changesJudgedFields, evaluate, metaOf } from '../../src/engine/index.js';
import type { KubeObject } from '../../src/engine/index.js';
import { RuleError } from '../../src/rules/index.js';
import { deployment, findings, rule, rulesConfig } from '../helpers/rules.js';

const check = (expression: string, object: unknown = deployment([{ name: 'app', image: 'a:1' }])) =>
  findings([rule({ validations: [{ expression, message: 'no' }] })], object).length === 0;

t.test('a failing validation is a finding with its message, action and the rule fix', async (t) => {
  const [finding, ...rest] = findings(
    [
      rule({
        action: 'warn',
        validations: [{ expression: "'team' in object.metadata.labels", message: 'add a team label', fieldPath: 'metadata.labels' }],
      }),
    ],
    deployment([]),
  );
  t.same(rest, []);
  t.match(finding, {
    policy: 'my-rule',
    action: 'warn',
    path: 'metadata.labels',
    message: 'add a team label',
    remediation: 'metadata: {}',
  });
  t.same(findings([rule({ validations: [{ expression: "'team' in object.metadata.labels" }] })], deployment([], { team: 'x' })), []);
});

t.test('messageExpression builds the message from the object; without one the expression is named', async (t) => {
  const [withExpr] = findings(
    [rule({ validations: [{ expression: 'false', messageExpression: "'bad ' + object.metadata.name" }] })],
    deployment([]),
  );
  t.equal(withExpr?.message, 'bad api');
  const [plain] = findings([rule({ validations: [{ expression: 'object.spec.replicas < 2' }] })], deployment([]));
  t.equal(plain?.message, 'failed expression: object.spec.replicas < 2');
});

t.test('forEach: containers judges each container, named, at its own field path', async (t) => {
  const object = deployment([
    { name: 'ok', image: 'r/ok:1' },
    { name: 'bad', image: 'nginx' },
  ]);
  (object.spec as { template: { spec: Record<string, unknown> } }).template.spec.initContainers = [{ name: 'init', image: 'busybox' }];
  const found = findings(
    [
      rule({
        forEach: 'containers',
        validations: [
          {
            expression: "container.image.contains(':')",
            messageExpression: "'container ' + container.name + ' has no tag'",
            fieldPath: 'image',
          },
        ],
      }),
    ],
    object,
  );
  t.same(
    found.map((f) => [f.container, f.path, f.message]),
    [
      ['bad', 'spec.template.spec.containers[1].image', 'container bad has no tag'],
      ['init', 'spec.template.spec.initContainers[0].image', 'container init has no tag'],
    ],
  );
});

t.test('podSpec is the pod spec wherever the kind keeps it', async (t) => {
  const cron = {
    kind: 'CronJob',
    metadata: { name: 'c' },
    spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'x', image: 'y' }] } } } } },
  };
  const found = findings([rule({ kinds: ['CronJob'], validations: [{ expression: 'podSpec.containers.size() == 2' }] })], cron);
  t.equal(found.length, 1);
  t.same(findings([rule({ kinds: ['CronJob'], validations: [{ expression: "podSpec.containers[0].image == 'y'" }] })], cron), []);
});

t.test('JSON integers are CEL ints, other numbers doubles; keys like __proto__ are data', async (t) => {
  t.ok(check('object.spec.replicas == 3 && object.spec.replicas + 1 == 4 && type(object.spec.replicas) == int'));
  const object = deployment([]);
  object.metadata = JSON.parse('{"name":"x","labels":{"__proto__":"p","constructor":"c"}}') as Record<string, unknown>;
  t.ok(
    check(
      "object.metadata.labels['__proto__'] == 'p' && object.metadata.labels.constructor == 'c' && size(object.metadata.labels) == 2",
      object,
    ),
  );
});

t.test('an object read as a CEL map, converted as it is read, has the keys, order, size and equality of the whole', async (t) => {
  const object = deployment([{ name: 'app', image: 'a:1', ports: [{ containerPort: 80 }] }], { a: '1', b: '2' });
  const labels = 'object.metadata.labels';
  t.ok(check(`size(${labels}) == 2 && 'a' in ${labels} && !('z' in ${labels}) && has(${labels}.b)`, object));
  t.ok(
    check(`${labels}.map(k, k) == ['a', 'b'] && ${labels}.all(k, ${labels}[k] != '') && ${labels}.exists(k, ${labels}[k] == '2')`, object),
  );
  t.ok(
    check(`${labels} == {'b': '2', 'a': '1'} && ${labels} != {'a': '1'} && ${labels} != {'a': '1', 'b': '3'}`, object),
    'equality ignores order',
  );
  const first = 'object.spec.template.spec.containers[0]';
  t.ok(
    check(`${first} == {'name': 'app', 'image': 'a:1', 'ports': [{'containerPort': 80}]} && ${first}.ports[0].containerPort == 80`, object),
  );
  t.ok(check(`object.spec == object.spec && object.metadata != object.spec && type(${labels}) == map`, object));
});

t.test('macros, has(), optional types and the Kubernetes strings and lists extensions', async (t) => {
  t.ok(
    check("object.spec.template.spec.containers.all(c, c.name == 'app') && object.spec.template.spec.containers.exists(c, has(c.image))"),
  );
  t.ok(check("object.spec.template.spec.containers.map(c, c.name).filter(n, n.startsWith('a')) == ['app']"));
  t.ok(check("object.?metadata.?labels.?team.orValue('none') == 'none'"));
  t.ok(
    check("'a,b'.split(',').join('-') == 'a-b' && 'abc'.charAt(1) == 'b' && 'aXa'.replace('a', 'b') == 'bXb' && 'ab'.reverse() == 'ba'"),
  );
  t.ok(
    check(
      '[3, 1, 2].min() == 1 && [1, 2].sum() == 3 && [1, 2].isSorted() && ![2, 1].isSorted() && [1, 2, 3].indexOf(2) == 1 && [1, 2, 3].slice(1, 2) == [2]',
    ),
  );
  t.ok(check("'a1b22'.find('[0-9]+') == '1' && 'a1b22'.findAll('[0-9]+') == ['1', '22'] && 'abc'.matches('^a') && !'abc'.matches('^b')"));
});

t.test('quantity() compares resource amounts exactly, in every unit', async (t) => {
  t.ok(check("quantity('1Gi').isGreaterThan(quantity('1000M')) && quantity('500m').isLessThan(quantity('1'))"));
  t.ok(check("quantity('1.5').compareTo(quantity('1500m')) == 0 && quantity('0.1').add(quantity('0.2')).compareTo(quantity('300m')) == 0"));
  t.ok(check("quantity('2Ki').asInteger() == 2048 && quantity('1e3').asInteger() == 1000 && quantity('1.5').asApproximateFloat() == 1.5"));
  t.ok(
    check(
      "isQuantity('100Mi') && !isQuantity('100MB') && !isQuantity('') && quantity('-1').sign() == -1 && quantity('3').sub(1).asInteger() == 2",
    ),
  );
  t.throws(() => check("quantity('lots').isInteger()"), RuleError, 'an invalid quantity is an error, not a pass');
});

t.test('namespaceObject carries the namespace labels the context knows; null otherwise', async (t) => {
  const rules = [rule({ validations: [{ expression: "namespaceObject != null && namespaceObject.metadata.labels['tier'] == 'prod'" }] })];
  const context = ContextIndex.fromObjects([{ kind: 'Namespace', metadata: { name: 'shop', labels: { tier: 'prod' } } } as KubeObject]);
  t.same(findings(rules, deployment([]), {}, context), []);
  t.equal(findings(rules, deployment([])).length, 1, 'no namespace known: the rule sees null');
});

t.test('the variables rules share are rebuilt when the namespace, its labels or the context change', async (t) => {
  const rules = [rule({ validations: [{ expression: "namespaceObject != null && namespaceObject.metadata.labels['tier'] == 'prod'" }] })];
  const namespace = (tier: string) =>
    ContextIndex.fromObjects([{ kind: 'Namespace', metadata: { name: 'shop', labels: { tier } } } as KubeObject]);
  const object = deployment([]);
  t.same(findings(rules, object, {}, namespace('prod')), []);
  t.equal(findings(rules, object, {}, namespace('dev')).length, 1, 'the same object in a context whose labels changed');
  t.equal(findings(rules, object).length, 1, 'the same object with no context');
  t.same(findings(rules, object, {}, namespace('prod')), [], 'and back');
});

t.test('oldObject and request come from the webhook; offline they are null', async (t) => {
  const rules = [
    rule({
      validations: [{ expression: "request == null || request.operation != 'UPDATE' || oldObject.spec.replicas <= object.spec.replicas" }],
    }),
  ];
  const old = deployment([]);
  (old.spec as Record<string, unknown>).replicas = 5;
  t.equal(
    findings(rules, deployment([]), { admission: { oldObject: old, request: { operation: 'UPDATE' } } }).length,
    1,
    'scaling down from 5 to 3',
  );
  t.same(findings(rules, deployment([])), [], 'offline');
});

t.test('a rule that throws is an error naming the rule, never a pass', async (t) => {
  const rules = [rule({ validations: [{ expression: 'object.spec.nothing.deeper == 1' }] })];
  t.throws(() => findings(rules, deployment([])), /custom rule my-rule \(validations\[0\]\) failed/);
  t.throws(() => findings([rule({ validations: [{ expression: 'object.spec.replicas' }] })], deployment([])), /gave bigint, not a bool/);
});

t.test('a rule reads the whole object unless it declares what it reads', async (t) => {
  const before = deployment([], { team: 'a' }) as KubeObject;
  const relabelled = { ...before, metadata: { ...metaOf(before), annotations: { note: 'x' } } } as KubeObject;
  t.ok(changesJudgedFields(before, relabelled, 'Deployment', rulesConfig([rule({})])), 'undeclared: an annotation may matter');
  t.notOk(
    changesJudgedFields(before, relabelled, 'Deployment', rulesConfig([rule({ reads: ['metadata.labels'] })])),
    'declared: the annotation is no input',
  );
  t.ok(
    changesJudgedFields(
      before,
      { ...before, metadata: { ...metaOf(before), labels: { team: 'b' } } } as KubeObject,
      'Deployment',
      rulesConfig([rule({ reads: ['metadata.labels'] })]),
    ),
  );
});

t.test('evaluate() judges custom rules only on their kinds', async (t) => {
  const config = rulesConfig([rule({ kinds: ['Job'], validations: [{ expression: 'false' }] })]);
  t.same(evaluate(deployment([]) as KubeObject, new ContextIndex(), config)?.findings, []);
});
