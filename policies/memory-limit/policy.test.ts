import t from 'tap';
import policy from './policy.js';
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
