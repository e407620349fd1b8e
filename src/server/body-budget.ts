// How many bytes of request bodies the webhook reads, parses and judges at once. Each review in
// progress holds its body and what was parsed from it until it is answered: a 16 MiB review ~110
// MiB of the pod's memory, a 1 MiB one parsed on the event loop ~10 MiB. Four 16 MiB reviews at
// once, or sixty-four of 1 MiB, took the process past the chart's 256 MiB memory limit and the
// kernel killed it (docs/performance.md, "Memory under concurrent reviews"): with failurePolicy
// Ignore every write in the cluster is then admitted unjudged until it is back. Any user who may
// create a Deployment can send such reviews, a few kubectl commands at once.
// So a body past the budget waits, unread (the API server's write waits on the socket), until
// earlier ones are answered, in the order they came; one that waits too long, or finds too many
// waiting, is answered unjudged: refused in enforce mode, like a body the workers could not parse.
// Small bodies never wait: they are parsed and judged in one go, so they cannot pile up.
import { mib } from './oversize.js';

export interface BodyBudgetOptions {
  /** Bytes of bodies in progress at most; a body larger than this goes alone. */
  bytes: number;
  /** Bodies smaller than this are not counted and never wait. */
  smallBytes: number;
  /** The longest a body waits for its turn; past it, it is answered unjudged. */
  waitMs: number;
  /** Bodies waiting at most; one more is answered unjudged at once. */
  maxWaiting: number;
}

/**
 * 4 MiB: a review at the body limit goes alone (~110 MiB above an idle process while it is
 * judged), and of reviews of just under 1 MiB, which the event loop parses, four at once. In a
 * 256 MiB memory cgroup (the chart's limit), after the largest reviews had been judged, sixty-four
 * of those sent at once took the process to 248 MiB with sixteen in progress, 218 MiB with eight
 * (docs/performance.md, "Memory under concurrent reviews"): four leave room for the informers'
 * caches. On one core, judging them a few at a time costs no more time than all together.
 * Below 64 KiB a review as the API server sends it holds at most a few hundred containers,
 * judged without a pause (src/server/sliced.ts), so its memory is gone before the next one is
 * read. Two seconds of waiting leaves the rest of the chart's 5 s webhook timeout for reading,
 * parsing and judging the largest review.
 */
export const BODY_BUDGET_DEFAULTS: BodyBudgetOptions = {
  bytes: 4 * 1024 * 1024,
  smallBytes: 64 * 1024,
  waitMs: 2_000,
  maxWaiting: 64,
};

/** A body's place in the budget: given back once, when its answer is out or its connection gone. */
export interface BodyTicket {
  /** Resolves with undefined when the body may be read, or with why it is answered unjudged. */
  readonly turn: Promise<string | undefined>;
  /** True when the body had to wait for its turn. */
  readonly queued: boolean;
  /** Gives the bytes back, or leaves the queue; safe to call more than once. */
  release(): void;
}

interface Waiter {
  bytes: number;
  start(refusal: string | undefined): void;
}

export class BodyBudget {
  readonly options: BodyBudgetOptions;
  /** For metrics and tests: bytes held now and at most, bodies that waited, bodies refused. */
  readonly stats = { held: 0, peak: 0, waited: 0, refused: 0 };
  readonly #queue: Waiter[] = [];
  #closed = false;

  constructor(options: Partial<BodyBudgetOptions> = {}) {
    this.options = { ...BODY_BUDGET_DEFAULTS, ...options };
  }

  /** True when a body of this size takes a place in the budget (undefined: its size is not known). */
  counts(bytes: number | undefined): boolean {
    return bytes === undefined || bytes >= this.options.smallBytes;
  }

  /** A place for a body of `bytes`, now if it fits and nobody waits before it, else in turn. */
  take(bytes: number): BodyTicket {
    const wanted = Math.min(bytes, this.options.bytes);
    let held = false;
    let waiter: Waiter | undefined;
    const release = () => {
      if (held) {
        held = false;
        this.stats.held -= wanted;
        this.#next();
      } else if (waiter) {
        this.#leave(waiter);
        waiter.start('the client went away');
      }
    };
    const refuse = (why: string) => {
      this.stats.refused++;
      return { turn: Promise.resolve(why), queued: false, release };
    };
    if (this.#closed) return refuse('the server is shutting down');
    if (this.#queue.length === 0 && this.stats.held + wanted <= this.options.bytes) {
      this.#hold(wanted);
      held = true;
      return { turn: Promise.resolve(undefined), queued: false, release };
    }
    if (this.#queue.length >= this.options.maxWaiting) {
      return refuse(`${this.#queue.length} other large AdmissionReviews were already waiting`);
    }
    this.stats.waited++;
    const turn = new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.#leave(current);
        this.stats.refused++;
        current.start(
          `the webhook was busy with other large AdmissionReviews (${mib(this.options.bytes)} at once) for ${this.options.waitMs} ms`,
        );
      }, this.options.waitMs);
      const current: Waiter = {
        bytes: wanted,
        start: (refusal) => {
          clearTimeout(timer);
          waiter = undefined;
          if (refusal === undefined) held = true;
          resolve(refusal);
        },
      };
      waiter = current;
      this.#queue.push(current);
    });
    return { turn, queued: true, release };
  }

  /** Bodies still waiting are answered unjudged; those in progress finish. */
  close(): void {
    this.#closed = true;
    for (const waiter of this.#queue.splice(0)) {
      this.stats.refused++;
      waiter.start('the server is shutting down');
    }
  }

  #hold(bytes: number): void {
    this.stats.held += bytes;
    this.stats.peak = Math.max(this.stats.peak, this.stats.held);
  }

  #leave(waiter: Waiter): void {
    const at = this.#queue.indexOf(waiter);
    if (at >= 0) this.#queue.splice(at, 1);
  }

  /** Starts waiting bodies in order while the first of them fits. */
  #next(): void {
    for (let first = this.#queue[0]; first && this.stats.held + first.bytes <= this.options.bytes; first = this.#queue[0]) {
      this.#queue.shift();
      this.#hold(first.bytes);
      first.start(undefined);
    }
  }
}
