// JUnit XML for test-report views (GitLab's `artifacts:reports:junit`, Jenkins' junit step): one
// suite per source, one test case per object and active policy. A case fails for a deny, and
// for a warn with --fail-on warn, the findings that make the audit exit 1.
import type { AuditReport, AuditResult } from '../report.js';
import { formatProblem } from '../sources.js';
import { fails, objectName } from './rules.js';
import type { FormatContext } from './rules.js';

/** Text and attribute values; characters XML 1.0 cannot hold at all are dropped. */
function xml(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

interface Case {
  name: string;
  classname: string;
  file?: string;
  line?: number;
  failure?: { message: string; type: string; text: string };
  skipped?: string;
  error?: string;
  out?: string;
}

/** The policies judged on an object: the active ones for its kind, plus any that reported. */
function policiesFor(result: AuditResult, context: FormatContext): string[] {
  const active = new Set(context.active ?? context.policies.map((p) => p.id));
  const ids = context.policies.filter((p) => active.has(p.id) && p.kinds.includes(result.kind)).map((p) => p.id);
  for (const f of result.findings) if (!ids.includes(f.policy)) ids.push(f.policy);
  return ids;
}

function casesOf(result: AuditResult, context: FormatContext): Case[] {
  return policiesFor(result, context).map((policy) => {
    const findings = result.findings.filter((f) => f.policy === policy);
    const at = findings.find((f) => f.line !== undefined);
    const base: Case = {
      name: policy,
      classname: objectName(result),
      file: result.template ?? result.source,
      ...(at?.line !== undefined ? { line: at.line } : result.line !== undefined ? { line: result.line } : {}),
    };
    const failing = findings.filter((f) => fails(f, context.failOn));
    const text = (list: typeof findings): string =>
      list
        .map(
          (f) =>
            `${f.file !== undefined && f.line !== undefined ? `${f.file}:${f.line}: ` : ''}${f.action}: ${f.message}\n${f.path}\nfix:\n${f.remediation}`,
        )
        .join('\n\n');
    if (failing.length > 0) {
      return {
        ...base,
        failure: { message: failing.map((f) => f.message).join('; '), type: failing[0]?.action ?? 'deny', text: text(failing) },
      };
    }
    const open = findings.filter((f) => !f.exempt);
    if (open.length > 0) return { ...base, out: text(open) };
    const exempt = findings.filter((f) => f.exempt);
    if (exempt.length > 0) return { ...base, skipped: `exempt: ${exempt.map((f) => f.exemptReason ?? 'no reason given').join('; ')}` };
    return base;
  });
}

function caseXml(c: Case): string {
  const attrs = [`name="${xml(c.name)}"`, `classname="${xml(c.classname)}"`];
  if (c.file !== undefined) attrs.push(`file="${xml(c.file)}"`);
  if (c.line !== undefined) attrs.push(`line="${c.line}"`);
  const body: string[] = [];
  if (c.failure)
    body.push(`      <failure message="${xml(c.failure.message)}" type="${xml(c.failure.type)}">${xml(c.failure.text)}</failure>`);
  if (c.error !== undefined) body.push(`      <error message="${xml(c.error)}" type="input">${xml(c.error)}</error>`);
  if (c.skipped !== undefined) body.push(`      <skipped message="${xml(c.skipped)}"/>`);
  if (c.out !== undefined) body.push(`      <system-out>${xml(c.out)}</system-out>`);
  return body.length === 0
    ? `    <testcase ${attrs.join(' ')}/>`
    : `    <testcase ${attrs.join(' ')}>\n${body.join('\n')}\n    </testcase>`;
}

export function formatJunit(report: AuditReport, context: FormatContext): string {
  const suites = new Map<string, Case[]>();
  const suite = (name: string): Case[] => {
    let cases = suites.get(name);
    if (!cases) {
      cases = [];
      suites.set(name, cases);
    }
    return cases;
  };
  for (const result of report.results) suite(result.source).push(...casesOf(result, context));
  // A document that could not be read was not judged: an error, not a pass.
  for (const problem of report.skipped ?? []) {
    const name = problem.document !== undefined ? `document ${problem.document}` : 'read';
    suite(problem.source).push({
      name,
      classname: problem.source,
      file: problem.template ?? problem.source,
      ...(problem.line !== undefined ? { line: problem.line } : {}),
      error: formatProblem(problem),
    });
  }
  let tests = 0;
  let failures = 0;
  let errors = 0;
  let skipped = 0;
  const blocks: string[] = [];
  for (const [name, cases] of suites) {
    const f = cases.filter((c) => c.failure).length;
    const e = cases.filter((c) => c.error !== undefined).length;
    const s = cases.filter((c) => c.skipped !== undefined).length;
    tests += cases.length;
    failures += f;
    errors += e;
    skipped += s;
    blocks.push(
      `  <testsuite name="${xml(name)}" tests="${cases.length}" failures="${f}" errors="${e}" skipped="${s}">\n${cases.map(caseXml).join('\n')}\n  </testsuite>`,
    );
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="practice-gate" tests="${tests}" failures="${failures}" errors="${errors}" skipped="${skipped}">`,
    ...blocks,
    '</testsuites>',
    '',
  ].join('\n');
}
