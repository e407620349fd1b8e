// The worker thread of src/server/body-pool.ts: parses one large body at a time with the same
// parser as the event loop (depth guard, messages that quote no request bytes), keeps of its
// objects only what a judgement reads, and posts that back in parts.
import { getHeapStatistics } from 'node:v8';
import { parentPort } from 'node:worker_threads';
import type { FieldPath } from '../engine/index.js';
import { projectReview } from './body-projection.js';
import { splitValue } from './body-parts.js';
import { BodyError, parseJsonBody } from './json.js';

export interface BodyJob {
  id: number;
  body: Uint8Array;
  fields: readonly FieldPath[];
}

export type BodyJobResult =
  | { id: number; ok: true; parts: string[]; heapBytes: number }
  | { id: number; ok: false; invalid: { message: string; statusCode: 400 | 415 } }
  | { id: number; ok: false; failed: string };

const port = parentPort;
if (!port) throw new Error('body-worker runs as a worker thread of the body pool');

port.on('message', (job: BodyJob) => {
  const heapBefore = getHeapStatistics().used_heap_size;
  let result: BodyJobResult;
  try {
    const text = Buffer.from(job.body.buffer, job.body.byteOffset, job.body.byteLength).toString('utf8');
    const value = parseJsonBody(text);
    const parsedHeap = getHeapStatistics().used_heap_size;
    const parts = splitValue(projectReview(value, job.fields));
    result = { id: job.id, ok: true, parts, heapBytes: Math.max(parsedHeap, getHeapStatistics().used_heap_size) - heapBefore };
  } catch (err) {
    result =
      err instanceof BodyError
        ? { id: job.id, ok: false, invalid: { message: err.message, statusCode: err.statusCode } }
        : { id: job.id, ok: false, failed: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(result);
});
