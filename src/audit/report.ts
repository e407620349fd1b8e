import { ContextIndex, evaluate, exemptionStatuses, isTemplateOwner, metaOf, namespaceOf } from '../engine/index.js';
import type { ClusterContext, EngineConfig, Evaluation, Finding, FindingAction } from '../engine/index.js';
import type { SourceObject } from './documents.js';
import type { Position } from './locate.js';
import type { InputProblem } from './sources.js';

/** One finding as reports show it: `action` is what applies after config and mode. */
export interface AuditFinding {
  policy: string;
  action: FindingAction;
  container?: string;
  path: string;
  message: string;
  remediation: string;
  exempt: boolean;
  exemptReason?: string;
  /** Where the field is (or its nearest existing ancestor), when the object was read from a text. */
  file?: string;
  line?: number;
  column?: number;
  /** A deny answered as a warning until this date. */
  refusedFrom?: string;
}

/** A value the cluster fills in that the object leaves out, where a policy would otherwise report it. */
export interface AuditNote {
  policy: string;
  container?: string;
  path: string;
  message: string;
}

/** A config exemption that has expired: it no longer exempts anything. */
export interface ExpiredExemption {
  /** Position in the config's `exemptions`. */
  index: number;
  scope: string;
  reason: string;
  expires: string;
}

/** One judged object: every workload and PodDisruptionBudget, with or without findings. */
export interface AuditResult {
  source: string;
  document?: number;
  /** The chart template of the document, from helm's `# Source:` comment. */
  template?: string;
  /** The object's first line in the source, when it has findings to point at. */
  line?: number;
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  findings: AuditFinding[];
  /** What passes because the cluster fills it in: a request or limit set by a LimitRange of the documents. */
  notes?: AuditNote[];
}

export interface AuditSummary {
  objects: number;
  /** Non-exempt findings per action. */
  deny: number;
  warn: number;
  audit: number;
  /** Exempt findings, whatever their action. */
  exempt: number;
}

export interface AuditReport {
  results: AuditResult[];
  summary: AuditSummary;
  /** Documents and inputs that could not be read or parsed, so were not judged (offline audit only). */
  skipped?: InputProblem[];
  /** Present when some exemption of the config has expired. */
  expiredExemptions?: ExpiredExemption[];
}

/** Finds a field of an object in the text it was read from (locate.ts). */
export type LocateField = (item: SourceObject, path: string) => Position | undefined;

export type FailOn = 'deny' | 'warn' | 'never';
export const FAIL_ON: readonly FailOn[] = ['deny', 'warn', 'never'];

/** The cluster the documents describe: their PDBs, HPAs, Namespaces and workloads. */
export function contextFor(items: Iterable<SourceObject>, defaultNamespace: string): ContextIndex {
  const objects = [...items].map((item) => item.object);
  return ContextIndex.fromObjects(objects, defaultNamespace);
}

const objectKey = (kind: string, namespace: string, name: string): string => `${kind}/${namespace}/${name}`;

/** Every object given, by uid and by kind/namespace/name: what a controller reference can point at. */
function presentObjects(items: readonly SourceObject[], defaultNamespace: string): Set<string> {
  const present = new Set<string>();
  for (const { object } of items) {
    const meta = metaOf(object);
    if (typeof meta.uid === 'string' && meta.uid !== '') present.add(meta.uid);
    if (typeof object.kind === 'string' && typeof meta.name === 'string')
      present.add(objectKey(object.kind, namespaceOf(object) ?? defaultNamespace, meta.name));
  }
  return present;
}

/**
 * An object a controller made (the ReplicaSets and Pods `kubectl get -o yaml` prints next to
 * their Deployment) is judged through its owner when the owner is among the documents, so is
 * judged in the same report, and is of a kind that makes such objects from its template (a
 * Deployment for a ReplicaSet, a ReplicaSet for a Pod): its own findings are only recorded.
 * Otherwise it is judged as itself, so an ownerReference written into a manifest, even one
 * naming a ConfigMap of the same manifest, does not lift a deny.
 */
function ownerPresent(evaluation: Evaluation, present: ReadonlySet<string>): boolean {
  const owner = evaluation.controller;
  if (!owner || !isTemplateOwner(evaluation.kind, owner.kind)) return false;
  return (owner.uid !== undefined && present.has(owner.uid)) || present.has(objectKey(owner.kind, evaluation.namespace, owner.name));
}

// Built field by field so that JSON output keeps one key order, whatever the engine adds.
function toAuditFinding(f: Finding, judgedThroughOwner: boolean, where: FindingWhere): AuditFinding {
  const position = where.locate?.(where.item, f.path);
  return {
    policy: f.policy,
    action: judgedThroughOwner ? 'audit' : f.action,
    ...(f.container !== undefined ? { container: f.container } : {}),
    path: f.path,
    message: f.message,
    remediation: f.remediation,
    exempt: f.exempt,
    ...(f.exemptReason !== undefined ? { exemptReason: f.exemptReason } : {}),
    ...(position ? { file: where.item.source, line: position.line, column: position.column } : {}),
    ...(f.refusedFrom !== undefined ? { refusedFrom: f.refusedFrom } : {}),
  };
}

function toAuditNote(n: AuditNote): AuditNote {
  return { policy: n.policy, ...(n.container !== undefined ? { container: n.container } : {}), path: n.path, message: n.message };
}

interface FindingWhere {
  item: SourceObject;
  locate: LocateField | undefined;
}

export function summarize(results: readonly AuditResult[]): AuditSummary {
  const summary: AuditSummary = { objects: results.length, deny: 0, warn: 0, audit: 0, exempt: 0 };
  for (const result of results) {
    for (const f of result.findings) {
      if (f.exempt) summary.exempt++;
      else summary[f.action]++;
    }
  }
  return summary;
}

/**
 * Judges every object against the config in the given context. Kinds practice-gate does
 * not judge (Services, ConfigMaps, ...) are left out; the rest appear even when they pass.
 * Findings of controller-made objects whose owner is among the documents apply as `audit`.
 */
export function buildReport(
  items: readonly SourceObject[],
  context: ClusterContext,
  config: EngineConfig,
  defaultNamespace: string,
  locate?: LocateField,
  now: number = Date.now(),
): AuditReport {
  const results: AuditResult[] = [];
  const present = presentObjects(items, defaultNamespace);
  for (const item of items) {
    const evaluation = evaluate(item.object, context, config, { namespace: defaultNamespace, now, notes: true });
    if (!evaluation) continue;
    const judgedThroughOwner = ownerPresent(evaluation, present);
    const start = evaluation.findings.length > 0 ? locate?.(item, '') : undefined;
    results.push({
      source: item.source,
      ...(item.document !== undefined ? { document: item.document } : {}),
      ...(item.template !== undefined ? { template: item.template } : {}),
      ...(start ? { line: start.line } : {}),
      apiVersion: evaluation.apiVersion,
      kind: evaluation.kind,
      namespace: evaluation.namespace,
      name: evaluation.name,
      findings: evaluation.findings.map((f) => toAuditFinding(f, judgedThroughOwner, { item, locate })),
      ...(evaluation.notes ? { notes: evaluation.notes.map(toAuditNote) } : {}),
    });
  }
  const expired: ExpiredExemption[] = exemptionStatuses(config, now)
    .filter((s) => s.state === 'expired')
    .map((s) => ({ index: s.index, scope: s.scope, reason: s.exemption.reason, expires: s.expires?.text ?? '' }));
  return { results, summary: summarize(results), ...(expired.length > 0 ? { expiredExemptions: expired } : {}) };
}

/** True when a non-exempt finding reaches the --fail-on threshold. */
export function failsOn(summary: AuditSummary, failOn: FailOn): boolean {
  switch (failOn) {
    case 'deny':
      return summary.deny > 0;
    case 'warn':
      return summary.deny > 0 || summary.warn > 0;
    case 'never':
      return false;
  }
}
