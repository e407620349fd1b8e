import t from 'tap';
import policy from './policy.js';
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
