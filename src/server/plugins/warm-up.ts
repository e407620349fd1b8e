import fp from 'fastify-plugin';
import { performance } from 'node:perf_hooks';
import { warmUp } from '../warm-up.js';

/**
 * Once listening, a serving app takes a made-up large review through the worker pool and the
 * judging (src/server/warm-up.ts), so that the first real one does not start a thread or wait for
 * V8 to compile. Not awaited: reviews are answered meanwhile, and a large one that comes first
 * waits for the worker as it would have. A failure costs nothing but the warm-up, and is logged.
 */
export default fp(
  async (app) => {
    app.addHook('onListen', (done) => {
      // Bodies parsed on the event loop whatever their size (tests): no worker to start.
      if (!app.bodyPool.takes(Number.MAX_SAFE_INTEGER)) return done();
      const started = performance.now();
      warmUp(app.bodyPool, { engineConfig: app.gate.engineConfig, context: app.gate.context, now: () => app.gate.now() }).then(
        () => app.log.debug({ ms: Math.round(performance.now() - started) }, 'large-body path warmed up'),
        (err: Error) => {
          if (!app.gate.shuttingDown)
            app.log.warn({ err }, 'warming up the large-body path failed: the first large review will take longer');
        },
      );
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
