// UPDATEs are judged by what they change, so that switching a namespace to enforce does not
// break what already runs there (as Kyverno's allowExistingViolations and Pod Security
// Admission's pod-update rule do). An UPDATE that changes no field any judgement reads (a
// label, a GitOps annotation, a finalizer, a restart stamp on the pod template) is admitted
// without refusal or warning; one that does is judged, and a finding the old object already
// had is only warned about. A policy with `existingViolations: deny` judges UPDATEs like CREATEs.
import { changesJudgedFields, clamp, evaluateInSteps, findingKey, findingKeys, isRecord } from '../engine/index.js';
import type { ClusterContext, EngineConfig, EvaluateOptions, Evaluation, KubeObject, Steps } from '../engine/index.js';
import { RuleError } from '../rules/rule-error.js';
import { admissionFacts } from './admission-facts.js';
import type { AdmissionRequest } from './admission.js';
import { WARNING_MAX, WARNING_PREFIX, WARNING_TARGET } from './messages.js';
import type { AppliedFinding } from './messages.js';

export interface UpdateJudgement {
  applied: AppliedFinding[];
  /** Nothing judged changed: nothing is said again, not even an expiring exemption. */
  quiet: boolean;
}

function tolerated(config: EngineConfig, policyId: string): boolean {
  return config.active.find((a) => a.policy.id === policyId)?.existingViolations !== 'deny';
}

/**
 * The findings the old object had. A custom rule that cannot judge it alone (one reading
 * `oldObject` fails on an object that has none) leaves no finding counted as existing: the update
 * is judged like a CREATE, never let through on an error.
 */
function* oldFindings(
  before: KubeObject,
  state: { engineConfig: EngineConfig; context: ClusterContext },
  options: EvaluateOptions,
): Steps<ReadonlySet<string>> {
  try {
    return findingKeys(yield* evaluateInSteps(before, state.context, state.engineConfig, options));
  } catch (err) {
    if (err instanceof RuleError) return new Set();
    throw err;
  }
}

/**
 * Marks the findings that the old object of an UPDATE already had and answers them as existing
 * violations. Everything is still in `applied` (metrics, logs and audit annotations record
 * every finding); only the outcome of a tolerated existing one changes.
 */
export function* judgeUpdate(
  request: AdmissionRequest,
  evaluation: Evaluation,
  applied: AppliedFinding[],
  state: { engineConfig: EngineConfig; context: ClusterContext },
  options: { namespace: string | undefined; now: number; maxFindingsPerPolicy: number },
): Steps<UpdateJudgement> {
  const before = request.oldObject;
  if (request.operation !== 'UPDATE' || !isRecord(before) || applied.length === 0) return { applied, quiet: false };
  const config = state.engineConfig;
  const changed = changesJudgedFields(before, request.object, evaluation.kind, config);
  // Unchanged inputs give the same findings: every one existed, no need to judge the old object.
  // The old object as it was judged when written: a CREATE with no object before it.
  const facts = admissionFacts(request);
  const admission = { oldObject: null, request: { ...facts.request, operation: 'CREATE' } };
  // Only the old object's listed findings are matched (past the cap nothing is): no need to count the rest.
  const existed = changed ? yield* oldFindings(before as KubeObject, state, { ...options, admission, listedOnly: true }) : undefined;
  const out = applied.map((a): AppliedFinding => {
    if (existed && !existed.has(findingKey(a.finding))) return a;
    // Marked in place: the evaluation is this review's own, and a spread copy per finding cost
    // several times the whole review (V8 cloned each into a slow shape).
    const finding = a.finding;
    finding.existing = true;
    if ((a.outcome !== 'deny' && a.outcome !== 'warn') || !tolerated(config, finding.policy)) return a;
    return { finding, outcome: changed ? 'warn' : 'audit' };
  });
  return { applied: out, quiet: !changed };
}

/** Warnings for exempt findings whose exemption runs out soon, so owners fix them before it does. */
export function expiryNotices(subject: string, applied: readonly AppliedFinding[]): string[] {
  const out: string[] = [];
  for (const { finding, outcome } of applied) {
    if (outcome !== 'exempt' || !finding.exemptExpiresSoon) continue;
    const body = `[${finding.policy}] exempt only until ${finding.exemptExpires ?? '?'}: ${finding.message}`;
    // Named like the other warnings: only when the line still fits kubectl's width.
    const named = `${WARNING_PREFIX} ${subject}: ${body}`;
    out.push(clamp(named.length <= WARNING_TARGET ? named : `${WARNING_PREFIX} ${body}`, WARNING_MAX));
  }
  return out;
}
