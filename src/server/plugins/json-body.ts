import fp from 'fastify-plugin';
import type { IncomingHttpHeaders } from 'node:http';
import { unreadableBody } from '../body-headers.js';
import { BodyError, parseJsonBody } from '../json.js';

const hasBody = (headers: IncomingHttpHeaders): boolean =>
  (headers['content-length'] !== undefined && headers['content-length'] !== '0') || headers['transfer-encoding'] !== undefined;

/**
 * The only body parser: application/json through JSON.parse and a depth guard. A body labelled
 * with another type, a charset other than UTF-8 or any Content-Encoding is refused with 415
 * before a byte of it is read, rather than misread.
 */
export default fp(
  async (app) => {
    app.removeAllContentTypeParsers();
    app.addHook('preParsing', (request, _reply, payload, done) => {
      const problem = hasBody(request.headers) ? unreadableBody(request.headers) : undefined;
      if (problem !== undefined) done(new BodyError(problem, 415));
      else done(null, payload);
    });
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
