// A large body the worker pool did not parse (src/server/body-pool.ts: too many at once, its
// worker crashed or timed out, the server is shutting down) or that got no place in the body
// budget in time (src/server/body-budget.ts), and one the pool did parse. An unparsed body is
// answered like one over the body limit (src/server/oversize.ts), from the uid, kind and name in
// its first bytes: refused in enforce mode (and under --on-error deny), admitted with a warning in
// audit mode. Never an HTTP error, which the API server would count as a webhook failure and,
// under failurePolicy Ignore, admit silently.
import type { EngineConfig } from '../engine/index.js';

/** The audit annotation that records a review answered unjudged because it was not parsed. */
export const UNPARSED_ANNOTATION = 'body-not-parsed';

export class UnparsedBody {
  constructor(
    readonly bytes: number,
    /** The body's first HEAD_BYTES (src/server/review-head.ts), for the answer and the log line. */
    readonly head: string,
    readonly reason: string,
    /** Not parsed because it got no place in the body budget (src/server/body-budget.ts) in time. */
    readonly busy = false,
  ) {}
}

/** A body parsed in a worker: the review projected to what `config`'s judgements read, to be judged under that config. */
export class ProjectedBody {
  constructor(
    readonly value: unknown,
    readonly engineConfig: EngineConfig,
  ) {}
}
