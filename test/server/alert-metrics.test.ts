// The chart's alerts and dashboard query the metrics practice-gate really exposes: every
// practice_gate_* name and label in an expression is read from the registries the server and
// the cluster audit fill. A renamed metric fails here, not silently in someone's Prometheus.
import { readFileSync } from 'node:fs';
import t from 'tap';
import type { Test } from 'tap';
import { AuditMetrics } from '../../src/cluster/scan/metrics.js';
import type { Decision } from '../../src/server/review.js';
import { GateMetrics } from '../../src/server/metrics.js';

const chart = (file: string) => readFileSync(new URL(`../../charts/practice-gate/${file}`, import.meta.url), 'utf8');

const gate = new GateMetrics({ processMetrics: false });
new AuditMetrics(gate.registry);
const labelsOf = new Map<string, readonly string[]>();
for (const metric of gate.registry.getMetricsAsArray()) {
  const { name, labelNames } = metric as unknown as { name: string; labelNames?: string[] };
  labelsOf.set(name, labelNames ?? []);
}
const histograms = new Set(['practice_gate_admission_duration_seconds', 'practice_gate_engine_duration_seconds']);
// Labels Prometheus adds to every scraped series (ServiceMonitor target labels).
const TARGET_LABELS = ['job', 'namespace', 'pod', 'instance', 'service', 'endpoint', 'container'];
// Series of others, as their projects document them.
const EXTERNAL: Record<string, readonly string[]> = {
  up: TARGET_LABELS,
  // kube-apiserver's admission webhook metrics (k8s.io/apiserver/pkg/admission/metrics).
  apiserver_admission_webhook_fail_open_count: ['name', 'type'],
  apiserver_admission_webhook_rejection_count: ['name', 'type', 'operation', 'error_type', 'rejection_code'],
};
const VALUES: Record<string, readonly string[]> = {
  decision: ['allow', 'warn', 'deny', 'error'] satisfies Decision[],
  result: ['success', 'failure'],
};

/** Every `metric{labels}` or bare metric name in a PromQL expression. */
function series(expr: string): Array<{ name: string; labels: Array<[string, string]> }> {
  const found: Array<{ name: string; labels: Array<[string, string]> }> = [];
  for (const match of expr.matchAll(/\b(practice_gate_\w+|apiserver_\w+|up)\b(\{[^}]*\})?/g)) {
    const labels = [...(match[2] ?? '').matchAll(/(\w+)\s*=~?\s*"([^"]*)"/g)].map((m) => [m[1], m[2]] as [string, string]);
    found.push({ name: match[1] as string, labels });
  }
  return found;
}

function check(t: Pick<Test, 'ok'>, where: string, expr: string): number {
  const all = series(expr);
  for (const { name, labels } of all) {
    const base = histograms.has(name.replace(/_(bucket|sum|count)$/, '')) ? name.replace(/_(bucket|sum|count)$/, '') : name;
    const known = labelsOf.get(base) ?? EXTERNAL[base];
    t.ok(known, `${where}: ${name} is a real metric`);
    const allowed = new Set([...(known ?? []), ...(labelsOf.has(base) ? TARGET_LABELS : []), ...(name.endsWith('_bucket') ? ['le'] : [])]);
    for (const [label, value] of labels) {
      t.ok(allowed.has(label), `${where}: ${name} has the label ${label}`);
      if (VALUES[label] && !value.includes('$'))
        t.ok(VALUES[label]?.includes(value), `${where}: ${label}="${value}" is a value practice-gate records`);
    }
  }
  return all.length;
}

t.test("the PrometheusRule's alert expressions name real metrics and labels", async (t) => {
  const template = chart('templates/prometheusrule.yaml').replace(/\{\{-? \$sel -?\}\}/g, 'job="j",namespace="n"');
  const exprs = [...template.matchAll(/^\s+expr: (.+)$/gm)].map((m) => (m[1] as string).replace(/\{\{[^}]*\}\}/g, '1'));
  t.ok(exprs.length >= 7, 'down, not ready, calls failing, errors, slow, certificate, denials, audit');
  const alerts = [...template.matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
  for (const wanted of [
    'PracticeGateWebhookDown',
    'PracticeGateNotReady',
    'PracticeGateErrors',
    'PracticeGateCertificateExpiring',
    'PracticeGateDenialsSpiking',
  ]) {
    t.ok(alerts.includes(wanted), `alert ${wanted}`);
  }
  for (const [i, expr] of exprs.entries()) t.ok(check(t, `${alerts[i]}`, expr) > 0, `${alerts[i]} queries something`);
});

t.test("the Grafana dashboard's queries name real metrics and labels", async (t) => {
  const dashboard = JSON.parse(chart('files/dashboard.json')) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> };
  t.ok(dashboard.panels.length >= 8);
  for (const panel of dashboard.panels)
    for (const target of panel.targets) t.ok(check(t, panel.title, target.expr) > 0, `${panel.title} queries something`);
});

t.test('the check itself: a misspelt metric or label is caught', async (t) => {
  const caught: string[] = [];
  const probe = { ok: (ok: unknown, message?: string) => void (ok ? undefined : caught.push(message ?? '')) } as unknown as Pick<
    Test,
    'ok'
  >;
  check(
    probe,
    'probe',
    'sum(rate(practice_gate_admision_requests_total[5m])) + practice_gate_ready{decison="deny"} + practice_gate_admission_requests_total{decision="denied"}',
  );
  t.equal(caught.length, 3, caught.join('; '));
});
