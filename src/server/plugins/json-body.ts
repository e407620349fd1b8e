import fp from 'fastify-plugin';
import { parseJsonBody } from '../json.js';

/**
 * The only body parser: application/json through JSON.parse and a depth guard. Every other
 * content type is refused with 415 (fastify's answer once no parser matches).
 */
export default fp(
  async (app) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
      try {
        done(null, parseJsonBody(body as string));
      } catch (err) {
        done(err as Error, undefined);
      }
    });
  },
  { name: 'practice-gate-json-body', fastify: '5.x' },
);
