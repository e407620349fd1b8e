// Reloads the --config file while the server runs. A valid new file replaces the engine config
// in one assignment; an invalid one is reported and the running config stays, so a typo in a
// ConfigMap never takes the gate down or silently switches policies off.
import { EventEmitter } from 'node:events';
import { dirname } from 'node:path';
import { ConfigError, parseConfigText, readConfigText } from '../config/load.js';
import { SettledWatch } from '../fs/watch.js';
import type { WatchTimers } from '../fs/watch.js';
import { compileConfig } from '../engine/index.js';
import type { EngineConfig, Policy } from '../engine/index.js';

export interface ConfigWatcherEvents {
  reload: [config: EngineConfig];
  error: [err: ConfigError];
}

export interface ConfigWatcherOptions {
  /** Fallback for volumes that send no events; reading a small file this often costs nothing. */
  pollIntervalMs?: number;
  /** Editors and ConfigMap updates write in steps: judge the file once it has settled. */
  debounceMs?: number;
  timers?: WatchTimers;
}

export class ConfigFileWatcher extends EventEmitter<ConfigWatcherEvents> {
  readonly #file: string;
  readonly #registry: readonly Policy[];
  /** The last text judged, good or bad: each version of the file is reported once. */
  #lastSeen: string;
  readonly #watch: SettledWatch;

  /** `initialText` is the text the running config came from. */
  constructor(file: string, registry: readonly Policy[], initialText: string, options: ConfigWatcherOptions = {}) {
    super();
    this.#file = file;
    this.#registry = registry;
    this.#lastSeen = initialText;
    // The directory: a ConfigMap update swaps a ..data symlink rather than writing the file.
    this.#watch = new SettledWatch([dirname(file)], () => this.#check(), {
      pollIntervalMs: options.pollIntervalMs ?? 5_000,
      debounceMs: options.debounceMs ?? 200,
      timers: options.timers,
    });
  }

  start(): void {
    this.#watch.start();
  }

  close(): void {
    this.#watch.close();
  }

  #check(): void {
    let text: string;
    try {
      text = readConfigText(this.#file);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      const seen = `\0unreadable:${why}`;
      if (seen === this.#lastSeen) return;
      this.#lastSeen = seen;
      this.emit('error', new ConfigError(`${why}; keeping the running config`));
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
