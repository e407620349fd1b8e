// A review of an object with thousands of failing containers: the answer keeps its shape and
// its sizes (a capped list with a count of the rest), and the counts add up to every finding.
import http from 'node:http';
import t from 'tap';
import { POLICIES } from '../../policies/index.js';
import { ContextIndex, DEFAULT_CONFIG, EMPTY_CONTEXT, WORKLOAD_KINDS, compileConfig, evaluate } from '../../src/engine/index.js';
import type { KubeObject, Policy, WorkloadPolicy } from '../../src/engine/index.js';
import { buildApp } from '../../src/server/app.js';
import { ANNOTATION_VALUE_MAX, DENIAL_MAX, WARNINGS_TOTAL_MAX } from '../../src/server/messages.js';
import { MAX_FINDINGS_PER_POLICY, reviewAdmission } from '../../src/server/review.js';
import { GateState } from '../../src/server/state.js';
import type { AdmissionRequest } from '../../src/server/admission.js';
import { admissionReview, postReview, startTestServer, testCertificates } from '../helpers/server.js';

const CONTAINERS = 3_000;

/** Every container serves a port as root, unpinned, with no requests, limits or probes (one replica: no PDB finding). */
function hugeDeployment(n = CONTAINERS): KubeObject {
  const containers = Array.from({ length: n }, (_, i) => ({
    name: `c${i}`,
    image: 'app',
    ports: [{ containerPort: 8080 }],
    securityContext: { runAsUser: 0 },
  }));
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'wide', namespace: 'shop' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'wide' } },
      template: { metadata: { labels: { app: 'wide' } }, spec: { containers } },
    },
  };
}

const state = (mode: 'enforce' | 'audit' = 'enforce') =>
  new GateState(compileConfig({ ...DEFAULT_CONFIG, mode }, POLICIES), { conditions: [] });
const request = (object: KubeObject): AdmissionRequest => admissionReview(object, { uid: 'wide-1' }).request as AdmissionRequest;
const countIn = (text: string, re: RegExp): number => Number(re.exec(text)?.[1] ?? NaN);

t.test('findings are capped per policy and the rest counted', async (t) => {
  const outcome = reviewAdmission(request(hugeDeployment()), state());
  const policies = new Set(outcome.applied.map((a) => a.finding.policy));
  for (const policy of policies) {
    const listed = outcome.applied.filter((a) => a.finding.policy === policy).length;
    const omitted = outcome.omitted.find((o) => o.policy === policy)?.count ?? 0;
    t.ok(listed <= MAX_FINDINGS_PER_POLICY, `${policy}: ${listed} listed`);
    // Each failing per-container policy fails once per container (memory-limit and the probes
    // included); a policy on the workload as a whole (network-policy-coverage) once.
    const perContainer = outcome.applied.some((a) => a.finding.policy === policy && a.finding.container !== undefined);
    t.equal(listed + omitted, perContainer ? CONTAINERS : 1, `${policy}: listed + omitted is every container, or the workload once`);
  }
  t.ok(policies.has('run-as-non-root') && policies.has('resource-requests'), 'the denying policies are there');
});

t.test('the denial message stays within its size and ends with the count of the rest', async (t) => {
  const { response } = reviewAdmission(request(hugeDeployment()), state());
  t.equal(response.allowed, false);
  const message = response.status?.message ?? '';
  t.ok(message.length <= DENIAL_MAX, `${message.length} characters`);
  t.match(message, /^Deployment shop\/wide violates 3 policies: \[run-as-non-root\] container "c0" runs as uid 0/);
  t.match(message, /; \.\.\. and \d+ more: run practice-gate audit for the full list$/);
  const listed = message.split('; ').length - 1;
  const denying = 3 * CONTAINERS; // run-as-non-root, read-only-root-filesystem, resource-requests
  t.equal(listed + countIn(message, /and (\d+) more:/), denying, 'listed + more = every denying finding');
});

t.test('warnings stay within 4 KiB and end with the count of the rest', async (t) => {
  const { response } = reviewAdmission(request(hugeDeployment()), state());
  const warnings = response.warnings ?? [];
  const bytes = warnings.reduce((sum, w) => sum + Buffer.byteLength(w), 0);
  t.ok(bytes <= WARNINGS_TOTAL_MAX + 96, `${bytes} bytes in ${warnings.length} lines`);
  const last = warnings.at(-1) ?? '';
  t.match(last, /^\[practice-gate\] \.\.\. and \d+ more findings: run practice-gate audit for the full list$/);
  const warning = 5 * CONTAINERS; // memory-limit, both probes, image-tag-pinned, no-privilege-escalation
  t.equal(warnings.length - 1 + countIn(last, /and (\d+) more/), warning, 'listed + more = every warning finding');
});

t.test('in audit mode the would-be denials are counted into the warnings too', async (t) => {
  const { response } = reviewAdmission(request(hugeDeployment()), state('audit'));
  t.equal(response.allowed, true);
  const warnings = response.warnings ?? [];
  t.equal(warnings.length - 1 + countIn(warnings.at(-1) ?? '', /and (\d+) more/), 8 * CONTAINERS);
});

t.test('each audit annotation stays within its size and counts the rest', async (t) => {
  const { response, applied } = reviewAdmission(request(hugeDeployment()), state());
  const annotations = response.auditAnnotations ?? {};
  t.ok(Object.keys(annotations).length >= 8, 'one per failing policy');
  const wholeWorkload = new Set(applied.filter((a) => a.finding.container === undefined).map((a) => a.finding.policy));
  for (const [key, value] of Object.entries(annotations)) {
    t.ok(value.length <= ANNOTATION_VALUE_MAX, `${key}: ${value.length} characters`);
    if (wholeWorkload.has(key)) {
      t.notOk(value.includes('; '), `${key}: a policy on the workload as a whole has one entry`);
      continue;
    }
    t.match(value, /; \+\d+ more$/, `${key} ends with the count of the rest`);
    const listed = value.split('; ').length - 1;
    t.equal(listed + countIn(value, /\+(\d+) more$/), CONTAINERS, `${key}: listed + more = every container`);
  }
});

t.test('through HTTP the answer is the same bounded AdmissionReview', async (t) => {
  // A 2 MiB body goes to a parsing worker, which under tap starts slowly (it compiles TypeScript).
  const app = buildApp({ state: state(), largeBodies: { timeoutMs: 120_000 } });
  t.teardown(() => app.close());
  const res = await app.inject({
    method: 'POST',
    url: '/validate',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify(admissionReview(hugeDeployment(20_000), { uid: 'wide-2' })),
  });
  t.equal(res.statusCode, 200);
  const response = res.json().response;
  t.equal(response.uid, 'wide-2');
  t.equal(response.allowed, false);
  t.match(response.status.message, /violates \d+ polic/, 'judged, not refused unparsed');
  t.ok(res.body.length < 16 * 1024, `the answer is ${res.body.length} bytes for 20,000 containers`);
});

// A policy that reports the pod once and each container once: checked in slices, the pod's
// finding must still appear once and the containers' in order.
const podAndEach: WorkloadPolicy = {
  id: 'pod-and-each',
  title: 't',
  why: 'w',
  fix: 'f',
  defaultAction: 'deny',
  kinds: WORKLOAD_KINDS,
  target: 'workload',
  check: (w) => [
    { path: 'spec.template.spec', message: 'pod' },
    ...w.containers.map((c) => ({ path: c.path, container: c.name, message: c.name })),
  ],
};

t.test('checking in slices finds what checking whole does, in the same order', async (t) => {
  const registry: readonly Policy[] = [podAndEach];
  const config = compileConfig(DEFAULT_CONFIG, registry);
  const object = hugeDeployment(2_000);
  const whole = evaluate(object, EMPTY_CONTEXT, config);
  t.equal(whole?.findings.length, 2_001, 'the pod once and every container');
  t.strictSame(whole?.findings.map((f) => f.message).slice(0, 3), ['pod', 'c0', 'c1']);
  t.equal(whole?.omitted, undefined, 'nothing omitted without a cap');
  const capped = evaluate(object, EMPTY_CONTEXT, config, { maxFindingsPerPolicy: 10 });
  t.strictSame(capped?.findings, whole?.findings.slice(0, 10));
  t.strictSame(capped?.omitted, [{ policy: 'pod-and-each', count: 1_991 }]);
});

/** The cluster context, calling `onJudging` the first time a judgement asks it anything (the namespace's mode comes first). */
class JudgingSignal extends ContextIndex {
  #signalled = false;
  constructor(private readonly onJudging: () => void) {
    super();
  }
  override namespaceLabels(namespace: string): Readonly<Record<string, string>> | undefined {
    if (!this.#signalled) {
      this.#signalled = true;
      this.onJudging();
    }
    return super.namespaceLabels(namespace);
  }
}

t.test('/healthz sent while a 20,000-container review is judged is answered before that review', async (t) => {
  const order: string[] = [];
  let health: Promise<void> | undefined;
  // Sent from inside the judgement: it can only be answered if judging lets the event loop turn.
  const context = new JudgingSignal(() => {
    health = new Promise<void>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: server.probePort, path: '/healthz' }, (res) => {
          res.resume().on('end', () => {
            order.push(`healthz ${res.statusCode}`);
            resolve();
          });
        })
        .on('error', reject);
    });
  });
  const server = await startTestServer({ context, probePort: 0 });
  t.teardown(() => server.close());
  const answer = await postReview(server.port, admissionReview(hugeDeployment(20_000), { uid: 'wide-3' }), testCertificates().ca.cert);
  order.push('review');
  await health;
  t.equal(answer.allowed, false, 'the review is judged and refused');
  t.match(answer.status.message, /violates 1 policy: \[run-as-non-root\]/);
  t.strictSame(order, ['healthz 200', 'review'], '/healthz answered while the review was being judged');
});
