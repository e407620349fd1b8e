import t from 'tap';
import policy from './policy.js';
import { assertLongRunningOnly, examples, judge } from '../../test/helpers/manifests.js';

const { good, bad, get } = examples('liveness-probe');

t.test('good examples pass', async (t) => {
  for (const [name, obj] of good) t.same(judge(policy, obj), [], name);
});

t.test('no probe: warn at the container field with the general fix', async (t) => {
  const findings = judge(policy, get('no-probe'));
  t.equal(findings.length, 1);
  t.match(findings[0], {
    policy: 'liveness-probe',
    action: 'warn',
    container: 'app',
    path: 'spec.template.spec.containers[0].livenessProbe',
    remediation: policy.fix,
  });
  t.match(findings[0]?.message, /container "app" has no livenessProbe/);
});

t.test('a startupProbe does not replace it, and the fix says to keep both', async (t) => {
  const findings = judge(policy, get('startup-only'));
  t.same(
    findings.map((f) => f.path),
    ['spec.containers[0].livenessProbe'],
  );
  t.match(findings[0]?.message, /only a startupProbe/);
  t.match(findings[0]?.remediation, /keep the startupProbe/);
});

t.test('native sidecars are checked, classic init containers never', async (t) => {
  t.same(
    judge(policy, get('sidecar-without-probe')).map((f) => [f.container, f.path]),
    [['proxy', 'spec.template.spec.initContainers[1].livenessProbe']],
  );
});

t.test('PodTemplates are judged at their own pod spec path', async (t) => {
  t.same(
    judge(policy, get('pod-template-without')).map((f) => f.path),
    ['template.spec.containers[0].livenessProbe'],
  );
});

t.test('Job and CronJob pods are not judged, nor pods that run to completion', async (t) => {
  assertLongRunningOnly(t, policy, good);
});

t.test('every bad example fails', async (t) => {
  for (const [name, obj] of bad) t.not(judge(policy, obj).length, 0, name);
});
