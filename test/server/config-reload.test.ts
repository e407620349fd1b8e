// The --config file is watched: a valid change applies at once, an invalid one is logged and
// the running config stays.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import t from 'tap';
import { ConfigError } from '../../src/config/load.js';
import { startServer } from '../../src/server/run.js';
import { EVENT_LOOP_BODIES, TEST_REGISTRY, admissionReview, eventually, pod, postReview, testCertificates } from '../helpers/server.js';

const certs = testCertificates();
const dir = mkdtempSync(join(tmpdir(), 'pg-config-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, 'config.yaml');
const policies = (rootAction: string) => `policies:\n  run-as-non-root: ${rootAction}\n  test-image-tag: off\n  test-explodes: off\n`;
writeFileSync(file, policies('deny'));

const logs: Array<Record<string, unknown>> = [];
const logger = pino(
  { level: 'info' },
  new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  }),
);

const server = await startServer({
  largeBodies: EVENT_LOOP_BODIES,
  tls: { pems: certs.serving },
  port: 0,
  host: '127.0.0.1',
  registry: TEST_REGISTRY,
  configFile: file,
  configPollIntervalMs: 100,
  processMetrics: false,
  logger,
});
t.teardown(() => server.close());
const agent = new https.Agent({ keepAlive: true });
t.teardown(() => agent.destroy());
const judge = () => postReview(server.port, admissionReview(pod('api', 'shop', [{ name: 'app' }]), { uid: 'cfg' }), certs.ca.cert, agent);
const metric = async (result: string) => {
  const match = new RegExp(`practice_gate_config_reloads_total\\{result="${result}"\\} (\\d+)`).exec(
    await server.metrics.registry.metrics(),
  );
  return Number(match?.[1]);
};

t.test('the file given at start applies', async (t) => {
  t.match(await judge(), { allowed: false, status: { code: 403 } });
});

t.test('a valid change applies without a restart', async (t) => {
  writeFileSync(file, policies('warn'));
  await eventually(async () => (await judge()).allowed === true);
  t.match(await judge(), { allowed: true, warnings: [/\[run-as-non-root\]/] });
  t.equal(await metric('success'), 1);
  t.match(
    logs.find((l) => l.msg === 'config reloaded'),
    { file, policies: ['run-as-non-root=warn'] },
  );
});

t.test('an invalid change is logged with the reason and the running config stays', async (t) => {
  writeFileSync(file, `${policies('warn')}  no-such-policy: deny\n`);
  await eventually(async () => (await metric('failure')) === 1);
  const rejected = logs.find((l) => l.msg === 'config not reloaded; keeping the running config');
  t.match(rejected, { level: 50, file, error: /unknown policy "no-such-policy"/ });
  t.match(await judge(), { allowed: true, warnings: [/\[run-as-non-root\]/] }, 'still the last good config');
  writeFileSync(file, 'mode: [not, a, mode');
  await eventually(async () => (await metric('failure')) === 2);
  t.match(await judge(), { allowed: true }, 'a YAML error does not switch anything either');
});

t.test('a deleted file keeps the running config; a good file afterwards applies', async (t) => {
  rmSync(file);
  await eventually(async () => (await metric('failure')) === 3);
  t.match(logs.at(-1), { error: /^cannot read config .*: no such file or directory; keeping the running config$/ });
  writeFileSync(file, policies('deny'));
  await eventually(async () => (await judge()).allowed === false);
  t.equal(await metric('success'), 2);
});

t.test('an invalid file at start stops the server from starting', async (t) => {
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'policies:\n  run-as-non-root: maybe\n');
  await t.rejects(
    startServer({
      largeBodies: EVENT_LOOP_BODIES,
      tls: { pems: certs.serving },
      port: 0,
      host: '127.0.0.1',
      registry: TEST_REGISTRY,
      configFile: bad,
      processMetrics: false,
    }),
    ConfigError,
  );
});

t.test('an emptied or comment-only file keeps the running mode and exemptions, with an error logged', async (t) => {
  const judgeIn = (namespace: string) =>
    postReview(server.port, admissionReview(pod('api', namespace, [{ name: 'app' }]), { uid: `cfg-${namespace}` }), certs.ca.cert, agent);
  const exempting = `mode: audit\n${policies('deny')}exemptions:\n  - namespaces: [legacy]\n    policies: [run-as-non-root]\n    reason: root until the 2.0 image\n`;
  writeFileSync(file, exempting);
  await eventually(async () => (await metric('success')) === 3);
  const before = { shop: await judgeIn('shop'), legacy: await judgeIn('legacy') };
  t.match(before.shop, { allowed: true, warnings: [/\[run-as-non-root\]/] }, 'audit mode: the deny is a warning');
  t.same(before.legacy.auditAnnotations, { exempt: 'run-as-non-root: root until the 2.0 image' }, 'legacy is exempt');

  let failures = await metric('failure');
  for (const text of ['', '# exemptions moved to exemptions.yaml\n']) {
    writeFileSync(file, text);
    await eventually(async () => (await metric('failure')) === failures + 1);
    failures += 1;
    t.match(
      logs.at(-1),
      { level: 50, msg: 'config not reloaded; keeping the running config', file, error: /the file is empty/ },
      JSON.stringify(text),
    );
    t.same(await judgeIn('shop'), before.shop, 'still audit mode, not the default enforce');
    t.same(await judgeIn('legacy'), before.legacy, 'the exemption still applies');
  }
  t.equal(await metric('success'), 3, 'nothing was applied');
});

t.test('an empty file at start stops the server from starting', async (t) => {
  const empty = join(dir, 'empty.yaml');
  writeFileSync(empty, '# to be filled in\n');
  await t.rejects(
    startServer({
      largeBodies: EVENT_LOOP_BODIES,
      tls: { pems: certs.serving },
      port: 0,
      host: '127.0.0.1',
      registry: TEST_REGISTRY,
      configFile: empty,
      processMetrics: false,
    }),
    { name: 'ConfigError', message: /^invalid config .*empty\.yaml: the file is empty .*write \{\} to run every policy with its default$/ },
  );
});
