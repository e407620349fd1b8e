// Reads a request body up to a limit without ever answering before the body is read. A body over
// the limit is still read to its end (and dropped, keeping only its head), because answering
// while the API server is still writing would break the connection under it: an error the API
// server counts as a webhook failure, and failurePolicy Ignore admits the object unjudged.
// Draining costs time, not memory, and the request timeout bounds the time.
import type { Readable } from 'node:stream';
import { HEAD_BYTES } from './review-head.js';

/** A body larger than the limit: its size and its first HEAD_BYTES, for an answer and a log line. */
export class OversizeBody {
  constructor(
    readonly bytes: number,
    readonly limit: number,
    readonly head: string,
  ) {}
}

export function readBoundedBody(stream: Readable, limit: number): Promise<Buffer | OversizeBody> {
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    let received = 0;
    let head: string | undefined;
    const onData = (chunk: Buffer | string) => {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      received += buffer.length;
      if (head !== undefined) return;
      chunks.push(buffer);
      if (received > limit) {
        head = Buffer.concat(chunks).subarray(0, HEAD_BYTES).toString('utf8');
        chunks = [];
      }
    };
    const cleanup = () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const onEnd = () => {
      cleanup();
      if (head !== undefined) resolve(new OversizeBody(received, limit, head));
      else resolve(chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks, received));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(Object.assign(err, { statusCode: 400 }));
    };
    const onClose = () => onError(new Error('the client closed the connection before the body ended'));
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('close', onClose);
    stream.resume();
  });
}
