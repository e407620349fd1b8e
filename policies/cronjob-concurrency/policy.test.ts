import t from 'tap';
import policy from './policy.js';
import { examples, judge } from '../../test/helpers/manifests.js';

const { good, bad, get } = examples('cronjob-concurrency');

t.test('good examples pass', async (t) => {
  for (const [name, obj] of good) t.same(judge(policy, obj), [], name);
});

t.test('unset means Allow: warn at spec.concurrencyPolicy', async (t) => {
  const findings = judge(policy, get('unset'));
  t.equal(findings.length, 1);
  t.match(findings[0], { policy: 'cronjob-concurrency', action: 'warn', path: 'spec.concurrencyPolicy', remediation: policy.fix });
  t.notOk(findings[0]?.container);
  t.match(findings[0]?.message, /defaults to Allow, so runs may overlap/);
});

t.test('an explicit Allow warns', async (t) => {
  const findings = judge(policy, get('allow'));
  t.same(
    findings.map((f) => f.path),
    ['spec.concurrencyPolicy'],
  );
  t.match(findings[0]?.message, /Allow lets runs overlap/);
});

t.test('the values are case-sensitive', async (t) => {
  t.match(judge(policy, get('wrong-case'))[0]?.message, /unknown concurrencyPolicy \(case matters\)/);
});

t.test('a malformed spec is reported, not thrown', async (t) => {
  t.same(
    judge(policy, { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'x' }, spec: 5 }).map((f) => f.path),
    ['spec.concurrencyPolicy'],
  );
});

t.test('every bad example fails', async (t) => {
  for (const [name, obj] of bad) t.not(judge(policy, obj).length, 0, name);
});
