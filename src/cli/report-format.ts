import type { AuditReport, FailOn } from '../audit/index.js';
import { formatJson, formatTable, wantsColor } from '../audit/index.js';
import type { EngineConfig } from '../engine/index.js';
import { POLICIES } from '../../policies/index.js';

import type { ReportFormat } from '../audit/formats/names.js';

export { FORMATS } from '../audit/formats/names.js';
export type { ReportFormat };

/**
 * A report in the format asked for, for the offline and the cluster audit alike. Table and
 * JSON need nothing more; the CI formats load only when asked (start-up time is the audit's cost).
 */
export async function formatAs(
  report: AuditReport,
  format: ReportFormat,
  config: EngineConfig,
  failOn: FailOn,
  stdout: { isTTY?: boolean },
): Promise<string> {
  if (format === 'json') return formatJson(report);
  if (format === 'table') return formatTable(report, { color: wantsColor(stdout) });
  const { formatContext, formatReport } = await import('../audit/formats/index.js');
  return formatReport(report, format, { ...formatContext(config, POLICIES, failOn), color: false });
}
