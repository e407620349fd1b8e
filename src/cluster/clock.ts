/**
 * Time as the cluster controllers see it. Leader election and certificate rotation are all about
 * deadlines; injecting the clock lets tests walk through a lease's life without waiting for it.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener('abort', done, { once: true });
    });
  },
};

/** Exponential backoff with jitter, so that replicas that lost the API server together do not return together. */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /** 0..1; the delay is spread over ±jitter of its nominal value. */
  jitter: number;
  random?: () => number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 30_000, jitter: 0.2 };

/** The delay before retry number `attempt` (0 for the first retry). */
export function backoffDelay(policy: BackoffPolicy, attempt: number): number {
  const nominal = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt, 30));
  const spread = (2 * (policy.random ?? Math.random)() - 1) * policy.jitter;
  return Math.max(0, Math.round(nominal * (1 + spread)));
}
