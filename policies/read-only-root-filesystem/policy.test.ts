import t from 'tap';
import policy from './policy.js';
import { examples, judge, pick } from '../../test/helpers/manifests.js';

const { good, bad, get } = examples('read-only-root-filesystem');

t.test('good examples pass', async (t) => {
  for (const [name, obj] of good) t.same(judge(policy, obj), [], name);
});

t.test('no securityContext: deny at the container field, naming the container', async (t) => {
  const findings = judge(policy, get('no-security-context'));
  t.equal(findings.length, 1);
  t.match(findings[0], {
    policy: 'read-only-root-filesystem',
    action: 'deny',
    container: 'app',
    path: 'spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem',
  });
  t.match(findings[0]?.message, /container "app" .*readOnlyRootFilesystem: true/);
});

t.test('an explicit false fails', async (t) => {
  const findings = judge(policy, get('explicitly-writable'));
  t.same(
    findings.map((f) => f.path),
    ['spec.containers[0].securityContext.readOnlyRootFilesystem'],
  );
});

t.test('a pod-level setting does not count: the field only exists on containers', async (t) => {
  const findings = judge(policy, get('pod-level-only'));
  t.same(
    findings.map((f) => f.path),
    ['spec.containers[0].securityContext.readOnlyRootFilesystem'],
  );
});

t.test('init containers and native sidecars are checked', async (t) => {
  const findings = judge(policy, get('init-and-sidecar-writable'));
  t.same(
    findings.map((f) => [f.container, f.path]),
    [
      ['setup', 'spec.template.spec.initContainers[0].securityContext.readOnlyRootFilesystem'],
      ['proxy', 'spec.template.spec.initContainers[1].securityContext.readOnlyRootFilesystem'],
    ],
  );
});

t.test('Windows pods are skipped, and only they: the API forbids the field there', async (t) => {
  const windows = pick(good, 'windows-pod');
  t.same(judge(policy, windows), []);
  const linux = { ...windows, spec: { ...(windows.spec as object), os: { name: 'linux' } } };
  t.same(
    judge(policy, linux).map((f) => f.container),
    ['app'],
    'the same pod on Linux fails',
  );
  t.equal(judge(policy, get('linux-os-named')).length, 1);
});

t.test('every bad example fails', async (t) => {
  for (const [name, obj] of bad) t.not(judge(policy, obj).length, 0, name);
});
