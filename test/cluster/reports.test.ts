import t from 'tap';
import { POLICIES } from '../../policies/index.js';
import {
  buildPolicyReport,
  MANAGED_BY_LABEL,
  MAX_REPORT_BYTES,
  MAX_REPORT_RESULTS,
  ReportPublisher,
  TRUNCATED_ANNOTATION,
} from '../../src/cluster/scan/reports.js';
import type { PolicyReport } from '../../src/cluster/scan/reports.js';
import { scanCluster } from '../../src/cluster/scan/scanner.js';
import type { ClusterReader, ScanKind } from '../../src/cluster/scan/scanner.js';
import type { ScanResult } from '../../src/cluster/scan/scan-result.js';
import { compileConfig, DEFAULT_CONFIG } from '../../src/engine/index.js';
import type { Config, EngineConfig } from '../../src/engine/index.js';
import { captureLogger, httpError, ReportServer, WARN } from '../helpers/cluster.js';

const NOW = Date.UTC(2030, 5, 1, 12, 0, 0);
const config = (overrides: Partial<Config> = {}) => compileConfig({ ...DEFAULT_CONFIG, ...overrides }, POLICIES);

const reader = (objects: Record<string, unknown>[]): ClusterReader => ({
  async list(kind: ScanKind) {
    return objects.filter((o) => o.kind === kind.kind).map((o) => structuredClone(o));
  },
});

const good = (name: string) => ({
  name,
  image: 'registry.example/app:1.2.3',
  securityContext: { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
  resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '128Mi' } },
  readinessProbe: { httpGet: { path: '/ready', port: 8080 } },
  livenessProbe: { httpGet: { path: '/live', port: 8080 } },
});
const rootContainer = (name: string) => ({
  ...good(name),
  securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
});

function deployment(namespace: string, name: string, containers: object[], annotations: Record<string, string> = {}) {
  return {
    kind: 'Deployment',
    apiVersion: 'apps/v1',
    metadata: { namespace, name, uid: `uid-${namespace}-${name}`, annotations },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers } },
    },
  };
}
const ns = (name: string) => ({ kind: 'Namespace', apiVersion: 'v1', metadata: { name } });
// network-policy-coverage's audit finding would be one more result of every Deployment.
const denyAll = (namespace: string) => ({
  kind: 'NetworkPolicy',
  apiVersion: 'networking.k8s.io/v1',
  metadata: { namespace, name: 'default-deny' },
  spec: { podSelector: {} },
});

async function scan(objects: Record<string, unknown>[], engine: EngineConfig = config()): Promise<ScanResult> {
  return scanCluster(reader(objects), engine);
}

t.test('one result per object and policy, containers joined, with the fields PolicyReport readers expect', async (t) => {
  const engine = config();
  const result = await scan(
    [ns('shop'), deployment('shop', 'web', [rootContainer('app'), rootContainer('sidecar')]), denyAll('shop')],
    engine,
  );
  const report = buildPolicyReport('shop', result.judged, engine, NOW);

  t.match(report, {
    apiVersion: 'wgpolicyk8s.io/v1alpha2',
    kind: 'PolicyReport',
    metadata: { name: 'practice-gate', namespace: 'shop', labels: { [MANAGED_BY_LABEL]: 'practice-gate' } },
  });
  const nonRoot = report.results.filter((r) => r.policy === 'run-as-non-root');
  t.equal(nonRoot.length, 1, 'two failing containers make one result, not two');
  t.match(nonRoot[0], {
    source: 'practice-gate',
    rule: 'run-as-non-root',
    result: 'fail',
    severity: 'high',
    scored: true,
    message: /container "app" may run as root.*\(and 1 more; containers app, sidecar\)/,
    timestamp: { seconds: NOW / 1000, nanos: 0 },
    resources: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'shop', uid: 'uid-shop-web' }],
    properties: {
      action: 'deny',
      container: 'app, sidecar',
      path: 'spec.template.spec.containers[0].securityContext.runAsNonRoot; spec.template.spec.containers[1].securityContext.runAsNonRoot',
    },
  });
  for (const r of report.results) {
    for (const value of Object.values(r.properties)) t.type(value, 'string', 'PolicyReport properties are strings');
  }
  const applicable = engine.active.filter((a) => a.policy.kinds.includes('Deployment')).length;
  t.same(report.summary, { pass: applicable - report.results.length, fail: 1, warn: 0, error: 0, skip: 0 }, 'passes counted, not listed');
});

t.test('configured action maps to result and severity as if in audit mode; exemptions are skips with their reason', async (t) => {
  const engine = config({
    mode: 'enforce',
    objectExemptions: true,
    policies: { 'run-as-non-root': 'warn', 'read-only-root-filesystem': 'audit' },
  });
  const writable = { ...rootContainer('app'), securityContext: { allowPrivilegeEscalation: false } };
  const result = await scan(
    [
      ns('shop'),
      deployment('shop', 'web', [writable]),
      deployment('shop', 'legacy', [writable], {
        'practice-gate.io/exempt': 'run-as-non-root',
        'practice-gate.io/exempt-reason': 'vendor image, ticket OPS-12',
      }),
    ],
    engine,
  );
  const report = buildPolicyReport('shop', result.judged, engine, NOW);
  const find = (name: string, policy: string) => report.results.find((r) => r.resources[0]?.name === name && r.policy === policy);
  t.match(find('web', 'run-as-non-root'), { result: 'warn', severity: 'medium', properties: { action: 'warn' } });
  t.match(
    find('web', 'read-only-root-filesystem'),
    { result: 'warn', severity: 'low', properties: { action: 'audit' } },
    'audit findings are recorded, at low severity',
  );
  t.match(find('legacy', 'run-as-non-root'), { result: 'skip', properties: { exemptReason: 'vendor image, ticket OPS-12' } });
  t.equal(report.summary.skip, 1);
  t.equal(report.summary.warn, report.results.filter((r) => r.result === 'warn').length);
});

function publisher() {
  const store = new ReportServer();
  const { logger, lines } = captureLogger();
  return { store, lines, publisher: new ReportPublisher(store, logger) };
}

t.test('reports are created, left alone when nothing changed, emptied when fixed, deleted when the namespace is exempted', async (t) => {
  const { store, publisher: p } = publisher();
  const bad = [ns('shop'), ns('empty'), deployment('shop', 'web', [rootContainer('app')])];
  const engine = config();

  t.match(await p.publish(await scan(bad), engine, NOW), { available: true, created: 1 });
  t.same([...store.reports.keys()], ['shop/practice-gate'], 'no report for a namespace with nothing to judge');
  const first = store.reports.get('shop/practice-gate');
  t.ok(first?.results.some((r) => r.result === 'fail'));

  const writes = store.writes;
  t.match(await p.publish(await scan(bad), engine, NOW + 600_000), { unchanged: 1, updated: 0 });
  t.equal(store.writes, writes, 'an unchanged namespace costs no write');

  const fixed = [ns('shop'), ns('empty'), deployment('shop', 'web', [good('app')]), denyAll('shop')];
  t.match(await p.publish(await scan(fixed), engine, NOW + 1_200_000), { updated: 1 });
  const emptied = store.reports.get('shop/practice-gate') as PolicyReport;
  t.same(emptied.results, [], 'results emptied once the object is fixed');
  t.equal(emptied.summary.fail, 0);
  t.ok(emptied.summary.pass > 0);

  const deleted = [ns('shop'), ns('empty')];
  await p.publish(await scan(deleted), engine, NOW + 1_800_000);
  t.same(
    store.reports.get('shop/practice-gate')?.summary,
    { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 },
    'emptied once the object is deleted',
  );

  const exempted = config({ exemptions: [{ namespaces: ['shop'], reason: 'handed over to team X' }] });
  t.match(await p.publish(await scan(bad, exempted), exempted, NOW + 2_400_000), { deleted: 1 });
  t.equal(store.reports.size, 0, 'no report left in a wholly exempt namespace');
});

t.test('a result keeps the timestamp of when it was first seen', async (t) => {
  const { store, publisher: p } = publisher();
  const engine = config();
  await p.publish(await scan([ns('shop'), deployment('shop', 'web', [rootContainer('app')])]), engine, NOW);
  await p.publish(
    await scan([ns('shop'), deployment('shop', 'web', [rootContainer('app')]), deployment('shop', 'api', [rootContainer('api')])]),
    engine,
    NOW + 600_000,
  );
  const results = store.reports.get('shop/practice-gate')?.results.filter((r) => r.policy === 'run-as-non-root') ?? [];
  t.same(results.map((r) => [r.resources[0]?.name, r.timestamp.seconds]).sort(), [
    ['api', (NOW + 600_000) / 1000],
    ['web', NOW / 1000],
  ]);
});

/** A JSON value with its object keys sorted, the way the API server returns custom resources. */
function keysSorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(keysSorted);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => [k, keysSorted(v)]),
  );
}

t.test('a report read back with its keys in another order is unchanged: no write', async (t) => {
  const { store, publisher: p } = publisher();
  const engine = config();
  const objects = [ns('shop'), deployment('shop', 'web', [rootContainer('app')])];
  await p.publish(await scan(objects), engine, NOW);
  store.reports.set('shop/practice-gate', keysSorted(store.reports.get('shop/practice-gate')) as PolicyReport);
  const writes = store.writes;
  t.match(await p.publish(await scan(objects), engine, NOW + 600_000), { unchanged: 1, updated: 0 });
  t.equal(store.writes, writes);
});

t.test('without the PolicyReport CRD: nothing written, said once, and noticed when it appears', async (t) => {
  const { store, lines, publisher: p } = publisher();
  store.crdInstalled = false;
  const result = await scan([ns('shop'), deployment('shop', 'web', [rootContainer('app')])]);
  t.match(await p.publish(result, config(), NOW), { available: false });
  t.match(await p.publish(result, config(), NOW), { available: false });
  t.equal(lines.filter((l) => l.event === 'policyreport-crd-missing' && l.level === WARN).length, 1, 'logged once');

  store.crdInstalled = true;
  t.match(await p.publish(result, config(), NOW), { available: true, created: 1 });
  t.ok(lines.some((l) => l.event === 'policyreport-crd-found'));
});

t.test('a write that fails in one namespace does not stop the others', async (t) => {
  const { store, publisher: p } = publisher();
  const engine = config();
  const objects = [ns('a'), ns('b'), deployment('a', 'web', [rootContainer('app')]), deployment('b', 'web', [rootContainer('app')])];
  await p.publish(await scan(objects), engine, NOW);
  objects.push(deployment('a', 'api', [rootContainer('api')]), deployment('b', 'api', [rootContainer('api')]));
  store.replaceFailures = [httpError(409, 'Conflict')];
  t.match(await p.publish(await scan(objects), engine, NOW + 1000), { updated: 1, failed: 1 });
  t.equal(store.reports.get('b/practice-gate')?.results.filter((r) => r.policy === 'run-as-non-root').length, 2);
  t.match(await p.publish(await scan(objects), engine, NOW + 2000), { updated: 1, unchanged: 1 }, 'the next scan catches up');
});

/** A namespace where every Deployment fails most policies: many findings per object. */
function crowded(namespace: string, count: number, name = (i: number) => `app-${String(i).padStart(4, '0')}`) {
  const objects: Record<string, unknown>[] = [ns(namespace)];
  for (let i = 0; i < count; i++) objects.push(deployment(namespace, name(i), [{ name: 'app', image: 'nginx:latest' }]));
  return objects;
}

const findingsIn = (summary: PolicyReport['summary']) => summary.fail + summary.warn + summary.skip + summary.error;

t.test('too many findings for one report: the most severe are listed, the summary counts all, and the report says so', async (t) => {
  // deny -> fail/high, warn -> warn/medium, audit -> warn/low
  const engine = config({ policies: { 'memory-limit': 'audit', 'liveness-probe': 'audit' } });
  const result = await scan(crowded('shop', 6), engine);
  const full = buildPolicyReport('shop', result.judged, engine, NOW);
  const total = full.results.length;
  t.ok(total > 30, `${total} findings`);
  t.equal(full.metadata.annotations, undefined, 'a report that fits is not annotated');

  const fails = full.results.filter((r) => r.result === 'fail').length;
  const medium = full.results.filter((r) => r.result === 'warn' && r.severity === 'medium').length;
  const limit = fails + medium + 2;
  const capped = buildPolicyReport('shop', result.judged, engine, NOW, undefined, { maxResults: limit, maxBytes: 10_000_000 });
  t.equal(capped.results.length, limit);
  t.same(capped.summary, full.summary, 'the summary counts every finding, listed or not');
  t.equal(capped.metadata.annotations?.[TRUNCATED_ANNOTATION], `${limit}/${total}`);
  t.equal(capped.results.filter((r) => r.result === 'fail').length, fails, 'every fail is kept');
  t.equal(capped.results.filter((r) => r.severity === 'medium').length, medium, 'then every medium warning');
  t.equal(capped.results.filter((r) => r.severity === 'low').length, 2, 'then low ones, as far as they fit');
  // The cut in the low warnings is by object, then policy: the same on every scan.
  const lowKept = capped.results.filter((r) => r.severity === 'low').map((r) => `${r.resources[0]?.name}/${r.policy}`);
  const lowAll = full.results.filter((r) => r.severity === 'low').map((r) => `${r.resources[0]?.name}/${r.policy}`);
  t.same(lowKept, lowAll.slice(0, 2), 'a stable choice among equals');
  const order = capped.results.map((r) => `${r.resources[0]?.kind}/${r.resources[0]?.name}/${r.policy}`);
  t.same(
    order,
    [...order].sort((a, b) => a.localeCompare(b)),
    'listed in the usual order, by object then policy',
  );
  t.same(
    buildPolicyReport('shop', result.judged, engine, NOW, capped, { maxResults: limit, maxBytes: 10_000_000 }),
    capped,
    'the same input gives the same report: no write',
  );

  const bytes = capped.results
    .filter((r) => r.result === 'fail')
    .slice(0, 3)
    .reduce((n, r) => n + Buffer.byteLength(JSON.stringify(r)) + 1, 0);
  const bySize = buildPolicyReport('shop', result.judged, engine, NOW, undefined, { maxResults: 1000, maxBytes: bytes });
  t.equal(bySize.results.length, 3, 'the byte budget caps too');
  t.ok(bySize.results.every((r) => r.result === 'fail'));
  t.equal(bySize.metadata.annotations?.[TRUNCATED_ANNOTATION], `3/${total}`);
});

t.test("the default cap keeps a report of a crowded namespace well under etcd's 1.5 MiB", async (t) => {
  const engine = config();
  const result = await scan(crowded('shop', 150), engine);
  const report = buildPolicyReport('shop', result.judged, engine, NOW);
  const total = findingsIn(report.summary);
  t.ok(total > MAX_REPORT_RESULTS, `${total} findings`);
  t.equal(report.results.length, MAX_REPORT_RESULTS);
  t.equal(report.metadata.annotations?.[TRUNCATED_ANNOTATION], `${MAX_REPORT_RESULTS}/${total}`);
  const size = Buffer.byteLength(JSON.stringify(report));
  t.ok(size < 900_000, `${size} bytes`);
  const order = report.results.map((r) => `${r.resources[0]?.name}/${r.policy}`);
  t.same(
    order,
    [...order].sort((a, b) => a.localeCompare(b)),
    'listed by object, then policy',
  );
  t.ok(report.summary.fail < MAX_REPORT_RESULTS);
  t.equal(report.results.filter((r) => r.result === 'fail').length, report.summary.fail, 'every fail is listed, warnings fill the rest');

  // Long names and long messages: the byte budget holds where the count alone would not.
  const long = (i: number) => `${'x'.repeat(240)}-${String(i).padStart(4, '0')}`;
  const heavy = await scan(crowded('a-namespace-name-of-the-longest-kind-allowed-sixty-three-chars', 150, long), engine);
  const big = buildPolicyReport('a-namespace-name-of-the-longest-kind-allowed-sixty-three-chars', heavy.judged, engine, NOW);
  const bigSize = Buffer.byteLength(JSON.stringify(big));
  t.ok(bigSize <= MAX_REPORT_BYTES + 1000, `${bigSize} bytes with ${big.results.length} results`);
  t.ok(big.results.length < MAX_REPORT_RESULTS, 'fewer results, each bigger');
});

t.test('a truncated report is annotated, logged and counted; the annotation goes once everything fits', async (t) => {
  const store = new ReportServer();
  const { logger, lines } = captureLogger();
  const p = new ReportPublisher(store, logger, { maxResults: 10, maxBytes: 1_000_000 });
  const engine = config();
  const objects = [...crowded('shop', 4), ns('calm'), deployment('calm', 'web', [good('app')])];
  const outcome = await p.publish(await scan(objects), engine, NOW);
  t.match(outcome, { created: 2, truncated: 1 });
  const report = store.reports.get('shop/practice-gate');
  const total = report ? findingsIn(report.summary) : 0;
  t.equal(report?.results.length, 10);
  t.equal(report?.metadata.annotations?.[TRUNCATED_ANNOTATION], `10/${total}`);
  t.match(
    lines.find((l) => l.event === 'policyreport-truncated'),
    { level: WARN, namespace: 'shop', kept: 10, total, msg: /10 most severe of \d+ findings/ },
  );
  t.equal(store.reports.get('calm/practice-gate')?.metadata.annotations, undefined, 'only the crowded namespace');

  const writes = store.writes;
  t.match(await p.publish(await scan(objects), engine, NOW + 600_000), { unchanged: 2, truncated: 1 });
  t.equal(store.writes, writes, 'a truncated report that did not change is not rewritten');

  // Someone else's annotation on the report survives; ours goes when the findings fit.
  const stored = store.reports.get('shop/practice-gate');
  if (!stored) throw new Error('no report');
  stored.metadata.annotations = { ...stored.metadata.annotations, 'example.com/owner': 'team-shop' };
  const fewer = [ns('shop'), deployment('shop', 'web', [rootContainer('app')]), ns('calm'), deployment('calm', 'web', [good('app')])];
  t.match(await p.publish(await scan(fewer), engine, NOW + 1_200_000), { updated: 1, truncated: 0 });
  t.same(store.reports.get('shop/practice-gate')?.metadata.annotations, { 'example.com/owner': 'team-shop' });
});
