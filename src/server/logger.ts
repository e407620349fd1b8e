// The server's pino logger. One JSON line per review is written through a buffer: a write
// syscall per line cost about a third of the CPU per review in bench/webhook.ts, while a
// buffered write per 16 KiB is close to free (sonic-boom's own minLength costs ~11 % more
// instructions a review: docs/performance.md). Lines still leave within 250 ms when traffic
// is low, and flush() empties the buffer synchronously before the process exits.
import pino from 'pino';
import type { DestinationStream, Logger } from 'pino';

export const LOG_FLUSH_INTERVAL_MS = 250;
/** sonic-boom's largest single write; each write costs a trip through the libuv thread pool. */
const LOG_BUFFER_BYTES = 16 * 1024;

export interface ServerLogger {
  logger: Logger;
  /** Writes out what is buffered, synchronously: call before exiting. */
  flush(): void;
}

/**
 * A sonic-boom destination in contentMode 'buffer', which takes Buffers (its typings only
 * declare strings): a string chunk would be UTF-8 encoded three more times, to measure it,
 * to write it, and again once written.
 */
interface Writer {
  write(chunk: Buffer): boolean;
  flushSync(): void;
}

function bufferWriter(fd: 1 | 2): Writer {
  return pino.destination({ dest: fd, sync: false, contentMode: 'buffer' }) as unknown as Writer;
}

/**
 * Collects whole lines and hands them to the writer about 16 KiB at a time, as one Buffer.
 * Letting sonic-boom gather the lines itself (its minLength) cost ~2.5 µs a line: each of its
 * writes measures the UTF-8 length of everything it already holds.
 */
class LineBuffer implements DestinationStream {
  #lines: string[] = [];
  #size = 0;
  readonly #out: Writer;

  constructor(out: Writer) {
    this.#out = out;
  }

  write(line: string): void {
    this.#lines.push(line);
    this.#size += line.length;
    if (this.#size >= LOG_BUFFER_BYTES) this.flush();
  }

  /** Hands the buffered lines to the writer, which writes them without blocking. */
  flush(): void {
    if (this.#lines.length === 0) return;
    const chunk = Buffer.from(this.#lines.join(''), 'utf8');
    this.#lines = [];
    this.#size = 0;
    this.#out.write(chunk);
  }

  flushSync(): void {
    this.flush();
    this.#out.flushSync();
  }
}

export function createServerLogger(options: { level: string; fd: 1 | 2 }): ServerLogger {
  const destination = new LineBuffer(bufferWriter(options.fd));
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
