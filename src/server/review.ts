// The door itself: one AdmissionRequest in, one AdmissionResponse out. Pure apart from a
// clock reading; the HTTP layer, logging and metrics live elsewhere and use what it returns.
import { performance } from 'node:perf_hooks';
import { evaluate, isRecord } from '../engine/index.js';
import type { ClusterContext, EngineConfig, Evaluation, KubeObject } from '../engine/index.js';
import { writesObject } from './admission.js';
import type { AdmissionRequest, AdmissionResponse } from './admission.js';
import { failureMessage, formatAuditAnnotations, formatDenial, formatWarnings, subjectOf, uncheckedWarning } from './messages.js';
import type { AppliedFinding } from './messages.js';
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
  engineSeconds: number;
}

/**
 * Objects made from a template the webhook judged when their owner was written (a Pod of a
 * controller, a Deployment's ReplicaSet, a CronJob's Job) only record their findings: denying
 * them would stall a rollout the user cannot see. Anything else is judged as itself, whatever
 * ownerReferences it claims.
 */
function applyOutcomes(evaluation: Evaluation): AppliedFinding[] {
  return evaluation.findings.map((finding) => ({
    finding,
    outcome: finding.exempt ? 'exempt' : evaluation.judgedThroughOwner ? 'audit' : finding.action,
  }));
}

/**
 * An object being deleted only has its finalizers removed from here on: refusing those
 * updates would leave it stuck in Terminating, whatever it breaks.
 */
function beingDeleted(object: unknown): boolean {
  return isRecord(object) && isRecord(object.metadata) && object.metadata.deletionTimestamp !== undefined && object.metadata.deletionTimestamp !== null;
}

export function reviewAdmission(request: AdmissionRequest, state: ReviewState): ReviewOutcome {
  const response: AdmissionResponse = { uid: request.uid, allowed: true };
  if (!writesObject(request.operation) || (request.operation === 'UPDATE' && beingDeleted(request.object))) {
    return { response, decision: 'allow', evaluation: undefined, applied: [], engineSeconds: 0 };
  }
  const { engineConfig, context } = state;
  const namespace = typeof request.namespace === 'string' && request.namespace !== '' ? request.namespace : undefined;
  const started = performance.now();
  const now = state.now?.() ?? Date.now();
  const evaluation = evaluate(request.object as KubeObject, context, engineConfig, { namespace, now });
  const engineSeconds = (performance.now() - started) / 1000;
  if (!evaluation) return { response, decision: 'allow', evaluation, applied: [], engineSeconds };

  const { applied, quiet } = judgeUpdate(request, evaluation, applyOutcomes(evaluation), state, { namespace, now });
  const denials = applied.filter((a) => a.outcome === 'deny').map((a) => a.finding);
  const warnings = applied.filter((a) => a.outcome === 'warn').map((a) => a.finding);
  const subject = subjectOf(evaluation.kind, evaluation.namespace, evaluation.name);

  const annotations = formatAuditAnnotations(applied);
  if (annotations) response.auditAnnotations = annotations;
  const notices = quiet ? [] : expiryNotices(subject, applied);
  if (warnings.length > 0 || notices.length > 0) response.warnings = [...formatWarnings(subject, warnings), ...notices];
  if (denials.length > 0) {
    response.allowed = false;
    response.status = { code: 403, reason: 'Forbidden', message: formatDenial(subject, denials) };
  }
  const decision: Decision = denials.length > 0 ? 'deny' : warnings.length + notices.length > 0 ? 'warn' : 'allow';
  return { response, decision, evaluation, applied, engineSeconds };
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
