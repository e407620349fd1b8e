import fp from 'fastify-plugin';
import type { IncomingHttpHeaders } from 'node:http';
import { unreadableBody } from '../body-headers.js';
import { OversizeBody, readBoundedBody } from '../bounded-body.js';
import { BodyError, parseJsonBody } from '../json.js';

const hasBody = (headers: IncomingHttpHeaders): boolean =>
  (headers['content-length'] !== undefined && headers['content-length'] !== '0') || headers['transfer-encoding'] !== undefined;

/**
 * The only body parser: application/json through JSON.parse and a depth guard. A body labelled
 * with another type, a charset other than UTF-8 or any Content-Encoding is refused with 415
 * before a byte of it is read, rather than misread. A body over the limit is read to its end
 * and handed on as an OversizeBody, for /validate to answer.
 */
export default fp<{ bodyLimit: number }>(
  async (app, options) => {
    app.removeAllContentTypeParsers();
    app.addHook('preParsing', (request, _reply, payload, done) => {
      const problem = hasBody(request.headers) ? unreadableBody(request.headers) : undefined;
      if (problem !== undefined) done(new BodyError(problem, 415));
      else done(null, payload);
    });
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
