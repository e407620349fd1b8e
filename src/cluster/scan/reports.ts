import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import type { EngineConfig } from '../../engine/config.js';
import type { Finding, FindingAction } from '../../engine/evaluate.js';
import { expiredExemptionFor } from '../../engine/expiry.js';
import { isRecord } from '../../engine/k8s.js';
import { describeError, isConflict, isNotFound } from '../api/errors.js';
import type { JudgedObject, ScanResult } from './scan-result.js';

export const REPORT_GROUP = 'wgpolicyk8s.io';
export const REPORT_VERSION = 'v1alpha2';
export const REPORT_PLURAL = 'policyreports';
export const REPORT_NAME = 'practice-gate';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'practice-gate';
export const REPORT_SOURCE = 'practice-gate';
/** Set on a report that lists only some of its findings: `"<kept>/<total>"`. */
export const TRUNCATED_ANNOTATION = 'practice-gate.io/truncated';

/**
 * The most results one PolicyReport lists. etcd refuses objects over 1.5 MiB (its default
 * --max-request-bytes), and a refused write fails on every scan. A realistic result (a Deployment
 * of one or two containers, a 25-character name, a 23-character namespace, a uid) is 510 to 740
 * bytes of JSON, 660 on average, so 1000 results make 0.5 to 0.75 MB.
 */
export const MAX_REPORT_RESULTS = 1000;
/**
 * And the most bytes of JSON the listed results may take: the cap that holds whatever the
 * content. A result can reach about 2.5 kB (300-character message, three 500-character
 * properties, a 253-character name), so long names and messages end the list before
 * MAX_REPORT_RESULTS does; the report then stays under 0.8 MB, well inside etcd's limit.
 */
export const MAX_REPORT_BYTES = 800_000;

export interface ReportLimits {
  maxResults: number;
  maxBytes: number;
}

export const REPORT_LIMITS: ReportLimits = { maxResults: MAX_REPORT_RESULTS, maxBytes: MAX_REPORT_BYTES };

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
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    annotations?: Record<string, string>;
    resourceVersion?: string;
  };
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

const RESULT_RANK: Record<ReportResultValue, number> = { fail: 0, error: 1, warn: 2, skip: 3, pass: 4 };
const SEVERITY_RANK: Record<ReportSeverity, number> = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };

/** The order results are listed in: by object, then policy. */
function byObject(a: ReportResult, b: ReportResult): number {
  const ra = a.resources[0];
  const rb = b.resources[0];
  return (
    (ra?.kind ?? '').localeCompare(rb?.kind ?? '') || (ra?.name ?? '').localeCompare(rb?.name ?? '') || a.policy.localeCompare(b.policy)
  );
}

/** The order results are kept in when not all fit: fail before warn before skip, then severity, then by object. */
function bySeverity(a: ReportResult, b: ReportResult): number {
  return RESULT_RANK[a.result] - RESULT_RANK[b.result] || SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || byObject(a, b);
}

/**
 * The results that fit in `limits`, most severe first, listed in the usual order (a report that
 * fits is listed exactly as if there were no limit). The summary is not touched: it counts all.
 */
function capResults(results: ReportResult[], limits: ReportLimits): ReportResult[] {
  const byteLength = (r: ReportResult): number => Buffer.byteLength(JSON.stringify(r)) + 1; // + the comma
  if (results.length <= limits.maxResults && results.reduce((n, r) => n + byteLength(r), 0) <= limits.maxBytes) {
    return results.sort(byObject);
  }
  const kept: ReportResult[] = [];
  let bytes = 0;
  for (const r of [...results].sort(bySeverity)) {
    if (kept.length >= limits.maxResults) break;
    const size = byteLength(r);
    // Stop at the first that does not fit: skipping it for a smaller, less severe one would
    // make the cut hard to read ("every fail, then some warns, then one more fail").
    if (bytes + size > limits.maxBytes) break;
    kept.push(r);
    bytes += size;
  }
  return kept.sort(byObject);
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
  const more =
    findings.length > 1 ? ` (and ${findings.length - 1} more${containers.length > 1 ? `; containers ${containers.join(', ')}` : ''})` : '';
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
 * An expired exemption is reported where it stopped applying, and one about to expire where it
 * still does, so the team sees the date before the finding turns into a refusal.
 */
function noteExpiry(
  draft: ReportResult,
  judged: JudgedObject,
  policy: string,
  findings: readonly Finding[],
  config: EngineConfig,
  now: number,
): void {
  const first = findings[0] as Finding;
  const { properties } = draft;
  if (first.exempt) {
    if (first.exemptExpires !== undefined) properties.exemptExpires = first.exemptExpires;
    return;
  }
  const { kind, namespace, name } = judged.evaluation;
  const expired = expiredExemptionFor(config, { kind, namespace, name }, policy, now);
  if (expired)
    properties.exemptionExpired = clip(
      `exemption ${expired.index} expired ${expired.exemption.expires?.text ?? ''}: ${expired.exemption.reason}`,
      MAX_PROPERTY,
    );
}

/**
 * The report for one namespace. A result keeps the timestamp of the same result in `previous`
 * (when it was first seen), so an unchanged namespace yields an identical report and no write.
 * Passes are counted in the summary but not listed, to keep the object small. When the findings
 * exceed `limits`, the most severe are listed, the summary still counts every finding, and the
 * annotation TRUNCATED_ANNOTATION says how many of how many are listed.
 */
export function buildPolicyReport(
  namespace: string,
  judged: readonly JudgedObject[],
  config: EngineConfig,
  now: number,
  previous?: PolicyReport,
  limits: ReportLimits = REPORT_LIMITS,
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
      noteExpiry(draft, item, policy, findings, config, now);
      const before = seen.get(resultKey(draft));
      if (before && before.result === draft.result && isRecord(before.timestamp)) draft.timestamp = before.timestamp;
      results.push(draft);
      summary[draft.result]++;
    }
  }
  const kept = capResults(results, limits);
  // Others' annotations on the report survive; ours says whether the list is complete.
  const annotations: Record<string, string> = { ...previous?.metadata.annotations };
  delete annotations[TRUNCATED_ANNOTATION];
  if (kept.length < results.length) annotations[TRUNCATED_ANNOTATION] = `${kept.length}/${results.length}`;
  return {
    apiVersion: `${REPORT_GROUP}/${REPORT_VERSION}`,
    kind: 'PolicyReport',
    metadata: {
      name: REPORT_NAME,
      namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY },
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
    summary,
    results: kept,
  };
}

/** How many results a report lists and how many findings it has, when it lists only some. */
export function truncationOf(report: PolicyReport): { kept: number; total: number } | undefined {
  const match = /^(\d+)\/(\d+)$/.exec(report.metadata.annotations?.[TRUNCATED_ANNOTATION] ?? '');
  return match ? { kept: Number(match[1]), total: Number(match[2]) } : undefined;
}

/**
 * Same content: what a reader of the report would see. Key order is ignored: the API server
 * returns custom resources with their keys sorted, never in the order practice-gate wrote them.
 */
function sameContent(a: PolicyReport, b: PolicyReport): boolean {
  const truncated = (r: PolicyReport): string | undefined => r.metadata.annotations?.[TRUNCATED_ANNOTATION];
  return isDeepStrictEqual({ s: a.summary, r: a.results, t: truncated(a) }, { s: b.summary, r: b.results ?? [], t: truncated(b) });
}

export interface PublishOutcome {
  /** False when the PolicyReport CRD is not installed: nothing was written. */
  available: boolean;
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
  failed: number;
  /** Namespaces whose report lists only the most severe of its findings (MAX_REPORT_RESULTS). */
  truncated: number;
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
  readonly #limits: ReportLimits;
  #missingLogged = false;

  constructor(store: PolicyReportStore, logger: Logger, limits: ReportLimits = REPORT_LIMITS) {
    this.#store = store;
    this.#log = logger.child({ component: 'policy-reports' });
    this.#limits = limits;
  }

  async publish(scan: ScanResult, config: EngineConfig, now: number, signal?: AbortSignal): Promise<PublishOutcome> {
    const outcome: PublishOutcome = { available: true, created: 0, updated: 0, unchanged: 0, deleted: 0, failed: 0, truncated: 0 };
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
        const report = buildPolicyReport(namespace, judged, config, now, before, this.#limits);
        const truncated = truncationOf(report);
        if (truncated) {
          outcome.truncated++;
          this.#log.warn(
            { event: 'policyreport-truncated', namespace, kept: truncated.kept, total: truncated.total },
            `PolicyReport lists the ${truncated.kept} most severe of ${truncated.total} findings, to stay within the object size limit; the summary counts all`,
          );
        }
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
        this.#log[level](
          { event: 'policyreport-write-failed', namespace, err: describeError(err) },
          'could not write the PolicyReport; the next scan tries again',
        );
      }
    }
    return outcome;
  }
}
