import t from 'tap';
import { LeaderElector } from '../../src/cluster/leader/leader.js';
import type { LeaseRecord, LeaseStore, StoredLease } from '../../src/cluster/leader/leader.js';
import { captureLogger, FakeClock, flush, httpError, networkError } from '../helpers/cluster.js';

/** One Lease on a fake API server, with optimistic concurrency like the real one. */
class LeaseServer {
  lease: StoredLease | undefined;
  #rv = 1;
  writes = 0;

  constructor(readonly clock?: FakeClock) {}

  store(client: { partitioned: boolean; hang: boolean; slowAnswerMs?: number }): LeaseStore {
    const reach = async () => {
      if (client.hang) return new Promise<never>(() => {});
      if (client.partitioned) throw networkError('ETIMEDOUT');
    };
    // The write is made at once (others see it), but its answer takes this long to come back.
    const answer = async <T>(value: T): Promise<T> => {
      if (client.slowAnswerMs && this.clock) await this.clock.sleep(client.slowAnswerMs);
      return value;
    };
    return {
      get: async () => {
        await reach();
        return this.lease && structuredClone(this.lease);
      },
      create: async (record: LeaseRecord) => {
        await reach();
        if (this.lease) throw httpError(409, 'AlreadyExists');
        return answer(this.#write(record));
      },
      update: async (resourceVersion: string, record: LeaseRecord) => {
        await reach();
        if (!this.lease) throw httpError(404);
        if (this.lease.resourceVersion !== resourceVersion) throw httpError(409, 'Conflict');
        return answer(this.#write(record));
      },
    };
  }

  #write(record: LeaseRecord): StoredLease {
    this.writes++;
    this.lease = { resourceVersion: String(++this.#rv), record: { ...record } };
    return structuredClone(this.lease);
  }
}

interface Candidate {
  elector: LeaderElector;
  client: { partitioned: boolean; hang: boolean; slowAnswerMs?: number };
  started: number[];
  stopped: number[];
  signals: AbortSignal[];
}

function candidate(server: LeaseServer, clock: FakeClock, identity: string): Candidate {
  const client: Candidate['client'] = { partitioned: false, hang: false };
  const c: Candidate = { client, started: [], stopped: [], signals: [], elector: undefined as unknown as LeaderElector };
  c.elector = new LeaderElector({
    store: server.store(client),
    identity,
    logger: captureLogger().logger,
    clock,
    onStartedLeading: (signal) => {
      c.started.push(clock.now());
      c.signals.push(signal);
      signal.addEventListener('abort', () => c.stopped.push(clock.now()));
    },
  });
  return c;
}

t.test('acquires a missing lease and renews it every retry period', async (t) => {
  const clock = new FakeClock();
  const server = new LeaseServer();
  const a = candidate(server, clock, 'pod-a');
  a.elector.start();
  await flush();
  t.equal(a.elector.isLeader, true);
  t.same(a.started, [clock.now()]);
  t.match(server.lease?.record, { holderIdentity: 'pod-a', leaseDurationSeconds: 15, leaseTransitions: 0 });

  const firstRenew = server.lease?.record.renewTime ?? 0;
  await clock.advance(2000);
  t.equal(server.lease?.record.renewTime, firstRenew + 2000, 'renewed after the retry period');
  await clock.advance(60_000);
  t.equal(a.elector.isLeader, true);
  t.equal(a.stopped.length, 0);
  t.equal(server.lease?.record.acquireTime, firstRenew, 'acquireTime stays while the same holder renews');
  await a.elector.close();
});

t.test('a leader that cannot renew stops before anyone else can take over', async (t) => {
  const clock = new FakeClock();
  const server = new LeaseServer();
  const a = candidate(server, clock, 'pod-a');
  const b = candidate(server, clock, 'pod-b');
  a.elector.start();
  await flush();
  b.elector.start();
  await clock.advance(10_000);
  t.equal(a.elector.isLeader, true);
  t.equal(b.elector.isLeader, false, 'the second replica waits');

  const lastRenew = server.lease?.record.renewTime ?? 0;
  a.client.partitioned = true;
  await clock.advance(30_000);

  const aStopped = a.stopped[0];
  const bStarted = b.started[0];
  if (aStopped === undefined || bStarted === undefined) throw new Error('expected a hand-over');
  t.ok(a.signals[0]?.aborted, 'the old leader was told to stop');
  t.ok(aStopped <= lastRenew + 10_000, 'the old leader stops within the renew deadline');
  t.ok(bStarted >= lastRenew + 15_000, 'the new leader starts only after the lease duration');
  t.ok(aStopped < bStarted, 'never two leaders at once');
  t.match(server.lease?.record, { holderIdentity: 'pod-b', leaseTransitions: 1 });
  await a.elector.close();
  await b.elector.close();
});

t.test('a slow acquisition counts from when it was sent: the leader stops before another can take over', async (t) => {
  const clock = new FakeClock();
  const server = new LeaseServer(clock);
  const a = candidate(server, clock, 'pod-a');
  const b = candidate(server, clock, 'pod-b');
  // a's create reaches the API server at once, but the answer takes 8 s (a loaded API server).
  a.client.slowAnswerMs = 8000;
  const sentAt = clock.now();
  a.elector.start();
  await flush();
  t.equal(server.lease?.record.holderIdentity, 'pod-a', 'the Lease is written at once');
  b.elector.start(); // sees a's Lease now, so may take over 15 s from now
  await clock.advance(8000);
  t.equal(a.elector.isLeader, true, 'leading once the answer arrives');
  a.client.partitioned = true; // and then no renewal gets through

  await clock.advance(30_000);
  const aStopped = a.stopped[0];
  const bStarted = b.started[0];
  if (aStopped === undefined || bStarted === undefined) throw new Error('expected a hand-over');
  t.ok(aStopped <= sentAt + 10_000, `stopped ${aStopped - sentAt} ms after the acquisition was sent: within the renew deadline of it`);
  t.ok(bStarted >= sentAt + 15_000, 'the other replica waits the lease duration from when it saw the Lease');
  t.ok(aStopped < bStarted, 'never two leaders at once');
  await a.elector.close();
  await b.elector.close();
});

t.test('a renewal that hangs counts as failed at the renew deadline', async (t) => {
  const clock = new FakeClock();
  const server = new LeaseServer();
  const a = candidate(server, clock, 'pod-a');
  a.elector.start();
  await flush();
  const lastRenew = server.lease?.record.renewTime ?? 0;
  a.client.hang = true;
  await clock.advance(12_000);
  t.equal(a.elector.isLeader, false);
  t.same(a.stopped, [lastRenew + 10_000], 'stopped exactly at the deadline, not when the call returns');
  await a.elector.close();
});

t.test('a lease left by a dead holder is taken over once it has not changed for the lease duration', async (t) => {
  const clock = new FakeClock();
  const server = new LeaseServer();
  // The holder's renewTime is far in the future (its clock is wrong): only our own observation counts.
  server.lease = {
    resourceVersion: '7',
    record: { holderIdentity: 'pod-dead', leaseDurationSeconds: 15, renewTime: clock.now() + 3_600_000, leaseTransitions: 4 },
  };
  const b = candidate(server, clock, 'pod-b');
  b.elector.start();
  await clock.advance(14_000);
  t.equal(b.elector.isLeader, false, 'not before the lease duration has passed since it was first seen');
  await clock.advance(2_000);
  t.equal(b.elector.isLeader, true);
  t.match(server.lease?.record, { holderIdentity: 'pod-b', leaseTransitions: 5 });
  await b.elector.close();
});

t.test('two candidates racing for a missing lease: exactly one wins, the other gets a conflict', async (t) => {
  const clock = new FakeClock();
  const server = new LeaseServer();
  const a = candidate(server, clock, 'pod-a');
  const b = candidate(server, clock, 'pod-b');
  a.elector.start();
  b.elector.start();
  await flush();
  t.equal([a, b].filter((c) => c.elector.isLeader).length, 1);
  await clock.advance(20_000);
  t.equal([a, b].filter((c) => c.elector.isLeader).length, 1, 'still one after renewals');
  t.equal(server.lease?.record.leaseTransitions, 0);
  await a.elector.close();
  await b.elector.close();
});

t.test('a leader that finds the lease taken by another stops at once', async (t) => {
  const clock = new FakeClock();
  const server = new LeaseServer();
  const a = candidate(server, clock, 'pod-a');
  a.elector.start();
  await flush();
  // Someone else wrote the Lease (e.g. after a partition ended late).
  const taken = server.store({ partitioned: false, hang: false });
  const current = server.lease;
  if (!current) throw new Error('no lease');
  await taken.update(current.resourceVersion, {
    holderIdentity: 'pod-x',
    leaseDurationSeconds: 15,
    acquireTime: clock.now(),
    renewTime: clock.now(),
    leaseTransitions: 1,
  });
  await clock.advance(2000);
  t.equal(a.elector.isLeader, false);
  t.equal(a.stopped.length, 1);
  t.equal(server.lease?.record.holderIdentity, 'pod-x', 'the other holder keeps it');
  await a.elector.close();
});

t.test('closing hands the lease over at once instead of letting it expire', async (t) => {
  const clock = new FakeClock();
  const server = new LeaseServer();
  const a = candidate(server, clock, 'pod-a');
  const b = candidate(server, clock, 'pod-b');
  a.elector.start();
  await flush();
  b.elector.start();
  await clock.advance(4000);
  await a.elector.close();
  t.equal(server.lease?.record.holderIdentity, '', 'released');
  t.equal(a.stopped.length, 1);
  await clock.advance(2000);
  t.equal(b.elector.isLeader, true, 'taken at the next retry, not 15s later');
  await b.elector.close();
});

t.test('rejects timings that would let two leaders overlap', async (t) => {
  const server = new LeaseServer();
  t.throws(
    () =>
      new LeaderElector({
        store: server.store({ partitioned: false, hang: false }),
        identity: 'x',
        logger: captureLogger().logger,
        leaseDurationMs: 10_000,
        renewDeadlineMs: 10_000,
        onStartedLeading: () => {},
      }),
    /renew deadline must be shorter than the lease duration/,
  );
});
