// Judging a review with the event loop free between steps. The engine yields between slices of
// 512 containers (src/engine/steps.ts); here each yield lets the loop turn once (setImmediate:
// I/O that arrived meanwhile is handled first), so /healthz and other reviews are answered while a
// workload with 100,000 containers is judged. Measured (docs/performance.md, "Large reviews"):
// such a review takes ~100+ ms of CPU to judge even after it was made linear, while a slice takes
// ~1 ms, so slicing bounds the wait to about a slice at the cost of ~200 loop turns (well under a
// millisecond in all). Judging in a worker thread instead would need the config (compiled CEL
// rules) and the cluster context (informers) in every worker. A review of a few hundred
// containers yields nowhere and is judged in one go, as before.
import type { Steps } from '../engine/index.js';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Runs the steps to the end, letting the event loop turn at every yield. */
export async function runSliced<T>(steps: Steps<T>): Promise<T> {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await turn();
  }
}
