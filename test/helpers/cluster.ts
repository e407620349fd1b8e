// Fakes for the cluster modules' small interfaces: a clock that only moves when told, an API
// server stand-in for list/watch, and a logger whose lines a test can read.
import { pino } from 'pino';
import type { Logger } from 'pino';
import type { Clock } from '../../src/cluster/clock.js';
import type { ListPage, ListerWatcher, WatchEvent, WatchHandle, WatchOptions } from '../../src/cluster/api/reflector.js';
import type { PolicyReport, PolicyReportStore } from '../../src/cluster/scan/reports.js';
import type { ClusterReader, ScanKind } from '../../src/cluster/scan/scanner.js';

/** Lets every pending promise callback and I/O callback run. */
export async function flush(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
}

export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: Timer[] = [];

  constructor(start = Date.UTC(2030, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      // Like systemClock: a sleep that ends leaves no listener on the signal (a long-lived
      // signal would gather one per sleep: Node's MaxListenersExceededWarning).
      const aborted = (): void => {
        this.#timers = this.#timers.filter((t) => t !== timer);
        resolve();
      };
      const woken = (): void => {
        signal?.removeEventListener('abort', aborted);
        resolve();
      };
      const timer: Timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, resolve: woken };
      this.#timers.push(timer);
      signal?.addEventListener('abort', aborted, { once: true });
    });
  }

  /** Sleepers still waiting. */
  get pending(): number {
    return this.#timers.length;
  }

  /** Moves time forward without waking anyone (as if the process had been busy). */
  jump(ms: number): void {
    this.#now += ms;
  }

  /** Moves time forward, waking sleepers in order and letting their work run before the next. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await flush();
    for (;;) {
      const due = this.#timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.#now = Math.max(this.#now, due.at);
      due.resolve();
      await flush();
    }
    this.#now = target;
    await flush();
  }
}

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export function captureLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  return { logger, lines };
}

export const WARN = 40;

interface OpenWatch {
  resourceVersion: string;
  /** What the watch asked of the API server (timeoutSeconds). */
  options: WatchOptions | undefined;
  onEvent: (event: WatchEvent) => void;
  onDone: (err?: unknown) => void;
  aborted: boolean;
  /** True when the client ended the watch while it was open (not the server, not a refusal). */
  abortedByClient?: boolean;
}

/**
 * One resource of a fake API server: objects with resourceVersions, lists that can be made to
 * fail, and the open watch, which a test feeds events to or breaks.
 */
export class FakeResource implements ListerWatcher {
  #rv = 100;
  readonly objects = new Map<string, Record<string, unknown>>();
  listCalls = 0;
  readonly watchCalls: OpenWatch[] = [];
  /** Errors the next list calls fail with, in order. */
  listFailures: unknown[] = [];
  /** Errors the next watch calls are refused with, in order (the stream never opens). */
  watchRefusals: unknown[] = [];

  /** Sets an object server-side, without telling any watch. */
  put(object: Record<string, unknown>): Record<string, unknown> {
    const meta: Record<string, unknown> = { ...(object.metadata as Record<string, unknown>), resourceVersion: String(++this.#rv) };
    const stored = { ...object, metadata: meta };
    this.objects.set(`${String(meta.namespace ?? '')}/${String(meta.name)}`, stored);
    return stored;
  }

  delete(namespace: string, name: string): Record<string, unknown> | undefined {
    const key = `${namespace}/${name}`;
    const old = this.objects.get(key);
    this.objects.delete(key);
    this.#rv++;
    return old;
  }

  get resourceVersion(): string {
    return String(this.#rv);
  }

  async list(): Promise<ListPage> {
    this.listCalls++;
    if (this.listFailures.length > 0) throw this.listFailures.shift();
    // Like the API server's list: items carry no kind or apiVersion.
    const items = [...this.objects.values()].map((o) => {
      const { kind: _kind, apiVersion: _apiVersion, ...rest } = structuredClone(o);
      return rest;
    });
    return { items, resourceVersion: String(this.#rv) };
  }

  async watch(
    resourceVersion: string,
    onEvent: (event: WatchEvent) => void,
    onDone: (err?: unknown) => void,
    options?: WatchOptions,
  ): Promise<WatchHandle> {
    const open: OpenWatch = { resourceVersion, options, onEvent, onDone, aborted: false };
    this.watchCalls.push(open);
    if (this.watchRefusals.length > 0) {
      open.aborted = true;
      onDone(this.watchRefusals.shift());
    }
    return {
      abort: () => {
        if (!open.aborted) open.abortedByClient = true;
        open.aborted = true;
      },
    };
  }

  /** The watch currently open, if any. */
  get openWatch(): OpenWatch | undefined {
    const last = this.watchCalls.at(-1);
    return last && !last.aborted ? last : undefined;
  }

  /** Sends an event to the open watch (ADDED/MODIFIED put the object server-side first). */
  emit(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: Record<string, unknown>): void {
    const meta = object.metadata as Record<string, unknown>;
    const sent = type === 'DELETED' ? (this.delete(String(meta.namespace ?? ''), String(meta.name)) ?? object) : this.put(object);
    const watch = this.openWatch;
    if (!watch) throw new Error('no open watch to send to');
    watch.onEvent({ type, object: structuredClone(sent) });
  }

  /** Sends a raw event (ERROR, BOOKMARK) to the open watch. */
  emitRaw(event: WatchEvent): void {
    const watch = this.openWatch;
    if (!watch) throw new Error('no open watch to send to');
    watch.onEvent(event);
  }

  /** Ends the open watch: cleanly without an error, or as a broken connection with one. */
  closeWatch(err?: unknown): void {
    const watch = this.openWatch;
    if (!watch) throw new Error('no open watch to close');
    watch.aborted = true;
    watch.onDone(err);
  }
}

/** One fake resource for each kind the webhook's ClusterCache watches. */
export function fakeClusterSources() {
  return {
    namespaces: new FakeResource(),
    poddisruptionbudgets: new FakeResource(),
    horizontalpodautoscalers: new FakeResource(),
    deployments: new FakeResource(),
    statefulsets: new FakeResource(),
    replicasets: new FakeResource(),
    replicationcontrollers: new FakeResource(),
    limitranges: new FakeResource(),
    networkpolicies: new FakeResource(),
  };
}

export function networkError(code = 'ECONNREFUSED'): Error {
  return Object.assign(new Error(`connect ${code} 10.0.0.1:443`), { code });
}

export function httpError(status: number, message = `status ${status}`): Error {
  return Object.assign(new Error(message), { statusCode: status });
}

/** PolicyReports on a fake API server; `crdInstalled = false` makes every call 404 as without the CRD. */
export class ReportServer implements PolicyReportStore {
  readonly reports = new Map<string, PolicyReport>();
  crdInstalled = true;
  #rv = 1;
  writes = 0;
  replaceFailures: unknown[] = [];

  #check(): void {
    if (!this.crdInstalled) throw Object.assign(new Error('the server could not find the requested resource'), { code: 404 });
  }

  async list(): Promise<PolicyReport[]> {
    this.#check();
    return [...this.reports.values()].map((r) => structuredClone(r));
  }

  async create(report: PolicyReport): Promise<void> {
    this.#check();
    const key = `${report.metadata.namespace}/${report.metadata.name}`;
    if (this.reports.has(key)) throw httpError(409, 'AlreadyExists');
    this.writes++;
    this.reports.set(key, { ...structuredClone(report), metadata: { ...report.metadata, resourceVersion: String(++this.#rv) } });
  }

  async replace(report: PolicyReport): Promise<void> {
    this.#check();
    if (this.replaceFailures.length > 0) throw this.replaceFailures.shift();
    const key = `${report.metadata.namespace}/${report.metadata.name}`;
    const current = this.reports.get(key);
    if (!current) throw httpError(404);
    if (current.metadata.resourceVersion !== report.metadata.resourceVersion) throw httpError(409, 'Conflict');
    this.writes++;
    this.reports.set(key, { ...structuredClone(report), metadata: { ...report.metadata, resourceVersion: String(++this.#rv) } });
  }

  async delete(namespace: string, name: string): Promise<void> {
    this.#check();
    this.writes++;
    if (!this.reports.delete(`${namespace}/${name}`)) throw httpError(404);
  }
}

/**
 * A ClusterReader over these objects (each with its kind), listing them as the API server does:
 * without kind, in one namespace when asked. `failing` names a plural whose list fails with `status`.
 */
export function listReader(objects: readonly Record<string, unknown>[], failing?: string, status = 500): ClusterReader {
  return {
    async list(kind: ScanKind, namespace?: string) {
      if (kind.plural === failing) throw httpError(status, 'failed');
      return objects
        .filter((o) => o.kind === kind.kind)
        .filter((o) => namespace === undefined || (o.metadata as { namespace?: string }).namespace === namespace)
        .map((o) => {
          const { kind: _kind, ...rest } = structuredClone(o);
          return rest;
        });
    },
  };
}
