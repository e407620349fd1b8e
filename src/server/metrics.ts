// Prometheus metrics of one running gate. Each GateMetrics has its own Registry, never the
// global one, so tests can build many apps and a TLS app and a probe app can share one set.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Decision } from './review.js';
import type { Outcome } from './messages.js';

export type ErrorReason = 'invalid_body' | 'body_too_large' | 'unsupported_media_type' | 'review_failed' | 'busy' | 'internal';

export type ReloadResult = 'success' | 'failure';

export class GateMetrics {
  readonly registry = new Registry();

  readonly requests: Counter<'kind' | 'operation' | 'decision'> = new Counter({
    name: 'practice_gate_admission_requests_total',
    help: 'AdmissionReviews answered, by kind, operation and decision (allow, warn, deny, error).',
    labelNames: ['kind', 'operation', 'decision'] as const,
    registers: [this.registry],
  });

  readonly findings: Counter<'policy' | 'action'> = new Counter({
    name: 'practice_gate_findings_total',
    help: 'Findings by policy and what the webhook did with them (deny, warn, audit, exempt).',
    labelNames: ['policy', 'action'] as const,
    registers: [this.registry],
  });

  readonly existingFindings: Counter<'policy' | 'action'> = new Counter({
    name: 'practice_gate_existing_findings_total',
    help: 'Findings of UPDATEs that the old object already had (also counted in practice_gate_findings_total), by policy and what the webhook did.',
    labelNames: ['policy', 'action'] as const,
    registers: [this.registry],
  });

  readonly admissionDuration = new Histogram({
    name: 'practice_gate_admission_duration_seconds',
    help: 'Time from receiving an AdmissionReview request to sending the answer.',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });

  readonly engineDuration = new Histogram({
    name: 'practice_gate_engine_duration_seconds',
    help: 'Time the policy engine spent judging one object.',
    buckets: [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25],
    registers: [this.registry],
  });

  readonly tlsReloads = new Counter({
    name: 'practice_gate_tls_reloads_total',
    help: 'Serving certificate reloads from disk, by result.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly configReloads = new Counter({
    name: 'practice_gate_config_reloads_total',
    help: 'Config file reloads, by result (a failure keeps the previous config).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly errors = new Counter({
    name: 'practice_gate_errors_total',
    help: 'Requests that could not be answered normally, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly ruleErrors = new Counter({
    name: 'practice_gate_rule_errors_total',
    help: 'Custom rules that could not judge an object (answered per --on-error), by rule and reason: over_budget or failed.',
    labelNames: ['rule', 'reason'] as const,
    registers: [this.registry],
  });

  // For the chart's alerts (charts/practice-gate/templates/prometheusrule.yaml): a replica
  // that is up but not ready, and a serving certificate that nears its end.
  #isReady: () => boolean = () => false;
  readonly ready: Gauge = new Gauge({
    name: 'practice_gate_ready',
    help: '1 while /readyz answers ready (certificates loaded, caches synced, not shutting down), else 0.',
    registers: [this.registry],
    collect: (): void => this.ready.set(this.#isReady() ? 1 : 0),
  });

  readonly certificateExpiry = new Gauge({
    name: 'practice_gate_tls_certificate_expiry_timestamp_seconds',
    help: 'When the serving certificate in use expires (Unix time).',
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    // Series that exist from the start read as 0 instead of missing in dashboards.
    for (const result of ['success', 'failure'] as const) {
      this.tlsReloads.inc({ result }, 0);
      this.configReloads.inc({ result }, 0);
    }
  }

  /** What practice_gate_ready reports, read at each scrape. */
  trackReadiness(isReady: () => boolean): void {
    this.#isReady = isReady;
  }

  recordCertificate(notAfter: Date): void {
    this.certificateExpiry.set(notAfter.getTime() / 1000);
  }

  recordReview(kind: string, operation: string, decision: Decision, seconds: number): void {
    this.requests.inc({ kind, operation, decision });
    this.admissionDuration.observe(seconds);
  }

  recordRuleError(rule: string, overBudget: boolean): void {
    this.ruleErrors.inc({ rule, reason: overBudget ? 'over_budget' : 'failed' });
  }

  recordFinding(policy: string, action: Outcome, count = 1): void {
    // A count of 0 leaves the series absent, as for a policy that never found anything.
    if (count > 0) this.findings.inc({ policy, action }, count);
  }

  recordError(reason: ErrorReason): void {
    this.errors.inc({ reason });
  }
}
