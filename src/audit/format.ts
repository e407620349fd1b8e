import type { AuditFinding, AuditNote, AuditReport, AuditResult } from './report.js';
import { indent, styler } from './style.js';
import type { Style, StyleFormat } from './style.js';

/** The report as exactly one JSON document, for scripts and CI. */
export function formatJson(report: AuditReport & { whatIf?: unknown }): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

const ACTION_STYLE: Record<AuditFinding['action'], StyleFormat> = {
  deny: ['red', 'bold'],
  warn: 'yellow',
  audit: 'cyan',
};

const LABEL_WIDTH = 'EXEMPT'.length;
const BODY_INDENT = 2 + LABEL_WIDTH + 2;

/** `api.yaml:6`, or `api.yaml, document 2` where no line is known; a helm template first when there is one. */
function whereOf(result: AuditResult): string {
  const at =
    result.line !== undefined
      ? `${result.source}:${result.line}`
      : result.document === undefined
        ? result.source
        : `${result.source}, document ${result.document}`;
  return result.template === undefined ? at : `${result.template}, ${at}`;
}

function header(result: AuditResult, style: Style): string {
  const where = whereOf(result);
  return `${style('bold', `${result.kind} ${result.namespace}/${result.name}`)} ${style('dim', `(${where})`)}`;
}

function findingLines(f: AuditFinding, style: Style): string[] {
  const label = f.exempt ? style('gray', 'EXEMPT') : style(ACTION_STYLE[f.action], f.action.toUpperCase().padEnd(LABEL_WIDTH));
  const parts = [label, style('bold', f.policy)];
  if (f.container !== undefined) parts.push(`container "${f.container}"`);
  if (f.exempt) parts.push(style('gray', `(${f.action} if not exempt)`));
  const at = f.line === undefined ? '' : `${f.file ?? ''}:${f.line}:${f.column ?? 1}  `;
  const body = [style('dim', `${at}${f.path}`), f.message];
  if (f.exempt) body.push(`exempt: ${f.exemptReason ?? 'no reason given'}`);
  if (f.refusedFrom !== undefined) body.push(`refused from ${f.refusedFrom} (a warning until then)`);
  body.push('fix:', style('green', indent(f.remediation, 2)));
  return [`  ${parts.join('  ')}`, indent(body.join('\n'), BODY_INDENT)];
}

function noteLines(n: AuditNote, style: Style): string[] {
  return [
    `  ${style('dim', 'NOTE'.padEnd(LABEL_WIDTH))}  ${style('bold', n.policy)}`,
    indent(`${style('dim', n.path)}\n${n.message}`, BODY_INDENT),
  ];
}

function summaryLine(report: AuditReport, style: Style): string {
  const { objects, deny, warn, audit, exempt } = report.summary;
  if (objects === 0) return 'No workloads or PodDisruptionBudgets to judge.';
  const noun = objects === 1 ? 'object' : 'objects';
  const count = (n: number, action: AuditFinding['action']) => (n > 0 ? style(ACTION_STYLE[action], `${n} ${action}`) : `${n} ${action}`);
  const counts = [count(deny, 'deny'), count(warn, 'warn'), count(audit, 'audit'), `${exempt} exempt`];
  return `${objects} ${noun} judged: ${counts.join(', ')}`;
}

/**
 * The report for a person: one block per object, each finding with its action, policy,
 * container, field path, message and the YAML that fixes it; then a summary line.
 */
export function formatTable(report: AuditReport, options: { color: boolean }): string {
  const style = styler(options.color);
  const blocks = report.results.map((result) => {
    const lines = [header(result, style)];
    if (result.findings.length === 0) lines.push(`  ${style('green', 'passes every policy')}`);
    for (const f of result.findings) lines.push(...findingLines(f, style));
    for (const n of result.notes ?? []) lines.push(...noteLines(n, style));
    return lines.join('\n');
  });
  blocks.push(summaryLine(report, style));
  for (const e of report.expiredExemptions ?? []) {
    blocks.push(
      style('yellow', `Exemption ${e.index} (${e.scope}) expired ${e.expires}: it no longer exempts anything. Reason was: ${e.reason}`),
    );
  }
  return `${blocks.join('\n\n')}\n`;
}
