// The body budget (src/server/body-budget.ts) keeps the memory of reviews in progress bounded:
// large reviews sent at once are judged one after another instead of together (four 16 MiB ones
// at once had the kernel kill the process under the chart's memory limit), a review that cannot
// get its turn in time is refused unjudged in enforce mode, never admitted, and small reviews
// never wait behind large ones.
import type { Logger } from 'pino';
import t from 'tap';
import type { Test } from 'tap';
import { POLICIES } from '../../policies/index.js';
import { DEFAULT_CONFIG, compileConfig } from '../../src/engine/index.js';
import type { Mode } from '../../src/engine/index.js';
import { buildApp } from '../../src/server/app.js';
import type { GateApp } from '../../src/server/app.js';
import { BodyBudget } from '../../src/server/body-budget.js';
import type { BodyBudgetOptions } from '../../src/server/body-budget.js';
import { GateState } from '../../src/server/state.js';
import { logCapture } from '../helpers/log-capture.js';
import { admissionReview, deployment } from '../helpers/server.js';

const settle = () => new Promise((resolve) => setImmediate(resolve));

/** What each ticket's turn said so far: 'go', a refusal, or nothing yet. */
function watch(turn: Promise<string | undefined>): { said?: string } {
  const seen: { said?: string } = {};
  void turn.then((refusal) => {
    seen.said = refusal ?? 'go';
  });
  return seen;
}

const budget = (options: Partial<BodyBudgetOptions> = {}) =>
  new BodyBudget({ bytes: 100, smallBytes: 10, waitMs: 60_000, maxWaiting: 10, ...options });

t.test('bodies start at once while they fit; the next starts when an earlier one is answered', async (t) => {
  const b = budget();
  const first = b.take(60);
  const second = b.take(40);
  const third = watch(b.take(30).turn);
  t.equal(await first.turn, undefined);
  t.equal(await second.turn, undefined);
  await settle();
  t.equal(third.said, undefined, 'the third waits: 100 bytes are in progress');
  first.release();
  await settle();
  t.equal(third.said, 'go');
  t.same(b.stats, { held: 70, peak: 100, waited: 1, refused: 0 });
});

t.test('waiting bodies start in the order they came: a small one does not pass a large one before it', async (t) => {
  const b = budget();
  const running = b.take(90);
  const large = watch(b.take(80).turn);
  const small = watch(b.take(5).turn);
  await settle();
  t.same([large.said, small.said], [undefined, undefined], '5 bytes would fit, but the 80 came first');
  running.release();
  await settle();
  t.same([large.said, small.said], ['go', 'go']);
});

t.test('a body larger than the whole budget goes alone, and only when nothing else is in progress', async (t) => {
  const b = budget();
  const small = b.take(20);
  const huge = watch(b.take(1_000).turn);
  await settle();
  t.equal(huge.said, undefined);
  small.release();
  await settle();
  t.equal(huge.said, 'go');
  t.equal(b.stats.held, 100, 'it holds the whole budget, not more');
});

t.test('a body that waits too long is refused and leaves its place; past the queue bound a body is refused at once', async (t) => {
  const b = budget({ waitMs: 20, maxWaiting: 1 });
  const running = b.take(100);
  const late = b.take(50);
  const extra = await b.take(50).turn;
  t.match(extra, /1 other large AdmissionReviews were already waiting/);
  t.match(await late.turn, /busy with other large AdmissionReviews \(0\.0 MiB at once\) for 20 ms/);
  running.release();
  late.release();
  t.same(b.stats, { held: 0, peak: 100, waited: 1, refused: 2 });
  t.equal(await b.take(100).turn, undefined, 'the refused ones hold nothing');
});

t.test('a place is given back once, whoever calls release again; a body that leaves while waiting takes none', async (t) => {
  const b = budget();
  const running = b.take(100);
  const leaving = b.take(50);
  const after = watch(b.take(50).turn);
  leaving.release();
  t.equal(await leaving.turn, 'the client went away');
  running.release();
  running.release();
  await settle();
  t.equal(after.said, 'go');
  t.equal(b.stats.held, 50, 'released twice, given back once');
});

t.test('closing refuses the waiting bodies and any new one; those in progress finish', async (t) => {
  const b = budget();
  const running = b.take(100);
  const waiting = b.take(10);
  b.close();
  t.equal(await waiting.turn, 'the server is shutting down');
  t.equal(await b.take(10).turn, 'the server is shutting down');
  running.release();
  t.equal(b.stats.held, 0);
});

t.test('only bodies of smallBytes or more, or of unknown size, count', async (t) => {
  const b = budget();
  t.notOk(b.counts(9));
  t.ok(b.counts(10));
  t.ok(b.counts(undefined));
});

// Through the app: a review of a Deployment whose `containers` containers all may run as root.
const review = (uid: string, containers: number): string =>
  JSON.stringify(
    admissionReview(
      deployment(
        `wide-${uid}`,
        'shop',
        Array.from({ length: containers }, (_, i) => ({ name: `c${i}` })),
      ),
      { uid },
    ),
  );

const LARGE = review('sized', 400).length;

function gate(t: Test, options: Partial<BodyBudgetOptions>, mode: Mode = 'enforce', logger?: Logger): GateApp {
  const state = new GateState(compileConfig({ ...DEFAULT_CONFIG, mode }, POLICIES));
  const app = buildApp({
    state,
    onError: 'allow',
    bodyBudget: { smallBytes: 4096, waitMs: 60_000, ...options },
    ...(logger ? { logger } : {}),
  });
  t.teardown(() => app.close());
  return app;
}

const post = (app: GateApp, payload: string) =>
  app.inject({ method: 'POST', url: '/validate', headers: { 'content-type': 'application/json' }, payload });

t.test('large reviews sent at once are all judged, never more of them in progress than the budget holds', async (t) => {
  const { lines, logger } = logCapture();
  const app = gate(t, { bytes: 2 * LARGE }, 'enforce', logger);
  const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => post(app, review(`r${i}`, 400))));
  for (const [i, res] of answers.entries()) {
    const response = res.json().response;
    t.equal(response.uid, `r${i}`);
    t.equal(response.allowed, false);
    t.match(response.status.message, /Deployment shop\/wide-r\d violates \d+ policies/, 'judged, not refused for want of memory');
  }
  t.ok(app.bodyBudget.stats.peak <= 2 * LARGE, `at most two bodies' bytes in progress (peak ${app.bodyBudget.stats.peak})`);
  t.ok(app.bodyBudget.stats.waited >= 4, 'the others waited their turn');
  t.equal(app.bodyBudget.stats.held, 0, 'every place was given back');
  const logged = lines.filter((line) => line.msg === 'admission review');
  t.equal(logged.length, 6);
  t.equal(
    logged.filter((line) => typeof line.waitedMs === 'number').length,
    app.bodyBudget.stats.waited,
    'the log line of each review that waited says for how long',
  );
});

t.test('a review that gets no turn in time is refused unjudged in enforce mode, by its uid; small reviews go on meanwhile', async (t) => {
  const app = gate(t, { bytes: LARGE, waitMs: 30 });
  await app.ready();
  const busy = app.bodyBudget.take(LARGE);
  t.equal(await busy.turn, undefined);

  const refused = (await post(app, review('late', 400))).json().response;
  t.equal(refused.uid, 'late');
  t.equal(refused.allowed, false);
  t.match(refused.status.message, /Deployment shop\/wide-late was refused unchecked: .*busy with other large AdmissionReviews/);
  t.match(refused.auditAnnotations, { 'body-not-parsed': /busy with other large AdmissionReviews/ });
  t.match((await app.inject('/metrics')).body, 'practice_gate_errors_total{reason="busy"} 1', 'counted apart from judging failures');

  const small = (await post(app, review('small', 1))).json().response;
  t.match(small.status.message, /Deployment shop\/wide-small violates \d+ policies/, 'a small review is judged while the budget is full');

  busy.release();
  const judged = (await post(app, review('later', 400))).json().response;
  t.match(judged.status.message, /Deployment shop\/wide-later violates \d+ policies/, 'judged once there is room');
});

t.test('in audit mode a review that gets no turn is admitted with a warning that says it was not checked', async (t) => {
  const app = gate(t, { bytes: LARGE, waitMs: 30 }, 'audit');
  await app.ready();
  const busy = app.bodyBudget.take(LARGE);
  t.teardown(busy.release);
  const response = (await post(app, review('audited', 400))).json().response;
  t.equal(response.allowed, true);
  t.match(response.warnings.join('\n'), /would be refused: .*busy with other large AdmissionReviews.*so it was not checked/);
});
