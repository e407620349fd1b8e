// The worker thread of src/server/body-pool.ts: reads one large body at a time, keeping of its
// objects only what a judgement reads (src/server/body-scan.ts builds nothing else), and posts
// that back in parts. A body the scanner does not vouch for goes through the event loop's own
// parser (depth guard, messages that quote no request bytes), which refuses it as it would there.
import { getHeapStatistics } from 'node:v8';
import { parentPort } from 'node:worker_threads';
import type { ProjectionPlan } from './body-projection.js';
import { EncodedParts, splitValue } from './body-parts.js';
import type { PartBytes } from './body-parts.js';
import { scanReviewInto } from './body-scan.js';
import { BodyError, parseJsonBody } from './json.js';

export interface BodyJob {
  id: number;
  body: Uint8Array;
  plan: ProjectionPlan;
}

/** `memory`: the body's, given back for the pool to hold its next large body in. */
export type BodyJobResult = { memory: ArrayBuffer } & (
  | { id: number; ok: true; parts: PartBytes; heapBytes: number }
  | { id: number; ok: false; invalid: { message: string; statusCode: 400 | 415 } }
  | { id: number; ok: false; failed: string }
);

const port = parentPort;
if (!port) throw new Error('body-worker runs as a worker thread of the body pool');

/** The highest heap seen at the end of each step of the current body (reported to the bench). */
let peakHeap = 0;
const sampled = <T>(value: T): T => {
  peakHeap = Math.max(peakHeap, getHeapStatistics().used_heap_size);
  return value;
};

function parts(body: Buffer, plan: ProjectionPlan): PartBytes {
  // What is kept of a body is rarely larger than the body: one buffer of its size seldom grows.
  const projected = new EncodedParts(body.length);
  if (sampled(scanReviewInto(body, plan, projected))) return projected.bytes();
  // Not vouched for: the parser refuses it with the event loop's message, or (never seen) keeps it whole.
  const whole = new EncodedParts(body.length);
  for (const part of sampled(splitValue(sampled(parseJsonBody(body.toString('utf8')))))) whole.push(part);
  return whole.bytes();
}

port.on('message', (job: BodyJob) => {
  const heapBefore = getHeapStatistics().used_heap_size;
  peakHeap = heapBefore;
  const memory = job.body.buffer as ArrayBuffer;
  const transfer = [memory];
  let result: BodyJobResult;
  try {
    const sent = parts(Buffer.from(memory, job.body.byteOffset, job.body.byteLength), job.plan);
    result = { id: job.id, ok: true, parts: sent, heapBytes: peakHeap - heapBefore, memory };
    transfer.push(sent.memory);
  } catch (err) {
    result =
      err instanceof BodyError
        ? { id: job.id, ok: false, invalid: { message: err.message, statusCode: err.statusCode }, memory }
        : { id: job.id, ok: false, failed: err instanceof Error ? err.message : String(err), memory };
  }
  // Moved, not copied: nothing here reads the body once its parts are written, nor the parts.
  port.postMessage(result, transfer);
});
