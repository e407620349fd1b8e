// The server's pino logger. One JSON line per review is written through a buffer: a write
// syscall per line cost about a third of the CPU per review in bench/webhook.ts, while a
// buffered write per 4 KiB is close to free. Lines still leave within 250 ms when traffic
// is low, and flush() empties the buffer synchronously before the process exits.
import pino from 'pino';
import type { Logger } from 'pino';

export const LOG_FLUSH_INTERVAL_MS = 250;
const LOG_BUFFER_BYTES = 4096;

export interface ServerLogger {
  logger: Logger;
  /** Writes out what is buffered, synchronously: call before exiting. */
  flush(): void;
}

export function createServerLogger(options: { level: string; fd: 1 | 2 }): ServerLogger {
  const destination = pino.destination({ dest: options.fd, sync: false, minLength: LOG_BUFFER_BYTES });
  setInterval(() => destination.flush(), LOG_FLUSH_INTERVAL_MS).unref();
  const logger = pino(
    { level: options.level, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } },
    destination,
  );
  return {
    logger,
    flush: () => {
      try {
        destination.flushSync();
      } catch {
        // a write still in flight finishes on its own before the process goes
      }
    },
  };
}
