// The answer to an AdmissionReview that cannot be judged: larger than the body limit, or a large
// one the parsing workers could not take (src/server/unparsed.ts). An HTTP error is no answer at
// all: the API server treats it as a webhook failure and, under failurePolicy Ignore, admits the
// object. So it gets a real AdmissionReview: in enforce mode the write is refused, in audit mode
// admitted with a warning, like any other finding.
import { clamp, exemptionFor, modeFor } from '../engine/index.js';
import { writesObject } from './admission.js';
import type { AdmissionResponse } from './admission.js';
import type { OversizeBody } from './bounded-body.js';
import { ANNOTATION_VALUE_MAX, WARNING_MAX, WARNING_PREFIX, subjectOf } from './messages.js';
import type { ReviewState } from './review.js';
import { readReviewHead } from './review-head.js';
import type { ReviewHead } from './review-head.js';

/** The audit annotation that records a review refused (or admitted) unjudged for its size. */
export const OVERSIZE_ANNOTATION = 'body-too-large';

export const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

export interface OversizeAnswer {
  head: ReviewHead & { uid: string };
  response: AdmissionResponse;
  decision: 'allow' | 'warn' | 'deny';
}

/** Why a review is answered without being judged, in the words of its answer. */
export interface Unjudged {
  /** The audit annotation's key and value. */
  annotation: string;
  note: string;
  /** What happened, after "<subject> was refused unchecked: ". */
  why: string;
  /** What the object's owner can do about it. */
  fix: string;
  code: number;
  reason: string;
  /** Refuse even in audit mode (--on-error deny). */
  refuse?: boolean;
}

/**
 * The answer for a review that cannot be judged, from the head of its body, or undefined when
 * that head names no uid. The API server always writes the uid within the first hundred bytes,
 * so such a body did not come from it (an answer without the right uid would be refused anyway).
 */
export function unjudgedAnswer(headText: string, state: ReviewState, unjudged: Unjudged): OversizeAnswer | undefined {
  const head = readReviewHead(headText);
  if (head.uid === undefined || head.uid === '') return undefined;
  const uid = head.uid;
  const allow = (decision: 'allow' | 'warn', extra: Partial<AdmissionResponse> = {}): OversizeAnswer => ({
    head: { ...head, uid },
    response: { uid, allowed: true, ...extra },
    decision,
  });
  const kind = head.kind ?? '';
  // Deletes and connects carry nothing to judge, and other kinds are not practice-gate's.
  if (!writesObject(head.operation ?? 'CREATE') || (kind !== '' && !state.engineConfig.judgedKinds.has(kind))) return allow('allow');

  const config = state.engineConfig;
  const namespace = head.namespace ?? '';
  const name = head.name ?? '';
  const target = { namespace, name, kind };
  const exempt = config.active.length === 0 || config.active.every(({ policy }) => exemptionFor(config, target, policy.id) !== undefined);
  if (exempt) return allow('allow');

  const subject = subjectOf(kind, namespace, name);
  const annotations = { [unjudged.annotation]: clamp(unjudged.note, ANNOTATION_VALUE_MAX) };
  if (!unjudged.refuse && modeFor(config, state.context, namespace === '' ? 'default' : namespace) === 'audit') {
    const warning = clamp(`${WARNING_PREFIX} ${subject} would be refused: ${unjudged.why}, so it was not checked`, WARNING_MAX);
    return allow('warn', { warnings: [warning], auditAnnotations: annotations });
  }
  return {
    head: { ...head, uid },
    decision: 'deny',
    response: {
      uid,
      allowed: false,
      auditAnnotations: annotations,
      status: {
        code: unjudged.code,
        reason: unjudged.reason,
        message: `${subject} was refused unchecked: ${unjudged.why}. ${unjudged.fix}`,
      },
    },
  };
}

/** The answer for an oversized body, or undefined when its head names no uid. */
export function oversizeAnswer(body: OversizeBody, state: ReviewState): OversizeAnswer | undefined {
  return unjudgedAnswer(body.head, state, {
    annotation: OVERSIZE_ANNOTATION,
    note: `${mib(body.bytes)} over the ${mib(body.limit)} limit: not judged`,
    why: `its AdmissionReview is ${mib(body.bytes)}, over practice-gate's ${mib(body.limit)} limit`,
    fix: 'Make the object smaller (fewer containers or volumes, large data in a ConfigMap or Secret); if it must be this large, ask your cluster admins to exempt it in the practice-gate config',
    code: 413,
    reason: 'RequestEntityTooLarge',
  });
}
