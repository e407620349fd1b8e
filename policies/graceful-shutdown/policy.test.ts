import t from 'tap';
import type { KubeObject } from '../../src/engine/index.js';
import { examples, judge } from '../../test/helpers/manifests.js';
import { preStopPause } from './pause.js';
import policy from './policy.js';

const { good, bad, get } = examples('graceful-shutdown');

/** A Deployment with one container `app` serving 8080, its pod spec and container extended. */
function deployment(pod: Record<string, unknown> = {}, container: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'd' },
    spec: { template: { spec: { ...pod, containers: [{ name: 'app', image: 'a:1', ports: [{ containerPort: 8080 }], ...container }] } } },
  };
}
const withPreStop = (preStop: unknown, pod: Record<string, unknown> = {}) => deployment(pod, { lifecycle: { preStop } });
const C = 'spec.template.spec.containers[0]';

t.test('good examples pass', async (t) => {
  for (const [name, obj] of good) t.same(judge(policy, obj), [], name);
});

t.test('every bad example fails', async (t) => {
  for (const [name, obj] of bad) t.not(judge(policy, obj).length, 0, name);
});

t.test('a serving container without a preStop pause is recorded (audit by default) with the pause that fixes it', async (t) => {
  const findings = judge(policy, get('no-pause'));
  t.equal(findings.length, 1);
  t.match(findings[0], { policy: 'graceful-shutdown', action: 'audit', container: 'api', path: `${C}.lifecycle.preStop` });
  t.match(findings[0]?.message, /container "api" is sent requests after SIGTERM: add a preStop sleep of 5s/);
  t.match(findings[0]?.remediation, /sleep: \{ seconds: 5 \}/);
  t.same(
    judge(policy, get('zero-sleep')).map((f) => f.path),
    [`${C}.lifecycle.preStop`],
    'sleep 0 pauses nothing',
  );
});

t.test('a preStop pause as long as the grace period leaves no time after SIGTERM', async (t) => {
  const equal = judge(policy, get('pause-equals-default-grace'));
  t.same(
    equal.map((f) => f.path),
    [`${C}.lifecycle.preStop`],
    'no terminationGracePeriodSeconds: the default 30 s',
  );
  t.match(equal[0]?.message, /preStop 30s >= grace 30s: set terminationGracePeriodSeconds: 60/);
  t.match(
    judge(policy, get('exec-sleep-longer-than-grace'))[0]?.message,
    /preStop 60s >= grace 45s: set terminationGracePeriodSeconds: 90/,
  );
  t.match(judge(policy, get('shell-sleep-infinity'))[0]?.message, /preStop never ends: use a preStop sleep of 5s/);
  t.same(judge(policy, withPreStop({ sleep: { seconds: 29 } })), [], 'one second short of the grace period is not all of it');
  t.equal(
    judge(policy, withPreStop({ sleep: { seconds: 10 } }, { terminationGracePeriodSeconds: 10 })).length,
    1,
    'equal to an explicit grace period',
  );
});

t.test(`a grace period under 10 s is too short to drain; 10 s and the default pass`, async (t) => {
  const findings = judge(policy, get('short-grace'));
  t.same(
    findings.map((f) => f.path),
    ['spec.template.spec.terminationGracePeriodSeconds'],
  );
  t.notOk(findings[0]?.container, 'about the pod, not a container');
  t.match(findings[0]?.message, /terminationGracePeriodSeconds 5 is too short to drain: set it to 30 or more/);
  const paused = { sleep: { seconds: 5 } };
  t.same(judge(policy, withPreStop(paused, { terminationGracePeriodSeconds: 10 })), []);
  t.same(judge(policy, withPreStop(paused, { terminationGracePeriodSeconds: null })), [], 'null is unset: the default');
  const zero = judge(policy, withPreStop(paused, { terminationGracePeriodSeconds: 0 }));
  t.same(
    zero.map((f) => f.path).sort(),
    [`${C}.lifecycle.preStop`, 'spec.template.spec.terminationGracePeriodSeconds'],
    '0 is SIGKILL at once',
  );
});

t.test('a grace period of the wrong type is reported, never read as the default', async (t) => {
  t.match(judge(policy, get('grace-not-a-number'))[0]?.message, /not a whole number of seconds: set it/);
  for (const value of ['30', 1.5, -1, true, {}]) {
    const findings = judge(policy, withPreStop({ sleep: { seconds: 5 } }, { terminationGracePeriodSeconds: value }));
    t.same(
      findings.map((f) => f.path),
      ['spec.template.spec.terminationGracePeriodSeconds'],
      JSON.stringify(value),
    );
  }
});

t.test('how long a preStop hook pauses', async (t) => {
  const pause = (preStop: unknown) => preStopPause({ lifecycle: { preStop } });
  const exec = (...command: unknown[]) => pause({ exec: { command } });
  t.match(pause({ sleep: { seconds: 7 } }), { kind: 'sleep', seconds: 7 });
  t.match(exec('sleep', '5'), { kind: 'sleep', seconds: 5 });
  t.match(exec('/usr/bin/sleep', '2m'), { kind: 'sleep', seconds: 120 });
  t.match(exec('sleep', '0.5'), { kind: 'sleep', seconds: 0.5 });
  t.match(exec('sleep', '1h'), { kind: 'sleep', seconds: 3600 });
  t.match(exec('/bin/bash', '-c', 'sleep 15; kill -QUIT 1'), { kind: 'sleep', seconds: 15 }, 'a script that starts with sleep');
  t.match(exec('sh', '-c', 'exec sleep 20'), { kind: 'sleep', seconds: 20 });
  t.match(exec('sh', '-c', 'sleep infinity'), { kind: 'sleep', seconds: Infinity });
  t.same(preStopPause({ name: 'x' }), { kind: 'none' });
  t.same(preStopPause({ lifecycle: { preStop: null } }), { kind: 'none' });
  const unknown = [
    pause({ httpGet: { path: '/drain', port: 8080 } }),
    pause({ tcpSocket: { port: 8080 } }),
    exec('sh', '-c', 'nginx -s quit; sleep 5'),
    exec('sh', '-c', 'sleep $DELAY'),
    exec('sh', '-c', 'sleep 5 & wait'),
    exec('sleep', '5', '&&', 'x'),
    exec('sleep', 'soon'),
  ];
  for (const p of unknown) t.same(p, { kind: 'unknown' });
  const invalid = [
    exec('sleep', 5),
    exec(),
    pause({ exec: { command: 'sleep 5' } }),
    pause({ exec: 'sleep 5' }),
    pause({ sleep: { seconds: '5' } }),
    pause({ sleep: { seconds: -1 } }),
    pause({ sleep: { seconds: 2.5 } }),
    pause({ sleep: 5 }),
    pause({}),
    pause('sleep 5'),
  ];
  for (const p of invalid) t.same(p, { kind: 'invalid' });
});

t.test('hooks of untrusted shape never crash and never pass: they are reported', async (t) => {
  for (const preStop of ['x', 5, [], { sleep: { seconds: '5' } }, { exec: { command: [1, 2] } }, { sleep: null }, {}]) {
    const findings = judge(policy, withPreStop(preStop));
    t.same(
      findings.map((f) => f.path),
      [`${C}.lifecycle.preStop`],
      JSON.stringify(preStop),
    );
    t.match(findings[0]?.message, /preStop is not a hook the API accepts: use sleep/);
  }
  t.same(judge(policy, withPreStop({ httpGet: { path: '/drain', port: 8080 } })), [], 'an httpGet hook may pause: not judged');
  t.doesNotThrow(() => judge(policy, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: 5 }));
  t.doesNotThrow(() => judge(policy, deployment({}, { lifecycle: 'x' })));
  t.equal(judge(policy, deployment({}, { lifecycle: 'x' })).length, 1, 'a lifecycle that is no mapping holds no preStop');
});

t.test('which containers and pods are judged', async (t) => {
  const init: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p' },
    spec: {
      initContainers: [{ name: 'setup', image: 's:1', ports: [{ containerPort: 1 }], lifecycle: { preStop: { sleep: { seconds: 99 } } } }],
      containers: [{ name: 'app', image: 'a:1', lifecycle: { preStop: { sleep: { seconds: 5 } } } }],
    },
  };
  t.same(judge(policy, init), [], 'an init container that runs to completion is not stopped by the grace period');
  const sidecar = structuredClone(init);
  const [initContainer] = (sidecar.spec as { initContainers: Record<string, unknown>[] }).initContainers;
  if (!initContainer) throw new Error('the example has an init container');
  initContainer.restartPolicy = 'Always';
  t.same(
    judge(policy, sidecar).map((f) => f.container),
    ['setup'],
    "a native sidecar's preStop counts against the grace period",
  );
  const bare = {
    ...deployment(),
    kind: 'Pod',
    apiVersion: 'v1',
    spec: { restartPolicy: 'Never', containers: [{ name: 'a', ports: [{ containerPort: 1 }] }] },
  };
  t.same(judge(policy, bare), [], 'a pod that runs to completion');
  t.notOk(policy.kinds.includes('Job') || policy.kinds.includes('CronJob'), 'batch kinds are not judged');
});
