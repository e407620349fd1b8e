// `practice-gate fix`: applies the safe fixes to files, re-judges the result, and writes each
// file whole (a temporary file renamed over it) or prints a diff.
import { chmodSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Locator, buildReport, contextFor, parseSourceWithYaml } from '../audit/index.js';
import type { AuditFinding, InputProblem, LocateField, SourceObject, SourceText } from '../audit/index.js';
import type { EngineConfig } from '../engine/index.js';
import { planFix } from './catalog.js';
import { sharedOnPath, applyEdits, valueAt } from './rewrite.js';
import type { FieldEdit } from './rewrite.js';

/** Go template syntax: a chart's template, not a manifest. Its rendered output is not what the team edits. */
const GO_TEMPLATE = /\{\{-?\s|\{\{[./$"(a-zA-Z]/;

export interface Fixed {
  source: string;
  line?: number;
  object: string;
  finding: AuditFinding;
  value?: boolean | string;
  /** Why it was left alone. */
  reason?: string;
}

export interface FixOutcome {
  /** New text per source, only for sources that change. */
  changed: Map<string, { before: string; after: string }>;
  fixed: Fixed[];
  notFixed: Fixed[];
  problems: InputProblem[];
  /** Non-exempt findings left after the fixes, per action. */
  remaining: { deny: number; warn: number; audit: number };
}

interface Judged {
  item: SourceObject;
  object: string;
  findings: AuditFinding[];
}

/** Every object of the texts, judged with all of them as its context (as the audit does). */
function judge(texts: readonly SourceText[], config: EngineConfig, namespace: string, problems: InputProblem[]): Judged[] {
  const items: SourceObject[] = [];
  for (const text of texts) {
    const parsed = parseSourceWithYaml(text);
    items.push(...parsed.objects);
    problems.push(...parsed.problems);
  }
  const context = contextFor(items, namespace);
  const locator = new Locator(texts);
  const locate: LocateField = (item, path) => locator.locate(item, path);
  const judged: Judged[] = [];
  for (const item of items) {
    const [result] = buildReport([item], context, config, namespace, locate).results;
    if (result) judged.push({ item, object: `${result.kind} ${result.namespace}/${result.name}`, findings: result.findings });
  }
  return judged;
}

const findingKey = (source: string, object: string, f: AuditFinding): string => `${source}\0${object}\0${f.policy}\0${f.path}`;

export function planFixes(texts: readonly SourceText[], config: EngineConfig, namespace: string): FixOutcome {
  const problems: InputProblem[] = [];
  const plain = texts.filter((text) => {
    if (!GO_TEMPLATE.test(text.text)) return true;
    problems.push({
      source: text.source,
      message:
        "a Helm template (Go template syntax): fix the chart's templates or values by hand; practice-gate fix rewrites plain manifests only",
    });
    return false;
  });
  const judged = judge(plain, config, namespace, problems);
  const files = new Map(plain.map((t) => [t.source, t.text]));
  const edits = new Map<string, FieldEdit[]>();
  const fixed: Fixed[] = [];
  const notFixed: Fixed[] = [];
  for (const { item, object, findings } of judged) {
    const file = files.get(item.source);
    for (const finding of findings) {
      if (finding.exempt || !file) continue;
      const at = { document: item.document ?? 1, ...(item.item !== undefined ? { item: item.item } : {}), path: finding.path };
      const plan = sharedOnPath(file, at)
        ? { reason: 'the field is in a YAML anchor shared with other places (&name / *name): edit it by hand' }
        : planFix(finding, valueAt(file, at));
      const entry = { source: item.source, ...(finding.line !== undefined ? { line: finding.line } : {}), object, finding };
      if ('reason' in plan) {
        notFixed.push({ ...entry, reason: plan.reason });
        continue;
      }
      fixed.push({ ...entry, value: plan.value });
      edits.set(item.source, [...(edits.get(item.source) ?? []), { ...at, value: plan.value }]);
    }
  }

  const changed = new Map<string, { before: string; after: string }>();
  for (const [source, list] of edits) {
    const file = files.get(source);
    if (!file) continue;
    const after = applyEdits(file, list);
    if (after === undefined) {
      problems.push({ source, message: 'a field could not be placed safely, so the file was left unchanged (please report this)' });
      continue;
    }
    if (after !== file) changed.set(source, { before: file, after });
  }

  // Judge the result: a fix that did not take (or broke the file) is not written.
  const rejudge = (): Judged[] => {
    const afterTexts = plain.map((t) => ({ source: t.source, text: changed.get(t.source)?.after ?? t.text }));
    const afterProblems: InputProblem[] = [];
    const after = judge(afterTexts, config, namespace, afterProblems);
    const left = new Set(
      after.flatMap(({ item, object, findings }) => findings.filter((f) => !f.exempt).map((f) => findingKey(item.source, object, f))),
    );
    const broken = [...changed.keys()].filter(
      (source) =>
        afterProblems.some((p) => p.source === source) ||
        fixed.some((f) => f.source === source && left.has(findingKey(f.source, f.object, f.finding))),
    );
    if (broken.length === 0) return after;
    for (const source of broken) {
      changed.delete(source);
      problems.push({ source, message: 'the fixed file did not pass its own re-check, so it was left unchanged (please report this)' });
    }
    return rejudge();
  };
  const after = rejudge();
  const kept = fixed.filter((f) => changed.has(f.source));
  const remaining = { deny: 0, warn: 0, audit: 0 };
  for (const { findings } of after) for (const f of findings) if (!f.exempt) remaining[f.action]++;
  return { changed, fixed: kept, notFixed, problems, remaining };
}

/** Writes the whole new text beside the file, then renames it over: a reader sees the old file or the new one, never half. */
export function writeAtomically(file: string, text: string): void {
  const temp = join(dirname(file), `.${basename(file)}.practice-gate-${process.pid}.tmp`);
  try {
    writeFileSync(temp, text, { flag: 'wx' });
    chmodSync(temp, statSync(file).mode & 0o7777);
    renameSync(temp, file);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}
