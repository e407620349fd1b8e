// Expired exemptions are never silently ignored by serve: a log line at load, reload and daily,
// and a gauge with every expiry.
import { Writable } from 'node:stream';
import pino from 'pino';
import { Registry } from 'prom-client';
import t from 'tap';
import { POLICIES } from '../../policies/index.js';
import { parseConfig } from '../../src/config/load.js';
import { compileConfig, parseInstant } from '../../src/engine/index.js';
import { exemptionExpiryGauge, logExemptions } from '../../src/server/exemption-report.js';

const config = compileConfig(
  parseConfig(
    {
      exemptions: [
        { namespaces: ['monitoring'], policies: ['run-as-non-root'], reason: 'vendor image', expires: '2027-01-05' },
        { namespaces: ['batch'], reason: 'migrating', expires: '2027-01-15' },
        { kinds: ['CronJob'], reason: 'LimitRange' },
      ],
    },
    'gate.yaml',
  ),
  POLICIES,
);

t.test('one log line per expired or expiring exemption', async (t) => {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write: (chunk, _enc, done) => {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  logExemptions(pino({}, sink), config, parseInstant('2027-01-10')!);
  await new Promise((resolve) => setImmediate(resolve));
  t.match(lines, [
    {
      level: 40,
      exemption: 0,
      scope: 'namespaces=monitoring policies=run-as-non-root',
      reason: 'vendor image',
      expires: '2027-01-05',
      msg: /^exemption expired: it no longer exempts anything/,
    },
    { level: 30, exemption: 1, expires: '2027-01-15', msg: 'exemption expires soon' },
  ]);
  t.equal(lines.length, 2, 'nothing about the exemption without an expiry');
});

t.test('the gauge carries each expiry in Unix seconds', async (t) => {
  const registry = new Registry();
  exemptionExpiryGauge(registry, () => config);
  const text = await registry.metrics();
  t.match(
    text,
    'practice_gate_exemption_expiry_timestamp_seconds{exemption="0",scope="namespaces=monitoring policies=run-as-non-root"} 1799107200',
  );
  t.match(text, 'practice_gate_exemption_expiry_timestamp_seconds{exemption="1",scope="namespaces=batch policies=all"} 1799971200');
  t.notMatch(text, 'exemption="2"');
});
