import fp from 'fastify-plugin';
import { WORKLOAD_KINDS } from '../../engine/index.js';
import { readAdmissionReview, reviewResponse } from '../admission.js';
import type { AdmissionRequest, AdmissionReview } from '../admission.js';
import type { AdmissionRecord } from '../decorations.js';
import { BodyError } from '../json.js';
import { failureResponse, reviewAdmission } from '../review.js';
import type { OnError, ReviewOutcome } from '../review.js';

const str = (value: unknown): string => (typeof value === 'string' ? value : '');

function record(request: AdmissionRequest, outcome: ReviewOutcome | undefined, error: boolean): AdmissionRecord {
  const evaluation = outcome?.evaluation;
  return {
    uid: request.uid,
    kind: evaluation?.kind ?? str(request.kind?.kind),
    namespace: evaluation?.namespace ?? str(request.namespace),
    name: evaluation?.name ?? str(request.name),
    operation: str(request.operation),
    dryRun: request.dryRun === true,
    decision: error || !outcome ? 'error' : outcome.decision,
    applied: outcome?.applied ?? [],
    omitted: outcome?.omitted ?? [],
    engineSeconds: outcome?.engineSeconds ?? 0,
  };
}

/**
 * POST /validate: the AdmissionReview endpoint. A failure while judging never escapes as an
 * HTTP error: the API server gets a proper AdmissionReview decided by --on-error.
 */
export default fp<{ onError: OnError }>(
  async (app, options) => {
    app.post('/validate', async (request): Promise<AdmissionReview> => {
      const envelope = readAdmissionReview(request.body);
      if (!envelope.ok) throw new BodyError(envelope.message);
      const admission = envelope.request;
      try {
        const outcome = reviewAdmission(admission, app.gate);
        request.admission = record(admission, outcome, false);
        return reviewResponse(outcome.response);
      } catch (err) {
        app.metrics.recordError('review_failed');
        request.admission = record(admission, undefined, true);
        request.log.error({ err, uid: admission.uid, onError: options.onError }, 'judging failed');
        return reviewResponse(failureResponse(admission, err, options.onError));
      }
    });
  },
  { name: 'practice-gate-validate', fastify: '5.x', decorators: { fastify: ['gate', 'metrics'] } },
);

const KNOWN_KINDS = new Set([...WORKLOAD_KINDS, 'PodDisruptionBudget']);
const KNOWN_OPERATIONS = new Set(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);

/** Metric labels from untrusted input stay within a known set, so series cannot explode. */
export function metricLabels(record: AdmissionRecord): { kind: string; operation: string } {
  return {
    kind: KNOWN_KINDS.has(record.kind) ? record.kind : 'other',
    operation: KNOWN_OPERATIONS.has(record.operation) ? record.operation : 'other',
  };
}
