import fp from 'fastify-plugin';
import { clip } from '../log-fields.js';
import { metricLabels } from './validate.js';

/**
 * After each AdmissionReview answer: one log line and the metrics, from the record the
 * validate route left on the request. Only ids and names are logged, never the object (its
 * env values may hold secrets).
 */
export default fp(
  async (app) => {
    app.decorateRequest('admission', null);
    app.addHook('onResponse', (request, reply, done) => {
      const a = request.admission;
      if (a !== null) {
        const seconds = reply.elapsedTime / 1000;
        const labels = metricLabels(a);
        app.metrics.recordReview(labels.kind, labels.operation, a.decision, seconds);
        if (a.engineSeconds > 0) app.metrics.engineDuration.observe(a.engineSeconds);
        const policies: string[] = [];
        const exempt: string[] = [];
        const existing: string[] = [];
        for (const { finding, outcome } of a.applied) {
          app.metrics.recordFinding(finding.policy, outcome);
          if (finding.existing) {
            app.metrics.existingFindings.inc({ policy: finding.policy, action: outcome });
            if (!existing.includes(finding.policy)) existing.push(finding.policy);
          }
          const list = outcome === 'exempt' ? exempt : policies;
          if (!list.includes(finding.policy)) list.push(finding.policy);
        }
        for (const { policy, outcome, count } of a.omitted) app.metrics.recordFinding(policy, outcome, count);
        request.log.info(
          {
            uid: clip(a.uid),
            kind: clip(a.kind),
            namespace: clip(a.namespace),
            name: clip(a.name),
            operation: clip(a.operation),
            dryRun: a.dryRun,
            decision: a.decision,
            bytes: Number(request.headers['content-length']) || undefined,
            // Only when it waited for a place in the body budget (src/server/body-budget.ts).
            ...(request.bodyWait?.waitedMs !== undefined ? { waitedMs: Math.round(request.bodyWait.waitedMs) } : {}),
            policies,
            ...(exempt.length > 0 ? { exempt } : {}),
            ...(existing.length > 0 ? { existing } : {}),
            durationMs: Math.round(reply.elapsedTime * 1000) / 1000,
          },
          'admission review',
        );
      }
      done();
    });
  },
  { name: 'practice-gate-observe', fastify: '5.x', decorators: { fastify: ['metrics'] } },
);
