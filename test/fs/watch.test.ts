// The one watch-and-poll behind certificate and config reloads, on a fake clock.
import t, { type Test } from 'tap';
import { SettledWatch } from '../../src/fs/watch.js';
import { FakeTimers } from '../helpers/timers.js';

/** A started watch over no directory, so only the poll drives it; counts its checks. */
function polled(t: Test, pollIntervalMs: number, debounceMs: number) {
  const timers = new FakeTimers();
  let checks = 0;
  const watch = new SettledWatch([], () => checks++, { pollIntervalMs, debounceMs, timers });
  watch.start();
  t.teardown(() => watch.close());
  return { timers, watch, checks: () => checks };
}

t.test('a poll faster than the debounce still checks, once per debounce', async (t) => {
  const { timers, checks } = polled(t, 50, 200);
  for (let elapsed = 0; elapsed < 1_000; elapsed += 50) timers.advance(50);
  // Ticks at 50, 300, 550 and 800 ms schedule the checks at 250, 500, 750 and 1000 ms; the
  // ticks while one waits leave it be.
  t.equal(checks(), 4, 'the ticks in between did not push the waiting check back');
});

t.test('a poll slower than the debounce checks once per tick', async (t) => {
  const { timers, checks } = polled(t, 1_000, 200);
  timers.advance(5_000);
  t.equal(checks(), 4, 'ticks at 1, 2, 3 and 4 s checked; the tick at 5 s waits its debounce');
  timers.advance(200);
  t.equal(checks(), 5);
});

t.test('nothing is checked after close', async (t) => {
  const { timers, watch, checks } = polled(t, 50, 200);
  timers.advance(100);
  watch.close();
  timers.advance(1_000);
  t.equal(checks(), 0);
  watch.start();
  timers.advance(1_000);
  t.equal(checks(), 0, 'a closed watch does not start again');
});
