import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { POLICIES } from '../../../policies/index.js';
import { judgedKinds } from '../../engine/index.js';
import { readAdmissionReview, reviewResponse } from '../admission.js';
import type { AdmissionRequest, AdmissionReview } from '../admission.js';
import type { AdmissionRecord } from '../decorations.js';
import { OversizeBody } from '../bounded-body.js';
import { BodyError } from '../json.js';
import { RuleError } from '../../rules/rule-error.js';
import { clip, loggedError } from '../log-fields.js';
import { mib, oversizeAnswer, unjudgedAnswer } from '../oversize.js';
import type { OversizeAnswer } from '../oversize.js';
import { failureResponse, reviewInSteps } from '../review.js';
import type { OnError, ReviewOutcome, ReviewState } from '../review.js';
import type { ErrorReason } from '../metrics.js';
import { runSliced } from '../sliced.js';
import { ProjectedBody, UNPARSED_ANNOTATION, UnparsedBody } from '../unparsed.js';

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
 * A review answered from the head of its body, unjudged: a refusal (enforce) or a warning
 * (audit) as an AdmissionReview, never an HTTP error the API server would fail open on.
 */
function unjudged(
  app: FastifyInstance,
  request: FastifyRequest,
  answer: OversizeAnswer,
  log: Record<string, unknown>,
  message: string,
  reason: ErrorReason,
): AdmissionReview {
  const head = answer.head;
  // Untrusted and unparsed: capped once, for the log line and the admission record alike.
  const fields = {
    uid: clip(head.uid),
    kind: clip(head.kind ?? ''),
    namespace: clip(head.namespace ?? ''),
    name: clip(head.name ?? ''),
    operation: clip(head.operation ?? ''),
  };
  request.log.warn({ ...fields, ...log, decision: answer.decision }, message);
  app.metrics.recordError(reason);
  request.admission = { ...fields, dryRun: false, decision: answer.decision, applied: [], omitted: [], engineSeconds: 0 };
  return reviewResponse(answer.response);
}

/** Past the body limit; a 413 only for a body that names no uid. */
function oversize(app: FastifyInstance, request: FastifyRequest, body: OversizeBody): AdmissionReview {
  const answer = oversizeAnswer(body, app.gate);
  const log = { bytes: body.bytes, limit: body.limit };
  if (!answer) {
    request.log.warn({ ...log, decision: 'error' }, 'AdmissionReview over the body limit: answered unjudged');
    throw new BodyTooLargeError(body.limit); // counted by the error plugin
  }
  return unjudged(app, request, answer, log, 'AdmissionReview over the body limit: answered unjudged', 'body_too_large');
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
 * A large body the worker pool did not parse (too many at once, its worker crashed or timed
 * out, shutting down): refused in enforce mode or under --on-error deny, admitted with a warning
 * in audit mode; never admitted silently, never an HTTP error.
 */
function unparsed(app: FastifyInstance, request: FastifyRequest, body: UnparsedBody, onError: OnError): AdmissionReview {
  const answer = unjudgedAnswer(body.head, app.gate, {
    annotation: UNPARSED_ANNOTATION,
    note: `${mib(body.bytes)} not parsed: ${body.reason}`,
    why: `its ${mib(body.bytes)} AdmissionReview could not be parsed (${body.reason})`,
    fix: 'Retry; if it keeps failing, ask your cluster admins to check the practice-gate logs',
    code: 503,
    reason: 'ServiceUnavailable',
    refuse: onError === 'deny',
  });
  if (!answer) throw new Error(`a ${mib(body.bytes)} body was not parsed (${body.reason}) and names no request.uid in its first bytes`);
  return unjudged(
    app,
    request,
    answer,
    { bytes: body.bytes, reason: body.reason, onError },
    'large AdmissionReview not parsed: answered unjudged',
    body.busy ? 'busy' : 'review_failed',
  );
}

/**
 * POST /validate: the AdmissionReview endpoint. A failure while judging never escapes as an
 * HTTP error: the API server gets a proper AdmissionReview decided by --on-error.
 */
export default fp<{ onError: OnError }>(
  async (app, options) => {
    app.post('/validate', async (request): Promise<AdmissionReview> => {
      if (request.body instanceof OversizeBody) return oversize(app, request, request.body);
      if (request.body instanceof UnparsedBody) return unparsed(app, request, request.body, options.onError);
      // A body parsed in a worker is judged under the config its fields were kept for.
      const projected = request.body instanceof ProjectedBody ? request.body : undefined;
      const state: ReviewState = projected ? app.gate.judgedUnder(projected.engineConfig) : app.gate;
      const envelope = readAdmissionReview(projected ? projected.value : request.body);
      if (!envelope.ok) throw new BodyError(envelope.message);
      const admission = envelope.request;
      try {
        // In slices: a workload with 100,000 containers must not hold /healthz while it is judged.
        const outcome = await runSliced(reviewInSteps(admission, state));
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

const KNOWN_KINDS = new Set(judgedKinds(POLICIES));
const KNOWN_OPERATIONS = new Set(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);

/** Metric labels from untrusted input stay within a known set, so series cannot explode. */
export function metricLabels(record: AdmissionRecord): { kind: string; operation: string } {
  return {
    kind: KNOWN_KINDS.has(record.kind) ? record.kind : 'other',
    operation: KNOWN_OPERATIONS.has(record.operation) ? record.operation : 'other',
  };
}
