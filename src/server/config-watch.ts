// Reloads the --config file while the server runs. A valid new file replaces the engine config
// in one assignment; an invalid one is reported and the running config stays, so a typo in a
// ConfigMap never takes the gate down or silently switches policies off.
import { EventEmitter } from 'node:events';
import { readFileSync, watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError, parseConfigText } from '../config/load.js';
import { compileConfig } from '../engine/index.js';
import type { EngineConfig, Policy } from '../engine/index.js';
import { describeFileError } from '../files/errors.js';

export interface ConfigWatcherEvents {
  reload: [config: EngineConfig];
  error: [err: ConfigError];
}

export interface ConfigWatcherOptions {
  /** Fallback for volumes that send no events; reading a small file this often costs nothing. */
  pollIntervalMs?: number;
  /** Editors and ConfigMap updates write in steps: judge the file once it has settled. */
  debounceMs?: number;
}

export class ConfigFileWatcher extends EventEmitter<ConfigWatcherEvents> {
  readonly #file: string;
  readonly #registry: readonly Policy[];
  readonly #pollIntervalMs: number;
  readonly #debounceMs: number;
  /** The last text judged, good or bad: each version of the file is reported once. */
  #lastSeen: string;
  #watcher: FSWatcher | undefined;
  #poll: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #closed = false;

  /** `initialText` is the text the running config came from. */
  constructor(file: string, registry: readonly Policy[], initialText: string, options: ConfigWatcherOptions = {}) {
    super();
    this.#file = file;
    this.#registry = registry;
    this.#lastSeen = initialText;
    this.#pollIntervalMs = options.pollIntervalMs ?? 5_000;
    this.#debounceMs = options.debounceMs ?? 200;
  }

  start(): void {
    if (this.#closed || this.#poll) return;
    try {
      // The directory: a ConfigMap update swaps a ..data symlink rather than writing the file.
      this.#watcher = watch(dirname(this.#file), { persistent: false }, () => this.#schedule());
      this.#watcher.on('error', () => this.#watcher?.close());
    } catch {
      // left to the poll
    }
    // A poll tick must not push back a check already waiting, or a poll faster than the
    // debounce would postpone it forever.
    this.#poll = setInterval(() => {
      if (!this.#debounce) this.#schedule();
    }, this.#pollIntervalMs);
    this.#poll.unref();
  }

  close(): void {
    this.#closed = true;
    this.#watcher?.close();
    clearInterval(this.#poll);
    clearTimeout(this.#debounce);
  }

  #schedule(): void {
    if (this.#closed) return;
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => this.#check(), this.#debounceMs);
    this.#debounce.unref();
  }

  #check(): void {
    this.#debounce = undefined;
    if (this.#closed) return;
    let text: string;
    try {
      text = readFileSync(this.#file, 'utf8');
    } catch (err) {
      const seen = `\0unreadable:${(err as NodeJS.ErrnoException).code ?? ''}`;
      if (seen === this.#lastSeen) return;
      this.#lastSeen = seen;
      const why = describeFileError(err);
      this.emit('error', new ConfigError(`cannot read config ${this.#file}: ${why}; keeping the running config`));
      return;
    }
    if (text === this.#lastSeen) return;
    this.#lastSeen = text;
    let config: EngineConfig;
    try {
      config = compileConfig(parseConfigText(text, this.#file, this.#registry), this.#registry);
    } catch (err) {
      this.emit('error', err instanceof ConfigError ? err : new ConfigError(`invalid config ${this.#file}: ${String(err)}`));
      return;
    }
    this.emit('reload', config);
  }
}
