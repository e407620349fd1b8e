// Graceful shutdown: readiness turns false at once, the serving port stops taking connections,
// idle keep-alive connections close, in-flight reviews finish (their answers carry
// Connection: close), and whatever is left when the timeout runs out is cut.
import type { Logger } from 'pino';
import type { GateApp } from './app.js';
import type { GateState } from './state.js';

export interface ShutdownPlan {
  state: GateState;
  /** Apps that serve reviews: closed first, waiting for their in-flight requests. */
  serving: readonly GateApp[];
  /** The probe app, closed last so /readyz reports the shutdown until the end. */
  probes?: GateApp;
  /** Watchers and other resources to stop once no new work can arrive. */
  release?: ReadonlyArray<() => void>;
  timeoutMs: number;
  log?: Logger;
}

export interface ShutdownResult {
  /** True when connections were still open at the timeout and had to be destroyed. */
  forced: boolean;
  durationMs: number;
}

interface ClosableServer {
  closeAllConnections?(): void;
}

export async function gracefulShutdown(plan: ShutdownPlan): Promise<ShutdownResult> {
  const started = Date.now();
  plan.state.beginShutdown();
  plan.log?.info({ timeoutMs: plan.timeoutMs }, 'shutting down: not ready, finishing in-flight reviews');

  const closing = Promise.all(plan.serving.map((app) => app.close()));
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), plan.timeoutMs);
  });
  const first = await Promise.race([closing.then(() => 'closed' as const), timedOut]);
  clearTimeout(timer);
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
