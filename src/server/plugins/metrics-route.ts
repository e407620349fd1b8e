import fp from 'fastify-plugin';

/** GET /metrics in the Prometheus text format, from this gate's own registry. */
export default fp(
  async (app) => {
    app.get('/metrics', async (_request, reply) => {
      reply.type(app.metrics.registry.contentType);
      return app.metrics.registry.metrics();
    });
  },
  { name: 'practice-gate-metrics', fastify: '5.x', decorators: { fastify: ['metrics'] } },
);
