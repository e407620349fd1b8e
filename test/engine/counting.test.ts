// Past its listing cap a policy only counts: the engine hands it the slice marked `counting`, and
// the policy returns COUNTED for each container's violation instead of writing out a path and a
// message that would be dropped (a pod with 100,000 failing containers has about a million).
import t from 'tap';
import { POLICIES } from '../../policies/index.js';
import { COUNTED, DEFAULT_CONFIG, EMPTY_CONTEXT, WORKLOAD_KINDS, compileConfig, evaluate, toWorkload } from '../../src/engine/index.js';
import type { KubeObject, Violation, Workload, WorkloadPolicy } from '../../src/engine/index.js';
import { examples } from '../helpers/manifests.js';

const workloadPolicies = POLICIES.filter((p): p is WorkloadPolicy => p.target === 'workload');

/** Containers that fail every per-container policy in each of its ways, and some that pass. */
const CONTAINERS: readonly Record<string, unknown>[] = [
  { image: 'app' },
  { image: 'app:latest', securityContext: { runAsUser: 0, privileged: true } },
  { image: 'redis:alpine', securityContext: { runAsUser: '0', runAsNonRoot: 'true', privileged: 'true' } },
  { image: '', securityContext: { allowPrivilegeEscalation: 'no', readOnlyRootFilesystem: 'yes' } },
  { image: 'app:1.2.3', ports: [{ containerPort: 8080 }], resources: { requests: { cpu: '100m' } } },
  {
    image: 'app:1.2.3',
    resources: { limits: { memory: '0' }, requests: { memory: '64Mi' } },
    startupProbe: { exec: { command: ['true'] } },
  },
  {
    image: 'app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    ports: [{ containerPort: 8080 }],
    readinessProbe: { httpGet: { path: '/healthz', port: 8080 } },
    livenessProbe: { httpGet: { path: '/healthz', port: 8080 } },
    lifecycle: { preStop: { sleep: { seconds: 600 } } },
  },
  { image: 'app:1.2.3', lifecycle: { preStop: { httpGet: 'nope' } } },
  {
    image: 'registry.example/app:1.2.3',
    securityContext: { runAsNonRoot: true, runAsUser: 10001, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
    resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '64Mi' } },
    readinessProbe: { httpGet: { path: '/ready', port: 8080 } },
    livenessProbe: { httpGet: { path: '/live', port: 8080 } },
  },
];

function everyWay(kind: string): KubeObject {
  const containers = CONTAINERS.map((c, i) => ({ name: `c${i}`, ...c }));
  const podSpec = {
    terminationGracePeriodSeconds: 5,
    securityContext: { runAsUser: 0 },
    containers,
    initContainers: [
      { name: 'sidecar', image: 'proxy', restartPolicy: 'Always' },
      { name: 'init', image: 'init:1.0' },
    ],
    ephemeralContainers: [{ name: 'debug', image: 'busybox' }],
  };
  const labels = { app: 'every-way' };
  if (kind === 'Pod') return { apiVersion: 'v1', kind, metadata: { name: 'every-way', namespace: 'shop', labels }, spec: podSpec };
  return {
    apiVersion: 'apps/v1',
    kind,
    metadata: { name: 'every-way', namespace: 'shop' },
    spec: { replicas: 3, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: podSpec } },
  };
}

/** Every workload the policies' own examples hold, and the pod above as a Pod and a Deployment. */
function subjects(): Array<{ label: string; workload: Workload }> {
  const out: Array<{ label: string; workload: Workload }> = [];
  const add = (label: string, object: KubeObject) => {
    const workload = WORKLOAD_KINDS.includes(String(object.kind)) ? toWorkload(object, 'default') : undefined;
    if (workload) out.push({ label, workload });
  };
  for (const policy of POLICIES) {
    const { good, bad } = examples(policy.id);
    for (const [name, object] of [...good, ...bad]) add(`${policy.id} example ${name}`, object);
  }
  add('every-way Pod', everyWay('Pod'));
  add('every-way Deployment', everyWay('Deployment'));
  return out;
}

t.test('a policy handed a counting slice returns as many violations, COUNTED for each that names a container', async (t) => {
  const all = subjects();
  t.ok(all.length > 40, `${all.length} workloads`);
  const problems: string[] = [];
  let counted = 0;
  let written = 0;
  for (const policy of workloadPolicies) {
    for (const { label, workload } of all) {
      const listing: Violation[] = policy.check(workload, EMPTY_CONTEXT);
      const counting: Violation[] = policy.check({ ...workload, counting: true }, EMPTY_CONTEXT);
      const where = `${policy.id} on ${label}`;
      if (counting.length !== listing.length) problems.push(`${where}: ${counting.length} counted, ${listing.length} listed`);
      else {
        for (const [i, listed] of listing.entries()) {
          if (listed.container !== undefined && counting[i] === COUNTED) counted++;
          else if (listed.container !== undefined) problems.push(`${where}: container "${listed.container}"'s violation written out`);
          else if (JSON.stringify(counting[i]) === JSON.stringify(listed)) written++;
          else problems.push(`${where}: the violation about the pod differs`);
        }
      }
    }
  }
  t.strictSame(problems, [], 'every policy counts what it lists, writing out only what is about the pod');
  t.ok(written > 10, `${written} violations about the pod written out as when listing`);
  t.ok(counted > 100, `${counted} container violations counted without being written`);
});

t.test('the engine hands a policy the counting view only past its cap, and the counts stay exact', async (t) => {
  const seen: boolean[] = [];
  const runAsNonRoot = workloadPolicies.find((p) => p.id === 'run-as-non-root') as WorkloadPolicy;
  const spy: WorkloadPolicy = {
    ...runAsNonRoot,
    check(workload, context) {
      seen.push(workload.counting === true);
      return runAsNonRoot.check(workload, context);
    },
  };
  const config = compileConfig(DEFAULT_CONFIG, [spy]);
  const containers = Array.from({ length: 2_000 }, (_, i) => ({ name: `c${i}`, image: 'app:1.0' }));
  const object: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'wide', namespace: 'shop' }, spec: { containers } };

  const whole = evaluate(object, EMPTY_CONTEXT, config);
  t.strictSame(seen, [false, false, false, false], 'without a cap every slice of 512 is listed');
  seen.length = 0;
  const capped = evaluate(object, EMPTY_CONTEXT, config, { maxFindingsPerPolicy: 600 });
  t.strictSame(seen, [false, false, true, true], 'the slice that reaches the cap is listed in full, the ones after it only counted');
  t.strictSame(capped?.findings, whole?.findings.slice(0, 600), 'the listed findings are the first ones');
  t.strictSame(capped?.omitted, [{ policy: 'run-as-non-root', count: 1_400 }], 'and the rest are counted exactly');
});

t.test('listedOnly: a policy past its cap is not asked again, and judging stops once every one is', async (t) => {
  const seen: Record<string, number> = {};
  const spying = (id: string, policy: WorkloadPolicy): WorkloadPolicy => ({
    ...policy,
    id,
    check(workload, context) {
      seen[id] = (seen[id] ?? 0) + workload.containers.length;
      return policy.check(workload, context);
    },
  });
  const byId = (id: string) => workloadPolicies.find((p) => p.id === id) as WorkloadPolicy;
  // Every container fails run-as-non-root; only the last one fails image-tag-pinned.
  const containers = Array.from({ length: 2_000 }, (_, i) => ({ name: `c${i}`, image: i === 1_999 ? 'app' : 'app:1.0' }));
  const object: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'wide', namespace: 'shop' }, spec: { containers } };
  const judge = (ids: string[], listedOnly: boolean) => {
    for (const key of Object.keys(seen)) delete seen[key];
    const config = compileConfig(
      DEFAULT_CONFIG,
      ids.map((id) => spying(id, byId(id))),
    );
    return evaluate(object, EMPTY_CONTEXT, config, { maxFindingsPerPolicy: 25, listedOnly });
  };

  const counted = judge(['run-as-non-root', 'image-tag-pinned'], false);
  t.strictSame(seen, { 'run-as-non-root': 2_000, 'image-tag-pinned': 2_000 }, 'counting: every policy sees every container');
  const listed = judge(['run-as-non-root', 'image-tag-pinned'], true);
  t.strictSame(listed?.findings, counted?.findings, 'the same findings listed');
  t.equal(listed?.omitted, undefined, 'and no count of the rest');
  t.strictSame(
    seen,
    { 'run-as-non-root': 512, 'image-tag-pinned': 2_000 },
    'the full policy is not asked again; one still short of its cap sees every container (the last one fails it)',
  );
  t.ok(
    listed?.findings.some((f) => f.policy === 'image-tag-pinned' && f.container === 'c1999'),
    'a violation in the last container is found',
  );
  judge(['run-as-non-root'], true);
  t.strictSame(seen, { 'run-as-non-root': 512 }, 'once every policy is full, no further slice is judged');
});
