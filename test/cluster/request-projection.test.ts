// What the webhook keeps of a workload's pod spec for hpa-target-requests: enough to judge an
// HPA write against the live target (names, cpu and memory requests and limits, sidecars, the
// pod-level requests) with every container at its own index, and nothing else.
import t from 'tap';
import { projectPodRequests } from '../../src/cluster/api/request-projection.js';
import { projectWorkload } from '../../src/cluster/api/workload-projection.js';
import { toWorkload } from '../../src/engine/index.js';

const podSpec = {
  resources: { requests: { cpu: '1', 'hugepages-2Mi': '1Gi' } },
  initContainers: [
    { name: 'migrate', image: 'm:1', resources: { requests: { cpu: '2' } }, command: ['migrate'] },
    { name: 'proxy', image: 'p:1', restartPolicy: 'Always', resources: { limits: { cpu: '200m', 'nvidia.com/gpu': 1 } } },
  ],
  containers: [
    {
      name: 'app',
      image: 'a:1',
      env: [{ name: 'A', value: 'b' }],
      resources: { requests: { cpu: '100m', memory: 128 }, limits: { memory: '256Mi' } },
    },
    { name: 'shipper', image: 's:1' },
  ],
  volumes: [{ name: 'v', emptyDir: {} }],
  serviceAccountName: 'app',
};

t.test('names, cpu and memory only; a plain init container by name; every container at its index', async (t) => {
  t.same(JSON.parse(JSON.stringify(projectPodRequests(podSpec))), {
    containers: [{ name: 'app', resources: { requests: { cpu: '100m', memory: 128 }, limits: { memory: '256Mi' } } }, { name: 'shipper' }],
    initContainers: [{ name: 'migrate' }, { name: 'proxy', restartPolicy: 'Always', resources: { limits: { cpu: '200m' } } }],
    resources: { requests: { cpu: '1' } },
  });
  const projected = projectWorkload('Deployment', 'apps/v1', { metadata: { name: 'web' }, spec: { template: { spec: podSpec } } });
  const view = toWorkload(projected?.object ?? {}, 'default');
  t.same(
    view?.containers.map((c) => [c.name, c.path, c.sidecar]),
    [
      ['app', 'spec.template.spec.containers[0]', false],
      ['shipper', 'spec.template.spec.containers[1]', false],
      ['migrate', 'spec.template.spec.initContainers[0]', false],
      ['proxy', 'spec.template.spec.initContainers[1]', true],
    ],
    'the engine sees the same containers at the same paths as in the object',
  );
  t.same(projectPodRequests(projectPodRequests(podSpec)), projectPodRequests(podSpec), 'projecting a projection changes nothing');
});

t.test('untrusted shapes: nothing crashes, nothing is invented', async (t) => {
  t.same(projectPodRequests(undefined), {});
  t.same(projectPodRequests({ containers: 'app', initContainers: {}, resources: [] }), {});
  const odd = projectPodRequests({ containers: [null, { name: 5, resources: { requests: { cpu: true, memory: {} } } }] });
  t.same(JSON.parse(JSON.stringify(odd)), { containers: [{}, {}] }, 'each still holds its place');
});
