// The server's defaults, in a module that imports nothing: `serve --help` states them without
// loading the server (fastify, pino, prom-client), and the server applies these same values.
export const DEFAULT_PORT = 8443;
export const DEFAULT_HOST = '0.0.0.0';
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 25_000;
/** Long enough for clients on kept-alive connections to send once more and be told to leave. */
export const DEFAULT_SHUTDOWN_DRAIN_MS = 5_000;
