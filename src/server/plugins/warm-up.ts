import fp from 'fastify-plugin';
import { performance } from 'node:perf_hooks';
import { touchMallocArena } from '../malloc-arena.js';
import { warmUp } from '../warm-up.js';

/** The readiness condition that holds the pod out of the Service until the warm-up is over. */
export const WARM_UP_CONDITION = 'warmUp';

/**
 * Once listening, a serving app takes a made-up large review through the worker pool and the
 * judging (src/server/warm-up.ts), so that the first real one does not start a thread or wait for
 * V8 to compile, and has the pool hold memory for a body of the limit and malloc keep memory for
 * the TLS reads of one (src/server/malloc-arena.ts), so that the first real one is not read into
 * fresh pages. Readiness waits for it to end, either way: the API server reaches only ready pods,
 * and the pool's timeout bounds the wait. A failure costs nothing but the warm-up, and is logged.
 */
export default fp<{ bodyLimit: number }>(
  async (app, options) => {
    // Bodies parsed on the event loop whatever their size (tests): no worker to start.
    if (!app.bodyPool.takes(Number.MAX_SAFE_INTEGER)) return;
    app.gate.setCondition(WARM_UP_CONDITION, false);
    app.addHook('onListen', (done) => {
      const started = performance.now();
      warmUp(app.bodyPool, app.gate.judgedUnder(app.gate.engineConfig))
        .then(
          ({ rounds }) => app.log.debug({ ms: Math.round(performance.now() - started), rounds }, 'large-body path warmed up'),
          (err: Error) => {
            if (!app.gate.shuttingDown)
              app.log.warn({ err }, 'warming up the large-body path failed: the first large review will take longer');
          },
        )
        .finally(() => {
          app.bodyPool.holdSpare(options.bodyLimit);
          touchMallocArena(options.bodyLimit);
          app.gate.setCondition(WARM_UP_CONDITION, true);
        });
      done();
    });
  },
  {
    name: 'practice-gate-warm-up',
    fastify: '5.x',
    decorators: { fastify: ['gate', 'bodyPool'] },
    dependencies: ['practice-gate-json-body'],
  },
);
