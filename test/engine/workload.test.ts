import t from 'tap';
import { REPLICATED_KINDS, WORKLOAD_KINDS, longRunningContainers, resourceContainers, toWorkload } from '../../src/engine/index.js';
import type { KubeObject, Workload } from '../../src/engine/index.js';

const podSpec = {
  os: { name: 'linux' },
  initContainers: [
    { name: 'setup', image: 'setup:1' },
    { name: 'proxy', image: 'proxy:1', restartPolicy: 'Always' },
  ],
  containers: [
    { name: 'app', image: 'app:1' },
    { name: 'worker', image: 'worker:1' },
  ],
  ephemeralContainers: [{ name: 'debugger', image: 'busybox:1' }],
};
const labels = { app: 'x' };
const template = { metadata: { labels }, spec: podSpec };

/** One object of each workload kind with the same pod spec, and where it must be found. */
const KINDS: Record<string, { object: KubeObject; podSpecPath: string }> = {
  Pod: { object: { kind: 'Pod', metadata: { name: 'p', labels }, spec: podSpec }, podSpecPath: 'spec' },
  Deployment: { object: { kind: 'Deployment', metadata: { name: 'd' }, spec: { template } }, podSpecPath: 'spec.template.spec' },
  StatefulSet: { object: { kind: 'StatefulSet', metadata: { name: 's' }, spec: { template } }, podSpecPath: 'spec.template.spec' },
  DaemonSet: { object: { kind: 'DaemonSet', metadata: { name: 'ds' }, spec: { template } }, podSpecPath: 'spec.template.spec' },
  ReplicaSet: { object: { kind: 'ReplicaSet', metadata: { name: 'rs' }, spec: { template } }, podSpecPath: 'spec.template.spec' },
  ReplicationController: {
    object: { kind: 'ReplicationController', metadata: { name: 'rc' }, spec: { template } },
    podSpecPath: 'spec.template.spec',
  },
  Job: { object: { kind: 'Job', metadata: { name: 'j' }, spec: { template } }, podSpecPath: 'spec.template.spec' },
  CronJob: {
    object: { kind: 'CronJob', metadata: { name: 'cj' }, spec: { jobTemplate: { spec: { template } } } },
    podSpecPath: 'spec.jobTemplate.spec.template.spec',
  },
  PodTemplate: { object: { kind: 'PodTemplate', metadata: { name: 'pt' }, template } as KubeObject, podSpecPath: 'template.spec' },
};

function workloadOf(object: unknown, ns = 'default'): Workload {
  const workload = toWorkload(object as KubeObject, ns);
  if (!workload) throw new Error('expected a workload');
  return workload;
}

t.test('every workload kind is covered by these cases', async (t) => {
  t.same([...WORKLOAD_KINDS].sort(), Object.keys(KINDS).sort());
});

for (const [kind, { object, podSpecPath }] of Object.entries(KINDS)) {
  t.test(`${kind}: pod spec, labels and container paths`, async (t) => {
    const w = workloadOf(object);
    t.equal(w.kind, kind);
    t.equal(w.podSpecPath, podSpecPath);
    t.equal(w.podSpec, podSpec, 'the very pod spec object, not a copy');
    t.same(w.podLabels, labels);
    t.same(
      w.containers.map((c) => [c.name, c.list, c.index, c.path, c.sidecar]),
      [
        ['app', 'containers', 0, `${podSpecPath}.containers[0]`, false],
        ['worker', 'containers', 1, `${podSpecPath}.containers[1]`, false],
        ['setup', 'initContainers', 0, `${podSpecPath}.initContainers[0]`, false],
        ['proxy', 'initContainers', 1, `${podSpecPath}.initContainers[1]`, true],
        ['debugger', 'ephemeralContainers', 0, `${podSpecPath}.ephemeralContainers[0]`, false],
      ],
    );
    t.equal(w.batch, kind === 'Job' || kind === 'CronJob');
    t.equal(w.replicas, REPLICATED_KINDS.has(kind) ? 1 : undefined, 'replicas default to 1 on replicated kinds only');
  });
}

t.test('container selections for the policies', async (t) => {
  const w = workloadOf(KINDS.Deployment?.object);
  t.same(
    longRunningContainers(w).map((c) => c.name),
    ['app', 'worker', 'proxy'],
    'regular containers and native sidecars',
  );
  t.same(
    resourceContainers(w).map((c) => c.name),
    ['app', 'worker', 'setup', 'proxy'],
    'everything but ephemeral containers',
  );
});

t.test('identity, namespace, replicas, ownership, Windows', async (t) => {
  const w = workloadOf({
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'shop', ownerReferences: [{ kind: 'Thing', name: 'x', controller: true }] },
    spec: { replicas: 4, template: { spec: { os: { name: 'windows' } } } },
  });
  t.match(w, { name: 'web', namespace: 'shop', replicas: 4, controllerOwned: true, windows: true });
  t.equal(workloadOf({ kind: 'Pod', metadata: { name: 'p' } }, 'fallback').namespace, 'fallback', 'the default namespace applies');
  t.equal(workloadOf({ kind: 'Pod', metadata: { generateName: 'p-' } }).name, 'p-', 'generateName when there is no name');
  const notController = workloadOf({ kind: 'ReplicaSet', metadata: { ownerReferences: [{ kind: 'Deployment', name: 'x' }] } });
  t.equal(notController.controllerOwned, false, 'an owner that is not the controller does not count');
  t.equal(workloadOf({ kind: 'Deployment', spec: { replicas: 0 } }).replicas, 0);
  t.equal(workloadOf({ kind: 'Deployment', spec: { replicas: 'three' } }).replicas, 1, 'a non-number falls back to the default');
});

t.test('unknown kinds and non-workloads are not workloads', async (t) => {
  for (const kind of ['Service', 'PodDisruptionBudget', 'pod', '', undefined]) {
    t.equal(toWorkload({ kind, spec: { containers: [] } } as KubeObject, 'default'), undefined, String(kind));
  }
});

t.test('malformed input never throws and yields what can be read', async (t) => {
  t.same(workloadOf({ kind: 'Pod', spec: 5 }).containers, [], 'spec: 5');
  t.same(workloadOf({ kind: 'Pod', spec: { containers: 'x' } }).containers, [], 'containers: "x"');
  t.same(workloadOf({ kind: 'Deployment', spec: { template: [] } }).containers, [], 'template is an array');
  const odd = workloadOf({
    kind: 'Pod',
    metadata: { labels: { a: 'b', n: 1 } },
    spec: { containers: [null, 5, 'x', { name: 7 }, { name: 'ok' }] },
  });
  t.same(
    odd.containers.map((c) => [c.name, c.path]),
    [
      ['containers[3]', 'spec.containers[3]'],
      ['ok', 'spec.containers[4]'],
    ],
    'non-objects are skipped; a nameless container is named by its position',
  );
  t.same(odd.podLabels, { a: 'b' }, 'non-string labels are dropped');
  const meta = workloadOf({ kind: 'Pod', metadata: 'x', spec: { os: 'windows' } });
  t.match(meta, { name: '', namespace: 'default', windows: false, controllerOwned: false });
});
