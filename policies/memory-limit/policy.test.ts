import t from 'tap';
import policy from './policy.js';
import { deployment, limitRange, notesOf } from '../../test/helpers/limit-ranges.js';
import { examples, judge } from '../../test/helpers/manifests.js';

const { good, bad, get } = examples('memory-limit');

t.test('good examples pass, ephemeral containers are not asked for limits', async (t) => {
  for (const [name, obj] of good) t.same(judge(policy, obj), [], name);
});

t.test('no limit: warn at resources.limits.memory, naming the container', async (t) => {
  const findings = judge(policy, get('no-limits'));
  t.equal(findings.length, 1);
  t.match(findings[0], {
    policy: 'memory-limit',
    action: 'warn',
    container: 'app',
    path: 'spec.template.spec.containers[0].resources.limits.memory',
  });
  t.match(findings[0]?.message, /container "app" has no memory limit: set resources.limits.memory/);
});

t.test('a memory request or a cpu limit is not a memory limit', async (t) => {
  t.same(
    judge(policy, get('cpu-limit-only')).map((f) => f.path),
    ['spec.containers[0].resources.limits.memory'],
  );
});

t.test('a zero limit counts as none', async (t) => {
  t.same(
    judge(policy, get('zero-limit')).map((f) => f.path),
    ['spec.containers[0].resources.limits.memory'],
  );
});

t.test('init containers and native sidecars are checked', async (t) => {
  t.same(
    judge(policy, get('init-and-sidecar-without')).map((f) => [f.container, f.path]),
    [
      ['setup', 'spec.initContainers[0].resources.limits.memory'],
      ['proxy', 'spec.initContainers[1].resources.limits.memory'],
    ],
  );
});

t.test('every bad example fails', async (t) => {
  for (const [name, obj] of bad) t.not(judge(policy, obj).length, 0, name);
});

// A LimitRange's defaults are filled in by the LimitRanger when the pod is created (docs/policies.md#limitrange-defaults).
const bare = { name: 'app', image: 'example/app:1.0' };
const paths = (findings: readonly { path: string }[]) => findings.map((f) => f.path);
const NO_LIMIT = ['spec.template.spec.containers[0].resources.limits.memory'];

t.test('a LimitRange default memory limit satisfies it, and the note names the LimitRange', async (t) => {
  const ranges = [limitRange('defaults', [{ type: 'Container', default: { memory: '512Mi' } }])];
  t.same(judge(policy, deployment([bare]), ranges), []);
  t.same(
    notesOf(policy, deployment([bare]), ranges).map((n) => [n.policy, n.path, n.message]),
    [
      [
        'memory-limit',
        NO_LIMIT[0],
        'container "app": limits.memory defaulted to 512Mi by LimitRange shop/defaults when the pod is created',
      ],
    ],
  );
});

t.test('a max memory becomes the default limit; a defaultRequest or a min is no limit', async (t) => {
  t.same(judge(policy, deployment([bare]), [limitRange('max', [{ type: 'Container', max: { memory: '1Gi' } }])]), []);
  t.same(
    paths(judge(policy, deployment([bare]), [limitRange('req', [{ type: 'Container', defaultRequest: { memory: '1Gi' } }])])),
    NO_LIMIT,
  );
  t.same(paths(judge(policy, deployment([bare]), [limitRange('min', [{ type: 'Container', min: { memory: '1Gi' } }])])), NO_LIMIT);
  t.same(
    paths(judge(policy, deployment([bare]), [limitRange('cpu', [{ type: 'Container', default: { cpu: '1' } }])])),
    NO_LIMIT,
    'a cpu default is no memory limit',
  );
});

t.test("items of type Pod and another namespace's LimitRange do not count", async (t) => {
  t.same(paths(judge(policy, deployment([bare]), [limitRange('pod', [{ type: 'Pod', max: { memory: '1Gi' } }])])), NO_LIMIT);
  t.same(
    paths(judge(policy, deployment([bare]), [limitRange('defaults', [{ type: 'Container', default: { memory: '1Gi' } }], 'other')])),
    NO_LIMIT,
  );
});

t.test('several LimitRanges: counted only when every one that sets it sets a real value', async (t) => {
  const one = limitRange('one', [{ type: 'Container', default: { memory: '256Mi' } }]);
  const two = limitRange('two', [{ type: 'Container', default: { memory: '512Mi' } }]);
  t.same(judge(policy, deployment([bare]), [one, two]), []);
  t.match(
    notesOf(policy, deployment([bare]), [one, two])[0]?.message,
    /limits\.memory defaulted by LimitRanges shop\/one, shop\/two when/,
    'no single value',
  );
  const zero = limitRange('zero', [{ type: 'Container', default: { memory: '0' } }]);
  t.same(paths(judge(policy, deployment([bare]), [one, zero])), NO_LIMIT);
});

t.test('a zero limit the container writes is not replaced; init containers get the default too', async (t) => {
  const ranges = [limitRange('defaults', [{ type: 'Container', default: { memory: '512Mi' } }])];
  t.same(paths(judge(policy, deployment([{ ...bare, resources: { limits: { memory: '0' } } }]), ranges)), NO_LIMIT);
  t.same(judge(policy, deployment([bare], [{ name: 'setup', image: 'example/setup:1.0' }]), ranges), []);
});

t.test('a LimitRange of the wrong shape supplies nothing', async (t) => {
  for (const limits of [
    { type: 'Container' },
    [{ type: 'Container', default: { memory: { value: '1Gi' } } }],
    [{ type: 'Container', default: ['512Mi'] }],
  ]) {
    t.same(paths(judge(policy, deployment([bare]), [limitRange('bad', limits)])), NO_LIMIT);
  }
});
