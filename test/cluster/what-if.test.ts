// `practice-gate audit --cluster --mode enforce` and `practice-gate exemptions --cluster`: what an
// admin reads before switching to enforce, from a fake cluster.
import t from 'tap';
import { POLICIES } from '../../policies/index.js';
import { parseConfig } from '../../src/config/load.js';
import { runClusterAudit } from '../../src/cli/cluster-audit.js';
import { countExemptedObjects } from '../../src/cluster/scan/exemption-counts.js';
import { buildPolicyReport } from '../../src/cluster/scan/reports.js';
import { scanCluster } from '../../src/cluster/scan/scanner.js';
import { exemptionRows, formatExemptions } from '../../src/cli/exemptions.js';
import { compileConfig, parseInstant } from '../../src/engine/index.js';
import { listReader } from '../helpers/cluster.js';

const root = (namespace: string, name: string) => ({
  kind: 'Deployment',
  metadata: { namespace, name, uid: `u-${namespace}-${name}` },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: {
        containers: [
          {
            name: 'app',
            image: 'app:1.0',
            securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
            resources: { requests: { cpu: '1m', memory: '1Mi' }, limits: { memory: '1Mi' } },
            readinessProbe: {},
            livenessProbe: {},
          },
        ],
      },
    },
  },
});

const objects: Record<string, unknown>[] = [
  { kind: 'Namespace', metadata: { name: 'shop' } },
  { kind: 'Namespace', metadata: { name: 'batch', labels: { 'practice-gate.io/enforce-from': '2099-01-01' } } },
  root('shop', 'web'),
  root('shop', 'api'),
  root('batch', 'nightly'),
];

const reader = listReader(objects);

async function audit(configDoc: object, format: 'table' | 'json', namespace?: string) {
  const out: string[] = [];
  const config = { ...compileConfig(parseConfig(configDoc, 'gate.yaml'), POLICIES), mode: 'enforce' as const };
  const code = await runClusterAudit(
    { config, format, failOn: 'never', whatIf: true, ...(namespace ? { namespace } : {}) },
    { stdout: { write: (s: string) => out.push(s) }, say: () => {}, reader, source: 'cluster test' },
  );
  return { code, text: out.join('') };
}

t.test('what enforce would refuse, per namespace and policy, existing violations apart', async (t) => {
  const { text } = await audit({ mode: 'audit' }, 'table');
  t.match(text, /What enforce would refuse today, per namespace and policy:/);
  t.match(text, /NAMESPACE\s+POLICY\s+OBJECTS\s+EXISTING\s+BLOCK UPDATES\s+PENDING/);
  t.match(text, /shop\s+run-as-non-root\s+2\s+2\s+0\s+0/, 'two existing violations, admitted on UPDATE');
  t.match(text, /batch\s+run-as-non-root\s+1\s+0\s+0\s+1/, 'the namespace deadline: pending, not refused');
  t.match(text, /2 existing violations that new writes \(CREATEs\) of the same content would have refused/);

  const denying = await audit({ existingViolations: 'deny' }, 'json');
  const report = JSON.parse(denying.text) as {
    whatIf: { mode: string; rows: Array<Record<string, unknown>>; totals: Record<string, number> };
  };
  t.equal(report.whatIf.mode, 'enforce');
  t.same(
    report.whatIf.rows.find((r) => r.namespace === 'shop'),
    { namespace: 'shop', policy: 'run-as-non-root', objects: 2, existing: 2, blockUpdates: 2, pending: 0 },
    'under existingViolations: deny their next UPDATE is refused',
  );
  t.same(report.whatIf.totals, { objects: 3, existing: 2, blockUpdates: 2, pending: 1 });

  const one = JSON.parse((await audit({}, 'json', 'shop')).text) as { whatIf: { rows: Array<{ namespace: string }> } };
  t.same([...new Set(one.whatIf.rows.map((r) => r.namespace))], ['shop'], 'for one namespace');
});

t.test('exemptions: state by expiry, and how many live objects each matches', async (t) => {
  const config = compileConfig(
    parseConfig(
      {
        exemptions: [
          { namespaces: ['shop'], reason: 'legacy until Q1', expires: '2027-01-01' },
          { names: ['nightly'], policies: ['run-as-non-root'], reason: 'vendor job', expires: '2027-01-20' },
          { kinds: ['CronJob'], reason: 'LimitRange' },
        ],
      },
      'gate.yaml',
    ),
    POLICIES,
  );
  const counts = await countExemptedObjects(config, undefined, () => {}, reader);
  t.same(counts, [2, 1, 0]);
  const rows = exemptionRows(config, parseInstant('2027-01-10')!, counts);
  t.same(
    rows.map((r) => [r.state, r.objects]),
    [
      ['expired', 2],
      ['expiring', 1],
      ['active', 0],
    ],
  );
  const text = formatExemptions(rows, false);
  t.match(
    text,
    /#0  EXPIRED  expired 2027-01-01\n  scope:    namespaces shop\n  policies: all\n  reason:   legacy until Q1\n  objects:  2 live objects matched \(no longer exempt\)/,
  );
  t.match(text, /#1  EXPIRING  expires 2027-01-20/);
  t.match(text, /#2  ACTIVE  never expires/);

  const { text: audited } = await audit(
    { exemptions: [{ namespaces: ['shop'], reason: 'legacy until Q1', expires: '2020-01-01' }] },
    'table',
  );
  t.match(
    audited,
    /Exemption 0 \(namespaces=shop policies=all\) expired 2020-01-01: it no longer exempts anything/,
    'the audit summary names the expired exemption',
  );
  t.match(audited, /shop\s+run-as-non-root\s+2\s+2/, 'and its objects count as refused again');
});

t.test('PolicyReports name the expired exemption where it stopped applying, and the expiry where it still does', async (t) => {
  const config = compileConfig(
    parseConfig(
      {
        exemptions: [
          { namespaces: ['shop'], names: ['web'], reason: 'legacy until Q1', expires: '2027-01-01' },
          { namespaces: ['shop'], names: ['api'], reason: 'vendor image', expires: '2027-01-20' },
        ],
      },
      'gate.yaml',
    ),
    POLICIES,
  );
  const now = parseInstant('2027-01-10')!;
  const scan = await scanCluster(reader, config, { now });
  const report = buildPolicyReport(
    'shop',
    scan.judged.filter((j) => j.evaluation.namespace === 'shop'),
    config,
    now,
  );
  const result = (name: string) => report.results.find((r) => r.resources[0]?.name === name && r.policy === 'run-as-non-root');
  t.equal(result('web')?.result, 'fail');
  t.equal(result('web')?.properties.exemptionExpired, 'exemption 0 expired 2027-01-01: legacy until Q1');
  t.equal(result('api')?.result, 'skip');
  t.equal(result('api')?.properties.exemptExpires, '2027-01-20');
});
