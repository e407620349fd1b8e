import type { Logger } from 'pino';
import { systemClock } from '../clock.js';
import type { Clock } from '../clock.js';
import { describeError, isConflict } from '../api/errors.js';

/** The fields of a coordination.k8s.io/v1 Lease spec that election uses; times in ms since the epoch. */
export interface LeaseRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: number;
  renewTime: number;
  leaseTransitions: number;
}

export interface StoredLease {
  resourceVersion: string;
  record: Partial<LeaseRecord>;
}

/**
 * One named Lease. `update` is a replace carrying the resourceVersion, so two candidates that
 * saw the same Lease cannot both win: the loser gets 409 Conflict (as does a `create` that loses).
 */
export interface LeaseStore {
  get(): Promise<StoredLease | undefined>;
  create(record: LeaseRecord): Promise<StoredLease>;
  update(resourceVersion: string, record: LeaseRecord): Promise<StoredLease>;
}

export interface LeaderElectionOptions {
  store: LeaseStore;
  /** Unique per replica: the pod name. */
  identity: string;
  logger: Logger;
  clock?: Clock;
  /** How long others wait, after the Lease last changed, before taking it over. */
  leaseDurationMs?: number;
  /** How long the leader keeps leading without a successful renewal. Must be below leaseDurationMs. */
  renewDeadlineMs?: number;
  /** Pause between attempts, to acquire or to renew. */
  retryPeriodMs?: number;
  /** Runs while leading; `signal` aborts the moment leadership may be lost. */
  onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  onStoppedLeading?: () => void;
}

export const LEASE_DURATION_MS = 15_000;
export const RENEW_DEADLINE_MS = 10_000;
export const RETRY_PERIOD_MS = 2_000;

type Attempt = 'held' | 'not-held';

/**
 * Lease-based leader election, as client-go does it (client-node has none). Expiry is judged on
 * the local clock from when this replica last saw the Lease change, never from the renewTime
 * written by another machine, so clock skew between nodes cannot shorten a lease. The leader
 * gives up once it has not renewed for renewDeadline, which is shorter than the leaseDuration
 * others wait: it stops working before anyone else can start.
 */
export class LeaderElector {
  readonly #o: Required<Omit<LeaderElectionOptions, 'onStoppedLeading'>> & Pick<LeaderElectionOptions, 'onStoppedLeading'>;
  readonly #log: Logger;
  #observedVersion: string | undefined;
  #observedAt = 0;
  #stored: StoredLease | undefined;
  #leading = false;
  #stop = new AbortController();
  #running: Promise<void> | undefined;

  constructor(options: LeaderElectionOptions) {
    this.#o = {
      clock: systemClock,
      leaseDurationMs: LEASE_DURATION_MS,
      renewDeadlineMs: RENEW_DEADLINE_MS,
      retryPeriodMs: RETRY_PERIOD_MS,
      ...options,
    };
    if (!(this.#o.renewDeadlineMs < this.#o.leaseDurationMs)) {
      throw new Error('leader election: the renew deadline must be shorter than the lease duration, or two leaders could overlap');
    }
    if (!(this.#o.retryPeriodMs < this.#o.renewDeadlineMs)) {
      throw new Error('leader election: the retry period must be shorter than the renew deadline, or the leader could never renew in time');
    }
    this.#log = options.logger.child({ component: 'leader-election', identity: options.identity });
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  start(): void {
    if (this.#running) return;
    this.#stop = new AbortController();
    this.#running = this.#run();
  }

  /** Stops; a leader hands the Lease back so that another replica need not wait for it to expire. */
  async close(): Promise<void> {
    this.#stop.abort();
    const running = this.#running;
    this.#running = undefined;
    await running;
  }

  async #run(): Promise<void> {
    const stop = this.#stop.signal;
    const { clock } = this.#o;
    while (!stop.aborted) {
      // As for renewals: the lease runs from when the request was sent, not from when it returned.
      // Others may see the write as soon as it is made; counting from the (possibly much later)
      // answer would keep this replica leading past the moment another may take over.
      const sentAt = clock.now();
      if ((await this.#bounded(this.#o.renewDeadlineMs, stop)) !== 'held') {
        await clock.sleep(this.#o.retryPeriodMs, stop);
        continue;
      }
      if (stop.aborted) {
        await this.#release();
        break;
      }
      await this.#lead(stop, sentAt);
    }
  }

  /** Leads, from a lease acquired by a request sent at `acquiredAt`, until a renewal misses the deadline or the elector stops. */
  async #lead(stop: AbortSignal, acquiredAt: number): Promise<void> {
    const { clock, renewDeadlineMs, retryPeriodMs } = this.#o;
    const leadership = new AbortController();
    let renewedAt = acquiredAt;
    this.#leading = true;
    this.#log.info({ event: 'leader-acquired' }, 'became leader');
    void Promise.resolve()
      .then(() => this.#o.onStartedLeading(leadership.signal))
      .catch((err: unknown) => this.#log.error({ event: 'leader-work-failed', err: describeError(err) }, 'leader work failed'));

    let reason = 'stopping';
    while (!stop.aborted) {
      const deadline = renewedAt + renewDeadlineMs;
      await clock.sleep(Math.min(retryPeriodMs, deadline - clock.now()), stop);
      if (stop.aborted) break;
      if (clock.now() >= deadline) {
        reason = 'renew deadline passed';
        break;
      }
      const sentAt = clock.now();
      // A renewal still pending at the deadline counts as failed: leadership cannot wait for it.
      const outcome = await this.#bounded(deadline - sentAt, stop);
      if (outcome === 'held') {
        renewedAt = sentAt;
      } else if (stop.aborted) {
        break;
      } else if (clock.now() >= deadline) {
        reason = outcome === 'timed-out' ? 'renewal did not finish before the renew deadline' : 'renew deadline passed';
        break;
      } else if (this.#heldByOther()) {
        reason = `lease taken by ${this.#stored?.record.holderIdentity ?? 'another replica'}`;
        break;
      }
    }
    leadership.abort();
    this.#leading = false;
    const level = stop.aborted ? 'info' : 'warn';
    this.#log[level]({ event: 'leader-lost', reason }, 'stopped leading');
    this.#o.onStoppedLeading?.();
    if (stop.aborted) await this.#release();
  }

  /** An attempt that gives up after `ms` or when stopping: a hung API call must not hang the elector. */
  async #bounded(ms: number, stop: AbortSignal): Promise<Attempt | 'timed-out'> {
    const timer = new AbortController();
    const onStop = (): void => timer.abort();
    stop.addEventListener('abort', onStop, { once: true });
    try {
      return await Promise.race([
        this.#attempt(),
        this.#o.clock.sleep(ms, timer.signal).then(() => (stop.aborted ? ('not-held' as const) : ('timed-out' as const))),
      ]);
    } finally {
      stop.removeEventListener('abort', onStop);
      timer.abort();
    }
  }

  #heldByOther(): boolean {
    const holder = this.#stored?.record.holderIdentity ?? '';
    return holder !== '' && holder !== this.#o.identity;
  }

  #observe(stored: StoredLease | undefined): void {
    this.#stored = stored;
    if (stored && stored.resourceVersion !== this.#observedVersion) {
      this.#observedVersion = stored.resourceVersion;
      this.#observedAt = this.#o.clock.now();
    }
  }

  /** One try to take or keep the Lease. Never throws: a failure is `not-held`, logged. */
  async #attempt(): Promise<Attempt> {
    const { store, identity, clock } = this.#o;
    const durationSeconds = Math.ceil(this.#o.leaseDurationMs / 1000);
    try {
      const now = clock.now();
      const current = await store.get();
      if (!current) {
        const record: LeaseRecord = {
          holderIdentity: identity,
          leaseDurationSeconds: durationSeconds,
          acquireTime: now,
          renewTime: now,
          leaseTransitions: 0,
        };
        this.#observe(await store.create(record));
        return 'held';
      }
      this.#observe(current);
      const old = current.record;
      const mine = old.holderIdentity === identity;
      if (!mine && this.#heldByOther()) {
        const heldForMs =
          old.leaseDurationSeconds && old.leaseDurationSeconds > 0 ? old.leaseDurationSeconds * 1000 : this.#o.leaseDurationMs;
        if (this.#observedAt + heldForMs > clock.now()) return 'not-held';
      }
      const record: LeaseRecord = {
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        acquireTime: mine && old.acquireTime !== undefined ? old.acquireTime : now,
        renewTime: now,
        leaseTransitions: (old.leaseTransitions ?? 0) + (mine ? 0 : 1),
      };
      this.#observe(await store.update(current.resourceVersion, record));
      if (!mine) this.#log.info({ event: 'lease-taken-over', from: old.holderIdentity || undefined }, 'took over the lease');
      return 'held';
    } catch (err) {
      // A conflict means another replica wrote first: the normal way to lose a race.
      const level = isConflict(err) || !this.#leading ? 'debug' : 'warn';
      this.#log[level]({ event: 'lease-attempt-failed', err: describeError(err) }, 'could not acquire or renew the lease');
      return 'not-held';
    }
  }

  /** Hands the Lease back (holder cleared) so the next leader starts at once. Best effort. */
  async #release(): Promise<void> {
    const stored = this.#stored;
    if (!stored || stored.record.holderIdentity !== this.#o.identity) return;
    const now = this.#o.clock.now();
    const released = this.#o.store.update(stored.resourceVersion, {
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: stored.record.leaseTransitions ?? 0,
    });
    released.catch(() => undefined); // a late failure after we stopped waiting is not worth a crash
    try {
      // Shutdown must not wait on an API server that does not answer.
      const outcome = await Promise.race([released, this.#o.clock.sleep(this.#o.retryPeriodMs).then(() => undefined)]);
      if (!outcome) throw new Error('no answer in time');
      this.#observe(outcome);
      this.#log.info({ event: 'lease-released' }, 'released the lease');
    } catch (err) {
      this.#log.warn(
        { event: 'lease-release-failed', err: describeError(err) },
        'could not release the lease: others take over when it expires',
      );
    }
  }
}
