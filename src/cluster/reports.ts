import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import type { EngineConfig } from '../engine/config.js';
import type { Finding, FindingAction } from '../engine/evaluate.js';
import { isRecord } from '../engine/k8s.js';
import { describeError, isConflict, isNotFound } from './errors.js';
import type { JudgedObject, ScanResult } from './scanner.js';

export const REPORT_GROUP = 'wgpolicyk8s.io';
export const REPORT_VERSION = 'v1alpha2';
export const REPORT_PLURAL = 'policyreports';
export const REPORT_NAME = 'practice-gate';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'practice-gate';
export const REPORT_SOURCE = 'practice-gate';

export type ReportResultValue = 'pass' | 'fail' | 'warn' | 'error' | 'skip';
export type ReportSeverity = 'critical' | 'high' | 'medium' | 'low' | 'info';

export interface ReportResource {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  uid?: string;
}

export interface ReportResult {
  source: string;
  policy: string;
  rule: string;
  result: ReportResultValue;
  severity: ReportSeverity;
  scored: boolean;
  message: string;
  timestamp: { seconds: number; nanos: number };
  resources: ReportResource[];
  properties: Record<string, string>;
}

export interface ReportSummary {
  pass: number;
  fail: number;
  warn: number;
  error: number;
  skip: number;
}

/** A wgpolicyk8s.io/v1alpha2 PolicyReport, as practice-gate writes it. */
export interface PolicyReport {
  apiVersion: string;
  kind: 'PolicyReport';
  metadata: { name: string; namespace: string; labels: Record<string, string>; resourceVersion?: string };
  summary: ReportSummary;
  results: ReportResult[];
}

/** practice-gate's PolicyReports on the API server. `list` fails with 404 when the CRD is not installed. */
export interface PolicyReportStore {
  list(): Promise<PolicyReport[]>;
  create(report: PolicyReport): Promise<void>;
  /** Replaces, carrying metadata.resourceVersion: 409 when it changed since it was read. */
  replace(report: PolicyReport): Promise<void>;
  delete(namespace: string, name: string): Promise<void>;
}

const RESULT: Record<FindingAction, ReportResultValue> = { deny: 'fail', warn: 'warn', audit: 'warn' };
const SEVERITY: Record<FindingAction, ReportSeverity> = { deny: 'high', warn: 'medium', audit: 'low' };
const MAX_MESSAGE = 300;
const MAX_PROPERTY = 500;

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function resultKey(r: Pick<ReportResult, 'policy' | 'resources'>): string {
  const res = r.resources[0];
  return `${r.policy}|${res?.uid ?? ''}|${res?.kind ?? ''}|${res?.name ?? ''}`;
}

/**
 * One result per object and policy, whatever the number of containers: a report stays
 * bounded by objects x policies. The action is the configured one, as if every namespace were in
 * audit mode, since the audit blocks nothing: deny -> fail/high, warn -> warn/medium,
 * audit -> warn/low (audit means "record it", and the report is that record); exempt -> skip.
 */
function resultFor(judged: JudgedObject, policy: string, findings: readonly Finding[], timestamp: ReportResult['timestamp']): ReportResult {
  const first = findings[0] as Finding;
  const { evaluation } = judged;
  const containers = [...new Set(findings.map((f) => f.container).filter((c): c is string => c !== undefined))];
  const more = findings.length > 1 ? ` (and ${findings.length - 1} more${containers.length > 1 ? `; containers ${containers.join(', ')}` : ''})` : '';
  const properties: Record<string, string> = {
    action: first.configuredAction,
    path: clip(findings.map((f) => f.path).join('; '), MAX_PROPERTY),
  };
  if (containers.length > 0) properties.container = clip(containers.join(', '), MAX_PROPERTY);
  if (first.exempt) properties.exemptReason = clip(first.exemptReason ?? '', MAX_PROPERTY);
  return {
    source: REPORT_SOURCE,
    policy,
    rule: policy,
    result: first.exempt ? 'skip' : RESULT[first.configuredAction],
    severity: SEVERITY[first.configuredAction],
    scored: true,
    message: clip(`${first.message}${more}`, MAX_MESSAGE),
    timestamp,
    resources: [
      {
        apiVersion: evaluation.apiVersion,
        kind: evaluation.kind,
        name: evaluation.name,
        namespace: evaluation.namespace,
        ...(judged.uid !== undefined ? { uid: judged.uid } : {}),
      },
    ],
    properties,
  };
}

/**
 * The report for one namespace. A result keeps the timestamp of the same result in `previous`
 * (when it was first seen), so an unchanged namespace yields an identical report and no write.
 * Passes are counted in the summary but not listed, to keep the object small.
 */
export function buildPolicyReport(
  namespace: string,
  judged: readonly JudgedObject[],
  config: EngineConfig,
  now: number,
  previous?: PolicyReport,
): PolicyReport {
  const seen = new Map<string, ReportResult>();
  for (const r of previous?.results ?? []) seen.set(resultKey(r), r);
  const stamp = { seconds: Math.floor(now / 1000), nanos: 0 };
  const summary: ReportSummary = { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 };
  const results: ReportResult[] = [];

  for (const item of judged) {
    const byPolicy = new Map<string, Finding[]>();
    for (const f of item.evaluation.findings) {
      const list = byPolicy.get(f.policy);
      if (list) list.push(f);
      else byPolicy.set(f.policy, [f]);
    }
    for (const { policy } of config.active) {
      if (policy.kinds.includes(item.evaluation.kind) && !byPolicy.has(policy.id)) summary.pass++;
    }
    for (const [policy, findings] of byPolicy) {
      const draft = resultFor(item, policy, findings, stamp);
      const before = seen.get(resultKey(draft));
      if (before && before.result === draft.result && isRecord(before.timestamp)) draft.timestamp = before.timestamp;
      results.push(draft);
      summary[draft.result]++;
    }
  }
  results.sort((a, b) => {
    const ra = a.resources[0];
    const rb = b.resources[0];
    return (ra?.kind ?? '').localeCompare(rb?.kind ?? '') || (ra?.name ?? '').localeCompare(rb?.name ?? '') || a.policy.localeCompare(b.policy);
  });
  return {
    apiVersion: `${REPORT_GROUP}/${REPORT_VERSION}`,
    kind: 'PolicyReport',
    metadata: { name: REPORT_NAME, namespace, labels: { [MANAGED_BY_LABEL]: MANAGED_BY } },
    summary,
    results,
  };
}

/**
 * Same content: what a reader of the report would see. Key order is ignored: the API server
 * returns custom resources with their keys sorted, never in the order practice-gate wrote them.
 */
function sameContent(a: PolicyReport, b: PolicyReport): boolean {
  return isDeepStrictEqual({ s: a.summary, r: a.results }, { s: b.summary, r: b.results ?? [] });
}

export interface PublishOutcome {
  /** False when the PolicyReport CRD is not installed: nothing was written. */
  available: boolean;
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
  failed: number;
}

/**
 * Writes a scan's PolicyReports: one per scanned namespace that has judged objects or already
 * has a report (emptied when everything there was fixed or deleted), updated in place; reports
 * in namespaces no longer scanned (now exempt) are deleted. Without the CRD it does nothing and
 * says so once.
 */
export class ReportPublisher {
  readonly #store: PolicyReportStore;
  readonly #log: Logger;
  #missingLogged = false;

  constructor(store: PolicyReportStore, logger: Logger) {
    this.#store = store;
    this.#log = logger.child({ component: 'policy-reports' });
  }

  async publish(scan: ScanResult, config: EngineConfig, now: number, signal?: AbortSignal): Promise<PublishOutcome> {
    const outcome: PublishOutcome = { available: true, created: 0, updated: 0, unchanged: 0, deleted: 0, failed: 0 };
    let existing: PolicyReport[];
    try {
      existing = await this.#store.list();
    } catch (err) {
      if (!isNotFound(err)) throw err;
      if (!this.#missingLogged) {
        this.#missingLogged = true;
        this.#log.warn(
          { event: 'policyreport-crd-missing' },
          'PolicyReport CRD (wgpolicyk8s.io/v1alpha2) not installed: cluster audit results go to metrics and logs only',
        );
      }
      return { ...outcome, available: false };
    }
    if (this.#missingLogged) {
      this.#missingLogged = false;
      this.#log.info({ event: 'policyreport-crd-found' }, 'PolicyReport CRD installed: writing reports');
    }

    const byNamespace = new Map<string, JudgedObject[]>();
    for (const j of scan.judged) {
      const list = byNamespace.get(j.evaluation.namespace);
      if (list) list.push(j);
      else byNamespace.set(j.evaluation.namespace, [j]);
    }
    const previous = new Map(existing.filter((r) => r.metadata.name === REPORT_NAME).map((r) => [r.metadata.namespace, r]));

    for (const namespace of [...new Set([...scan.namespaces, ...previous.keys()])].sort()) {
      if (signal?.aborted) break;
      const before = previous.get(namespace);
      try {
        if (!scan.namespaces.has(namespace)) {
          if (before) {
            await this.#store.delete(namespace, REPORT_NAME);
            outcome.deleted++;
          }
          continue;
        }
        const judged = byNamespace.get(namespace) ?? [];
        if (judged.length === 0 && !before) continue;
        const report = buildPolicyReport(namespace, judged, config, now, before);
        if (!before) {
          await this.#store.create(report);
          outcome.created++;
        } else if (sameContent(report, before)) {
          outcome.unchanged++;
        } else {
          report.metadata.resourceVersion = before.metadata.resourceVersion;
          await this.#store.replace(report);
          outcome.updated++;
        }
      } catch (err) {
        // One namespace (being deleted, or edited by hand at the same moment) must not stop the others.
        outcome.failed++;
        const level = isConflict(err) || isNotFound(err) ? 'info' : 'warn';
        this.#log[level]({ event: 'policyreport-write-failed', namespace, err: describeError(err) }, 'could not write the PolicyReport; the next scan tries again');
      }
    }
    return outcome;
  }
}
