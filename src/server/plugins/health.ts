import fp from 'fastify-plugin';

/** Liveness answers whenever the event loop does; readiness follows the gate's conditions. */
export default fp(
  async (app) => {
    app.get('/healthz', async () => ({ status: 'ok' }));
    app.get('/readyz', async (_request, reply) => {
      const readiness = app.gate.readiness();
      reply.code(readiness.ready ? 200 : 503);
      return readiness;
    });
  },
  { name: 'practice-gate-health', fastify: '5.x', decorators: { fastify: ['gate'] } },
);
