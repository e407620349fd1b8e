// Builds the gate's fastify app from small plugins. The TLS port serves /validate (and the
// probes, unless they have their own port); the probe app serves only health and metrics.
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerBase } from 'fastify';
import type { Logger } from 'pino';
import './decorations.js';
import { GateMetrics } from './metrics.js';
import type { OnError } from './review.js';
import type { BodyBudgetOptions } from './body-budget.js';
import type { BodyPoolOptions } from './body-pool.js';
import type { GateState } from './state.js';
import errors from './plugins/errors.js';
import health from './plugins/health.js';
import jsonBody from './plugins/json-body.js';
import metricsRoute from './plugins/metrics-route.js';
import observe from './plugins/observe.js';
import validate from './plugins/validate.js';
import warmUp from './plugins/warm-up.js';

export type GateApp = FastifyInstance<
  RawServerBase,
  RawRequestDefaultExpression<RawServerBase>,
  RawReplyDefaultExpression<RawServerBase>,
  FastifyBaseLogger
>;

/**
 * The largest AdmissionReview judged. What the API server sends is bounded by its 3 MiB request
 * body (kubectl create/replace) and etcd's --max-request-bytes; defaults and managedFields grow
 * an object several times over as JSON, and an UPDATE carries it twice. Measured through a real
 * kube-apiserver (test/e2e/bounds.test.ts): a Deployment with 66,000 small Secret volumes, the
 * most a 3 MiB create holds, is a 10.56 MiB CREATE review with its managedFields (its patch,
 * stored without them, 8.04 MiB); 16 MiB leaves 1.5x. Bodies of 1 MiB and more are parsed off
 * the event loop (src/server/body-pool.ts).
 * A larger review is read to the end and answered with an AdmissionReview refusing it in enforce
 * mode (src/server/oversize.ts), never with an HTTP 413 the API server would fail open on.
 */
export const BODY_LIMIT = 16 * 1024 * 1024;

/**
 * Socket bounds. The API server's webhook client (Go's http.Transport) closes idle connections
 * after 90 s: the side that closes an idle connection first races a request the other side may
 * be writing on it at that moment, and a POST reset that way is not retried (the API server
 * counts it as a webhook failure, and failurePolicy Ignore admits the object). So the gate keeps
 * idle connections longer than the client does (100 s) and the client always closes first.
 * Everything else a client can hold open without progress is cut after 10 s: a TLS handshake
 * (Node's default is 120 s, so a partial ClientHello would hold a socket that long), headers,
 * a whole request.
 */
export const TIMEOUTS = {
  connectionTimeout: 10_000,
  requestTimeout: 10_000,
  headersTimeout: 10_000,
  handshakeTimeout: 10_000,
  keepAliveTimeout: 100_000,
};

export type Timeouts = typeof TIMEOUTS;

export interface AppOptions {
  state: GateState;
  metrics?: GateMetrics;
  logger?: Logger;
  onError?: OnError;
  /** TLS options for the serving port; plain HTTP when absent (probe port, inject tests). */
  https?: HttpsServerOptions;
  /** Serve POST /validate (default true). */
  validate?: boolean;
  /** Serve /healthz, /readyz and /metrics (default true). */
  probes?: boolean;
  /** Overrides of TIMEOUTS (tests use short ones). */
  timeouts?: Partial<Timeouts>;
  /** Overrides of BODY_POOL_DEFAULTS, the worker threads that parse large bodies. */
  largeBodies?: Partial<BodyPoolOptions>;
  /** Overrides of BODY_BUDGET_DEFAULTS, the bytes of bodies read, parsed and judged at once. */
  bodyBudget?: Partial<BodyBudgetOptions>;
  /** Once listening, warm up the large-body path with a made-up review (default false; serve sets it). */
  warmUp?: boolean;
}

export function buildApp(options: AppOptions): GateApp {
  const { headersTimeout, connectionTimeout, requestTimeout, handshakeTimeout, keepAliveTimeout } = { ...TIMEOUTS, ...options.timeouts };
  const serverOptions = {
    bodyLimit: BODY_LIMIT,
    connectionTimeout,
    requestTimeout,
    keepAliveTimeout,
    maxRequestsPerSocket: 0,
    forceCloseConnections: 'idle' as const,
    // During shutdown a request already on a kept-alive connection still gets a real answer
    // (with Connection: close) rather than a 503 the API server would count as a failure.
    return503OnClosing: false,
    // One line per AdmissionReview comes from the observe plugin instead.
    logController: new LogController({ disableRequestLogging: true }),
    ...(options.https ? { https: { handshakeTimeout, ...options.https, headersTimeout } } : { http: { headersTimeout } }),
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
  };
  const app = fastify(serverOptions as Parameters<typeof fastify>[0]) as unknown as GateApp;

  app.decorate('gate', options.state);
  app.decorate('metrics', options.metrics ?? new GateMetrics());
  app.addHook('onSend', (_request, reply, payload, done) => {
    // The API server reuses connections: tell it to leave a pod that is going away.
    if (app.gate.shuttingDown) reply.header('connection', 'close');
    done(null, payload);
  });
  app.register(jsonBody, {
    bodyLimit: BODY_LIMIT,
    ...(options.largeBodies ? { largeBodies: options.largeBodies } : {}),
    ...(options.bodyBudget ? { bodyBudget: options.bodyBudget } : {}),
  });
  app.register(errors, { bodyLimit: BODY_LIMIT });
  app.register(observe);
  if (options.validate ?? true) app.register(validate, { onError: options.onError ?? 'allow' });
  if (options.warmUp) app.register(warmUp, { bodyLimit: BODY_LIMIT });
  if (options.probes ?? true) {
    app.register(health);
    app.register(metricsRoute);
  }
  return app;
}
