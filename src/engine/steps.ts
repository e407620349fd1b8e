// A judgement in steps. The engine stays one pure function, but a workload with a hundred thousand
// containers takes long enough to judge that a server wants to answer other requests meanwhile
// (its /healthz above all): the engine yields between slices of the containers, and the caller
// decides whether to let other work run there (src/server/sliced.ts) or to go straight on (drain).

/** Work that yields (nothing) between steps and returns T at the end. */
export type Steps<T> = Generator<void, T, void>;

/** Runs every step at once: the synchronous answer. */
export function drain<T>(steps: Steps<T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}
