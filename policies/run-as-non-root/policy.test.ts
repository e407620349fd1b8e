import t from 'tap';
import policy from './policy.js';
import { examples, judge } from '../../test/helpers/manifests.js';

const { good, bad, get } = examples('run-as-non-root');

t.test('good examples pass', async (t) => {
  for (const [name, obj] of good) t.same(judge(policy, obj), [], name);
});

t.test('no securityContext anywhere: points at the container field', async (t) => {
  const findings = judge(policy, get('no-security-context'));
  t.equal(findings.length, 1);
  t.match(findings[0], {
    policy: 'run-as-non-root',
    action: 'deny',
    container: 'app',
    path: 'spec.template.spec.containers[0].securityContext.runAsNonRoot',
    exempt: false,
  });
  t.match(findings[0]?.message, /container "app" may run as root/);
});

t.test('uid 0 fails even with runAsNonRoot true', async (t) => {
  const own = judge(policy, get('uid-zero-despite-non-root'));
  t.equal(own[0]?.path, 'spec.containers[0].securityContext.runAsUser');
  t.match(own[0]?.message, /uid 0/);
  const pod = judge(policy, get('pod-uid-zero'));
  t.equal(pod[0]?.path, 'spec.securityContext.runAsUser', 'the pod-level field is the one to fix');
});

t.test('the container setting wins over the pod setting', async (t) => {
  const findings = judge(policy, get('container-disables-pod-setting'));
  t.equal(findings.length, 1);
  t.equal(findings[0]?.path, 'spec.containers[0].securityContext.runAsNonRoot');
});

t.test('init and ephemeral containers are checked too', async (t) => {
  const findings = judge(policy, get('init-and-ephemeral-root'));
  t.same(
    findings.map((f) => [f.container, f.path]),
    [
      ['setup', 'spec.initContainers[0].securityContext.runAsNonRoot'],
      ['debugger', 'spec.ephemeralContainers[0].securityContext.runAsNonRoot'],
    ],
  );
});

t.test('Windows pods need runAsNonRoot: a uid means nothing there', async (t) => {
  const findings = judge(policy, get('windows-uid-only'));
  t.equal(findings.length, 1);
  t.equal(findings[0]?.path, 'spec.containers[0].securityContext.runAsNonRoot');
});

t.test('every bad example fails', async (t) => {
  for (const [name, obj] of bad) t.not(judge(policy, obj).length, 0, name);
});

t.test('a user namespace (hostUsers: false) passes, uid 0 included, as Pod Security Admission does from 1.35', async (t) => {
  const pod = (spec: Record<string, unknown>) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p' },
    spec: { ...spec, containers: [{ name: 'app', image: 'a:1' }] },
  });
  t.same(judge(policy, pod({ hostUsers: false })), [], 'no securityContext');
  t.same(judge(policy, pod({ hostUsers: false, securityContext: { runAsUser: 0 } })), [], 'uid 0 is not root on the node');
  t.equal(judge(policy, pod({ hostUsers: true })).length, 1, 'hostUsers: true shares the node users');
  for (const value of ['false', 0, null, {}])
    t.equal(judge(policy, pod({ hostUsers: value })).length, 1, `hostUsers ${JSON.stringify(value)} is no user namespace`);
  t.equal(judge(policy, pod({ hostUsers: false, os: { name: 'windows' } })).length, 1, 'Windows has no user namespaces');
  t.equal(judge(policy, get('host-users-string')).length, 1);
  t.same(
    judge(policy, pod({ securityContext: { runAsUser: 1000 } })),
    [],
    'a non-zero uid without runAsNonRoot: the kubelet runs that uid',
  );
});
