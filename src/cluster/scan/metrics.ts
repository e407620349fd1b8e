import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { JudgedObject } from './scan-result.js';

export const VIOLATIONS_METRIC = 'practice_gate_violations';

/**
 * The cluster audit's metrics, registered in the server's registry. Only the leader scans, so
 * only the leader's violation gauges have samples; sum or max them across replicas.
 */
export class AuditMetrics {
  readonly #registry: Registry;
  readonly #violations: Gauge<'namespace' | 'policy' | 'action'>;
  readonly #scans: Counter<'result'>;
  readonly #lastSuccess: Gauge;
  readonly #duration: Gauge;
  readonly #leader: Gauge;

  constructor(registry: Registry) {
    this.#registry = registry;
    const registers = [registry];
    this.#violations = new Gauge({
      name: VIOLATIONS_METRIC,
      help: 'Objects in the cluster violating a policy at the last audit, by namespace, policy and configured action (exempt ones not counted).',
      labelNames: ['namespace', 'policy', 'action'],
      registers,
    });
    this.#scans = new Counter({
      name: 'practice_gate_audit_scans_total',
      help: 'Cluster audit scans, by result.',
      labelNames: ['result'],
      registers,
    });
    this.#lastSuccess = new Gauge({
      name: 'practice_gate_audit_last_success_timestamp_seconds',
      help: 'When the last cluster audit scan succeeded (Unix time).',
      registers,
    });
    this.#duration = new Gauge({
      name: 'practice_gate_audit_scan_duration_seconds',
      help: 'How long the last cluster audit scan took.',
      registers,
    });
    this.#leader = new Gauge({
      name: 'practice_gate_audit_leader',
      help: '1 while this replica holds the audit lease and runs the cluster audit.',
      registers,
    });
  }

  /** Replaces every violation sample with this scan's: fixed objects must not linger. */
  recordViolations(judged: readonly JudgedObject[]): void {
    const counts = new Map<string, { namespace: string; policy: string; action: string; n: number }>();
    for (const { evaluation } of judged) {
      const policies = new Map<string, string>();
      for (const f of evaluation.findings) if (!f.exempt) policies.set(f.policy, f.configuredAction);
      for (const [policy, action] of policies) {
        const key = `${evaluation.namespace}\0${policy}\0${action}`;
        const entry = counts.get(key) ?? { namespace: evaluation.namespace, policy, action, n: 0 };
        entry.n++;
        counts.set(key, entry);
      }
    }
    this.#violations.reset();
    for (const { namespace, policy, action, n } of counts.values()) this.#violations.set({ namespace, policy, action }, n);
  }

  recordScan(result: 'success' | 'failure', seconds: number, nowMs?: number): void {
    this.#scans.inc({ result });
    this.#duration.set(seconds);
    if (result === 'success' && nowMs !== undefined) this.#lastSuccess.set(nowMs / 1000);
  }

  setLeader(leading: boolean): void {
    this.#leader.set(leading ? 1 : 0);
    // A replica that stopped leading no longer knows the cluster's state.
    if (!leading) this.#violations.reset();
  }

  close(): void {
    for (const name of [
      VIOLATIONS_METRIC,
      'practice_gate_audit_scans_total',
      'practice_gate_audit_last_success_timestamp_seconds',
      'practice_gate_audit_scan_duration_seconds',
      'practice_gate_audit_leader',
    ]) {
      this.#registry.removeSingleMetric(name);
    }
  }
}
