// A pino logger whose JSON lines land, parsed, in an array: what tests read of the webhook's logs.
import { Writable } from 'node:stream';
import pino from 'pino';
import type { Logger } from 'pino';

export function logCapture(): { lines: Record<string, unknown>[]; logger: Logger } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, stream) };
}
