import t from 'tap';
import liveness from '../liveness-probe/policy.js';
import policy from './policy.js';
import type { KubeObject } from '../../src/engine/index.js';
import { assertLongRunningOnly, examples, judge, pick } from '../../test/helpers/manifests.js';

const { good, bad, get } = examples('readiness-probe');

t.test('good examples pass', async (t) => {
  for (const [name, obj] of good) t.same(judge(policy, obj), [], name);
});

t.test('no probe: warn at the container field, naming the container', async (t) => {
  const findings = judge(policy, get('no-probe'));
  t.equal(findings.length, 1);
  t.match(findings[0], {
    policy: 'readiness-probe',
    action: 'warn',
    container: 'app',
    path: 'spec.template.spec.containers[0].readinessProbe',
  });
  t.match(findings[0]?.message, /container "app" has no readinessProbe/);
});

t.test('a liveness probe does not count', async (t) => {
  t.same(
    judge(policy, get('liveness-only')).map((f) => f.path),
    ['spec.containers[0].readinessProbe'],
  );
});

t.test('native sidecars are checked, classic init containers never', async (t) => {
  t.same(
    judge(policy, get('sidecar-without-probe')).map((f) => [f.container, f.path]),
    [['proxy', 'spec.template.spec.initContainers[1].readinessProbe']],
  );
});

t.test('each regular container is checked', async (t) => {
  t.same(
    judge(policy, get('second-container-without')).map((f) => [f.container, f.path]),
    [['shipper', 'spec.template.spec.containers[1].readinessProbe']],
  );
});

t.test('Job and CronJob pods are not judged, nor pods that run to completion', async (t) => {
  assertLongRunningOnly(t, policy, good);
});

t.test('readiness applies to containers that serve a port; liveness still applies to those that do not', async (t) => {
  const loadgen = pick(good, 'loadgenerator-without-ports');
  t.same(judge(policy, loadgen), [], 'no ports: no readinessProbe asked for');
  const served = structuredClone(loadgen) as { spec: { template: { spec: { containers: Array<Record<string, unknown>> } } } };
  const [main] = served.spec.template.spec.containers;
  if (main) main.ports = [{ containerPort: 8089 }];
  t.same(
    judge(policy, served as KubeObject).map((f) => f.container),
    ['main'],
    'the same container with a port needs one',
  );
  const noLiveness = structuredClone(loadgen) as typeof served;
  const [bare] = noLiveness.spec.template.spec.containers;
  if (bare) delete bare.livenessProbe;
  t.same(
    judge(liveness, noLiveness as KubeObject).map((f) => f.container),
    ['main'],
    'liveness-probe still asks a port-less container for a liveness probe',
  );
  t.same(judge(policy, pick(good, 'reloader-sidecar-without-ports')), [], 'a port-less sidecar or second container beside a probed server');
  t.same(judge(policy, pick(good, 'empty-ports-list')), [], 'ports: [] declares nothing');
});

t.test('every bad example fails', async (t) => {
  for (const [name, obj] of bad) t.not(judge(policy, obj).length, 0, name);
});
