// The one debounced watch-and-poll behind every file the server reloads while it runs (the
// serving certificate, the --config file). Two copies of it once drifted apart: a fix made to
// one (a poll faster than the debounce must not postpone the check forever) never reached the
// other, so a renewed certificate was never picked up. Keep it here, once.
import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';

/** The timers the watch runs on; tests pass a fake clock, the server the real one. */
export interface WatchTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(callback: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

/** Real timers, unref'd: the server's sockets, not a file watch, keep the process up. */
export const SYSTEM_TIMERS: WatchTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout | undefined),
  setInterval: (callback, ms) => setInterval(callback, ms).unref(),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout | undefined),
};

export interface SettledWatchOptions {
  /** Fallback for volumes that send no directory events: a check at least this often. */
  pollIntervalMs: number;
  /** Writers land files in steps (cert then key, a ConfigMap's symlink swap): wait this long after an event. */
  debounceMs: number;
  timers?: WatchTimers;
}

/**
 * Calls `check` once the watched directories have been quiet for debounceMs after an event,
 * and on every poll tick. Directories, not files: a Secret or ConfigMap volume update swaps a
 * ..data symlink, and a watch on the old file would keep watching a file no longer served.
 * `check` decides itself whether anything changed; it must not throw.
 */
export class SettledWatch {
  readonly #dirs: readonly string[];
  readonly #check: () => void;
  readonly #pollIntervalMs: number;
  readonly #debounceMs: number;
  readonly #timers: WatchTimers;
  #watchers: FSWatcher[] = [];
  #poll: unknown;
  #debounce: unknown;
  #started = false;
  #closed = false;

  constructor(dirs: Iterable<string>, check: () => void, options: SettledWatchOptions) {
    this.#dirs = [...new Set(dirs)];
    this.#check = check;
    this.#pollIntervalMs = options.pollIntervalMs;
    this.#debounceMs = options.debounceMs;
    this.#timers = options.timers ?? SYSTEM_TIMERS;
  }

  start(): void {
    if (this.#closed || this.#started) return;
    this.#started = true;
    for (const dir of this.#dirs) {
      try {
        const watcher = watch(dir, { persistent: false }, () => this.#schedule());
        // A removed directory ends its watch; the poll still covers it.
        watcher.on('error', () => watcher.close());
        this.#watchers.push(watcher);
      } catch {
        // A directory that cannot be watched (absent, unsupported filesystem) is left to the poll.
      }
    }
    // A tick must not push back a check already waiting: a poll faster than the debounce
    // would otherwise postpone it forever.
    this.#poll = this.#timers.setInterval(() => {
      if (this.#debounce === undefined) this.#schedule();
    }, this.#pollIntervalMs);
  }

  close(): void {
    this.#closed = true;
    for (const watcher of this.#watchers) watcher.close();
    this.#watchers = [];
    this.#timers.clearInterval(this.#poll);
    this.#timers.clearTimeout(this.#debounce);
    this.#poll = undefined;
    this.#debounce = undefined;
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timers.clearTimeout(this.#debounce);
    this.#debounce = this.#timers.setTimeout(() => {
      this.#debounce = undefined;
      if (!this.#closed) this.#check();
    }, this.#debounceMs);
  }
}
