// Timers that only move when a test says so, for the file watch (src/fs/watch.ts).
import type { WatchTimers } from '../../src/fs/watch.js';

interface Pending {
  at: number;
  callback: () => void;
  /** Set for an interval: when it fires again. */
  every?: number;
}

export class FakeTimers implements WatchTimers {
  #now = 0;
  #pending = new Set<Pending>();

  setTimeout(callback: () => void, ms: number): unknown {
    const timer: Pending = { at: this.#now + ms, callback };
    this.#pending.add(timer);
    return timer;
  }

  setInterval(callback: () => void, ms: number): unknown {
    const timer: Pending = { at: this.#now + ms, callback, every: ms };
    this.#pending.add(timer);
    return timer;
  }

  clearTimeout(handle: unknown): void {
    this.#pending.delete(handle as Pending);
  }

  clearInterval(handle: unknown): void {
    this.#pending.delete(handle as Pending);
  }

  /** Moves time forward by `ms`, firing what falls due in order of due time, then of creation. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      let next: Pending | undefined;
      for (const timer of this.#pending) if (timer.at <= target && (!next || timer.at < next.at)) next = timer;
      if (!next) break;
      this.#now = next.at;
      if (next.every === undefined) this.#pending.delete(next);
      else next.at += next.every;
      next.callback();
    }
    this.#now = target;
  }
}
