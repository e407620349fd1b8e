// Graceful shutdown: readiness turns false at once; for a drain period the serving port goes on
// serving (open connections and new ones) with every answer carrying Connection: close, so each
// client leaves this pod after its next answer instead of having a request cut. The drain ends
// early once no connection has been open for a while; then the port stops listening,
// connections left idle are closed, in-flight reviews finish, and whatever is left when the
// timeout runs out is cut.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { GateApp } from './app.js';
import type { ConnectionTracker } from './connections.js';
import type { GateState } from './state.js';

export interface ShutdownPlan {
  state: GateState;
  /** Apps that serve reviews: closed first, waiting for their in-flight requests. */
  serving: readonly GateApp[];
  /** The connections of each serving app, in the same order. */
  connections?: readonly ConnectionTracker[];
  /** The probe app, closed last so /readyz reports the shutdown until the end. */
  probes?: GateApp;
  /** Watchers and other resources to stop once no new work can arrive. */
  release?: ReadonlyArray<() => void>;
  /** The whole shutdown, drain included. */
  timeoutMs: number;
  /** How long connections keep being served before the port stops listening (within timeoutMs). */
  drainMs?: number;
  log?: Logger;
}

/**
 * After the drain, a connection idle this long is not about to carry a request, and is closed.
 * One accepted more recently may have its first request on the wire: it is served (and told to
 * close) instead.
 */
export const IDLE_GRACE_MS = 1_000;
/**
 * The drain ends early once no connection has been open for this long. Closing the port while
 * clients still connect (the Service has not dropped this pod yet, or the webhook is called by
 * URL) refuses their next calls and resets the connections the kernel had already accepted for
 * it: the API server counts each as a failed call, which failurePolicy Fail turns into a refused
 * write.
 */
export const QUIET_MS = 1_000;
const SWEEP_MS = 25;

export interface ShutdownResult {
  /** True when connections were still open at the timeout and had to be destroyed. */
  forced: boolean;
  durationMs: number;
}

interface ClosableServer {
  closeAllConnections?(): void;
  closeIdleConnections?(): void;
}

export async function gracefulShutdown(plan: ShutdownPlan): Promise<ShutdownResult> {
  const started = Date.now();
  plan.state.beginShutdown();
  const drainMs = Math.max(0, Math.min(plan.drainMs ?? 0, plan.timeoutMs));
  plan.log?.info({ timeoutMs: plan.timeoutMs, drainMs }, 'shutting down: not ready, draining connections');
  const trackers = plan.connections ?? [];
  // Readiness and the chart's preStop sleep keep new connections away, so the drain usually ends
  // early; while clients still arrive it runs its whole length.
  while (Date.now() - started < drainMs && !trackers.every((tracker) => tracker.quietFor(QUIET_MS))) await sleep(SWEEP_MS);

  // server.close() calls closeIdleConnections(): only connections idle past the grace go.
  plan.serving.forEach((app, i) => {
    const tracker = trackers[i];
    if (tracker) (app.server as ClosableServer).closeIdleConnections = () => tracker.closeIdle(IDLE_GRACE_MS);
  });
  const closing = Promise.all(plan.serving.map((app) => app.close()));
  const sweep = setInterval(() => {
    for (const tracker of trackers) tracker.closeIdle(IDLE_GRACE_MS);
  }, SWEEP_MS);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), Math.max(0, started + plan.timeoutMs - Date.now()));
  });
  const first = await Promise.race([closing.then(() => 'closed' as const), timedOut]);
  clearTimeout(timer);
  clearInterval(sweep);
  const forced = first === 'timeout';
  if (forced) {
    plan.log?.warn({ timeoutMs: plan.timeoutMs }, 'shutdown timeout: closing the connections still open');
    for (const app of plan.serving) (app.server as ClosableServer).closeAllConnections?.();
    await closing;
  }
  for (const release of plan.release ?? []) release();
  if (plan.probes) {
    (plan.probes.server as ClosableServer).closeAllConnections?.();
    await plan.probes.close();
  }
  const result = { forced, durationMs: Date.now() - started };
  plan.log?.info(result, 'shut down');
  return result;
}
