import { STATUS_CODES } from 'node:http';
import fp from 'fastify-plugin';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { BodyError } from '../json.js';
import { clip, loggedError } from '../log-fields.js';
import type { ErrorReason } from '../metrics.js';

function describe(err: FastifyError, request: FastifyRequest, bodyLimit: number): { reason: ErrorReason; message: string } {
  if (err instanceof BodyError) return { reason: err.statusCode === 415 ? 'unsupported_media_type' : 'invalid_body', message: err.message };
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': {
      const got = request.headers['content-type'];
      return {
        reason: 'unsupported_media_type',
        message: `Content-Type must be application/json, got ${got === undefined ? 'none' : JSON.stringify(got.slice(0, 80))}`,
      };
    }
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { reason: 'body_too_large', message: `the body is larger than the ${bodyLimit / 1024 / 1024} MiB limit` };
    default:
      // Only our own messages (above) are known to quote no request bytes; fastify's can quote the URL.
      return { reason: 'invalid_body', message: `the request was refused (${err.code})` };
  }
}

/** Every error answer is JSON `{error, message}`; 5xx are logged with the error, 4xx briefly. */
export default fp<{ bodyLimit: number }>(
  async (app, options) => {
    app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
      if (status === 500) {
        app.metrics.recordError('internal');
        request.log.error({ err: loggedError(err), url: clip(request.url) }, 'request failed');
        return reply.code(500).send({ error: STATUS_CODES[500], message: 'practice-gate failed to answer this request; see its logs' });
      }
      const { reason, message } = describe(err, request, options.bodyLimit);
      app.metrics.recordError(reason);
      request.log.info({ statusCode: status, url: clip(request.url), reason, error: message }, 'bad request');
      return reply.code(status).send({ error: STATUS_CODES[status] ?? 'Error', message });
    });
    app.setNotFoundHandler((request, reply) => {
      reply.code(404).send({ error: STATUS_CODES[404], message: `no route ${request.method} ${request.url.slice(0, 100)}` });
    });
  },
  { name: 'practice-gate-errors', fastify: '5.x' },
);
