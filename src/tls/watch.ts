import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import {
  readTlsFiles,
  TlsError,
  validateTlsFiles,
  type TlsContents,
  type TlsFiles,
  type TlsMaterial,
} from './material.js';

export interface TlsWatcherEvents {
  reload: [material: TlsMaterial];
  error: [err: TlsError];
}

export interface TlsWatcherOptions {
  /** Fallback poll for when directory events are missed (some volume types never send them). */
  pollIntervalMs?: number;
  /** cert-manager writes cert and key separately; waiting lets both land before they are judged. */
  debounceMs?: number;
}

export const DEFAULT_POLL_INTERVAL_MS = 10_000;
export const DEFAULT_DEBOUNCE_MS = 200;

/**
 * Watches the files (fs.watch on the DIRECTORY plus a poll every pollIntervalMs as a fallback, because
 * Kubernetes Secret volumes swap a ..data symlink and cert-manager writes cert and key separately): on
 * a change, debounce ~200ms, load+validate; emit 'reload' with the new TlsMaterial when it changed, or
 * 'error' (TlsError) when the new pair is bad — the caller keeps the old one.
 *
 * Each distinct state of the files is judged once: a bad pair left on disk yields one 'error', not
 * one per poll. 'error' is only emitted while someone listens, so a forgotten listener cannot crash
 * the server. Timers and watchers are unref'd: the server's sockets, not this, keep the process up.
 */
export class TlsFileWatcher extends EventEmitter<TlsWatcherEvents> {
  readonly #files: TlsFiles;
  readonly #pollIntervalMs: number;
  readonly #debounceMs: number;
  #current: TlsMaterial;
  #lastSeen: string;
  #watchers: FSWatcher[] = [];
  #poll: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(files: TlsFiles, options: TlsWatcherOptions = {}) {
    super();
    this.#files = { ...files };
    this.#pollIntervalMs = positive(options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS, 'pollIntervalMs');
    this.#debounceMs = nonNegative(options.debounceMs ?? DEFAULT_DEBOUNCE_MS, 'debounceMs');
    const contents = readTlsFiles(this.#files);
    this.#current = validateTlsFiles(contents, this.#files);
    this.#lastSeen = digest(contents);
  }

  /** The last good material: what the server should be serving. */
  get current(): TlsMaterial {
    return this.#current;
  }

  start(): void {
    if (this.#closed || this.#poll) return;
    const paths = [this.#files.certFile, this.#files.keyFile, this.#files.clientCaFile];
    for (const dir of new Set(paths.filter((p): p is string => p !== undefined).map((p) => dirname(p)))) {
      try {
        // The directory, not the files: a Secret update swaps the ..data symlink, and a watch on the
        // old file would keep watching a file that is no longer the one being served.
        const watcher = watch(dir, { persistent: false }, () => this.#schedule());
        // A removed directory ends its watch; the poll still covers it.
        watcher.on('error', () => watcher.close());
        this.#watchers.push(watcher);
      } catch {
        // A directory that cannot be watched (absent, unsupported filesystem) is left to the poll.
      }
    }
    this.#poll = setInterval(() => this.#schedule(), this.#pollIntervalMs);
    this.#poll.unref();
  }

  close(): void {
    this.#closed = true;
    for (const watcher of this.#watchers) watcher.close();
    this.#watchers = [];
    clearInterval(this.#poll);
    clearTimeout(this.#debounce);
    this.#poll = undefined;
    this.#debounce = undefined;
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
    let contents: TlsContents;
    try {
      contents = readTlsFiles(this.#files);
    } catch (err) {
      this.#judged(`unreadable:${(err as Error).message}`, err as TlsError);
      return;
    }
    const seen = digest(contents);
    if (seen === this.#lastSeen) return;
    try {
      const material = validateTlsFiles(contents, this.#files);
      this.#lastSeen = seen;
      if (changed(this.#current, material)) {
        this.#current = material;
        this.emit('reload', material);
      }
    } catch (err) {
      this.#judged(seen, err instanceof TlsError ? err : new TlsError(String(err)));
    }
  }

  #judged(state: string, err: TlsError): void {
    if (state === this.#lastSeen) return;
    this.#lastSeen = state;
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}

/** Identity of the served material: the serving certificate, its chain and the client CA. */
function changed(old: TlsMaterial, next: TlsMaterial): boolean {
  return old.fingerprint !== next.fingerprint || old.cert !== next.cert || old.clientCa !== next.clientCa;
}

function digest(contents: TlsContents): string {
  const hash = createHash('sha256');
  for (const part of [contents.cert, contents.key, contents.clientCa ?? '']) hash.update(part).update('\0');
  return hash.digest('hex');
}

function positive(value: number, name: string): number {
  if (!(Number.isFinite(value) && value > 0)) throw new RangeError(`${name} must be a positive number of milliseconds`);
  return value;
}

function nonNegative(value: number, name: string): number {
  if (!(Number.isFinite(value) && value >= 0)) throw new RangeError(`${name} must be zero or more milliseconds`);
  return value;
}
