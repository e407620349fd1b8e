import t from 'tap';
import type { Container, KubeObject } from '../../src/engine/index.js';
import { examples, judge } from '../../test/helpers/manifests.js';
import { sameCheck } from './handler.js';
import policy from './policy.js';

const { good, bad, get } = examples('liveness-not-readiness');
const pod = (container: Record<string, unknown>, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p' },
  spec: { ...spec, containers: [{ name: 'app', image: 'a:1', ...container }] },
});
const same = (a: unknown, b: unknown, container: Container & { ports?: unknown } = {}) => sameCheck(a, b, container);

t.test('good examples pass', async (t) => {
  for (const [name, obj] of good) t.same(judge(policy, obj), [], name);
});

t.test('every bad example fails', async (t) => {
  for (const [name, obj] of bad) t.equal(judge(policy, obj).length, 1, name);
});

t.test('the same check warns at the livenessProbe, whatever the timings', async (t) => {
  const findings = judge(policy, get('same-endpoint'));
  t.match(findings[0], {
    policy: 'liveness-not-readiness',
    action: 'warn',
    container: 'api',
    path: 'spec.template.spec.containers[0].livenessProbe',
    remediation: policy.fix,
  });
  t.match(findings[0]?.message, /container "api": liveness is the readiness check: use a local check/);
});

t.test('handlers and targets are compared as the kubelet runs them', async (t) => {
  const http = (h: Record<string, unknown>) => ({ httpGet: { port: 8080, ...h } });
  t.ok(same(http({ path: '/h' }), { ...http({ path: '/h' }), timeoutSeconds: 5, successThreshold: 1 }), 'timings are no part of the check');
  t.ok(same(http({}), http({ path: '/' })), 'no path is /');
  t.ok(same(http({ path: 'healthz' }), http({ path: '/healthz' })), 'a path without a leading slash');
  t.ok(same(http({ scheme: 'HTTP' }), http({})), 'HTTP is the default scheme');
  t.ok(same(http({ port: '8080' }), http({ port: 8080 })), 'a number in a string');
  t.ok(same(http({ port: 'web' }), http({ port: 8080 }), { ports: [{ name: 'web', containerPort: 8080 }] }), 'a named port');
  t.notOk(same(http({ port: 'web' }), http({ port: 8080 })), 'a name no port has stays a name');
  t.ok(
    same(
      http({
        httpHeaders: [
          { name: 'X-A', value: '1' },
          { name: 'b', value: '2' },
        ],
      }),
      http({
        httpHeaders: [
          { name: 'B', value: '2' },
          { name: 'x-a', value: '1' },
        ],
      }),
    ),
    'header names ignore case and order',
  );
  t.notOk(same(http({ httpHeaders: [{ name: 'X-Check', value: 'deep' }] }), http({})), 'a header that selects another check');
  t.notOk(same(http({ path: '/h?deep=1' }), http({ path: '/h' })), 'a query string');
  t.notOk(same(http({ scheme: 'HTTPS' }), http({})));
  t.notOk(same(http({ host: 'other' }), http({})));
  t.ok(same({ tcpSocket: { port: 80 } }, { tcpSocket: { port: 80, host: '' } }));
  t.notOk(same({ tcpSocket: { port: 80 } }, http({ port: 80 })), 'tcp and http on one port are different checks');
  t.ok(same({ grpc: { port: 9 } }, { grpc: { port: 9, service: '' } }));
  t.notOk(same({ grpc: { port: 9, service: 'liveness' } }, { grpc: { port: 9, service: 'readiness' } }));
  t.notOk(same({ exec: { command: ['a', 'b'] } }, { exec: { command: ['a'] } }));
  t.notOk(same({ exec: { command: ['a'] }, httpGet: { port: 1 } }, { exec: { command: ['a'] } }), 'a handler only one of them has');
  t.notOk(same({ httpGet: 'x' }, { httpGet: 'x' }), 'no readable handler');
});

t.test('only a container with both probes, of a pod that keeps running, is judged', async (t) => {
  const probe = { httpGet: { path: '/h', port: 1 } };
  t.same(judge(policy, pod({ livenessProbe: probe })), [], 'no readinessProbe');
  t.same(judge(policy, pod({ readinessProbe: probe })), [], 'no livenessProbe');
  t.same(
    judge(policy, pod({ livenessProbe: probe, readinessProbe: probe }, { restartPolicy: 'OnFailure' })),
    [],
    'a pod that runs to completion',
  );
  const sidecar: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p' },
    spec: {
      initContainers: [{ name: 'proxy', restartPolicy: 'Always', livenessProbe: probe, readinessProbe: probe }],
      containers: [{ name: 'app' }],
    },
  };
  t.same(
    judge(policy, sidecar).map((f) => f.path),
    ['spec.initContainers[0].livenessProbe'],
    'a native sidecar',
  );
});

t.test('probes of untrusted shape never crash and never compare equal by accident', async (t) => {
  for (const [liveness, readiness] of [
    ['x', 'x'],
    [{}, {}],
    [{ httpGet: 'x' }, { httpGet: 'x' }],
    [{ timeoutSeconds: 1 }, { timeoutSeconds: 1 }],
  ]) {
    t.same(judge(policy, pod({ livenessProbe: liveness, readinessProbe: readiness })), [], 'no handler: nothing to compare');
  }
  t.equal(
    judge(policy, pod({ livenessProbe: { httpGet: { port: [1] } }, readinessProbe: { httpGet: { port: [1] } } })).length,
    1,
    'odd values compare as they are',
  );
  t.doesNotThrow(() =>
    judge(
      policy,
      pod({
        ports: 'x',
        livenessProbe: { httpGet: { port: 'a', httpHeaders: ['x', 5] } },
        readinessProbe: { httpGet: { port: 'a', httpHeaders: 'x' } },
      }),
    ),
  );
});
