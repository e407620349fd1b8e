// GitHub Actions workflow commands: each finding becomes an annotation on its file and line,
// shown in the pull request's diff and the run's summary. Exempt findings are accepted risk:
// they are counted in the summary, not annotated.
import type { AuditReport } from '../report.js';
import { STDIN_SOURCE, formatProblem } from '../sources.js';
import { allFindings, findingText } from './rules.js';

const COMMAND = { deny: 'error', warn: 'warning', audit: 'notice' } as const;

/** https://github.com/actions/toolkit/blob/main/packages/core/src/command.ts: escapeData and escapeProperty. */
const data = (text: string): string => text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const property = (text: string): string => data(text).replace(/:/g, '%3A').replace(/,/g, '%2C');

function annotation(command: string, properties: Record<string, string | number | undefined>, message: string): string {
  const props = Object.entries(properties)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([key, value]) => `${key}=${property(String(value))}`)
    .join(',');
  return `::${command}${props === '' ? '' : ` ${props}`}::${data(message)}`;
}

export function formatGithub(report: AuditReport): string {
  const lines: string[] = [];
  for (const { result, finding } of allFindings(report)) {
    if (finding.exempt) continue;
    // Lines of a piped stream are not lines of any file in the repository: those name the object only.
    const fromFile = result.source !== STDIN_SOURCE && finding.file !== undefined;
    const title = `practice-gate ${finding.policy}${result.template !== undefined ? ` (${result.template})` : ''}`;
    lines.push(
      annotation(
        COMMAND[finding.action],
        {
          file: fromFile ? finding.file : undefined,
          line: fromFile ? finding.line : undefined,
          col: fromFile ? finding.column : undefined,
          title,
        },
        findingText(result, finding),
      ),
    );
  }
  for (const problem of report.skipped ?? []) {
    const fromFile = problem.source !== STDIN_SOURCE;
    lines.push(
      annotation(
        'error',
        { file: fromFile ? problem.source : undefined, line: fromFile ? problem.line : undefined, title: 'practice-gate: not judged' },
        formatProblem(problem),
      ),
    );
  }
  const { objects, deny, warn, audit, exempt } = report.summary;
  lines.push(`practice-gate: ${objects} objects judged: ${deny} deny, ${warn} warn, ${audit} audit, ${exempt} exempt`);
  return `${lines.join('\n')}\n`;
}
