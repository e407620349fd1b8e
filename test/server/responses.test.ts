// The whole AdmissionReview response for each kind of request, over real HTTPS.
import https from 'node:https';
import t from 'tap';
import { ContextIndex, EMPTY_CONTEXT } from '../../src/engine/index.js';
import { startServer } from '../../src/server/run.js';
import {
  EVENT_LOOP_BODIES,
  TEST_REGISTRY,
  admissionReview,
  deployment,
  engineConfig,
  httpsRequest,
  pod,
  postReview,
  testCertificates,
} from '../helpers/server.js';

const certs = testCertificates();
const server = await startServer({
  largeBodies: EVENT_LOOP_BODIES,
  tls: { pems: certs.serving },
  port: 0,
  host: '127.0.0.1',
  registry: TEST_REGISTRY,
  processMetrics: false,
});
t.teardown(() => server.close());
const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
t.teardown(() => agent.destroy());

const UID = 'b7a2ef3c-1d4e-4f61-9c1e-5a9d0e0f7c11';
const review = (object: Parameters<typeof admissionReview>[0], options: Parameters<typeof admissionReview>[1] = {}) =>
  postReview(server.port, admissionReview(object, { uid: UID, ...options }), certs.ca.cert, agent);

const enforce = () => {
  server.state.engineConfig = engineConfig({ 'run-as-non-root': 'deny', 'test-image-tag': 'deny' });
  server.state.context = EMPTY_CONTEXT;
};

// Two containers running as root, one of them with an untagged image.
const rootDeployment = deployment('api', 'shop', [{ name: 'app' }, { name: 'proxy', image: 'envoy' }]);

const DENIED = {
  uid: UID,
  allowed: false,
  status: {
    code: 403,
    reason: 'Forbidden',
    message:
      'Deployment shop/api violates 2 policies: ' +
      '[run-as-non-root] container "app" may run as root: set securityContext.runAsNonRoot: true (spec.template.spec.containers[0].securityContext.runAsNonRoot); ' +
      '[run-as-non-root] container "proxy" may run as root: set securityContext.runAsNonRoot: true (spec.template.spec.containers[1].securityContext.runAsNonRoot); ' +
      '[test-image-tag] container "proxy" image has no tag: pin a version (spec.template.spec.containers[1].image)',
  },
  auditAnnotations: {
    'run-as-non-root':
      'deny: container app: spec.template.spec.containers[0].securityContext.runAsNonRoot; ' +
      'deny: container proxy: spec.template.spec.containers[1].securityContext.runAsNonRoot',
    'test-image-tag': 'deny: container proxy: spec.template.spec.containers[1].image',
  },
};

t.test('the envelope: AdmissionReview v1 with the request uid', async (t) => {
  enforce();
  const res = await httpsRequest(server.port, {
    body: JSON.stringify(admissionReview(pod('ok', 'shop', [{ name: 'app', nonRoot: true }]), { uid: UID })),
    ca: certs.ca.cert,
    agent,
  });
  t.equal(res.status, 200);
  t.match(res.headers['content-type'], /^application\/json/);
  t.strictSame(res.json(), { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: UID, allowed: true } });
});

t.test('allow: nothing to say', async (t) => {
  enforce();
  t.strictSame(await review(deployment('api', 'shop', [{ name: 'app', nonRoot: true }])), { uid: UID, allowed: true });
});

t.test('deny: 403 with every denying finding, and the audit trail', async (t) => {
  enforce();
  t.strictSame(await review(rootDeployment), DENIED);
});

t.test('warn: allowed, one warning per finding', async (t) => {
  server.state.engineConfig = engineConfig({ 'run-as-non-root': 'deny', 'test-image-tag': 'warn' });
  t.strictSame(
    await review(
      deployment('api', 'shop', [
        { name: 'app', nonRoot: true, image: 'nginx' },
        { name: 'log', nonRoot: true, image: 'fluentbit' },
      ]),
    ),
    {
      uid: UID,
      allowed: true,
      warnings: [
        '[practice-gate] Deployment shop/api: [test-image-tag] container "app" image has no tag: pin a version',
        '[practice-gate] Deployment shop/api: [test-image-tag] container "log" image has no tag: pin a version',
      ],
      auditAnnotations: {
        'test-image-tag':
          'warn: container app: spec.template.spec.containers[0].image; warn: container log: spec.template.spec.containers[1].image',
      },
    },
  );
});

t.test('audit mode from the config: denials become warnings that say so', async (t) => {
  server.state.engineConfig = engineConfig({ 'run-as-non-root': 'deny' }, { mode: 'audit' });
  t.strictSame(await review(deployment('api', 'shop', [{ name: 'app' }])), {
    uid: UID,
    allowed: true,
    warnings: ['[practice-gate] [run-as-non-root] would deny: container "app" may run as root: set securityContext.runAsNonRoot: true'],
    auditAnnotations: {
      'run-as-non-root': 'warn (configured deny): container app: spec.template.spec.containers[0].securityContext.runAsNonRoot',
    },
  });
});

t.test('audit mode from the namespace label', async (t) => {
  enforce();
  server.state.context = ContextIndex.fromObjects([
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'legacy', labels: { 'practice-gate.io/mode': 'audit' } } },
  ]);
  const response = await review(deployment('api', 'legacy', [{ name: 'app', nonRoot: true, image: 'nginx' }]));
  t.strictSame(response, {
    uid: UID,
    allowed: true,
    warnings: ['[practice-gate] Deployment legacy/api: [test-image-tag] would deny: container "app" image has no tag: pin a version'],
    auditAnnotations: { 'test-image-tag': 'warn (configured deny): container app: spec.template.spec.containers[0].image' },
  });
  t.strictSame(await review(rootDeployment), DENIED, 'other namespaces are still enforced');
});

t.test('dry run is judged exactly like the real request', async (t) => {
  enforce();
  t.strictSame(await review(rootDeployment, { dryRun: true }), DENIED);
});

const controller = (name: string) => `system:serviceaccount:kube-system:${name}`;

t.test(
  'pods the replicaset-controller writes for a ReplicaSet are judged but only audited; the same pod from a user is refused',
  async (t) => {
    enforce();
    const owned = pod('api-7d9c-x2x4q', 'shop', [{ name: 'app', image: 'envoy' }], {
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'api-7d9c', uid: 'u', controller: true }],
    });
    t.strictSame(await review(owned, { username: controller('replicaset-controller') }), {
      uid: UID,
      allowed: true,
      auditAnnotations: {
        'run-as-non-root': 'audit (configured deny): container app: spec.containers[0].securityContext.runAsNonRoot',
        'test-image-tag': 'audit (configured deny): container app: spec.containers[0].image',
      },
    });
    const fromUser = await review(owned);
    t.equal(fromUser.allowed, false, 'a user who writes the ownerReference is judged as the pod');
    t.match(fromUser.status, { code: 403, message: /^Pod shop\/api-7d9c-x2x4q violates 2 policies/ });
  },
);

t.test(
  'a ReplicaSet the deployment-controller writes is only audited; a Deployment that claims an owner is judged as itself',
  async (t) => {
    enforce();
    const replicaSet = {
      ...deployment('api-7d9c', 'shop', [{ name: 'app' }], {
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'api', uid: 'u', controller: true }],
      }),
      kind: 'ReplicaSet',
    };
    const audited = await review(replicaSet, { username: controller('deployment-controller') });
    t.equal(audited.allowed, true, "the Deployment controller's ReplicaSet is never refused");
    t.match(audited.auditAnnotations, { 'run-as-non-root': /^audit \(configured deny\)/ });
    t.equal((await review(replicaSet)).allowed, false, 'the same ReplicaSet from a user is refused');
    const claimed = deployment('api', 'shop', [{ name: 'app' }, { name: 'proxy', image: 'envoy' }], {
      ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'mine', uid: 'u2', controller: true }],
    });
    t.strictSame(
      await review(claimed, { username: controller('deployment-controller') }),
      DENIED,
      'an ownerReference to a ConfigMap lifts nothing, whoever writes it',
    );
  },
);

t.test('an UPDATE of an object being deleted is allowed without judging, so finalizers can be removed', async (t) => {
  enforce();
  const terminating = deployment('api', 'shop', [{ name: 'app' }, { name: 'proxy', image: 'envoy' }], {
    deletionTimestamp: '2026-12-01T10:00:00Z',
    finalizers: [],
  });
  t.strictSame(await review(terminating, { operation: 'UPDATE' }), { uid: UID, allowed: true });
  t.strictSame(await review(rootDeployment, { operation: 'UPDATE' }), DENIED, 'an ordinary UPDATE is judged');
});

t.test("thousands of findings: every annotation and the denial stay within the API server's limits", async (t) => {
  enforce();
  const many = pod(
    'wide',
    'shop',
    Array.from({ length: 5000 }, (_, i) => ({ name: `c${i}`, image: 'envoy' })),
  );
  const started = process.hrtime.bigint();
  const res = await review(many);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  t.equal(res.allowed, false);
  for (const value of Object.values(res.auditAnnotations as Record<string, string>))
    t.ok(value.length <= 256, 'each annotation value stays within 256 characters');
  t.match(res.auditAnnotations['run-as-non-root'], /; \+\d+ more$/, 'the rest is counted');
  t.ok(res.status.message.length <= 3072, 'the denial message stays within a few KiB');
  t.comment(`5,000 containers, 10,000 findings: ${ms.toFixed(0)} ms`);
});

t.test('DELETE is allowed without judging', async (t) => {
  enforce();
  t.strictSame(await review(rootDeployment, { operation: 'DELETE' }), { uid: UID, allowed: true });
  const oldOnly = admissionReview(undefined, { uid: UID, operation: 'DELETE' });
  t.strictSame(await postReview(server.port, oldOnly, certs.ca.cert, agent), { uid: UID, allowed: true }, 'DELETE carries no object');
});

t.test('kinds practice-gate does not judge are allowed with nothing added', async (t) => {
  enforce();
  const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'shop' }, data: { a: 'b' } };
  t.strictSame(await review(configMap), { uid: UID, allowed: true });
});

t.test('an exempt object is allowed and the exemption recorded', async (t) => {
  server.state.engineConfig = engineConfig({ 'run-as-non-root': 'deny' }, { objectExemptions: true });
  const exempt = deployment('legacy-api', 'shop', [{ name: 'app' }], {
    annotations: {
      'practice-gate.io/exempt': 'run-as-non-root',
      'practice-gate.io/exempt-reason': 'vendor image runs as root (TICKET-42)',
    },
  });
  t.strictSame(await review(exempt), {
    uid: UID,
    allowed: true,
    auditAnnotations: { exempt: 'run-as-non-root: vendor image runs as root (TICKET-42)' },
  });
});

t.test('an admin exemption is decided by the request namespace (generateName, no metadata.namespace)', async (t) => {
  server.state.engineConfig = engineConfig(
    { 'run-as-non-root': 'deny' },
    { exemptions: [{ namespaces: ['batch-*'], reason: 'batch team migrates in Q3' }] },
  );
  const generated = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { generateName: 'worker-' },
    spec: { containers: [{ name: 'w', image: 'w:1' }] },
  };
  t.strictSame(await review(generated, { namespace: 'batch-nightly' }), {
    uid: UID,
    allowed: true,
    auditAnnotations: { exempt: 'run-as-non-root: batch team migrates in Q3' },
  });
  const denied = await review(generated, { namespace: 'shop' });
  t.equal(denied.allowed, false);
  t.match(denied.status.message, /^Pod shop\/worker- violates 1 policy: /);
});
