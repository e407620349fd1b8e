// The door itself: one AdmissionRequest in, one AdmissionResponse out. Pure apart from a
// clock reading; the HTTP layer, logging and metrics live elsewhere and use what it returns.
import { performance } from 'node:perf_hooks';
import { drain, evaluateInSteps, isRecord } from '../engine/index.js';
import type { ClusterContext, EngineConfig, Evaluation, KubeObject, Steps } from '../engine/index.js';
import { admissionFacts } from './admission-facts.js';
import { writesObject } from './admission.js';
import type { AdmissionRequest, AdmissionResponse } from './admission.js';
import { failureMessage, formatAuditAnnotations, formatDenial, formatWarnings, subjectOf, uncheckedWarning } from './messages.js';
import type { AppliedFinding, AppliedOmission } from './messages.js';
import { expiryNotices, judgeUpdate } from './updates.js';

export type Decision = 'allow' | 'warn' | 'deny' | 'error';
export type OnError = 'allow' | 'deny';

/** What a review reads: one snapshot of each, taken when the review starts. */
export interface ReviewState {
  readonly engineConfig: EngineConfig;
  readonly context: ClusterContext;
  /** The current time in ms, for deadlines and exemption expiry (injectable for tests). */
  now?(): number;
}

export interface ReviewOutcome {
  response: AdmissionResponse;
  decision: Decision;
  /** Undefined when nothing was judged: DELETE, CONNECT, or a kind practice-gate does not check. */
  evaluation: Evaluation | undefined;
  applied: AppliedFinding[];
  /** Findings past the per-policy cap: counted, with the outcome their policy's listed ones got. */
  omitted: AppliedOmission[];
  engineSeconds: number;
}

/**
 * Findings listed per policy in one answer. Messages show a few dozen at most (the denial's
 * 3 KiB, the warnings' 4 KiB), so the rest are counted into the "... and N more" lines: an
 * object with 100,000 failing containers costs a count, not 100,000 findings kept in memory.
 */
export const MAX_FINDINGS_PER_POLICY = 25;

/**
 * Objects a controller writes for an owner the webhook judged (the engine decides from the
 * request's userInfo, the owner kind and uid: src/engine/owners.ts) only record their findings:
 * denying them would stall a rollout the user cannot see. Anything else is judged as itself,
 * whatever ownerReferences it claims.
 */
function applyOutcomes(evaluation: Evaluation): AppliedFinding[] {
  return evaluation.findings.map((finding) => ({
    finding,
    outcome: finding.exempt ? 'exempt' : evaluation.judgedThroughOwner ? 'audit' : finding.action,
  }));
}

/** A policy's omitted findings share the outcome of its listed ones (same object, same policy). */
function applyOmissions(evaluation: Evaluation, applied: readonly AppliedFinding[]): AppliedOmission[] {
  const out: AppliedOmission[] = [];
  for (const { policy, count } of evaluation.omitted ?? []) {
    const outcome = applied.find((a) => a.finding.policy === policy)?.outcome;
    if (outcome !== undefined) out.push({ policy, outcome, count });
  }
  return out;
}

const omittedWith = (omitted: readonly AppliedOmission[], outcome: string): number =>
  omitted.reduce((sum, o) => (o.outcome === outcome ? sum + o.count : sum), 0);

/**
 * An object being deleted only has its finalizers removed from here on: refusing those
 * updates would leave it stuck in Terminating, whatever it breaks.
 */
function beingDeleted(object: unknown): boolean {
  return (
    isRecord(object) &&
    isRecord(object.metadata) &&
    object.metadata.deletionTimestamp !== undefined &&
    object.metadata.deletionTimestamp !== null
  );
}

/** The engine's steps, with the time spent in them (not in the pauses between them) added to `clock`. */
function* timed<T>(steps: Steps<T>, clock: { seconds: number }): Steps<T> {
  for (;;) {
    const started = performance.now();
    const step = steps.next();
    clock.seconds += (performance.now() - started) / 1000;
    if (step.done) return step.value;
    yield;
  }
}

export function reviewAdmission(request: AdmissionRequest, state: ReviewState): ReviewOutcome {
  return drain(reviewInSteps(request, state));
}

/** reviewAdmission in steps: it yields where the engine does (src/server/sliced.ts runs it with the event loop free between them). */
export function* reviewInSteps(request: AdmissionRequest, state: ReviewState): Steps<ReviewOutcome> {
  const response: AdmissionResponse = { uid: request.uid, allowed: true };
  if (!writesObject(request.operation) || (request.operation === 'UPDATE' && beingDeleted(request.object))) {
    return { response, decision: 'allow', evaluation: undefined, applied: [], omitted: [], engineSeconds: 0 };
  }
  // One snapshot for every step: a config reloaded between two slices does not judge the rest.
  const { engineConfig, context } = state;
  const namespace = typeof request.namespace === 'string' && request.namespace !== '' ? request.namespace : undefined;
  const clock = { seconds: 0 };
  const writer = typeof request.userInfo?.username === 'string' ? request.userInfo.username : undefined;
  const now = state.now?.() ?? Date.now();
  const evaluation = yield* timed(
    evaluateInSteps(request.object as KubeObject, context, engineConfig, {
      namespace,
      now,
      maxFindingsPerPolicy: MAX_FINDINGS_PER_POLICY,
      ...(writer !== undefined ? { writer } : {}),
      admission: admissionFacts(request),
    }),
    clock,
  );
  const engineSeconds = clock.seconds;
  if (!evaluation) return { response, decision: 'allow', evaluation, applied: [], omitted: [], engineSeconds };

  const judged = applyOutcomes(evaluation);
  const { applied, quiet } = yield* judgeUpdate(
    request,
    evaluation,
    judged,
    { engineConfig, context },
    {
      namespace,
      now,
      maxFindingsPerPolicy: MAX_FINDINGS_PER_POLICY,
    },
  );
  // Findings past the cap were never matched against the old object: only an UPDATE that
  // changed nothing judged may count them as existing, or new violations appended after 25
  // old ones would pass as old.
  const omitted = applyOmissions(evaluation, quiet ? applied : judged);
  const denials = applied.filter((a) => a.outcome === 'deny').map((a) => a.finding);
  const warnings = applied.filter((a) => a.outcome === 'warn').map((a) => a.finding);
  const subject = subjectOf(evaluation.kind, evaluation.namespace, evaluation.name);

  const annotations = formatAuditAnnotations(applied, omitted);
  if (annotations) response.auditAnnotations = annotations;
  const notices = quiet ? [] : expiryNotices(subject, applied);
  if (warnings.length > 0 || notices.length > 0)
    response.warnings = [...formatWarnings(subject, warnings, omittedWith(omitted, 'warn')), ...notices];
  if (denials.length > 0) {
    response.allowed = false;
    response.status = { code: 403, reason: 'Forbidden', message: formatDenial(subject, denials, omittedWith(omitted, 'deny')) };
  }
  const decision: Decision = denials.length > 0 ? 'deny' : warnings.length + notices.length > 0 ? 'warn' : 'allow';
  return { response, decision, evaluation, applied, omitted, engineSeconds };
}

/** How the request names its object before any judging, for messages about a failure. */
export function requestSubject(request: AdmissionRequest): string {
  const kind = typeof request.kind?.kind === 'string' ? request.kind.kind : 'object';
  const name = typeof request.name === 'string' ? request.name : '';
  return subjectOf(kind, request.namespace ?? '', name);
}

/** The answer when judging threw: let the object in with a warning, or refuse with a 500. */
export function failureResponse(request: AdmissionRequest, error: unknown, onError: OnError): AdmissionResponse {
  const subject = requestSubject(request);
  const text = error instanceof Error ? error.message : String(error);
  if (onError === 'deny') {
    return { uid: request.uid, allowed: false, status: { code: 500, reason: 'InternalError', message: failureMessage(subject, text) } };
  }
  return { uid: request.uid, allowed: true, warnings: [uncheckedWarning(subject, text)] };
}
