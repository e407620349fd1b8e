// Enforcement at the API server's own limits, as an unprivileged user with kubectl: a compliant
// Deployment grown as large as etcd stores it, then patched to run as root, privileged and
// without requests, is refused (the whole review is judged, whatever its size, under the chart's
// failurePolicy Ignore); a Deployment with tens of thousands of containers is judged up to the
// body limit and refused past it, and several at once wait their turn and are all judged; and
// after a SIGTERM under kubectl traffic every review the API server still sends is judged and
// none is cut.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { BODY_LIMIT } from '../../src/server/app.js';
import { startCluster } from './fixture/cluster.js';
import type { Cluster } from './fixture/cluster.js';
import { startWebhook } from './fixture/webhook.js';
import type { Webhook } from './fixture/webhook.js';

const NS = 'team';
const USER = 'dev@example.com';

let cluster: Cluster;
let webhook: Webhook;

t.before(async () => {
  cluster = await startCluster();
  webhook = await startWebhook(cluster, { failurePolicy: 'Ignore' });
  const rbac = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'deployer', namespace: NS },
      rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'create', 'patch', 'update'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'deployer', namespace: NS },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'deployer' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: USER }],
    },
  ];
  const res = await cluster.kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: rbac }));
  if (res.code !== 0) throw new Error(res.stderr);
});
t.teardown(async () => {
  await webhook?.stop();
  await cluster?.stop();
});

/** kubectl as the namespace user: the API server authorizes it as that user (RBAC above). */
const asUser = (args: string[], input?: string) => cluster.kubectl(['--as', USER, '-n', NS, ...args], input);

/** The API server's log lines that match: a failure names the calls, not the whole log. */
const apiserverLines = (pattern: RegExp): string[] =>
  readFileSync(`${cluster.dir}/kube-apiserver.log`, 'utf8')
    .split('\n')
    .filter((line) => pattern.test(line));

/** A Deployment of `podSpec` in the test namespace, as kubectl reads it (with `replicas` when given). */
function deployment(name: string, podSpec: Record<string, unknown>, replicas?: number): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS },
    spec: {
      ...(replicas !== undefined ? { replicas } : {}),
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: podSpec },
    },
  });
}

/** A compliant Deployment with `volumes` small Secret volumes. */
function grown(name: string, volumes: number): string {
  return deployment(
    name,
    {
      securityContext: { runAsNonRoot: true, runAsUser: 10001 },
      containers: [
        {
          name: 'app',
          image: 'registry.example/app:1.4.2',
          securityContext: { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
          resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '128Mi' } },
          readinessProbe: { httpGet: { path: '/ready', port: 8080 } },
          livenessProbe: { httpGet: { path: '/live', port: 8080 } },
        },
      ],
      volumes: Array.from({ length: volumes }, (_, i) => ({ name: `v${i}`, secret: { secretName: 's' } })),
    },
    1,
  );
}

const PATCH = JSON.stringify([
  { op: 'add', path: '/spec/template/spec/containers/0/securityContext/runAsUser', value: 0 },
  { op: 'replace', path: '/spec/template/spec/containers/0/securityContext/runAsNonRoot', value: false },
  { op: 'add', path: '/spec/template/spec/containers/0/securityContext/privileged', value: true },
  { op: 'replace', path: '/spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation', value: true },
  { op: 'remove', path: '/spec/template/spec/containers/0/resources/requests' },
]);

/** The largest `bytes` the webhook logged for a review of `name` (the request's Content-Length). */
async function reviewBytes(name: string, operation = 'UPDATE'): Promise<number> {
  const lines = await webhook.logged(
    `the ${operation} review of ${name}`,
    (e) => e.msg === 'admission review' && e.name === name && e.operation === operation,
  );
  return Math.max(...lines.map((e) => (typeof e.bytes === 'number' ? e.bytes : 0)));
}

t.test('a Deployment grown to what etcd stores, patched to root, privileged and no requests: refused', async (t) => {
  // Grow until the API server refuses (its 3 MiB request body, or etcd's --max-request-bytes).
  let stored: { name: string; volumes: number } | undefined;
  for (const volumes of [10_000, 30_000, 50_000, 66_000, 80_000]) {
    const name = `grown-${volumes}`;
    const res = await asUser(['create', '-f', '-'], grown(name, volumes));
    if (res.code !== 0) {
      t.match(res.stderr, /too large|exceeds|limit/i, `${volumes} volumes is past the API server's limits: ${res.stderr.slice(0, 200)}`);
      break;
    }
    stored = { name, volumes };
  }
  if (!stored) throw new Error('no grown Deployment was stored');
  t.ok(stored.volumes >= 10_000, `stored with ${stored.volumes} volumes`);

  const res = await asUser(['patch', 'deployment', stored.name, '--type=json', '-p', PATCH]);
  t.not(res.code, 0, 'the patch is refused');
  t.match(res.stderr, 'admission webhook "validate.practice-gate.io" denied the request');
  // What the API server sent for that patch: object and oldObject with defaults and managedFields.
  const bytes = await reviewBytes(stored.name);
  t.comment(`largest stored: ${stored.volumes} volumes; the patch's AdmissionReview was ${(bytes / 1024 / 1024).toFixed(2)} MiB`);
  if (bytes <= BODY_LIMIT) {
    t.match(res.stderr, '[run-as-non-root]', 'judged: the policies say why');
    t.match(res.stderr, '[resource-requests]');
  } else {
    t.match(res.stderr, 'was refused unchecked: its AdmissionReview is', 'over the limit: refused, never failed open');
  }
  const live = JSON.parse((await asUser(['get', 'deployment', stored.name, '-o', 'json'])).stdout) as {
    spec: { template: { spec: { containers: Array<{ securityContext: Record<string, unknown>; resources: Record<string, unknown> }> } } };
  };
  const container = live.spec.template.spec.containers[0]!;
  t.equal(container.securityContext.runAsUser, undefined, 'the stored object still has no root user');
  t.ok(container.resources.requests, 'and still requests resources');
  t.ok(bytes > 0, 'the webhook logged the review with its size');
});

/** A Deployment with `count` bare containers, each breaking the per-container policies. */
const crowded = (name: string, count: number): string =>
  deployment(name, { containers: Array.from({ length: count }, (_, i) => ({ name: `c${i}`, image: 'app' })) });

t.test(
  'many containers: what the API server sends is judged up to the body limit, refused past it, and 100,000 never reach the webhook',
  async (t) => {
    // docs/performance.md sizes bench:large's container reviews from these: the API server fills
    // in each container's defaults and lists its fields in managedFields, ~10x the request.
    const MiB = 1024 * 1024;
    const judged = await asUser(['create', '--dry-run=server', '-f', '-'], crowded('crowd-20k', 20_000));
    t.match(judged.stderr, 'admission webhook "validate.practice-gate.io" denied the request', '20,000 containers: refused');
    t.match(judged.stderr, '[run-as-non-root] container "c0" may run as root', 'judged: the policies say why');
    const bytes = await reviewBytes('crowd-20k', 'CREATE');
    t.ok(bytes > 5 * MiB && bytes < BODY_LIMIT, `its review was ${(bytes / MiB).toFixed(2)} MiB, under the ${BODY_LIMIT / MiB} MiB limit`);

    const over = await asUser(['create', '--dry-run=server', '-f', '-'], crowded('crowd-60k', 60_000));
    t.match(over.stderr, 'was refused unchecked: its AdmissionReview is', '60,000 containers: over the limit, refused, never admitted');
    t.ok((await reviewBytes('crowd-60k', 'CREATE')) > BODY_LIMIT, 'the API server sent more than the limit');

    const tooMany = await asUser(['create', '--dry-run=server', '-f', '-'], crowded('crowd-100k', 100_000));
    t.match(tooMany.stderr, /Request entity too large: limit is 3145728/, '100,000 containers: the API server refuses the request itself');
    await asUser(['create', '--dry-run=server', '-f', '-'], crowded('crowd-after', 1));
    await reviewBytes('crowd-after', 'CREATE');
    t.notOk(
      readFileSync(webhook.logFile, 'utf8').includes('"name":"crowd-100k"'),
      'and the webhook never saw it (a review logged after it is there)',
    );
  },
);

t.test('large reviews at once: the API server waits on its unread calls, and each review is judged', async (t) => {
  // Four 6 MiB reviews, each over the 4 MiB body budget (src/server/body-budget.ts): the webhook
  // reads one at a time and leaves the others unread on their connections meanwhile.
  const names = ['crowd-a', 'crowd-b', 'crowd-c', 'crowd-d'];
  const results = await Promise.all(names.map((name) => asUser(['create', '--dry-run=server', '-f', '-'], crowded(name, 20_000))));
  for (const [i, res] of results.entries()) {
    t.match(res.stderr, 'admission webhook "validate.practice-gate.io" denied the request', `${names[i]}: refused`);
    t.match(res.stderr, '[run-as-non-root] container "c0" may run as root', 'judged, not refused for want of memory');
  }
  const lines = await webhook.logged('the four reviews', (e) => e.msg === 'admission review' && names.includes(String(e.name)), 4);
  const waited = lines.filter((e) => typeof e.waitedMs === 'number').map((e) => `${String(e.name)} ${String(e.waitedMs)} ms`);
  t.comment(`waited for the body budget: ${waited.length > 0 ? waited.join(', ') : 'none (the API server sent them apart)'}`);
  t.same(
    apiserverLines(/practice-gate.*(EOF|connection reset|broken pipe|context deadline exceeded)/),
    [],
    'no call broke or timed out while it waited',
  );
});

t.test('SIGTERM under kubectl traffic: every review sent while the webhook drains is judged, and none is cut', async (t) => {
  const root = deployment('restart', { containers: [{ name: 'app', image: 'registry.example/app:1.4.2' }] });
  const calls: Array<{ sent: number; answered: number; judged: boolean }> = [];
  let running = true;
  const traffic = Promise.all(
    Array.from({ length: 4 }, async () => {
      while (running) {
        const sent = Date.now();
        const res = await asUser(['create', '--dry-run=server', '-f', '-'], root);
        calls.push({ sent, answered: Date.now(), judged: res.stderr.includes('denied the request') });
      }
    }),
  );
  await sleep(3_000);
  const sigterm = Date.now();
  const exited = webhook.stop();
  // In a cluster the Service drops this pod a moment after its readiness turns false, and until
  // then the API server goes on calling it: here it is called by URL, so the traffic goes on for
  // that moment (1.5 s, longer on a slow machine until four reviews sent after SIGTERM are
  // answered, but well within the 5 s drain) and then stops.
  const sentAfter = () => calls.filter((c) => c.sent > sigterm).length;
  while (Date.now() - sigterm < 1_500 || (sentAfter() < 4 && Date.now() - sigterm < 3_500)) await sleep(50);
  const stopped = Date.now();
  running = false;
  await traffic;
  t.equal(await exited, 0, 'the webhook exits 0 after SIGTERM');
  t.ok(
    calls.some((c) => c.answered < sigterm && c.judged),
    `${calls.filter((c) => c.answered < sigterm).length} reviews answered before SIGTERM`,
  );
  const draining = calls.filter((c) => c.sent > sigterm && c.answered < stopped);
  t.ok(draining.length > 0, `${draining.length} reviews sent after SIGTERM`);
  t.strictSame(
    draining.filter((c) => !c.judged),
    [],
    'each of them judged: the port kept serving while the API server still called',
  );
  t.notMatch(readFileSync(webhook.logFile, 'utf8'), /shutdown timeout/, 'the shutdown drained without cutting connections');
  // A port closed while the API server still connects resets the connections the kernel had
  // accepted for it; a review cut on its connection shows as EOF or a broken pipe.
  t.same(
    apiserverLines(/practice-gate.*(EOF|connection reset|broken pipe)/),
    [],
    'the API server saw no call cut: no EOF, reset or broken pipe',
  );
});
