// The decorators the gate's plugins share: the state, the metrics, and one record per
// AdmissionReview that the logging and metrics hooks read after the answer went out.
import type { BodyBudget } from './body-budget.js';
import type { BodyPool } from './body-pool.js';
import type { GateMetrics } from './metrics.js';
import type { AppliedFinding, AppliedOmission } from './messages.js';
import type { Decision } from './review.js';
import type { GateState } from './state.js';

export interface AdmissionRecord {
  uid: string;
  kind: string;
  namespace: string;
  name: string;
  operation: string;
  dryRun: boolean;
  decision: Decision;
  applied: readonly AppliedFinding[];
  omitted: readonly AppliedOmission[];
  engineSeconds: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    gate: GateState;
    metrics: GateMetrics;
    bodyPool: BodyPool;
    bodyBudget: BodyBudget;
  }
  interface FastifyRequest {
    admission: AdmissionRecord | null;
    /**
     * Its body's place in the body budget (src/server/body-budget.ts): how long it waited for it
     * (undefined when it did not), and why it got none; null when the body does not count.
     */
    bodyWait: { waitedMs: number | undefined; refusal: string | undefined } | null;
  }
}
