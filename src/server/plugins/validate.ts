import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { WORKLOAD_KINDS } from '../../engine/index.js';
import { readAdmissionReview, reviewResponse } from '../admission.js';
import type { AdmissionRequest, AdmissionReview } from '../admission.js';
import type { AdmissionRecord } from '../decorations.js';
import { OversizeBody } from '../bounded-body.js';
import { BodyError } from '../json.js';
import { RuleError } from '../../rules/rule-error.js';
import { clip, loggedError } from '../log-fields.js';
import { oversizeAnswer } from '../oversize.js';
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
 * Past the body limit: a refusal (enforce) or a warning (audit) as an AdmissionReview, never an
 * HTTP error the API server would fail open on; a 413 only for a body that names no uid.
 */
function oversize(app: FastifyInstance, request: FastifyRequest, body: OversizeBody): AdmissionReview {
  const answer = oversizeAnswer(body, app.gate);
  const head = answer?.head;
  // Untrusted and unparsed: capped once, for the log line and the admission record alike.
  const fields = {
    uid: clip(head?.uid ?? ''),
    kind: clip(head?.kind ?? ''),
    namespace: clip(head?.namespace ?? ''),
    name: clip(head?.name ?? ''),
    operation: clip(head?.operation ?? ''),
  };
  request.log.warn({ ...fields, bytes: body.bytes, limit: body.limit, decision: answer?.decision ?? 'error' }, 'AdmissionReview over the body limit: answered unjudged');
  if (!answer) throw new BodyTooLargeError(body.limit); // counted by the error plugin
  app.metrics.recordError('body_too_large');
  request.admission = { ...fields, dryRun: false, decision: answer.decision, applied: [], omitted: [], engineSeconds: 0 };
  return reviewResponse(answer.response);
}

/** The error fastify's own limit raises, so the error plugin answers it the same way. */
class BodyTooLargeError extends Error {
  readonly statusCode = 413;
  readonly code = 'FST_ERR_CTP_BODY_TOO_LARGE';
  constructor(limit: number) {
    super(`the body is larger than the ${limit / 1024 / 1024} MiB limit and names no request.uid in its first bytes`);
  }
}

/**
 * POST /validate: the AdmissionReview endpoint. A failure while judging never escapes as an
 * HTTP error: the API server gets a proper AdmissionReview decided by --on-error.
 */
export default fp<{ onError: OnError }>(
  async (app, options) => {
    app.post('/validate', async (request): Promise<AdmissionReview> => {
      if (request.body instanceof OversizeBody) return oversize(app, request, request.body);
      const envelope = readAdmissionReview(request.body);
      if (!envelope.ok) throw new BodyError(envelope.message);
      const admission = envelope.request;
      try {
        const outcome = reviewAdmission(admission, app.gate);
        request.admission = record(admission, outcome, false);
        return reviewResponse(outcome.response);
      } catch (err) {
        app.metrics.recordError('review_failed');
        if (err instanceof RuleError) app.metrics.recordRuleError(err.rule, err.overBudget);
        request.admission = record(admission, undefined, true);
        const rule = err instanceof RuleError ? { rule: err.rule } : {};
        request.log.error({ err: loggedError(err), uid: clip(admission.uid), onError: options.onError, ...rule }, 'judging failed');
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
