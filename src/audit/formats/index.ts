import type { AuditReport } from '../report.js';
import { formatJson, formatTable } from '../format.js';
import { formatGithub } from './github.js';
import { formatHtml } from './html.js';
import { formatJunit } from './junit.js';
import type { FormatContext } from './rules.js';
import { formatSarif } from './sarif.js';

export type { FormatContext, PolicyInfo } from './rules.js';
export { formatGithub, formatHtml, formatJunit, formatSarif };

import type { ReportFormat } from './names.js';

/** The report in the format asked for; every format carries the same findings, and the exit status does not depend on it. */
export function formatReport(
  report: AuditReport,
  format: ReportFormat,
  context: FormatContext & { color: boolean; title?: string },
): string {
  switch (format) {
    case 'table':
      return formatTable(report, { color: context.color });
    case 'json':
      return formatJson(report);
    case 'sarif':
      return formatSarif(report, context);
    case 'junit':
      return formatJunit(report, context);
    case 'github':
      return formatGithub(report);
    case 'html':
      return formatHtml(report, { ...context, generatedAt: new Date() });
  }
}
export { formatContext } from './context.js';
