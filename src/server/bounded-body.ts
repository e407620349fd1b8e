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

/**
 * The body of `stream`, or an OversizeBody past `limit`. With `declared` (the Content-Length), a
 * body within the limit is copied into one buffer of that size as it arrives: joining the chunks
 * at the end made the event loop wait for a 16 MiB copy into fresh memory in one go (50-100 ms).
 * `allocate` gives that buffer (the body pool lends memory it has had back from a worker).
 */
export function readBoundedBody(
  stream: Readable,
  limit: number,
  declared?: number,
  allocate: (bytes: number) => Buffer = Buffer.allocUnsafe,
): Promise<Buffer | OversizeBody> {
  return new Promise((resolve, reject) => {
    let whole =
      declared !== undefined && Number.isSafeInteger(declared) && declared > 0 && declared <= limit ? allocate(declared) : undefined;
    let chunks: Buffer[] = [];
    let received = 0;
    let head: string | undefined;
    const onData = (chunk: Buffer | string) => {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      const at = received;
      received += buffer.length;
      if (head !== undefined) return;
      if (whole !== undefined) {
        if (received <= whole.length) {
          buffer.copy(whole, at);
          return;
        }
        // More than declared (not from Node's HTTP parser, which stops there): on as chunks.
        chunks.push(whole.subarray(0, at));
        whole = undefined;
      }
      chunks.push(buffer);
      if (received > limit) {
        // Only the head is copied: joining the whole limit's worth of chunks to cut 64 KiB from it
        // held the event loop for 70-100 ms at the 16 MiB limit (docs/performance.md).
        head = Buffer.concat(chunks, Math.min(received, HEAD_BYTES)).toString('utf8');
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
      else if (whole !== undefined) resolve(received === whole.length ? whole : whole.subarray(0, received));
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
