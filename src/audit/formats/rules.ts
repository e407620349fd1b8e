import type { FindingAction } from '../../engine/index.js';
import type { AuditFinding, AuditReport, AuditResult } from '../report.js';

/** What the CI formats say about a policy: from the registry, so reports carry the why and the fix. */
export interface PolicyInfo {
  id: string;
  title: string;
  why: string;
  fix: string;
  kinds: readonly string[];
}

/** Everything a report format needs besides the report. */
export interface FormatContext {
  policies: readonly PolicyInfo[];
  /** Active policy ids (after config): the test cases JUnit runs for each object. */
  active?: readonly string[];
  /** The --fail-on threshold: a warn fails the build only with `warn`. */
  failOn: 'deny' | 'warn' | 'never';
  /** practice-gate's version, for tool metadata. */
  version?: string;
}

/** A finding with the object it belongs to, in report order. */
export interface Located {
  result: AuditResult;
  finding: AuditFinding;
}

export function allFindings(report: AuditReport): Located[] {
  return report.results.flatMap((result) => result.findings.map((finding) => ({ result, finding })));
}

/** True when this finding alone would make the audit exit 1 under --fail-on. */
export function fails(finding: AuditFinding, failOn: FormatContext['failOn']): boolean {
  if (finding.exempt || failOn === 'never') return false;
  return finding.action === 'deny' || (finding.action === 'warn' && failOn === 'warn');
}

export const objectName = (result: AuditResult): string => `${result.kind} ${result.namespace}/${result.name}`;

/** The text of a finding for a CI annotation: what is wrong, then the YAML that fixes it. */
export function findingText(result: AuditResult, finding: AuditFinding): string {
  return `${objectName(result)}: ${finding.message}\n${finding.path}\nfix:\n${finding.remediation}`;
}

export const ACTION_ORDER: readonly FindingAction[] = ['deny', 'warn', 'audit'];
