import fp from 'fastify-plugin';
import { OversizeBody, readBoundedBody } from '../bounded-body.js';
import { parseJsonBody } from '../json.js';

/**
 * The only body parser: application/json through JSON.parse and a depth guard. Every other
 * content type is refused with 415 (fastify's answer once no parser matches). A body over the
 * limit is read to its end and handed on as an OversizeBody, for /validate to answer.
 */
export default fp<{ bodyLimit: number }>(
  async (app, options) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('application/json', (_request, payload, done) => {
      readBoundedBody(payload, options.bodyLimit).then(
        (body) => {
          if (body instanceof OversizeBody) return done(null, body);
          try {
            done(null, parseJsonBody(body));
          } catch (err) {
            done(err as Error, undefined);
          }
        },
        (err: Error) => done(err, undefined),
      );
    });
  },
  { name: 'practice-gate-json-body', fastify: '5.x' },
);
