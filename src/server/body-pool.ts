// Large bodies are parsed off the event loop. JSON.parse of a 16 MiB review is one synchronous
// call of several hundred milliseconds during which the process answers nothing, not even
// /healthz; a few worker threads read such bodies instead (src/server/body-scan.ts) and send back
// only what a judgement reads (src/server/body-projection.ts), in parts the event loop rebuilds
// between other work.
// Small bodies, nearly all of them, never touch a worker: none is started until a large one comes.
// A body's memory goes to the worker and comes back with its answer, to hold the next large body:
// fresh memory costs a page fault per 4 KiB as it is first written, ~50 ms for 16 MiB on the
// bench's machine, against ~1 ms to write memory already in use (docs/performance.md).
import { Worker } from 'node:worker_threads';
import type { ResourceLimits } from 'node:worker_threads';
import type { ProjectionPlan } from './body-projection.js';
import type { BodyJob, BodyJobResult } from './body-worker.js';
import { joinParts, partTexts } from './body-parts.js';
import { BodyError } from './json.js';

export interface BodyPoolOptions {
  /** Bodies of at least this many bytes are parsed in a worker. */
  threshold: number;
  /** Worker threads at most, started when first needed. */
  workers: number;
  /** Bodies in a worker or waiting for one; past it a body is not judged (answered per --on-error). */
  maxPending: number;
  /** A body not parsed within this time of arriving (waiting included) is not judged; its worker is replaced. */
  timeoutMs: number;
  /** Heap of each worker: a body that needs more ends that worker, not the process. */
  resourceLimits: ResourceLimits;
}

/**
 * 1 MiB parses in under ~10 ms on the event loop: below it a worker's round trip costs more than
 * it saves. Two workers use both cores of a typical webhook pod while the event loop answers;
 * a worker's heap holds the text of what it keeps of a 16 MiB review (a few KiB by default, about
 * the body's size when a custom rule needs every field) with room to spare. The timeout stays
 * under the chart's webhook timeoutSeconds (5 s) with room for reading the body and judging it:
 * a refusal must reach the API server before it gives up, since under failurePolicy Ignore
 * giving up admits the object. Reading the largest review the API server sends takes ~50 ms there.
 * The body budget (src/server/body-budget.ts) lets at most 4 MiB of bodies in at once, so at
 * most 4 reach the pool: none is refused here for being one too many.
 */
export const BODY_POOL_DEFAULTS: BodyPoolOptions = {
  threshold: 1024 * 1024,
  workers: 2,
  maxPending: 8,
  timeoutMs: 3_000,
  resourceLimits: { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 32 },
};

/** Why a body was not judged: queue full, worker crashed or timed out, shutting down. */
export class BodyNotParsed extends Error {
  override name = 'BodyNotParsed';
}

interface Pending {
  job: BodyJob;
  resolve(value: unknown): void;
  reject(err: Error): void;
  deadline: NodeJS.Timeout | undefined;
}

interface Slot {
  worker: Worker | undefined;
  current: Pending | undefined;
}

// Built, the worker is JavaScript next to this module. Under tap the sources run as TypeScript
// through tsx, whose loader hooks a worker thread on Node 20 does not inherit: the worker then
// loads its module through tsx's own import.
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(FROM_SOURCE ? './body-worker.ts' : './body-worker.js', import.meta.url);
const WORKER_FROM_SOURCE = `import('tsx/esm/api').then((tsx) => tsx.tsImport(${JSON.stringify(WORKER_URL.href)}, ${JSON.stringify(import.meta.url)}))`;

export class BodyPool {
  readonly options: BodyPoolOptions;
  readonly #slots: Slot[];
  readonly #queue: Pending[] = [];
  #nextId = 0;
  #closed = false;
  /** Counters and the last body's worker heap growth, for metrics and the large-review bench. */
  readonly stats = { parsed: 0, invalid: 0, started: 0, failed: 0, refused: 0, reused: 0, lastHeapBytes: 0 };
  /** The largest body memory a worker gave back, for the next large body; at most one is kept. */
  #spare: ArrayBuffer | undefined;
  /** Memory this pool handed out for bodies: a worker may have it outright, never a copy. */
  readonly #lent = new WeakSet<ArrayBufferLike>();

  constructor(options: Partial<BodyPoolOptions> = {}) {
    this.options = { ...BODY_POOL_DEFAULTS, ...options };
    this.#slots = Array.from({ length: Math.max(1, this.options.workers) }, () => ({ worker: undefined, current: undefined }));
  }

  /** True when a body of this size is parsed here rather than on the event loop. */
  takes(bytes: number): boolean {
    return bytes >= this.options.threshold;
  }

  /**
   * Memory for a body of `bytes` that this pool takes: the spare a worker gave back when it is large
   * enough, else new memory of the body's size. Only the body's own bytes are ever read from it.
   */
  bodyBuffer(bytes: number): Buffer {
    const spare = this.#spare;
    if (spare !== undefined && spare.byteLength >= bytes) {
      this.#spare = undefined;
      this.stats.reused++;
      this.#lent.add(spare);
      return Buffer.from(spare, 0, bytes);
    }
    const fresh = Buffer.allocUnsafeSlow(bytes);
    this.#lent.add(fresh.buffer);
    return fresh;
  }

  /**
   * Memory for a body of up to `bytes`, written through now and kept as the spare, so that the
   * first large body is read into pages the process already holds: fresh memory costs a page fault
   * per 4 KiB as it is first written (~35-50 ms for 16 MiB on the bench's machine, on the event
   * loop, inside the first large review). The spare would hold that memory after the first large
   * body anyway; this holds it from the start.
   */
  holdSpare(bytes: number): void {
    if (this.#closed || bytes < this.options.threshold || (this.#spare?.byteLength ?? 0) >= bytes) return;
    const memory = Buffer.allocUnsafeSlow(bytes).fill(0);
    this.#keep(memory.buffer as ArrayBuffer);
  }

  /**
   * The parsed review, projected by `plan`. Rejects with BodyError for a body the in-thread
   * parser refuses too (same message), with BodyNotParsed when it could not be parsed here.
   */
  parse(body: Buffer, plan: ProjectionPlan): Promise<unknown> {
    if (this.#closed) return Promise.reject(new BodyNotParsed('the server is shutting down'));
    const busy = this.#queue.length + this.#slots.filter((s) => s.current).length;
    if (busy >= this.options.maxPending) {
      this.stats.refused++;
      return Promise.reject(
        new BodyNotParsed(`${busy} large bodies are already being parsed (the most at once is ${this.options.maxPending})`),
      );
    }
    return new Promise((resolve, reject) => {
      const pending: Pending = { job: { id: this.#nextId++, body, plan }, resolve, reject, deadline: undefined };
      pending.deadline = setTimeout(() => this.#expire(pending), this.options.timeoutMs);
      this.#queue.push(pending);
      this.#dispatch();
    });
  }

  /** Ends every worker; bodies in flight or waiting are answered as not parsed. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#spare = undefined;
    const stopping = new BodyNotParsed('the server is shutting down');
    for (const pending of this.#queue.splice(0)) {
      clearTimeout(pending.deadline);
      pending.reject(stopping);
    }
    await Promise.all(this.#slots.map((slot) => this.#retire(slot, stopping)));
  }

  #dispatch(): void {
    for (const slot of this.#slots) {
      if (slot.current) continue;
      const next = this.#queue.shift();
      if (!next) return;
      slot.current = next;
      const worker = slot.worker ?? this.#start(slot);
      const { body } = next.job;
      // Moved, not copied, when nothing else can hold the memory: the pool's own, or a buffer that is all body.
      const whole = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength;
      worker.postMessage(next.job, whole || this.#lent.has(body.buffer) ? [body.buffer as ArrayBuffer] : []);
    }
  }

  #start(slot: Slot): Worker {
    const options = { resourceLimits: this.options.resourceLimits, stdout: false, stderr: false };
    const worker = FROM_SOURCE ? new Worker(WORKER_FROM_SOURCE, { ...options, eval: true }) : new Worker(WORKER_URL, options);
    this.stats.started++;
    worker.unref();
    slot.worker = worker;
    worker.on('message', (result: BodyJobResult) => void this.#answer(slot, result));
    // Out of memory, an uncaught error, or any other exit: the body in it is not judged, and
    // the next body gets a fresh worker.
    const lost = (why: string) => {
      if (slot.worker !== worker) return;
      slot.worker = undefined;
      void this.#retire(slot, new BodyNotParsed(why));
    };
    worker.on('error', (err) => lost(`the parsing worker failed: ${err.message}`));
    worker.on('exit', (code) => lost(`the parsing worker exited with code ${code}`));
    return worker;
  }

  /** Past its deadline: a waiting body leaves the queue, a body in a worker ends that worker. */
  #expire(pending: Pending): void {
    const late = new BodyNotParsed(`parsing took longer than ${this.options.timeoutMs} ms`);
    const waiting = this.#queue.indexOf(pending);
    if (waiting >= 0) {
      this.#queue.splice(waiting, 1);
      this.stats.failed++;
      pending.reject(late);
      return;
    }
    const slot = this.#slots.find((s) => s.current === pending);
    if (slot) void this.#retire(slot, late);
  }

  #answer(slot: Slot, result: BodyJobResult): void {
    const pending = slot.current;
    if (!pending || pending.job.id !== result.id) return;
    clearTimeout(pending.deadline);
    slot.current = undefined;
    this.#keep(result.memory);
    this.#dispatch();
    if (result.ok) {
      this.stats.parsed++;
      this.stats.lastHeapBytes = result.heapBytes;
      joinParts(partTexts(result.parts)).then(pending.resolve, (err: Error) => pending.reject(new BodyNotParsed(err.message)));
    } else if ('invalid' in result) {
      this.stats.invalid++;
      pending.reject(new BodyError(result.invalid.message, result.invalid.statusCode));
    } else {
      this.stats.failed++;
      pending.reject(new BodyNotParsed(`parsing failed: ${result.failed}`));
    }
  }

  /** Keeps the larger of the spare and `memory` (a body the size of the threshold or more) for the next body. */
  #keep(memory: ArrayBuffer): void {
    if (this.#closed || memory.byteLength < this.options.threshold) return;
    if (this.#spare === undefined || memory.byteLength > this.#spare.byteLength) this.#spare = memory;
  }

  /** Fails the slot's body (if any) with `err` and ends its worker; a later body starts a new one. */
  async #retire(slot: Slot, err: BodyNotParsed): Promise<void> {
    const pending = slot.current;
    clearTimeout(pending?.deadline);
    const worker = slot.worker;
    slot.current = undefined;
    slot.worker = undefined;
    if (pending) {
      this.stats.failed++;
      pending.reject(err);
    }
    if (worker) await worker.terminate();
    if (!this.#closed) this.#dispatch();
  }
}
