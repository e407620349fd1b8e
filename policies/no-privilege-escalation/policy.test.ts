import t from 'tap';
import policy from './policy.js';
import { examples, judge, pick } from '../../test/helpers/manifests.js';

const { good, bad, get } = examples('no-privilege-escalation');

t.test('good examples pass', async (t) => {
  for (const [name, obj] of good) t.same(judge(policy, obj), [], name);
});

t.test('unset allowPrivilegeEscalation warns at the container field', async (t) => {
  const findings = judge(policy, get('unset'));
  t.equal(findings.length, 1);
  t.match(findings[0], {
    policy: 'no-privilege-escalation',
    action: 'warn',
    container: 'app',
    path: 'spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation',
  });
  t.match(findings[0]?.message, /container "app" .*allowPrivilegeEscalation: false/);
});

t.test('an explicit true fails', async (t) => {
  const findings = judge(policy, get('explicitly-allowed'));
  t.same(
    findings.map((f) => f.path),
    ['spec.containers[0].securityContext.allowPrivilegeEscalation'],
  );
});

t.test('privileged: true is one finding at the privileged field, with a fix for both fields', async (t) => {
  const findings = judge(policy, get('privileged'));
  t.equal(findings.length, 1);
  t.match(findings[0], { container: 'app', path: 'spec.containers[0].securityContext.privileged' });
  t.match(findings[0]?.message, /runs privileged/);
  t.match(findings[0]?.remediation, /privileged: false\n {2}allowPrivilegeEscalation: false/);
});

t.test('a pod-level setting does not count', async (t) => {
  t.same(
    judge(policy, get('pod-level-only')).map((f) => f.path),
    ['spec.containers[0].securityContext.allowPrivilegeEscalation'],
  );
});

t.test('init containers, sidecars and ephemeral containers are checked, also in Jobs', async (t) => {
  const findings = judge(policy, get('init-sidecar-and-ephemeral'));
  t.same(
    findings.map((f) => [f.container, f.path]),
    [
      ['setup', 'spec.template.spec.initContainers[0].securityContext.allowPrivilegeEscalation'],
      ['proxy', 'spec.template.spec.initContainers[1].securityContext.allowPrivilegeEscalation'],
      ['debugger', 'spec.template.spec.ephemeralContainers[0].securityContext.allowPrivilegeEscalation'],
    ],
  );
});

t.test('Windows pods are skipped: the API forbids these fields there', async (t) => {
  const windows = pick(good, 'windows-pod');
  t.same(judge(policy, windows), []);
  const linux = { ...windows, spec: { ...(windows.spec as object), os: undefined } };
  t.same(
    judge(policy, linux).map((f) => f.container),
    ['app'],
    'the same pod on Linux fails',
  );
});

t.test('every bad example fails', async (t) => {
  for (const [name, obj] of bad) t.not(judge(policy, obj).length, 0, name);
});
