import t from 'tap';
import { GateMetrics } from '../../src/server/metrics.js';

const series = async (metrics: GateMetrics) =>
  (await metrics.registry.metrics()).split('\n').filter((l) => /^practice_gate_(admission_requests|findings)_total\{/.test(l));

t.test('review and finding counts are all there whenever the counters are read', async (t) => {
  const metrics = new GateMetrics({ processMetrics: false });
  t.same(await series(metrics), [], 'no series before the first review, as with plain counters');
  metrics.recordReview('Deployment', 'CREATE', 'deny', 0.001);
  metrics.recordReview('Deployment', 'CREATE', 'deny', 0.001);
  metrics.recordReview('Pod', 'UPDATE', 'allow', 0.001);
  metrics.recordFinding('run-as-non-root', 'deny');
  metrics.recordFinding('run-as-non-root', 'deny', 2);
  metrics.recordFinding('run-as-non-root', 'exempt');
  const expected = [
    'practice_gate_admission_requests_total{kind="Deployment",operation="CREATE",decision="deny"} 2',
    'practice_gate_admission_requests_total{kind="Pod",operation="UPDATE",decision="allow"} 1',
    'practice_gate_findings_total{policy="run-as-non-root",action="deny"} 3',
    'practice_gate_findings_total{policy="run-as-non-root",action="exempt"} 1',
  ];
  t.same(await series(metrics), expected);
  t.same(await series(metrics), expected, 'reading again counts nothing twice');
  metrics.recordReview('Pod', 'UPDATE', 'allow', 0.001);
  t.same(
    (await metrics.requests.get()).values.map((v) => [v.labels, v.value]),
    [
      [{ kind: 'Deployment', operation: 'CREATE', decision: 'deny' }, 2],
      [{ kind: 'Pod', operation: 'UPDATE', decision: 'allow' }, 2],
    ],
    'get() sees the latest counts too',
  );
});
