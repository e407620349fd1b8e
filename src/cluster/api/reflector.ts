import type { Logger } from 'pino';
import { isRecord } from '../../engine/k8s.js';
import type { KubeObject } from '../../engine/k8s.js';
import { backoffDelay, DEFAULT_BACKOFF, systemClock } from '../clock.js';
import type { BackoffPolicy, Clock } from '../clock.js';
import { describeError, isGone, statusOf } from './errors.js';

/** One line of a watch stream, as the API server sends it. */
export interface WatchEvent {
  type: string;
  object: unknown;
}

export interface ListPage {
  items: readonly unknown[];
  /** The collection's resourceVersion: where the watch resumes. */
  resourceVersion: string;
}

export interface WatchHandle {
  abort(): void;
}

/** What the reflector asks of a watch request. */
export interface WatchOptions {
  /**
   * Asks the API server to end the stream after this many seconds (query `timeoutSeconds`). The
   * reflector's watchdog counts on it: a stream silent for longer than this plus a margin is dead.
   */
  timeoutSeconds: number;
}

/**
 * The two calls an informer makes, and all a test needs to fake. `watch` resolves once the
 * stream is open (HTTP 200) or has failed; `onDone` then fires exactly once when it ends:
 * without an error for a clean close (the API server ends watches every few minutes), with one
 * otherwise (a refused watch carries statusCode, e.g. 410 when the resourceVersion is too old).
 * The watch must ask for bookmarks (`allowWatchBookmarks`) and pass `options.timeoutSeconds` on.
 */
export interface ListerWatcher {
  list(): Promise<ListPage>;
  watch(
    resourceVersion: string,
    onEvent: (event: WatchEvent) => void,
    onDone: (err?: unknown) => void,
    options: WatchOptions,
  ): Promise<WatchHandle>;
}

/** Where a reflector puts what it learns. */
export interface ReflectorSink {
  upsert(object: KubeObject): void;
  remove(object: KubeObject): void;
}

export interface ReflectorOptions {
  /** Plural resource name, for logs and metrics: `poddisruptionbudgets`. */
  resource: string;
  /** Stamped on every object: list responses leave kind and apiVersion off their items. */
  kind: string;
  apiVersion: string;
  source: ListerWatcher;
  sink: ReflectorSink;
  logger: Logger;
  clock?: Clock;
  backoff?: BackoffPolicy;
  /** A watch that closes cleanly sooner than this counts as a failure, so a flapping stream cannot spin. */
  minWatchMs?: number;
  /**
   * The `timeoutSeconds` of each watch request. Default: WATCH_TIMEOUT_SECONDS plus up to
   * WATCH_TIMEOUT_JITTER_SECONDS of jitter, so that replicas' watches do not all end together.
   */
  watchTimeoutSeconds?: number;
}

/** Watches end after this (plus jitter) and resume; the watchdog's limit is derived from it. */
export const WATCH_TIMEOUT_SECONDS = 300;
export const WATCH_TIMEOUT_JITTER_SECONDS = 60;
/**
 * How long past its timeoutSeconds a silent watch is given before it is presumed dead: the API
 * server ends a watch at timeoutSeconds (and sends bookmarks before that), so a stream that has
 * said nothing for longer is a half-open connection that no error will ever end. (client-node's
 * request timeout covers the response headers only, not the streamed body.)
 */
export const WATCHDOG_MARGIN_MS = 30_000;

/** A watch the watchdog ended: nothing came through it for too long. */
export class WatchStalledError extends Error {
  override name = 'WatchStalledError';
}

type WatchEnd = { kind: 'closed' } | { kind: 'gone' } | { kind: 'failed'; error: unknown; lastHeardAt?: number } | { kind: 'stopped' };

const keyOf = (object: KubeObject): string | undefined => {
  const meta = isRecord(object.metadata) ? object.metadata : undefined;
  if (!meta || typeof meta.name !== 'string' || meta.name === '') return undefined;
  return `${typeof meta.namespace === 'string' ? meta.namespace : ''}/${meta.name}`;
};

const resourceVersionOf = (object: unknown): string | undefined => {
  if (!isRecord(object) || !isRecord(object.metadata)) return undefined;
  const rv = object.metadata.resourceVersion;
  return typeof rv === 'string' && rv !== '' ? rv : undefined;
};

/**
 * Keeps a sink in step with one resource: list, then watch from the list's resourceVersion;
 * resume the watch when it closes; list again after 410 Gone (deleting what vanished in the gap);
 * back off and retry on any error, forever, until stopped. A watchdog ends a watch that has
 * delivered nothing (not even a bookmark) for its timeoutSeconds plus WATCHDOG_MARGIN_MS: a
 * half-open connection never errors, and would otherwise leave the sink stale while looking
 * current. The sink keeps its last known state while the API server is away, so the webhook goes
 * on answering from it; `stalenessSeconds` says for how long that state has not been confirmed.
 */
export class Reflector {
  readonly resource: string;
  readonly synced: Promise<void>;
  #resolveSynced!: () => void;
  #isSynced = false;
  readonly #options: ReflectorOptions;
  readonly #clock: Clock;
  readonly #backoff: BackoffPolicy;
  readonly #log: Logger;
  #known = new Map<string, KubeObject>();
  #resourceVersion = '';
  #attempt = 0;
  #running: Promise<void> | undefined;
  #stop = new AbortController();
  #current = false;
  #staleSince: number;

  constructor(options: ReflectorOptions) {
    this.#options = options;
    this.resource = options.resource;
    this.#clock = options.clock ?? systemClock;
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.#log = options.logger.child({ resource: options.resource });
    this.#staleSince = this.#clock.now();
    this.synced = new Promise((resolve) => {
      this.#resolveSynced = resolve;
    });
  }

  /** True once the first list has been applied; it stays true through later outages. */
  get isSynced(): boolean {
    return this.#isSynced;
  }

  /** True while a watch is open, i.e. the sink follows the API server. */
  get isCurrent(): boolean {
    return this.#current;
  }

  /** 0 while watching; else seconds since the sink last followed the API server (or since start, before the first sync). */
  stalenessSeconds(): number {
    return this.#current ? 0 : Math.max(0, (this.#clock.now() - this.#staleSince) / 1000);
  }

  /** Number of objects known. */
  get size(): number {
    return this.#known.size;
  }

  start(): void {
    if (this.#running) return;
    this.#stop = new AbortController();
    this.#running = this.#run();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    const running = this.#running;
    this.#running = undefined;
    await running;
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      try {
        if (this.#resourceVersion === '') await this.#relist();
        if (signal.aborted) break;
        const openedAt = this.#clock.now();
        const end = await this.#watchOnce(signal);
        // A stalled stream confirmed nothing after the last thing it delivered: stale since then.
        this.#markStale(end.kind === 'failed' ? end.lastHeardAt : undefined);
        if (end.kind === 'stopped') break;
        const lasted = this.#clock.now() - openedAt >= (this.#options.minWatchMs ?? 1000);
        if (lasted) this.#attempt = 0;
        if (end.kind === 'failed') throw end.error;
        if (end.kind === 'gone') {
          this.#log.info({ event: 'watch-expired' }, 'watch resourceVersion expired (410 Gone): listing again');
          this.#resourceVersion = '';
          // Routine after a long watch; repeated at once it would be a list storm.
          if (!lasted) await this.#clock.sleep(backoffDelay(this.#backoff, this.#attempt++), signal);
          continue;
        }
        // A clean close is routine (the API server ends watches every few minutes); an instant one is not.
        if (!lasted) throw new Error('watch closed as soon as it opened');
      } catch (err) {
        if (signal.aborted) break;
        if (isGone(err)) this.#resourceVersion = '';
        const delay = backoffDelay(this.#backoff, this.#attempt++);
        this.#log.warn(
          {
            event: 'watch-failed',
            err: describeError(err),
            status: statusOf(err),
            synced: this.#isSynced,
            staleSeconds: Math.round(this.stalenessSeconds()),
            retryInMs: delay,
          },
          this.#isSynced
            ? 'cannot follow the API server: serving from the last known state'
            : 'cannot list from the API server: not ready until it succeeds',
        );
        await this.#clock.sleep(delay, signal);
      }
    }
    this.#markStale();
  }

  async #relist(): Promise<void> {
    const page = await this.#options.source.list();
    const fresh = new Map<string, KubeObject>();
    for (const item of page.items) {
      const object = this.#stamp(item);
      const key = object && keyOf(object);
      if (object && key) fresh.set(key, object);
    }
    // What the last list or watch knew and this list lacks was deleted while no watch was open.
    for (const [key, old] of this.#known) if (!fresh.has(key)) this.#options.sink.remove(old);
    for (const object of fresh.values()) this.#options.sink.upsert(object);
    this.#known = fresh;
    this.#resourceVersion = page.resourceVersion;
    if (!this.#isSynced) {
      this.#isSynced = true;
      this.#log.info({ event: 'synced', objects: fresh.size }, 'first list applied');
      this.#resolveSynced();
    }
  }

  #watchTimeoutSeconds(): number {
    return this.#options.watchTimeoutSeconds ?? WATCH_TIMEOUT_SECONDS + Math.floor(Math.random() * WATCH_TIMEOUT_JITTER_SECONDS);
  }

  #watchOnce(signal: AbortSignal): Promise<WatchEnd> {
    return new Promise((resolve) => {
      let ended = false;
      let handle: WatchHandle | undefined;
      const timeoutSeconds = this.#watchTimeoutSeconds();
      const silenceLimitMs = timeoutSeconds * 1000 + WATCHDOG_MARGIN_MS;
      // Any sign of life (the stream opening, any event, bookmarks included) restarts the watchdog.
      let lastHeardAt = this.#clock.now();
      const watchdog = new AbortController();
      const finish = (end: WatchEnd): void => {
        if (ended) return;
        ended = true;
        signal.removeEventListener('abort', onStop);
        watchdog.abort();
        handle?.abort();
        resolve(end);
      };
      const onStop = (): void => finish({ kind: 'stopped' });
      signal.addEventListener('abort', onStop, { once: true });

      // One timer per silence period, not one per event: it sleeps until the limit counted from
      // the last sign of life, and goes back to sleep if something arrived meanwhile.
      const watch = async (): Promise<void> => {
        while (!ended) {
          const left = lastHeardAt + silenceLimitMs - this.#clock.now();
          if (left <= 0) {
            const silentSeconds = Math.round((this.#clock.now() - lastHeardAt) / 1000);
            const error = new WatchStalledError(
              `no watch event for ${silentSeconds}s (timeoutSeconds ${timeoutSeconds} + ${WATCHDOG_MARGIN_MS / 1000}s margin): connection presumed dead`,
            );
            finish({ kind: 'failed', error, lastHeardAt });
            return;
          }
          await this.#clock.sleep(left, watchdog.signal);
        }
      };
      void watch();

      const onEvent = (event: WatchEvent): void => {
        if (ended) return;
        lastHeardAt = this.#clock.now();
        const outcome = this.#apply(event);
        if (outcome) finish(outcome);
      };
      const onDone = (err?: unknown): void => {
        if (err === undefined || err === null) finish({ kind: 'closed' });
        else if (isGone(err)) finish({ kind: 'gone' });
        else finish({ kind: 'failed', error: err });
      };
      this.#options.source.watch(this.#resourceVersion, onEvent, onDone, { timeoutSeconds }).then(
        (opened) => {
          handle = opened;
          if (ended) opened.abort();
          else {
            lastHeardAt = this.#clock.now();
            this.#markCurrent();
          }
        },
        (err: unknown) => finish({ kind: 'failed', error: err }),
      );
    });
  }

  /** Applies one event; returns how the watch ends when the event ends it. */
  #apply(event: WatchEvent): WatchEnd | undefined {
    switch (event.type) {
      case 'ADDED':
      case 'MODIFIED':
      case 'DELETED': {
        const object = this.#stamp(event.object);
        const key = object && keyOf(object);
        if (!object || !key) {
          this.#log.warn({ event: 'bad-watch-event', type: event.type }, 'ignored a watch event without an object name');
          return undefined;
        }
        if (event.type === 'DELETED') {
          const old = this.#known.get(key);
          this.#known.delete(key);
          this.#options.sink.remove(old ?? object);
        } else {
          this.#known.set(key, object);
          this.#options.sink.upsert(object);
        }
        this.#resourceVersion = resourceVersionOf(object) ?? this.#resourceVersion;
        return undefined;
      }
      case 'BOOKMARK':
        // Nothing changed, but the stream is alive and the cache is current up to this version:
        // a resumed watch starts here instead of from an older version that may be compacted (410).
        this.#resourceVersion = resourceVersionOf(event.object) ?? this.#resourceVersion;
        return undefined;
      case 'ERROR': {
        // The stream reports a Status; 410 means our resourceVersion was compacted away.
        if (statusOf(event.object) === 410) return { kind: 'gone' };
        const message = isRecord(event.object) && typeof event.object.message === 'string' ? event.object.message : 'error event';
        return { kind: 'failed', error: Object.assign(new Error(message), { code: statusOf(event.object) }) };
      }
      default:
        return undefined;
    }
  }

  #stamp(item: unknown): KubeObject | undefined {
    if (!isRecord(item)) return undefined;
    const object = item as KubeObject;
    object.kind = this.#options.kind;
    object.apiVersion = this.#options.apiVersion;
    return object;
  }

  #markCurrent(): void {
    if (!this.#current) {
      const was = this.stalenessSeconds();
      this.#current = true;
      if (this.#attempt > 0) {
        this.#log.info({ event: 'watch-resumed', staleSeconds: Math.round(was) }, 'following the API server again');
      }
    }
  }

  /** `since`: when the sink was last known to follow, if earlier than now (a stream found dead). */
  #markStale(since?: number): void {
    if (this.#current) {
      this.#current = false;
      this.#staleSince = Math.min(since ?? Infinity, this.#clock.now());
    }
  }
}
