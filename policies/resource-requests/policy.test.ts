import t from 'tap';
import policy from './policy.js';
import { deployment, limitRange, notesOf } from '../../test/helpers/limit-ranges.js';
import { examples, judge } from '../../test/helpers/manifests.js';

const { good, bad, get } = examples('resource-requests');

t.test('good examples pass, ephemeral containers are not asked for requests', async (t) => {
  for (const [name, obj] of good) t.same(judge(policy, obj), [], name);
});

t.test('no resources at all: one deny per container at resources.requests, naming both', async (t) => {
  const findings = judge(policy, get('no-resources'));
  t.equal(findings.length, 1);
  t.match(findings[0], {
    policy: 'resource-requests',
    action: 'deny',
    container: 'app',
    path: 'spec.template.spec.containers[0].resources.requests',
  });
  t.match(findings[0]?.message, /container "app" has no requests/);
});

t.test('one missing resource: the path points at it and the fix sets only it', async (t) => {
  const memory = judge(policy, get('memory-missing'));
  t.same(
    memory.map((f) => f.path),
    ['spec.containers[0].resources.requests.memory'],
  );
  t.match(memory[0]?.message, /no memory request: set resources.requests.memory/);
  t.match(memory[0]?.remediation, /memory: 128Mi/);
  t.notMatch(memory[0]?.remediation, /cpu/);
  const cpu = judge(policy, get('cpu-missing'));
  t.same(
    cpu.map((f) => f.path),
    ['spec.containers[0].resources.requests.cpu'],
  );
});

t.test('a zero request counts as missing, even with a limit beside it', async (t) => {
  t.same(
    judge(policy, get('zero-cpu-request')).map((f) => f.path),
    ['spec.containers[0].resources.requests.cpu'],
  );
});

t.test('init containers and native sidecars are checked', async (t) => {
  t.same(
    judge(policy, get('init-and-sidecar-without')).map((f) => [f.container, f.path]),
    [
      ['setup', 'spec.template.spec.initContainers[0].resources.requests'],
      ['proxy', 'spec.template.spec.initContainers[1].resources.requests.memory'],
    ],
  );
});

t.test('every bad example fails', async (t) => {
  for (const [name, obj] of bad) t.not(judge(policy, obj).length, 0, name);
});

// A LimitRange's defaults are filled in by the LimitRanger when the pod is created (docs/policies.md#limitrange-defaults).
const bare = { name: 'app', image: 'example/app:1.0' };
const paths = (findings: readonly { path: string }[]) => findings.map((f) => f.path);

t.test('a LimitRange defaultRequest of both resources satisfies it, and the notes name the LimitRange', async (t) => {
  const ranges = [limitRange('defaults', [{ type: 'Container', defaultRequest: { cpu: '100m', memory: '128Mi' } }])];
  t.same(judge(policy, deployment([bare]), ranges), []);
  t.same(
    notesOf(policy, deployment([bare]), ranges).map((n) => [n.policy, n.container, n.path, n.message]),
    [
      [
        'resource-requests',
        'app',
        'spec.template.spec.containers[0].resources.requests.cpu',
        'container "app": requests.cpu defaulted to 100m by LimitRange shop/defaults when the pod is created',
      ],
      [
        'resource-requests',
        'app',
        'spec.template.spec.containers[0].resources.requests.memory',
        'container "app": requests.memory defaulted to 128Mi by LimitRange shop/defaults when the pod is created',
      ],
    ],
  );
  t.same(notesOf(policy, get('no-resources'), []), [], 'no LimitRange, no note');
});

t.test('a default limit alone counts: the API server makes it the default request too', async (t) => {
  t.same(judge(policy, deployment([bare]), [limitRange('limits', [{ type: 'Container', default: { cpu: '1', memory: '1Gi' } }])]), []);
  t.same(judge(policy, deployment([bare]), [limitRange('bounds', [{ type: 'Container', min: { cpu: '10m', memory: '32Mi' } }])]), []);
});

t.test('cpu covered but memory not: the finding is on memory and says what sets cpu', async (t) => {
  const findings = judge(policy, deployment([bare]), [limitRange('cpu-only', [{ type: 'Container', defaultRequest: { cpu: '250m' } }])]);
  t.same(paths(findings), ['spec.template.spec.containers[0].resources.requests.memory']);
  t.equal(findings[0]?.message, 'container "app" has no memory request: set resources.requests.memory (LimitRange shop/cpu-only sets cpu)');
});

t.test('items of type Pod or PersistentVolumeClaim set no container defaults', async (t) => {
  const ranges = [limitRange('pod', [{ type: 'Pod', max: { cpu: '2', memory: '2Gi' }, min: { cpu: '1', memory: '1Gi' } }])];
  t.same(paths(judge(policy, deployment([bare]), ranges)), ['spec.template.spec.containers[0].resources.requests']);
});

t.test("another namespace's LimitRange does not count", async (t) => {
  const ranges = [limitRange('defaults', [{ type: 'Container', defaultRequest: { cpu: '1', memory: '1Gi' } }], 'other')];
  t.same(paths(judge(policy, deployment([bare]), ranges)), ['spec.template.spec.containers[0].resources.requests']);
});

t.test('several LimitRanges: each may supply a resource; all that set one must set a real value', async (t) => {
  const cpu = limitRange('cpu', [{ type: 'Container', defaultRequest: { cpu: '100m' } }]);
  const memory = limitRange('memory', [{ type: 'Container', defaultRequest: { memory: '64Mi' } }]);
  t.same(judge(policy, deployment([bare]), [cpu, memory]), [], 'one sets cpu, the other memory');
  const cpuToo = limitRange('cpu-too', [{ type: 'Container', defaultRequest: { cpu: '200m' } }]);
  t.match(
    notesOf(policy, deployment([bare]), [cpu, memory, cpuToo])[0]?.message,
    /requests\.cpu defaulted by LimitRanges shop\/cpu, shop\/cpu-too when/,
  );
  const zero = limitRange('zero', [{ type: 'Container', defaultRequest: { cpu: '0' } }]);
  t.same(
    paths(judge(policy, deployment([bare]), [cpu, memory, zero])),
    ['spec.template.spec.containers[0].resources.requests.cpu'],
    'which of two LimitRanges applies is not defined: one that sets 0 may win',
  );
});

t.test('a request or limit the container has, even 0, is not filled in by a LimitRange', async (t) => {
  const ranges = [limitRange('defaults', [{ type: 'Container', defaultRequest: { cpu: '100m', memory: '128Mi' } }])];
  const zero = { ...bare, resources: { requests: { cpu: '0' } } };
  t.same(paths(judge(policy, deployment([zero]), ranges)), ['spec.template.spec.containers[0].resources.requests.cpu']);
  const zeroLimit = { ...bare, resources: { limits: { memory: 0 } } };
  t.same(
    paths(judge(policy, deployment([zeroLimit]), ranges)),
    ['spec.template.spec.containers[0].resources.requests.memory'],
    'the API server copies the limit 0 into the request before the LimitRanger runs',
  );
  const nulls = { ...bare, resources: { requests: { cpu: null, memory: null } } };
  t.same(judge(policy, deployment([nulls]), ranges), [], 'null is unset, as in Kubernetes');
});

t.test('init containers and native sidecars get the defaults too', async (t) => {
  const ranges = [limitRange('defaults', [{ type: 'Container', defaultRequest: { cpu: '100m', memory: '128Mi' } }])];
  t.same(judge(policy, deployment([bare], [{ name: 'setup', image: 'example/setup:1.0' }]), ranges), []);
  t.same(
    notesOf(policy, deployment([bare], [{ name: 'setup', image: 'example/setup:1.0' }]), ranges).map((n) => n.container),
    ['app', 'app', 'setup', 'setup'],
  );
});

t.test('a LimitRange of the wrong shape supplies nothing', async (t) => {
  for (const limits of [
    'Container',
    [{ type: 'Container', defaultRequest: { cpu: true, memory: ['1Gi'] } }],
    [{ type: 'Container', defaultRequest: 'cpu' }],
  ]) {
    t.same(paths(judge(policy, deployment([bare]), [limitRange('bad', limits)])), ['spec.template.spec.containers[0].resources.requests']);
  }
});
