// The answer to an AdmissionReview larger than the body limit. It cannot be judged, and an HTTP
// error is no answer at all: the API server treats it as a webhook failure and, under
// failurePolicy Ignore, admits the object. So it gets a real AdmissionReview: in enforce mode
// the write is refused, in audit mode admitted with a warning, like any other finding.
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

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

export interface OversizeAnswer {
  head: ReviewHead & { uid: string };
  response: AdmissionResponse;
  decision: 'allow' | 'warn' | 'deny';
}

/**
 * The answer for an oversized body, or undefined when its head names no uid. The API server
 * always writes the uid within the first hundred bytes, so such a body did not come from it and
 * gets the plain 413 (an answer without the right uid would be refused by the API server anyway).
 */
export function oversizeAnswer(body: OversizeBody, state: ReviewState): OversizeAnswer | undefined {
  const head = readReviewHead(body.head);
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
  const size = `its AdmissionReview is ${mib(body.bytes)}, over practice-gate's ${mib(body.limit)} limit`;
  const annotations = { [OVERSIZE_ANNOTATION]: clamp(`${mib(body.bytes)} over the ${mib(body.limit)} limit: not judged`, ANNOTATION_VALUE_MAX) };
  if (modeFor(config, state.context, namespace === '' ? 'default' : namespace) === 'audit') {
    const warning = clamp(`${WARNING_PREFIX} ${subject} would be refused: ${size}, so it was not checked`, WARNING_MAX);
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
        code: 413,
        reason: 'RequestEntityTooLarge',
        message:
          `${subject} was refused unchecked: ${size}. Make the object smaller (fewer containers or volumes, ` +
          'large data in a ConfigMap or Secret); if it must be this large, ask your cluster admins to exempt it in the practice-gate config',
      },
    },
  };
}
