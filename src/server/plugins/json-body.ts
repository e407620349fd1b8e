import fp from 'fastify-plugin';
import type { IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import { unreadableBody } from '../body-headers.js';
import { BodyBudget } from '../body-budget.js';
import type { BodyBudgetOptions } from '../body-budget.js';
import { BodyNotParsed, BodyPool } from '../body-pool.js';
import type { BodyPoolOptions } from '../body-pool.js';
import { reviewProjection } from '../body-projection.js';
import { OversizeBody, readBoundedBody } from '../bounded-body.js';
import { BodyError, parseJsonBody } from '../json.js';
import { HEAD_BYTES } from '../review-head.js';
import { ProjectedBody, UnparsedBody } from '../unparsed.js';

const hasBody = (headers: IncomingHttpHeaders): boolean =>
  (headers['content-length'] !== undefined && headers['content-length'] !== '0') || headers['transfer-encoding'] !== undefined;

/** The Content-Length, when it is one number (Node's HTTP parser holds the body to it). */
function declaredLength(headers: IncomingHttpHeaders): number | undefined {
  const value = headers['content-length'];
  return value !== undefined && /^\d{1,16}$/.test(value) ? Number(value) : undefined;
}

/**
 * The only body parser: application/json through JSON.parse and a depth guard. A body labelled
 * with another type, a charset other than UTF-8 or any Content-Encoding is refused with 415
 * before a byte of it is read, rather than misread. A body over the limit is read to its end
 * and handed on as an OversizeBody, for /validate to answer. A large body is parsed by the
 * worker pool (src/server/body-pool.ts) and handed on as a ProjectedBody, or as an UnparsedBody
 * when the pool could not parse it; the pool ends with the app. A body that is not small waits,
 * unread, for its place in the body budget (src/server/body-budget.ts), held until its answer
 * is out; one that gets none is read for its head only and handed on as an UnparsedBody.
 */
export default fp<{ bodyLimit: number; largeBodies?: Partial<BodyPoolOptions>; bodyBudget?: Partial<BodyBudgetOptions> }>(
  async (app, options) => {
    const pool = new BodyPool(options.largeBodies);
    const budget = new BodyBudget(options.bodyBudget);
    app.decorate('bodyPool', pool);
    app.decorate('bodyBudget', budget);
    app.decorateRequest('bodyWait', null);
    app.addHook('onClose', () => {
      budget.close();
      return pool.close();
    });
    app.removeAllContentTypeParsers();
    app.addHook('preParsing', (request, reply, payload, done) => {
      if (!hasBody(request.headers)) return done(null, payload);
      const problem = unreadableBody(request.headers);
      if (problem !== undefined) return done(new BodyError(problem, 415));
      const declared = declaredLength(request.headers);
      // A body over the limit is drained keeping its head: it holds no memory.
      if (!budget.counts(declared) || (declared !== undefined && declared > options.bodyLimit)) return done(null, payload);
      const ticket = budget.take(declared ?? options.bodyLimit);
      // 'close' comes once the answer is out or the connection is gone, whichever is first.
      reply.raw.once('close', ticket.release);
      const asked = performance.now();
      void ticket.turn.then((refusal) => {
        request.bodyWait = { waitedMs: ticket.queued ? performance.now() - asked : undefined, refusal };
        done(null, payload);
      });
    });
    app.addContentTypeParser('application/json', (request, payload, done) => {
      const declared = declaredLength(request.headers);
      const refusal = request.bodyWait?.refusal;
      if (refusal !== undefined) {
        // Read to its end for its head only, so that the answer can name the request.
        readBoundedBody(payload, 0).then(
          (body) => done(null, body instanceof OversizeBody ? new UnparsedBody(body.bytes, body.head, refusal, true) : body),
          (err: Error) => done(err, undefined),
        );
        return;
      }
      const allocate = (bytes: number) => (pool.takes(bytes) ? pool.bodyBuffer(bytes) : Buffer.allocUnsafe(bytes));
      readBoundedBody(payload, options.bodyLimit, declared, allocate).then(
        (body) => {
          if (body instanceof OversizeBody) return done(null, body);
          if (pool.takes(body.length)) {
            // The config whose fields are kept is the one the review is judged under.
            const config = app.gate.engineConfig;
            // Read now: the body's memory moves to the worker.
            const bytes = body.length;
            const head = body.subarray(0, HEAD_BYTES).toString('utf8');
            return void pool.parse(body, reviewProjection(config)).then(
              (value) => done(null, new ProjectedBody(value, config)),
              (err: Error) =>
                err instanceof BodyNotParsed ? done(null, new UnparsedBody(bytes, head, err.message)) : done(err, undefined),
            );
          }
          try {
            done(null, parseJsonBody(body.toString('utf8')));
          } catch (err) {
            done(err as Error, undefined);
          }
        },
        (err: Error) => done(err, undefined),
      );
    });
  },
  { name: 'practice-gate-json-body', fastify: '5.x', decorators: { fastify: ['gate'] } },
);
