import t from 'tap';
import { auditTexts } from '../../src/audit/index.js';
import { ClusterCache } from '../../src/cluster/api/informers.js';
import { scanCluster } from '../../src/cluster/scan/scanner.js';
import { DEFAULT_CONFIG, changesJudgedFields, compileConfig, evaluate } from '../../src/engine/index.js';
import type { ClusterContext, KubeObject } from '../../src/engine/index.js';
import { withoutClusterPolicies } from '../../src/server/blind.js';
import { FakeClock, captureLogger, fakeClusterSources, listReader } from '../../test/helpers/cluster.js';
import { limitRange } from '../../test/helpers/limit-ranges.js';
import { examples, judge } from '../../test/helpers/manifests.js';
import policy from './policy.js';

const { good, bad } = examples('hpa-target-requests');
const judged = (obj: KubeObject) => policy.kinds.includes(String(obj.kind));
const config = compileConfig(DEFAULT_CONFIG, [policy]);

type Obj = Record<string, unknown>;
const container = (name: string, resources?: Obj): Obj => ({ name, image: `example/${name}:1.0`, ...(resources ? { resources } : {}) });
const cpu = { requests: { cpu: '100m' } };

function deployment(podSpec: Obj, metadata: Obj = {}, kind = 'Deployment'): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind,
    metadata: { name: 'web', namespace: 'shop', ...metadata },
    spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: podSpec } },
  };
}
const oneContainer = (resources?: Obj) => deployment({ containers: [container('app', resources)] });

function hpa(spec: Obj, options: { name?: string; apiVersion?: string; namespace?: string; target?: Obj } = {}): KubeObject {
  return {
    apiVersion: options.apiVersion ?? 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: options.name ?? 'web-hpa', namespace: options.namespace ?? 'shop' },
    spec: { scaleTargetRef: options.target ?? { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 5, ...spec },
  };
}
const resource = (name: unknown, target: Obj) => ({ type: 'Resource', resource: { name, target } });
const utilization = { type: 'Utilization', averageUtilization: 70 };
const onCpu = (extra: Obj = {}) => hpa({ metrics: [resource('cpu', utilization)], ...extra });
const containerResource = (name: string, containerName: unknown, target: Obj = utilization) => ({
  type: 'ContainerResource',
  containerResource: { name, container: containerName, target },
});

/** Findings on the HPA (its target as context) and on the workload (the HPA as context). */
const both = (h: KubeObject, w: KubeObject) => ({ onHpa: judge(policy, h, [w]), onWorkload: judge(policy, w, [h]) });
const count = (h: KubeObject, w: KubeObject): [number, number] => {
  const { onHpa, onWorkload } = both(h, w);
  return [onHpa.length, onWorkload.length];
};

t.test('good examples pass', async (t) => {
  for (const [name, obj] of good) if (judged(obj)) t.same(judge(policy, obj, good.values()), [], name);
});

t.test('every bad example fails with its counterpart in the input, and says nothing alone', async (t) => {
  for (const [name, obj] of bad) {
    if (!judged(obj)) continue;
    t.equal(judge(policy, obj, bad.values()).length, 1, name);
    t.same(judge(policy, obj), [], `${name}: no counterpart, no finding`);
  }
});

t.test('a Resource metric on the HPA: the target container without the request, its field and the fix', async (t) => {
  const { onHpa, onWorkload } = both(onCpu(), oneContainer({ requests: { memory: '1Gi' } }));
  t.match(onHpa, [
    {
      policy: 'hpa-target-requests',
      action: 'warn',
      path: 'spec.metrics[0].resource.target.type',
      container: 'app',
      message: 'Deployment "web" needs a cpu request: set it on container "app"',
    },
  ]);
  t.match(
    onHpa[0]?.remediation,
    /# in Deployment "web", container "app" \(spec\.template\.spec\.containers\[0\]\):\nresources:\n {2}requests:\n {4}cpu: 100m/,
  );
  t.match(onHpa[0]?.remediation, /type: AverageValue, averageValue: 500m/, 'or an absolute target');
  t.match(onWorkload, [
    {
      path: 'spec.template.spec.containers[0].resources.requests.cpu',
      container: 'app',
      message: 'HPA "web-hpa" needs a cpu request: set it on container "app"',
      remediation: /resources:\n {2}requests:\n {4}cpu: 100m {3}# HPA "web-hpa" scales on cpu utilization/,
    },
  ]);
});

t.test('a Resource metric needs the request on every container the pod runs, native sidecars included', async (t) => {
  const pod = deployment({
    initContainers: [container('migrate'), { ...container('proxy'), restartPolicy: 'Always' }],
    containers: [container('app', cpu), container('shipper')],
    ephemeralContainers: [container('debug')],
  });
  const { onHpa, onWorkload } = both(onCpu(), pod);
  t.same(
    onWorkload.map((f) => [f.container, f.path]),
    [
      ['shipper', 'spec.template.spec.containers[1].resources.requests.cpu'],
      ['proxy', 'spec.template.spec.initContainers[1].resources.requests.cpu'],
    ],
    'the sidecar and the second container; not a plain init container, not an ephemeral one',
  );
  t.same(
    onHpa.map((f) => f.container),
    ['shipper', 'proxy'],
  );
});

t.test('what counts as a request: a limit alone does, zero and nothing do not', async (t) => {
  t.same(count(onCpu(), oneContainer(cpu)), [0, 0]);
  t.same(count(onCpu(), oneContainer({ limits: { cpu: '1' } })), [0, 0], 'the API server copies the limit into the request');
  t.same(count(onCpu(), oneContainer({ requests: { cpu: '0' } })), [1, 1], 'zero: nothing to divide by');
  t.same(count(onCpu(), oneContainer({ requests: { cpu: 0 }, limits: { cpu: '1' } })), [1, 1], 'a zero request beside a limit stays zero');
  t.same(count(onCpu(), oneContainer({ requests: { memory: '1Gi' }, limits: { memory: '1Gi' } })), [1, 1], 'memory is not cpu');
  t.same(count(onCpu(), oneContainer()), [1, 1]);
  t.same(count(onCpu(), oneContainer({ requests: 'cpu' })), [1, 1], 'requests of the wrong type');
  t.same(count(onCpu(), deployment({ containers: 'app' })), [0, 0], 'no container list: nothing the pod runs to name');
});

t.test("a namespace's LimitRange default request counts, as the LimitRanger fills it in", async (t) => {
  const counted = (w: KubeObject, ranges: KubeObject[]): [number, number] => [
    judge(policy, onCpu(), [w, ...ranges]).length,
    judge(policy, w, [onCpu(), ...ranges]).length,
  ];
  const defaults = limitRange('defaults', [{ type: 'Container', defaultRequest: { cpu: '100m' } }]);
  t.same(counted(oneContainer(), [defaults]), [0, 0], 'defaultRequest.cpu supplies the request on both sides');
  t.same(
    counted(oneContainer(), [limitRange('limits', [{ type: 'Container', default: { cpu: '1' } }])]),
    [0, 0],
    'default alone sets the request too',
  );
  t.same(
    counted(oneContainer(), [limitRange('mem', [{ type: 'Container', defaultRequest: { memory: '128Mi' } }])]),
    [1, 1],
    'memory is not cpu',
  );
  t.same(counted(oneContainer(), [limitRange('pod', [{ type: 'Pod', max: { cpu: '2' } }])]), [1, 1], 'a Pod item defaults nothing');
  t.same(
    counted(oneContainer(), [limitRange('other', [{ type: 'Container', defaultRequest: { cpu: '100m' } }], 'elsewhere')]),
    [1, 1],
    'another namespace',
  );
  t.same(counted(oneContainer({ requests: { cpu: '0' } }), [defaults]), [1, 1], 'a written zero is never filled in');
});

t.test('memory: Utilization needs the memory request; AverageValue and Value targets need none', async (t) => {
  const onMemory = (target: Obj) => hpa({ metrics: [resource('memory', target)] });
  const cpuOnly = oneContainer(cpu);
  t.match(judge(policy, cpuOnly, [onMemory(utilization)]), [
    {
      path: 'spec.template.spec.containers[0].resources.requests.memory',
      message: /HPA "web-hpa" needs a memory request: set it on container "app"/,
    },
  ]);
  t.same(count(onMemory({ type: 'AverageValue', averageValue: '1Gi' }), cpuOnly), [0, 0]);
  t.same(count(onMemory({ type: 'Value', value: '1Gi' }), cpuOnly), [0, 0]);
  t.same(count(hpa({ metrics: [resource('ephemeral-storage', utilization)] }), cpuOnly), [0, 0], 'no metrics API serves it as utilization');
  const external = { type: 'External', external: { metric: { name: 'queue' }, target: { type: 'AverageValue', averageValue: '30' } } };
  const pods = { type: 'Pods', pods: { metric: { name: 'rps' }, target: { type: 'AverageValue', averageValue: '10' } } };
  t.same(count(hpa({ metrics: [external, pods] }), oneContainer()), [0, 0], 'Pods and External metrics are absolute');
});

t.test('ContainerResource: only the named container, and a name the pod does not run', async (t) => {
  const pod = deployment({ containers: [container('app', { requests: { memory: '1Gi' } }), container('shipper')] });
  const memoryOfApp = hpa({ metrics: [containerResource('memory', 'app')] });
  t.same(count(memoryOfApp, pod), [0, 0], 'the shipper without requests does not matter');
  const cpuOfApp = hpa({ metrics: [containerResource('cpu', 'app')] });
  const { onHpa, onWorkload } = both(cpuOfApp, pod);
  t.match(onHpa, [
    {
      path: 'spec.metrics[0].containerResource.target.type',
      container: 'app',
      message: /needs a cpu request: set it on container "app"/,
    },
  ]);
  t.match(onWorkload, [{ path: 'spec.template.spec.containers[0].resources.requests.cpu', container: 'app' }]);

  const missing = both(hpa({ metrics: [containerResource('cpu', 'server')] }), pod);
  t.match(missing.onHpa, [
    {
      path: 'spec.metrics[0].containerResource.container',
      message: 'Deployment "web" runs no container "server": set containerResource.container',
      remediation: /container: "app" {3}# Deployment "web" runs: app, shipper/,
    },
  ]);
  t.notOk(missing.onHpa[0]?.container, 'no container of that name to point at');
  t.match(missing.onWorkload, [
    {
      path: 'spec.template.spec.containers',
      message: 'HPA "web-hpa" measures container "server", not in the pod: keep it or fix the HPA',
    },
  ]);
  const sidecarNamed = deployment({
    initContainers: [{ ...container('proxy', cpu), restartPolicy: 'Always' }],
    containers: [container('app')],
  });
  t.same(count(hpa({ metrics: [containerResource('cpu', 'proxy')] }), sidecarNamed), [0, 0], 'a native sidecar can be the one measured');
  const plainInit = deployment({ initContainers: [container('setup', cpu)], containers: [container('app', cpu)] });
  t.same(count(hpa({ metrics: [containerResource('cpu', 'setup')] }), plainInit), [1, 1], 'a plain init container is not measured');
  for (const name of [undefined, '', 7]) {
    t.same(count(hpa({ metrics: [containerResource('cpu', name)] }), pod), [0, 0], `container ${String(name)}: the API server refuses it`);
  }
});

t.test('autoscaling/v1 and the defaults: an HPA without metrics scales on cpu at 80%', async (t) => {
  const v1 = (percent?: unknown) =>
    hpa(percent === undefined ? {} : { targetCPUUtilizationPercentage: percent }, { apiVersion: 'autoscaling/v1' });
  t.match(judge(policy, v1(60), [oneContainer()]), [{ path: 'spec.targetCPUUtilizationPercentage', container: 'app' }]);
  t.same(count(v1(60), oneContainer(cpu)), [0, 0]);
  t.same(count(v1('60'), oneContainer()), [1, 1], 'a quoted percentage still asks for cpu utilization');
  t.match(judge(policy, v1(), [oneContainer()]), [
    {
      path: 'spec.targetCPUUtilizationPercentage',
      message: 'Deployment "web" needs a cpu request: set it on container "app"',
      remediation: /^# an HPA without metrics scales on cpu at 80% utilization/,
    },
  ]);
  t.match(
    judge(policy, hpa({}), [oneContainer()]),
    [{ path: 'spec.metrics', remediation: /^# an HPA without metrics scales on cpu at 80% utilization/ }],
    'v2, no metrics',
  );
  t.same(count(hpa({ metrics: [] }), oneContainer()), [1, 1], 'an empty list is defaulted the same way');
  t.same(count(hpa({ metrics: null }), oneContainer()), [1, 1], 'null is unset');
  t.same(
    count(hpa({ targetCPUUtilizationPercentage: 50 }, { apiVersion: 'x' }), oneContainer()),
    [1, 1],
    'v1 fields without a v1 apiVersion are read as v1',
  );
  const v2beta1 = (field: string) =>
    hpa({ metrics: [{ type: 'Resource', resource: { name: 'cpu', [field]: 50 } }] }, { apiVersion: 'autoscaling/v2beta1' });
  t.match(judge(policy, v2beta1('targetAverageUtilization'), [oneContainer()]), [
    { path: 'spec.metrics[0].resource.targetAverageUtilization' },
  ]);
  t.same(count(v2beta1('targetAverageValue'), oneContainer()), [0, 0], 'v2beta1 absolute target');
});

t.test('pod-level requests replace the containers for a Resource metric, not for a ContainerResource one', async (t) => {
  const podLevel = (requests: Obj, containers: Obj[] = [container('app'), container('helper')]) =>
    deployment({ resources: { requests }, containers });
  t.same(count(onCpu(), podLevel({ cpu: '1' })), [0, 0]);
  t.same(count(onCpu(), podLevel({ memory: '1Gi' }, [container('app', cpu), container('helper')])), [0, 0], 'the sum of those that set it');
  const { onHpa, onWorkload } = both(onCpu(), podLevel({ memory: '1Gi' }));
  t.match(onWorkload, [
    {
      path: 'spec.template.spec.resources.requests.cpu',
      message: /HPA "web-hpa" needs a cpu request: set it in the pod-level requests/,
    },
  ]);
  t.match(onHpa, [{ path: 'spec.metrics[0].resource.target.type', message: /needs a cpu request: set it in its pod-level requests/ }]);
  t.notOk(onWorkload[0]?.container);
  t.same(
    count(hpa({ metrics: [containerResource('cpu', 'app')] }), podLevel({ cpu: '1' })),
    [1, 1],
    'the named container still needs its own',
  );
});

t.test('wrong types from untrusted input never crash and never invent a metric', async (t) => {
  const w = oneContainer();
  for (const metrics of ['cpu', 5, { type: 'Resource' }, [null, 'x', 3, [], {}], [{ type: 'Resource', resource: 'cpu' }]]) {
    t.same(count(hpa({ metrics }), w), [0, 0], JSON.stringify(metrics));
  }
  for (const bad of [
    { name: 5, target: utilization },
    { name: 'cpu', target: 'Utilization' },
    { name: 'cpu', target: { type: 'utilization' } },
  ]) {
    t.same(count(hpa({ metrics: [{ type: 'Resource', resource: bad }] }), w), [0, 0], JSON.stringify(bad));
  }
  t.same(
    count(hpa({ metrics: [{ type: 'ContainerResource', resource: { name: 'cpu', target: utilization } }] }), w),
    [0, 0],
    'the wrong field for its type',
  );
  for (const target of [undefined, 'web', { kind: 'Deployment' }, { kind: 'Deployment', name: 5 }, { kind: 7, name: 'web' }]) {
    const h = {
      ...onCpu(),
      spec: { metrics: [resource('cpu', utilization)], ...(target === undefined ? {} : { scaleTargetRef: target }) },
    };
    t.same(judge(policy, h, [w]), [], `scaleTargetRef ${JSON.stringify(target)}`);
  }
  t.same(judge(policy, { ...onCpu(), spec: 'x' }, [w]), [], 'a spec that is no mapping');
  t.same(judge(policy, { ...w, spec: 7 }, [onCpu()]), [], 'a workload spec that is no mapping');
});

t.test('which HPAs and targets: kind, name and namespace must all match', async (t) => {
  const w = oneContainer();
  t.same(count(hpa({}, { target: { kind: 'StatefulSet', name: 'web' } }), w), [0, 0], 'an HPA of a StatefulSet of that name');
  t.same(count(hpa({}, { target: { kind: 'Deployment', name: 'api' } }), w), [0, 0], 'an HPA of another Deployment');
  t.same(count(hpa({}, { namespace: 'other' }), w), [0, 0], 'an HPA in another namespace');
  for (const kind of ['StatefulSet', 'ReplicaSet', 'ReplicationController']) {
    const other = deployment({ containers: [container('app')] }, {}, kind);
    t.same(count(hpa({}, { target: { kind, name: 'web' } }), other), [1, 1], kind);
  }
  const owned = deployment(
    { containers: [container('app')] },
    { ownerReferences: [{ kind: 'Deployment', name: 'web', uid: 'u', controller: true }] },
    'ReplicaSet',
  );
  t.same(
    count(hpa({}, { target: { kind: 'ReplicaSet', name: 'web' } }), owned),
    [0, 0],
    "a Deployment's ReplicaSet is scaled through the Deployment",
  );
  const job = { ...deployment({ containers: [container('app')] }), kind: 'Job', apiVersion: 'batch/v1' };
  t.same(judge(policy, job, [hpa({}, { target: { kind: 'Job', name: 'web' } })]), [], 'a Job is not judged');
  t.notOk(policy.kinds.includes('Job'));
});

t.test('two HPAs on one workload (a conflict of its own) name each missing request once', async (t) => {
  const w = deployment({ containers: [container('app')] });
  const findings = judge(policy, w, [
    onCpu(),
    onCpu({ name: 'second' }),
    hpa({ metrics: [resource('memory', utilization)] }, { name: 'mem' }),
  ]);
  t.same(
    findings.map((f) => f.path),
    ['spec.template.spec.containers[0].resources.requests.cpu', 'spec.template.spec.containers[0].resources.requests.memory'],
  );
  t.match(findings[0]?.message, /HPA "web-hpa"/, 'the first HPA names it');
});

t.test('UPDATEs: a change of the HPA metrics or target is judged, a label is not', async (t) => {
  const before = onCpu();
  const label = { ...before, metadata: { name: 'web-hpa', namespace: 'shop', labels: { team: 'b' } } };
  t.equal(changesJudgedFields(before, label, 'HorizontalPodAutoscaler', config), false);
  t.equal(changesJudgedFields(before, onCpu({ maxReplicas: 9 }), 'HorizontalPodAutoscaler', config), false, 'maxReplicas is no input');
  t.equal(changesJudgedFields(before, hpa({ metrics: [resource('memory', utilization)] }), 'HorizontalPodAutoscaler', config), true);
  t.equal(
    changesJudgedFields(before, onCpu({ scaleTargetRef: { kind: 'Deployment', name: 'api' } }), 'HorizontalPodAutoscaler', config),
    true,
  );
  t.equal(changesJudgedFields(before, onCpu({ targetCPUUtilizationPercentage: 50 }), 'HorizontalPodAutoscaler', config), true);
  t.equal(changesJudgedFields(oneContainer(), oneContainer(cpu), 'Deployment', config), true, "a container's requests");
});

t.test('it says only what a known target or HPA shows: a webhook without a cluster still runs it', async (t) => {
  t.notOk(policy.needsCluster);
  t.equal(withoutClusterPolicies(config).active.length, 1);
  t.equal(policy.defaultAction, 'warn');
});

t.test('offline: `practice-gate audit` with the HPA and the workload in separate files', async (t) => {
  const deploymentText =
    'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web }\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: example/app:1.0\n';
  const hpaText =
    'apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: { name: web }\nspec:\n  scaleTargetRef: { kind: Deployment, name: web }\n  maxReplicas: 3\n';
  const { report } = auditTexts(
    [
      { source: 'deploy.yaml', text: deploymentText },
      { source: 'hpa.yaml', text: hpaText },
    ],
    config,
    'default',
  );
  const found = report.results.flatMap((r) => r.findings.map((f) => [r.kind, f.file, f.line, f.path]));
  t.same(found, [
    ['Deployment', 'deploy.yaml', 8, 'spec.template.spec.containers[0].resources.requests.cpu'],
    ['HorizontalPodAutoscaler', 'hpa.yaml', 4, 'spec.metrics'],
  ]);
  t.same(auditTexts([{ source: 'deploy.yaml', text: deploymentText }], config, 'default').report.summary.warn, 0, 'the workload alone');
});

t.test("the webhook's informers: the HPA arrives after the workload, then the workload goes, then the HPA", async (t) => {
  const { logger } = captureLogger();
  const sources = fakeClusterSources();
  const cache = new ClusterCache({ sources, logger, clock: new FakeClock(), backoff: { initialMs: 1000, maxMs: 8000, jitter: 0 } });
  cache.start();
  await cache.synced;
  t.teardown(() => cache.close());
  const findings = (object: KubeObject, context: ClusterContext) => evaluate(object, context, config)?.findings ?? [];
  const target = deployment({ containers: [container('app', cpu), container('shipper')] }, { uid: 'u-web' });
  const hpaObject = onCpu() as Obj;

  t.same(findings(hpaObject, cache.context), [], 'the HPA first: no target known, nothing to say yet');
  sources.deployments.emit('ADDED', target as Obj);
  t.match(
    findings(hpaObject, cache.context),
    [{ container: 'shipper', path: 'spec.metrics[0].resource.target.type' }],
    'its next write is judged against the live target (from the projection: app requests cpu, shipper does not)',
  );
  t.same(findings(target, cache.context), [], 'the workload before the HPA reaches the informer: nothing to say');
  sources.horizontalpodautoscalers.emit('ADDED', hpaObject);
  t.match(findings(target, cache.context), [{ container: 'shipper', path: 'spec.template.spec.containers[1].resources.requests.cpu' }]);

  const fixed = deployment({ containers: [container('app', cpu), container('shipper', { limits: { cpu: '200m' } })] }, { uid: 'u-web' });
  sources.deployments.emit('MODIFIED', fixed as Obj);
  t.same(findings(hpaObject, cache.context), [], 'the target fixed (a limit alone): the HPA passes');
  sources.deployments.emit('DELETED', fixed as Obj);
  t.same(findings(hpaObject, cache.context), [], 'the target deleted: unknown again');

  sources.horizontalpodautoscalers.emit('DELETED', hpaObject);
  t.same(findings(target, cache.context), [], 'the HPA deleted: the requests are no longer its business');
});

t.test('the cluster audit (PolicyReports, audit --cluster) judges both sides with no extra wiring', async (t) => {
  const objects = [
    deployment({ containers: [container('app')] }, { uid: 'u-1' }),
    deployment({ containers: [container('app', cpu)] }, { name: 'api', uid: 'u-2' }),
    onCpu(),
    onCpu({ scaleTargetRef: { kind: 'Deployment', name: 'api' } }),
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
  ] as Obj[];
  (objects[3] as { metadata: Obj }).metadata = { name: 'api-hpa', namespace: 'shop' };
  const scan = await scanCluster(listReader(objects), config);
  const found = scan.judged.flatMap((j) => j.evaluation.findings.map((f) => `${j.evaluation.kind} ${j.evaluation.name}: ${f.path}`));
  t.same(found, [
    'HorizontalPodAutoscaler web-hpa: spec.metrics[0].resource.target.type',
    'Deployment web: spec.template.spec.containers[0].resources.requests.cpu',
  ]);
});
