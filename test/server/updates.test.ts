// UPDATEs are judged by what they change (issue 14): the diff semantics an admin relies on
// when switching a namespace full of legacy workloads to enforce.
import t from 'tap';
import { POLICIES } from '../../policies/index.js';
import { parseConfig } from '../../src/config/load.js';
import { ContextIndex, compileConfig, parseInstant } from '../../src/engine/index.js';
import type { KubeObject } from '../../src/engine/index.js';
import type { AdmissionRequest } from '../../src/server/admission.js';
import { reviewAdmission } from '../../src/server/review.js';

const NOW = parseInstant('2027-01-10T12:00:00Z')!;
const RESOURCES = { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '64Mi' } };
const SAFE = { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false };
const PROBE = { httpGet: { path: '/', port: 8080 } };

/** A compliant container, apart from what `over` says. */
function container(name: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    image: `registry.example/${name}:1.0.0`,
    resources: RESOURCES,
    securityContext: SAFE,
    readinessProbe: PROBE,
    livenessProbe: PROBE,
    ...over,
  };
}

/** A legacy container: no securityContext at all (run-as-non-root and read-only-root-filesystem deny). */
const legacy = (name: string, over: Record<string, unknown> = {}) => {
  const c = container(name, over);
  delete c.securityContext;
  return c;
};

function deployment(podSpec: Record<string, unknown>, meta: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'api', namespace: 'shop', uid: 'u1', ...meta },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'api' } },
      template: { metadata: { labels: { app: 'api' } }, spec: podSpec },
      ...extra,
    },
  };
}

function pod(podSpec: Record<string, unknown>, meta: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'debug-me', namespace: 'shop', ...meta }, spec: podSpec };
}

function review(operation: string, object: KubeObject | null, oldObject: KubeObject | null, config: object = {}, now = NOW) {
  const engineConfig = compileConfig(parseConfig(config, 'test.yaml'), POLICIES);
  const kind = (object ?? oldObject)!.kind as string;
  const request: AdmissionRequest = {
    uid: 'r1',
    kind: { group: '', version: 'v1', kind },
    operation,
    namespace: 'shop',
    name: 'api',
    object,
    oldObject,
  };
  return reviewAdmission(request, { engineConfig, context: new ContextIndex(), now: () => now });
}

const update = (before: KubeObject, after: KubeObject, config: object = {}, now = NOW) => review('UPDATE', after, before, config, now);
const warningsOf = (o: ReturnType<typeof review>) => o.response.warnings ?? [];
const denialOf = (o: ReturnType<typeof review>) => o.response.status?.message ?? '';
const clone = <T>(v: T): T => structuredClone(v);
const meta = (o: KubeObject) => o.metadata as Record<string, unknown>;

const old = deployment({ containers: [legacy('app')] });

t.test('metadata-only UPDATEs are admitted without refusal or warning, findings recorded as existing', async (t) => {
  const changes: Array<[string, (o: KubeObject) => void]> = [
    ['kubectl label', (o) => (meta(o).labels = { team: 'shop' })],
    [
      'kubectl annotate (GitOps tracking id)',
      (o) => (meta(o).annotations = { 'argocd.argoproj.io/tracking-id': 'shop:apps/Deployment:shop/api' }),
    ],
    ['a finalizer added by a controller', (o) => (meta(o).finalizers = ['example.com/cleanup'])],
    ['managedFields', (o) => (meta(o).managedFields = [{ manager: 'kubectl', operation: 'Apply' }])],
    ['status', (o) => ((o as Record<string, unknown>).status = { replicas: 1, readyReplicas: 1 })],
    [
      'kubectl rollout restart (pod template annotation)',
      (o) => ((o.spec as any).template.metadata.annotations = { 'kubectl.kubernetes.io/restartedAt': '2027-01-10T12:00:00Z' }),
    ],
    ['the revision history limit (no policy reads it)', (o) => ((o.spec as any).revisionHistoryLimit = 3)],
  ];
  for (const [what, change] of changes) {
    const after = clone(old);
    change(after);
    const outcome = update(old, after);
    t.equal(outcome.response.allowed, true, `${what}: admitted`);
    t.same(warningsOf(outcome), [], `${what}: nothing re-warned`);
    t.equal(outcome.decision, 'allow', what);
    t.ok(
      outcome.applied.length >= 2 && outcome.applied.every((a) => a.finding.existing === true && a.outcome === 'audit'),
      `${what}: every finding recorded, as existing`,
    );
    t.match(
      outcome.response.auditAnnotations?.['run-as-non-root'] ?? '',
      /audit \(configured deny\) existing/,
      `${what}: the audit annotation marks it existing`,
    );
  }
  t.equal(review('CREATE', old, null).response.allowed, false, 'the same object is refused on CREATE');
});

t.test('existingViolations: deny judges UPDATEs like CREATEs, globally or per policy', async (t) => {
  const after = clone(old);
  meta(after).labels = { team: 'shop' };
  const global = update(old, after, { existingViolations: 'deny' });
  t.equal(global.response.allowed, false, 'a label change is refused');
  t.match(denialOf(global), /run-as-non-root/);
  const perPolicy = update(old, after, { policies: { 'read-only-root-filesystem': { existingViolations: 'deny' } } });
  t.equal(perPolicy.response.allowed, false);
  t.notMatch(denialOf(perPolicy), /run-as-non-root/, 'the other deny policy still tolerates its existing violation');
  t.match(denialOf(perPolicy), /read-only-root-filesystem/);
  const allowOverride = update(old, after, {
    existingViolations: 'deny',
    policies: { 'run-as-non-root': { existingViolations: 'allow' }, 'read-only-root-filesystem': { existingViolations: 'allow' } },
  });
  t.equal(allowOverride.response.allowed, true, 'a policy may allow where the global setting denies');
});

t.test('an UPDATE of judged fields: existing findings warned as such, new ones follow their action', async (t) => {
  const after = clone(old);
  (after.spec as any).template.spec.containers[0].image = 'registry.example/app:1.0.1';
  const bumped = update(old, after);
  t.equal(bumped.response.allowed, true, 'an image bump of a legacy workload is admitted');
  t.match(warningsOf(bumped), [
    /\[run-as-non-root\] already existed, not refused: container "app" may run as root/,
    /\[read-only-root-filesystem\] already existed, not refused/,
  ]);

  const latest = clone(old);
  (latest.spec as any).template.spec.containers[0].image = 'registry.example/app:latest';
  const tagged = update(old, latest);
  t.equal(tagged.response.allowed, true);
  const line = warningsOf(tagged).find((w) => w.includes('image-tag-pinned')) ?? '';
  t.notMatch(line, /already existed/, 'the :latest tag is a new finding, warned as usual');
  t.equal(tagged.applied.find((a) => a.finding.policy === 'image-tag-pinned')?.finding.existing, undefined);
});

t.test('containers are matched by name: reordering keeps findings, renaming makes new ones', async (t) => {
  const two = deployment({ containers: [legacy('app'), container('sidecar')] });
  const reordered = deployment({ containers: [container('sidecar'), legacy('app')] });
  const moved = update(two, reordered);
  t.equal(moved.response.allowed, true, 'reordered: same findings, all existing');
  t.ok(
    moved.applied.every((a) => a.finding.existing),
    'every finding matched although its index changed',
  );

  const renamed = deployment({ containers: [legacy('web'), container('sidecar')] });
  const outcome = update(two, renamed);
  t.equal(outcome.response.allowed, false, 'renamed: a new container with the old violations is refused');
  t.match(denialOf(outcome), /container "web" may run as root/);
});

t.test('an UPDATE that fixes one violation and introduces another is refused for the new one', async (t) => {
  const before = deployment({
    containers: [container('app', { securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false } })],
  });
  const after = deployment({
    containers: [
      container('app', { securityContext: { runAsNonRoot: true, readOnlyRootFilesystem: false, allowPrivilegeEscalation: false } }),
    ],
  });
  const outcome = update(before, after);
  t.equal(outcome.response.allowed, false);
  t.match(denialOf(outcome), /read-only-root-filesystem/, 'the new violation is refused');
  t.notMatch(denialOf(outcome), /run-as-non-root/, 'the fixed one is gone');

  const root = deployment({ containers: [legacy('app'), container('debug', { securityContext: { runAsUser: 0 } })] });
  const added = update(old, root);
  t.equal(added.response.allowed, false, 'adding a root container is refused');
  t.match(denialOf(added), /container "debug" runs as uid 0/);
  t.notMatch(denialOf(added), /container "app"/, 'the legacy container is not what refuses it');

  const stripped = deployment({ containers: [legacy('app')] });
  const compliant = deployment({ containers: [container('app')] });
  t.equal(update(compliant, stripped).response.allowed, false, 'removing a securityContext is refused');
});

t.test('init containers: their own list, matched by name', async (t) => {
  const before = deployment({ initContainers: [legacy('migrate')], containers: [container('app')] });
  const bump = deployment({
    initContainers: [legacy('migrate', { image: 'registry.example/migrate:2.0.0' })],
    containers: [container('app')],
  });
  t.equal(update(before, bump).response.allowed, true, 'an existing init container violation is tolerated');
  const moved = deployment({ initContainers: [container('migrate')], containers: [container('app'), legacy('migrate2')] });
  t.equal(update(before, moved).response.allowed, false, 'a new regular container is judged');
  const asRegular = deployment({ containers: [container('app'), legacy('migrate')] });
  const outcome = update(before, asRegular);
  t.equal(
    outcome.response.allowed,
    false,
    'the same name moved from initContainers to containers is a new finding (its field path changed)',
  );
  t.match(denialOf(outcome), /containers\[1\]/);
});

t.test("ephemeral containers: a debug container added to a running pod is judged, the pod's old findings are not", async (t) => {
  const running = pod({ containers: [legacy('app')] });
  const debugged = clone(running);
  (debugged.spec as any).ephemeralContainers = [{ name: 'debugger', image: 'busybox:1.36', securityContext: { runAsUser: 0 } }];
  const outcome = update(running, debugged);
  t.equal(outcome.response.allowed, false, 'a root debug container is a new finding');
  t.match(denialOf(outcome), /container "debugger" runs as uid 0/);
  t.notMatch(denialOf(outcome), /container "app"/);
  const polite = clone(running);
  (polite.spec as any).ephemeralContainers = [{ name: 'debugger', image: 'busybox:1.36', securityContext: { runAsNonRoot: true } }];
  t.equal(update(running, polite).response.allowed, true, 'a non-root debug container on a legacy pod is admitted');
});

t.test('DELETE and the finalizer path are never refused', async (t) => {
  const deleted = review('DELETE', null, old);
  t.equal(deleted.response.allowed, true);
  t.equal(deleted.evaluation, undefined, 'DELETE is not judged');
  const withFinalizer = clone(old);
  meta(withFinalizer).finalizers = ['example.com/cleanup'];
  const terminating = clone(withFinalizer);
  meta(terminating).deletionTimestamp = '2027-01-10T12:00:00Z';
  const released = clone(terminating);
  delete meta(released).finalizers;
  t.equal(update(old, withFinalizer, { existingViolations: 'allow' }).response.allowed, true, 'adding a finalizer');
  t.equal(
    update(terminating, released, { existingViolations: 'deny' }).response.allowed,
    true,
    'removing it while terminating, even with existingViolations: deny',
  );
});

t.test("practice-gate's own annotations are judged inputs", async (t) => {
  const exempt = deployment(
    { containers: [legacy('app')] },
    { annotations: { 'practice-gate.io/exempt': 'all', 'practice-gate.io/exempt-reason': 'legacy' } },
  );
  const outcome = update(old, exempt, { objectExemptions: true });
  t.equal(outcome.decision, 'allow');
  t.ok(
    outcome.applied.every((a) => a.outcome === 'exempt'),
    'adding an exemption is judged: findings become exempt',
  );
});

t.test('staged deadlines: a deny is a warning naming the date until it comes', async (t) => {
  const future = { policies: { 'run-as-non-root': { action: 'deny', from: '2027-01-15' } } };
  const before = review('CREATE', old, null, future);
  t.notMatch(denialOf(before), /run-as-non-root/, 'not refused before the date');
  t.match(warningsOf(before), [/\[run-as-non-root\] refused from 2027-01-15: container "app" may run as root/]);
  t.match(denialOf(before), /read-only-root-filesystem/, 'policies without a date deny as usual');
  const after = review('CREATE', old, null, future, parseInstant('2027-01-15')!);
  t.match(denialOf(after), /run-as-non-root/, 'refused from 00:00 UTC that day');
  const zoned = review('CREATE', old, null, { policies: { 'run-as-non-root': { from: '2027-01-10T13:30:00+02:00' } } });
  t.match(denialOf(zoned), /run-as-non-root/, 'an offset is honoured (11:30 UTC has passed at 12:00 UTC)');
});

t.test('a namespace deadline label postpones refusal for that namespace only', async (t) => {
  const engineConfig = compileConfig(parseConfig({}, 'test.yaml'), POLICIES);
  const context = ContextIndex.fromObjects([
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'practice-gate.io/enforce-from': '2027-02-01' } } },
  ]);
  const request: AdmissionRequest = { uid: 'r', operation: 'CREATE', namespace: 'shop', object: old };
  const outcome = reviewAdmission(request, { engineConfig, context, now: () => NOW });
  t.equal(outcome.response.allowed, true);
  t.match(warningsOf(outcome), [/refused from 2027-02-01/, /refused from 2027-02-01/]);
  const later = reviewAdmission(request, { engineConfig, context, now: () => parseInstant('2027-02-01')! });
  t.equal(later.response.allowed, false);
});

t.test('expiring exemptions: expired ones stop applying, soon-expiring ones warn', async (t) => {
  const exemption = (expires: string) => ({ exemptions: [{ namespaces: ['shop'], reason: 'OPS-412', expires }] });
  t.equal(review('CREATE', old, null, exemption('2027-01-10T00:00:00Z')).response.allowed, false, 'expired: refused');
  const soon = review('CREATE', old, null, exemption('2027-01-20'));
  t.equal(soon.response.allowed, true);
  t.match(warningsOf(soon), [
    /\[run-as-non-root\] exempt only until 2027-01-20/,
    /\[read-only-root-filesystem\] exempt only until 2027-01-20/,
  ]);
  const far = review('CREATE', old, null, exemption('2027-06-01'));
  t.same(
    warningsOf(far).filter((w) => w.includes('exempt only')),
    [],
    'beyond 14 days: silent',
  );
  const window = review('CREATE', old, null, { ...exemption('2027-06-01'), exemptionWarningDays: 365 });
  t.ok(
    warningsOf(window).some((w) => w.includes('exempt only until 2027-06-01')),
    'the window is configurable',
  );
  const objectExpired = deployment(
    { containers: [legacy('app')] },
    { annotations: { 'practice-gate.io/exempt': 'all', 'practice-gate.io/exempt-expires': '2027-01-01' } },
  );
  t.equal(
    review('CREATE', objectExpired, null, { objectExemptions: true }).response.allowed,
    false,
    'an expired object exemption does not exempt',
  );
});
