// Expired exemptions stop applying; this makes sure an admin hears of it. One log line per
// expired or soon-expiring exemption when the config is loaded and once a day, and a gauge with
// every exemption's expiry time that alerts can watch (`time() > ...`).
import type { Logger } from 'pino';
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import { exemptionScope, exemptionStatuses } from '../engine/index.js';
import type { EngineConfig } from '../engine/index.js';

const DAY_MS = 86_400_000;

export function exemptionExpiryGauge(registry: Registry, config: () => EngineConfig): Gauge<'exemption' | 'scope'> {
  const gauge: Gauge<'exemption' | 'scope'> = new Gauge({
    name: 'practice_gate_exemption_expiry_timestamp_seconds',
    help: 'When each config exemption stops applying (Unix seconds), by its position in the config and what it matches; exemptions without expires are not listed.',
    labelNames: ['exemption', 'scope'] as const,
    registers: [registry],
    collect: () => {
      // Read from the running config at each scrape: a reload needs no bookkeeping here.
      gauge.reset();
      config().exemptions.forEach((e, i) => {
        if (e.expires && Number.isFinite(e.expires.at))
          gauge.set({ exemption: String(i), scope: exemptionScope(e.written) }, e.expires.at / 1000);
      });
    },
  });
  return gauge;
}

/** Logs every expired and soon-expiring exemption of this config at this time. */
export function logExemptions(log: Logger, config: EngineConfig, now: number): void {
  for (const s of exemptionStatuses(config, now)) {
    if (s.state === 'active') continue;
    const fields = { exemption: s.index, scope: s.scope, reason: s.exemption.reason, expires: s.expires?.text };
    if (s.state === 'expired') log.warn(fields, 'exemption expired: it no longer exempts anything; remove it or extend expires');
    else log.info(fields, 'exemption expires soon');
  }
}

/** Logs now and every day after; returns the function that stops it. */
export function reportExemptionsDaily(log: Logger, config: () => EngineConfig, now: () => number): () => void {
  logExemptions(log, config(), now());
  const timer = setInterval(() => logExemptions(log, config(), now()), DAY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
