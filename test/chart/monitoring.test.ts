// The chart's monitoring objects: off by default, and when on, a ServiceMonitor that matches
// the Service, alerts whose severity follows failurePolicy, and a dashboard Grafana can load.
import t from 'tap';
import { FULLNAME, NAMESPACE, helm, CHART, RELEASE, one, render } from './helm.js';
import { metaOf } from '../../src/engine/index.js';

type Obj = Record<string, any>;
const MONITORING_KINDS = ['ServiceMonitor', 'PrometheusRule'];
const ALL_ON = [
  '--set',
  'monitoring.serviceMonitor.enabled=true',
  '--set',
  'monitoring.prometheusRule.enabled=true',
  '--set',
  'monitoring.grafanaDashboard.enabled=true',
];

t.test('off by default: nothing that needs the Prometheus Operator or Grafana', async (t) => {
  const objects = render();
  t.same(
    objects.filter((o) => MONITORING_KINDS.includes(String(o.kind))),
    [],
  );
  t.notOk(objects.some((o) => o.kind === 'ConfigMap' && String(metaOf(o).name).endsWith('-dashboard')));
});

t.test('on: a ServiceMonitor for the Service, alerts, and a dashboard for the sidecar', async (t) => {
  const objects = render([
    ...ALL_ON,
    '--set',
    'monitoring.serviceMonitor.labels.release=kps',
    '--set',
    'monitoring.prometheusRule.alertLabels.team=platform',
  ]);
  const monitor = one<Obj>(objects, 'ServiceMonitor');
  const service = one<Obj>(objects, 'Service');
  t.equal(monitor.metadata.labels.release, 'kps', 'extra labels for the Prometheus that selects it');
  for (const [key, value] of Object.entries(monitor.spec.selector.matchLabels))
    t.equal(service.metadata.labels[key], value, `selects the Service by ${key}`);
  t.ok(
    service.spec.ports.some((p: Obj) => p.name === monitor.spec.endpoints[0].port),
    'scrapes a port the Service has',
  );
  t.same(monitor.spec.namespaceSelector.matchNames, [NAMESPACE]);

  const rule = one<Obj>(objects, 'PrometheusRule');
  const rules: Obj[] = rule.spec.groups[0].rules;
  t.ok(rules.length >= 7);
  for (const r of rules) {
    t.equal(r.labels.team, 'platform', `${r.alert}: extra alert labels`);
    t.type(r.expr, 'string');
    t.notMatch(r.expr, /\{\{|__/, `${r.alert}: fully rendered`);
  }
  const down = rules.find((r) => r.alert === 'PracticeGateWebhookDown');
  t.equal(down?.expr, `absent(up{job="${FULLNAME}",namespace="${NAMESPACE}"} == 1)`, "the ServiceMonitor's job and namespace");
  t.equal(down?.labels.severity, 'warning', 'failurePolicy Ignore: an outage lets writes through, a warning');
  const failClosed = one<Obj>(render([...ALL_ON, '--set', 'webhook.failurePolicy=Fail']), 'PrometheusRule').spec.groups[0].rules;
  t.equal(
    failClosed.find((r: Obj) => r.alert === 'PracticeGateWebhookDown').labels.severity,
    'critical',
    'failurePolicy Fail: an outage blocks pods, critical',
  );
  t.match(rules.find((r) => r.alert === 'PracticeGateCertificateExpiring')?.expr, / < 14 \* 86400$/);
  t.match(
    rules.find((r) => r.alert === 'PracticeGateCertificateExpiring')?.annotations.description,
    /helm upgrade/,
    'certs.mode=helm: the upgrade renews it',
  );

  const dashboard = one<Obj>(objects, 'ConfigMap', `${FULLNAME}-dashboard`);
  t.equal(dashboard.metadata.labels.grafana_dashboard, '1', "the sidecar's default label");
  const json = JSON.parse(dashboard.data['practice-gate.json']);
  t.equal(json.title, 'practice-gate');
  const constants = Object.fromEntries(json.templating.list.filter((v: Obj) => v.type === 'constant').map((v: Obj) => [v.name, v.query]));
  t.same(constants, { job: FULLNAME, namespace: NAMESPACE }, 'the dashboard selects this release');
});

t.test('the schema checks the monitoring values', async (t) => {
  for (const [what, flag] of [
    ['an unknown key', 'monitoring.serviceMonitor.intervall=30s'],
    ['a ratio above 1', 'monitoring.prometheusRule.errorRatio=2'],
    ['a bad duration', 'monitoring.serviceMonitor.interval=soon'],
  ] as const) {
    const run = helm(['template', RELEASE, CHART, '--namespace', NAMESPACE, '--set', flag]);
    t.not(run.status, 0, what);
    t.match(run.stderr, /values don't meet the specifications of the schema/, `${what}: a schema error`);
  }
});
