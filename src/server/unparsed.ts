// A large body the worker pool did not parse (src/server/body-pool.ts: too many at once, its
// worker crashed or timed out, the server is shutting down) and the answer to it. Like an error
// while judging, it is answered per --on-error as an AdmissionReview for the request's uid, read
// from the body's first bytes (src/server/review-head.ts): `deny` refuses it, `allow` admits it
// with a warning that says it was not checked. Never an HTTP error, which the API server would
// count as a webhook failure and, under failurePolicy Ignore, admit silently.
import type { EngineConfig } from '../engine/index.js';
import type { AdmissionRequest } from './admission.js';
import { readReviewHead } from './review-head.js';

export class UnparsedBody {
  constructor(
    readonly bytes: number,
    readonly head: string,
    readonly reason: string,
  ) {}

  /** The request as far as its head names it, or undefined when it names no uid. */
  request(): AdmissionRequest | undefined {
    const head = readReviewHead(this.head);
    if (head.uid === undefined || head.uid === '') return undefined;
    return {
      uid: head.uid,
      ...(head.kind !== undefined ? { kind: { kind: head.kind } } : {}),
      ...(head.name !== undefined ? { name: head.name } : {}),
      ...(head.namespace !== undefined ? { namespace: head.namespace } : {}),
      ...(head.operation !== undefined ? { operation: head.operation } : {}),
    };
  }
}

/** A body parsed in a worker: the review projected to what `config`'s judgements read, to be judged under that config. */
export class ProjectedBody {
  constructor(
    readonly value: unknown,
    readonly engineConfig: EngineConfig,
  ) {}
}
