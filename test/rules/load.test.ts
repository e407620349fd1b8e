// Custom rules are compiled and type-checked when the config loads: every mistake is a config
// error naming the rule, the validation and the position, so a hot reload keeps the old config.
import t from 'tap';
import { ConfigError, parseConfigText } from '../../src/config/load.js';
import { loadError, rule, rulesConfig } from '../helpers/rules.js';

t.test('a syntax error names the rule, the validation and the position', async (t) => {
  const message = loadError([rule({ validations: [{ expression: 'true' }, { expression: 'object.metadata.name ==', message: 'm' }] })]);
  t.match(message, /rules\[0\] \(my-rule\)\.validations\[1\]\.expression/);
  t.match(message, /line 1, column \d+/);
  t.match(message, /object\.metadata\.name ==/, 'quotes the expression');
});

t.test('a type error is caught at load, not at the first request', async (t) => {
  t.match(loadError([rule({ validations: [{ expression: "1 + 'a' == 2" }] })]), /validations\[0\]\.expression: no such overload/);
  t.match(loadError([rule({ validations: [{ expression: "'a'" }] })]), /must evaluate to bool, not string/);
  t.match(
    loadError([rule({ validations: [{ expression: 'true', messageExpression: '1 + 2' }] })]),
    /validations\[0\]\.messageExpression: must evaluate to string, not int/,
  );
  t.match(loadError([rule({ validations: [{ expression: 'undeclared.x == 1' }] })]), /Unknown variable: undeclared/);
});

t.test('a regular expression RE2 refuses is refused, as the API server would', async (t) => {
  t.match(
    loadError([rule({ validations: [{ expression: "object.metadata.name.matches('(a)\\\\1')" }] })]),
    /not RE2.*invalid escape sequence/,
  );
  t.match(loadError([rule({ validations: [{ expression: "object.metadata.name.matches('(?=x)')" }] })]), /not RE2/);
});

t.test('ids are kebab-case, unique and not a built-in; kinds are ones practice-gate judges', async (t) => {
  t.match(loadError([rule({ id: 'run-as-non-root' })]), /"run-as-non-root" is a built-in policy/);
  t.match(loadError([rule({ id: 'MyRule' })]), /must be kebab-case/);
  t.match(loadError([rule({}), rule({})]), /rules\[1\] \(my-rule\)\.id: another rule already has the id my-rule/);
  t.match(loadError([rule({ kinds: ['Service'] })]), /rules\[0\]\.kinds\[0\]: must be one of Pod, Deployment/);
  t.match(loadError([rule({ validations: [] })]), /rules\[0\]\.validations/);
  t.match(loadError([rule({ validations: [{ expression: 'true', message: 'a', messageExpression: "'b'" }] })]), /not both/);
  t.match(loadError([rule({ forEach: 'volumes' })]), /rules\[0\]\.forEach/);
});

t.test('a rule takes actions, deadlines and exemptions like a built-in policy', async (t) => {
  const config = rulesConfig([rule({ action: { action: 'deny', from: '2030-01-01' } })], {
    exemptions: [{ namespaces: ['legacy'], policies: ['my-rule'], reason: 'migrating' }],
  });
  const active = config.active.find((a) => a.policy.id === 'my-rule');
  t.equal(active?.action, 'deny');
  t.equal(active?.from?.text, '2030-01-01');
  t.equal(active?.policy.source, 'test.yaml', 'the policy knows the file it came from');
  t.notOk(
    rulesConfig([rule({ action: 'off' })]).active.some((a) => a.policy.id === 'my-rule'),
    'off switches it off',
  );
});

t.test('a bad rule in a reloaded file is a ConfigError: the watcher keeps the running config', async (t) => {
  const text =
    'rules:\n  - id: r\n    title: T\n    why: W\n    fix: x\n    kinds: [Pod]\n    validations:\n      - expression: "object.spec.containers.all(c,"\n';
  t.throws(() => parseConfigText(text, 'cfg.yaml'), ConfigError);
  t.throws(() => parseConfigText(text, 'cfg.yaml'), /invalid config cfg\.yaml:\n {2}rules\[0\] \(r\)\.validations\[0\]\.expression/);
});
