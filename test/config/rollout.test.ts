// The rollout keys of the config: staged deadlines, existing violations, expiring exemptions.
import t from 'tap';
import { POLICIES } from '../../policies/index.js';
import type { Test } from 'tap';
import { parseConfigText } from '../../src/config/load.js';
import { compileConfig, parseInstant } from '../../src/engine/index.js';

/** The text is refused as a config, with a message matching `message`. */
const refused = (t: Test, text: string, message: RegExp, what = message.source) =>
  t.throws(() => parseConfigText(text, 'gate.yaml'), { name: 'ConfigError', message }, what);

t.test('dates: midnight UTC for a day, UTC for a time without offset, the offset when given', async (t) => {
  t.equal(parseInstant('2027-01-15'), Date.UTC(2027, 0, 15));
  t.equal(parseInstant('2027-01-15T10:30'), Date.UTC(2027, 0, 15, 10, 30));
  t.equal(parseInstant('2027-01-15T10:30:00Z'), Date.UTC(2027, 0, 15, 10, 30));
  t.equal(parseInstant('2027-01-15T10:30:00+02:00'), Date.UTC(2027, 0, 15, 8, 30));
  t.equal(parseInstant('2027-01-15T10:30:00-05:30'), Date.UTC(2027, 0, 15, 16, 0));
  t.equal(parseInstant('2028-02-29'), Date.UTC(2028, 1, 29), 'a leap day');
  for (const bad of ['2027-02-29', '2027-13-01', '2027-1-5', '15.01.2027', 'tomorrow', '2027-01-15T25:00', ''])
    t.equal(parseInstant(bad), undefined, JSON.stringify(bad));
});

t.test('policies.<id> as an object: action, from and existingViolations', async (t) => {
  const config = parseConfigText(
    'existingViolations: deny\nexemptionWarningDays: 30\npolicies:\n  run-as-non-root: { action: deny, from: "2027-01-15" }\n  memory-limit: { existingViolations: allow }\n  liveness-probe: audit\n',
    'gate.yaml',
  );
  t.same(config.policies, { 'run-as-non-root': 'deny', 'liveness-probe': 'audit' }, 'an object without action keeps the default action');
  t.same(config.rollout, { 'run-as-non-root': { from: '2027-01-15' }, 'memory-limit': { existingViolations: 'allow' } });
  t.equal(config.existingViolations, 'deny');
  t.equal(config.exemptionWarningDays, 30);
  const engine = compileConfig(config, POLICIES);
  const active = (id: string) => engine.active.find((a) => a.policy.id === id);
  t.same(active('run-as-non-root')?.from, { at: Date.UTC(2027, 0, 15), text: '2027-01-15' });
  t.equal(active('run-as-non-root')?.existingViolations, 'deny', 'the global setting');
  t.equal(active('memory-limit')?.existingViolations, 'allow', "the policy's own wins");
  t.equal(compileConfig(parseConfigText('mode: enforce\n', 'gate.yaml'), POLICIES).active[0]?.existingViolations, 'allow', 'default allow');
});

t.test('bad rollout settings are refused naming the key', async (t) => {
  refused(
    t,
    'policies:\n  run-as-non-root: { action: deny, from: 2027-13-01 }\n',
    /policies\.run-as-non-root\.from: must be a date YYYY-MM-DD \(00:00 UTC\)/,
  );
  refused(
    t,
    'policies:\n  run-as-non-root: { action: block }\n',
    /policies\.run-as-non-root\.action: must be one of deny, warn, audit, off/,
  );
  refused(
    t,
    'policies:\n  run-as-non-root: { existingViolations: maybe }\n',
    /policies\.run-as-non-root\.existingViolations: must be one of allow, deny/,
  );
  refused(t, 'existingViolations: yes\n', /existingViolations: must be one of allow, deny/);
  refused(t, 'exemptionWarningDays: -1\n', /exemptionWarningDays/);
  refused(t, 'exemptions:\n  - namespaces: [a]\n    reason: r\n    expires: next week\n', /exemptions\[0\]\.expires: must be a date/);
  refused(
    t,
    'policies:\n  run-as-non-root: block\n',
    /policies\.run-as-non-root: must be one of deny, warn, audit, off, or \{ action: <one of those> \}/,
    'the plain form keeps its message',
  );
});

t.test('a deadline or expiry that does not parse (a config built in code) never postpones enforcement', async (t) => {
  const engine = compileConfig(
    {
      mode: 'enforce',
      policies: {},
      objectExemptions: false,
      exemptions: [{ namespaces: ['a'], reason: 'r', expires: 'soon' }],
      rollout: { 'run-as-non-root': { from: 'later' } },
    },
    POLICIES,
  );
  t.equal(engine.exemptions[0]?.expires?.at, Number.NEGATIVE_INFINITY, 'already expired');
  t.equal(engine.active.find((a) => a.policy.id === 'run-as-non-root')?.from?.at, Number.NEGATIVE_INFINITY, 'already due');
});
