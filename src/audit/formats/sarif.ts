// SARIF 2.1.0 for code scanning (GitHub, GitLab, Azure DevOps): one rule per policy with its why
// and fix, one result per finding with the line of its field. Exempt findings stay in the log
// as suppressed results, so the accepted risk is visible but does not alert.
import type { AuditFinding, AuditReport, AuditResult } from '../report.js';
import type { InputProblem } from '../sources.js';
import { STDIN_SOURCE, formatProblem } from '../sources.js';
import { allFindings, objectName } from './rules.js';
import type { FormatContext } from './rules.js';

const SCHEMA = 'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';
const LEVEL = { deny: 'error', warn: 'warning', audit: 'note' } as const;

/** A path as a SARIF uri reference: relative paths stay relative (resolved against the checkout), separators become `/`. */
function uriOf(path: string): string {
  return encodeURI(path.replace(/\\/g, '/')).replace(/[?#]/g, encodeURIComponent);
}

/** Read from a file: its uri and region. From stdin: the helm template when known (without lines: they are the rendered stream's). */
function physicalLocation(result: AuditResult, finding: AuditFinding | undefined): object | undefined {
  if (result.source === STDIN_SOURCE || finding?.file === undefined) {
    return result.template !== undefined ? { artifactLocation: { uri: uriOf(result.template) } } : undefined;
  }
  const region = finding.line !== undefined ? { region: { startLine: finding.line, startColumn: finding.column ?? 1 } } : {};
  return { artifactLocation: { uri: uriOf(finding.file) }, ...region };
}

function resultOf(result: AuditResult, finding: AuditFinding, ruleIndex: number): object {
  const physical = physicalLocation(result, finding);
  return {
    ruleId: finding.policy,
    ...(ruleIndex >= 0 ? { ruleIndex } : {}),
    level: LEVEL[finding.action],
    message: { text: `${objectName(result)}: ${finding.message}` },
    locations: [
      {
        ...(physical ? { physicalLocation: physical } : {}),
        logicalLocations: [{ fullyQualifiedName: `${result.kind}/${result.namespace}/${result.name}/${finding.path}`, kind: 'object' }],
      },
    ],
    // Stable across line moves, so code scanning tracks one alert per object, container and policy.
    partialFingerprints: {
      'practiceGate/v1': `${result.kind}/${result.namespace}/${result.name}/${finding.container ?? ''}/${finding.policy}`,
    },
    ...(finding.exempt
      ? { suppressions: [{ kind: 'external', status: 'accepted', justification: finding.exemptReason ?? 'exempt' }] }
      : {}),
    properties: {
      action: finding.action,
      path: finding.path,
      fix: finding.remediation,
      ...(finding.container !== undefined ? { container: finding.container } : {}),
    },
  };
}

function notification(problem: InputProblem): object {
  const location =
    problem.source === STDIN_SOURCE
      ? problem.template !== undefined
        ? [{ physicalLocation: { artifactLocation: { uri: uriOf(problem.template) } } }]
        : []
      : [
          {
            physicalLocation: {
              artifactLocation: { uri: uriOf(problem.source) },
              ...(problem.line !== undefined ? { region: { startLine: problem.line } } : {}),
            },
          },
        ];
  return { level: 'error', message: { text: formatProblem(problem) }, ...(location.length > 0 ? { locations: location } : {}) };
}

export function formatSarif(report: AuditReport, context: FormatContext): string {
  const rules = context.policies.map((p) => ({
    id: p.id,
    name: p.id,
    shortDescription: { text: p.title },
    fullDescription: { text: p.why },
    help: { text: `${p.why}\n\nFix:\n${p.fix}`, markdown: `${p.why}\n\n**Fix:**\n\n\`\`\`yaml\n${p.fix}\n\`\`\`` },
  }));
  const index = new Map(context.policies.map((p, i) => [p.id, i]));
  const skipped = report.skipped ?? [];
  const log = {
    $schema: SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'practice-gate',
            ...(context.version !== undefined ? { version: context.version, semanticVersion: context.version } : {}),
            rules,
          },
        },
        invocations: [{ executionSuccessful: skipped.length === 0, toolExecutionNotifications: skipped.map(notification) }],
        results: allFindings(report).map(({ result, finding }) => resultOf(result, finding, index.get(finding.policy) ?? -1)),
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
