// A policy declares the kinds it judges and nothing else has to change: the engine judges the
// kind, the webhook (serve --dev and the chart) is sent it, the chart's schema accepts the
// policy's id, the chart grants listing it and the cluster scan lists it. Shown with a stand-in
// policy on a kind no registered policy judges.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { POLICIES } from '../../policies/index.js';
import { scanCluster } from '../../src/cluster/scan/scanner.js';
import type { ClusterReader, ScanKind } from '../../src/cluster/scan/scanner.js';
import { ContextIndex, DEFAULT_CONFIG, compileConfig, evaluate, isRecord, judgedKinds } from '../../src/engine/index.js';
import type { ObjectPolicy } from '../../src/engine/index.js';
import { API_KINDS } from '../../src/registry/api-kinds.js';
import { VALUES_SCHEMA_SOURCE, chartRegistry, valuesSchema } from '../../src/registry/chart.js';
import { scanKinds, webhookRules } from '../../src/registry/derive.js';
import { webhookConfiguration } from '../../src/server/webhook-config.js';

const standIn: ObjectPolicy = {
  id: 'service-named-port',
  title: 'Services name their ports',
  why: 'A stand-in for a policy on a kind no registered policy judges: it only has to reach everything derived from the registry.',
  fix: 'ports:\n  - name: http\n    port: 80',
  defaultAction: 'deny',
  kinds: ['Service'],
  target: 'object',
  check(object) {
    const ports = isRecord(object.spec) ? object.spec.ports : undefined;
    const unnamed = Array.isArray(ports) && ports.some((p) => isRecord(p) && typeof p.name !== 'string');
    return unnamed ? [{ path: 'spec.ports', message: 'a port has no name: set ports[].name' }] : [];
  },
};
const registry = [...POLICIES, standIn];
const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { ports: [{ port: 80 }] } };
const REPO = new URL('../../', import.meta.url);
const dig = (node: unknown, ...path: string[]): unknown => path.reduce<unknown>((n, key) => (isRecord(n) ? n[key] : undefined), node);

t.test('the registered policies judge no Service: the stand-in is on a new kind', async (t) => {
  t.notOk(judgedKinds(POLICIES).includes('Service'));
  t.equal(evaluate(service, new ContextIndex(), compileConfig(DEFAULT_CONFIG, POLICIES)), undefined, 'not judged without it');
});

t.test('the engine judges the new kind', async (t) => {
  const evaluation = evaluate(service, new ContextIndex(), compileConfig(DEFAULT_CONFIG, registry));
  t.match(evaluation, { kind: 'Service', name: 'web', findings: [{ policy: 'service-named-port', action: 'deny', path: 'spec.ports' }] });
});

t.test('the webhook is sent the new kind: serve --dev and the chart', async (t) => {
  const core = { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], scope: 'Namespaced' };
  const dev = webhookConfiguration({ name: 'dev', url: 'https://127.0.0.1/validate', caBundle: '', failurePolicy: 'Ignore', registry });
  const [hook] = dev.webhooks as Array<{ rules: unknown[] }>;
  t.match(hook?.rules, [{ ...core, resources: ['pods', 'podtemplates', 'replicationcontrollers', 'services'] }], 'serve --dev');
  t.same(chartRegistry(registry).webhookRules, hook?.rules, 'the chart renders the same rules');
  const before = webhookConfiguration({ name: 'dev', url: 'https://127.0.0.1/validate', caBundle: '', failurePolicy: 'Ignore' });
  t.notMatch(JSON.stringify(before), /services/, 'without it, no Services');
});

t.test('the chart grants listing the new kind to the cluster audit', async (t) => {
  const services = chartRegistry(registry).auditRules.find((r) => r.apiGroups[0] === '');
  t.same(services, { apiGroups: [''], resources: ['pods', 'podtemplates', 'services'], verbs: ['list'] });
  t.notOk(chartRegistry(POLICIES).auditRules.some((r) => r.resources.includes('services')));
});

t.test("the chart's values schema accepts the new policy's id", async (t) => {
  const source = JSON.parse(readFileSync(new URL(VALUES_SCHEMA_SOURCE, REPO), 'utf8')) as Record<string, unknown>;
  const config = ['properties', 'config', 'properties'];
  const schema = valuesSchema(source, registry);
  t.same(dig(schema, ...config, 'policies', 'properties', 'service-named-port'), { $ref: '#/definitions/policySetting' });
  t.same(
    dig(schema, ...config, 'exemptions', 'items', 'properties', 'policies', 'items', 'enum'),
    registry.map((p) => p.id),
  );
  t.notMatch(JSON.stringify(valuesSchema(source, POLICIES)), /service-named-port/);
});

t.test('the cluster scan lists the new kind and judges what it finds', async (t) => {
  const calls: string[] = [];
  const reader: ClusterReader = {
    async list(kind: ScanKind) {
      calls.push(kind.plural);
      return kind.kind === 'Service' ? [{ metadata: { ...service.metadata, uid: 'uid-web' }, spec: service.spec }] : [];
    },
  };
  const scan = await scanCluster(reader, compileConfig(DEFAULT_CONFIG, registry));
  t.ok(calls.includes('services'), 'listed');
  t.match(scan.judged, [{ evaluation: { kind: 'Service', findings: [{ policy: 'service-named-port' }] } }], 'judged');
  t.ok(scanKinds(judgedKinds(registry)).some((k) => k.kind === 'Service' && k.apiVersion === 'v1' && k.plural === 'services'));
});

t.test('the kind list of the config accepts exemptions for the new kind', async (t) => {
  const { parseConfig } = await import('../../src/config/load.js');
  t.doesNotThrow(() => parseConfig({ exemptions: [{ kinds: ['Service'], reason: 'r' }] }, 'gate.yaml', registry));
  t.throws(
    () => parseConfig({ exemptions: [{ kinds: ['Service'], reason: 'r' }] }, 'gate.yaml', POLICIES),
    /matches no kind practice-gate judges/,
  );
});

t.test('every kind a registered policy judges is in the API catalog and in exactly one webhook rule', async (t) => {
  const catalog = new Map(API_KINDS.map((k) => [k.kind, k]));
  const covered = webhookRules(POLICIES).flatMap((r) => r.resources.map((res) => `${r.apiGroups[0]}/${r.apiVersions[0]}/${res}`));
  t.equal(new Set(covered).size, covered.length, 'no resource twice');
  for (const kind of judgedKinds(POLICIES)) {
    const api = catalog.get(kind);
    t.ok(api, `${kind} is in src/registry/api-kinds.ts`);
    if (api) t.ok(covered.includes(`${api.group}/${api.version}/${api.plural}`), `${kind} is sent to the webhook`);
  }
  t.equal(covered.length, judgedKinds(POLICIES).length, 'and nothing else is');
  t.throws(() => webhookRules([{ ...standIn, kinds: ['Widget'] }]), /judges Widget, which src\/registry\/api-kinds.ts does not know/);
});
