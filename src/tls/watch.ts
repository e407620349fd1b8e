import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { dirname } from 'node:path';
import { SettledWatch, type WatchTimers } from '../fs/watch.js';
import { readTlsFiles, TlsError, validateTlsFiles, type TlsContents, type TlsFiles, type TlsMaterial } from './material.js';

export interface TlsWatcherEvents {
  reload: [material: TlsMaterial];
  error: [err: TlsError];
}

export interface TlsWatcherOptions {
  /** Fallback poll for when directory events are missed (some volume types never send them). */
  pollIntervalMs?: number;
  /** cert-manager writes cert and key separately; waiting lets both land before they are judged. */
  debounceMs?: number;
  timers?: WatchTimers;
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
  #current: TlsMaterial;
  #lastSeen: string;
  readonly #watch: SettledWatch;

  constructor(files: TlsFiles, options: TlsWatcherOptions = {}) {
    super();
    this.#files = { ...files };
    const pollIntervalMs = positive(options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS, 'pollIntervalMs');
    const debounceMs = nonNegative(options.debounceMs ?? DEFAULT_DEBOUNCE_MS, 'debounceMs');
    const contents = readTlsFiles(this.#files);
    this.#current = validateTlsFiles(contents, this.#files);
    this.#lastSeen = digest(contents);
    const paths = [this.#files.certFile, this.#files.keyFile, this.#files.clientCaFile];
    const dirs = paths.filter((p): p is string => p !== undefined).map((p) => dirname(p));
    this.#watch = new SettledWatch(dirs, () => this.#check(), { pollIntervalMs, debounceMs, timers: options.timers });
  }

  /** The last good material: what the server should be serving. */
  get current(): TlsMaterial {
    return this.#current;
  }

  start(): void {
    this.#watch.start();
  }

  close(): void {
    this.#watch.close();
  }

  #check(): void {
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
