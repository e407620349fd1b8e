import { activeExemption, deadline } from './config.js';
import type { EngineConfig, Mode } from './config.js';
import type { ClusterContext } from './context.js';
import { controllerRef, isRecord, metaOf, nameOf } from './k8s.js';
import type { ControllerRef, KubeObject, PodDisruptionBudget } from './k8s.js';
import { policyNotes } from './notes.js';
import type { Note } from './notes.js';
import { writtenForOwner } from './owners.js';
import type { Action, AdmissionFacts, ObjectSubject, Violation, WorkloadPolicy } from './policy.js';
import { pendingDeadline } from './schedule.js';
import { drain } from './steps.js';
import type { Steps } from './steps.js';
import { containerSlices, toWorkload, workloadShell } from './workload.js';
import type { Workload } from './workload.js';

export const ANNOTATION_EXEMPT = 'practice-gate.io/exempt';
export const ANNOTATION_EXEMPT_REASON = 'practice-gate.io/exempt-reason';
export const ANNOTATION_EXEMPT_EXPIRES = 'practice-gate.io/exempt-expires';
export const LABEL_MODE = 'practice-gate.io/mode';

export type FindingAction = Exclude<Action, 'off'>;

export interface Finding {
  policy: string;
  /** What applies after config and mode: in audit mode a deny becomes warn. */
  action: FindingAction;
  /** What the config asks for, before the mode is applied. */
  configuredAction: FindingAction;
  container?: string;
  path: string;
  message: string;
  remediation: string;
  exempt: boolean;
  exemptReason?: string;
  /** The exempting exemption stops applying then (as written). */
  exemptExpires?: string;
  /** ... within the config's warning window: the webhook says so. */
  exemptExpiresSoon?: boolean;
  /** A deny answered as a warning until this date (policy `from` or namespace label). */
  refusedFrom?: string;
  /** Set by the webhook on UPDATEs: the old object had the same finding. */
  existing?: boolean;
}

export interface Evaluation {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  mode: Mode;
  /** Owned by a controller (any ownerReference with `controller: true`). */
  controllerOwned: boolean;
  /** That controller, when there is one. */
  controller?: ControllerRef;
  /**
   * Written by a controller acting for its owner, which the webhook judged when the owner was
   * written: a Deployment's ReplicaSet written by the deployment-controller, a ReplicaSet's Pod
   * written by the replicaset-controller, and the like (owners.ts). Refusing such an object would
   * stall a rollout its author cannot see, so the webhook only records its findings. An object a
   * user writes is judged as itself, whatever ownerReferences it claims.
   */
  judgedThroughOwner: boolean;
  findings: Finding[];
  /** Findings beyond EvaluateOptions.maxFindingsPerPolicy: counted per policy, not listed. */
  omitted?: OmittedFindings[];
  /** With EvaluateOptions.notes: what the cluster fills in that the object leaves out (a LimitRange's defaults). */
  notes?: Note[];
}

export interface OmittedFindings {
  policy: string;
  count: number;
}

export interface EvaluateOptions {
  /** Namespace for objects that name none (the request's, or `default` for manifests). */
  namespace?: string;
  /**
   * Who writes the object (the AdmissionRequest's userInfo.username). Only the webhook knows:
   * without it (manifests, cluster scans) no object is judged through its owner.
   */
  writer?: string;
  /**
   * Findings listed per policy; the rest are only counted. The webhook's answer shows a few
   * dozen findings at most, so an object with 100,000 containers need not carry 100,000.
   */
  maxFindingsPerPolicy?: number;
  /**
   * Only the listed findings are wanted, not how many more there are (the webhook's old object on
   * an UPDATE, whose findings past the cap are never matched): a workload policy past its cap is not
   * asked again, slicing stops once every one is, and `omitted` is left out.
   */
  listedOnly?: boolean;
  /** The current time (ms since the epoch) for deadlines and expiries; without it all have passed. */
  now?: number;
  /** The request and old object, for custom rules that read them (only the webhook has them). */
  admission?: AdmissionFacts;
  /** Also ask the policies why they passed what the cluster fills in (the offline audit shows it; the webhook need not). */
  notes?: boolean;
}

export function clamp(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The mode for a namespace: its `practice-gate.io/mode` label overrides the config. */
export function modeFor(config: EngineConfig, context: ClusterContext, namespace: string): Mode {
  const label = context.namespaceLabels(namespace)?.[LABEL_MODE];
  return label === 'audit' || label === 'enforce' ? label : config.mode;
}

/** An object's own annotation, read by key only: other annotations are no input (src/engine/inputs.ts). */
function annotation(object: KubeObject, key: string): string | undefined {
  const annotations = metaOf(object).annotations;
  const value = isRecord(annotations) ? annotations[key] : undefined;
  return typeof value === 'string' ? value : undefined;
}

function annotationExemptions(
  object: KubeObject,
  now: number | undefined,
): { all: boolean; ids: Set<string>; reason: string; expires?: string } | undefined {
  const value = annotation(object, ANNOTATION_EXEMPT);
  if (value === undefined) return undefined;
  const expires = deadline(annotation(object, ANNOTATION_EXEMPT_EXPIRES));
  if (expires && (now === undefined || now >= expires.at)) return undefined;
  const ids = new Set(
    value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  );
  return {
    all: ids.has('all'),
    ids,
    reason: annotation(object, ANNOTATION_EXEMPT_REASON) ?? `object annotation ${ANNOTATION_EXEMPT}`,
    ...(expires ? { expires: expires.text } : {}),
  };
}

/** Containers judged at a time: a slice's violations and refs die young, and between slices the engine yields. */
const SLICE = 512;

interface Tally {
  kept: Violation[];
  total: number;
}

/**
 * Every policy on one slice of containers, adding to its tally. A policy past its cap is handed the
 * slice marked `counting`, and returns COUNTED rather than writing out what would be dropped.
 * Violations that name no container are about the pod or the object, the same for every slice:
 * only the first slice's count. A plain function, not part of the generator below: V8 optimises
 * its loops once rather than again at every resumption.
 */
function checkSlice(
  policies: readonly WorkloadPolicy[],
  tallies: readonly Tally[],
  listing: Workload,
  context: ClusterContext,
  listed: number,
  first: boolean,
  listedOnly: boolean,
): void {
  let counting: Workload | undefined;
  for (let i = 0; i < policies.length; i++) {
    const policy = policies[i] as WorkloadPolicy;
    const tally = tallies[i] as Tally;
    if (!first && policy.podLevel === true) continue;
    let view = listing;
    if (tally.kept.length >= listed) {
      if (listedOnly) continue;
      counting ??= { ...listing, counting: true };
      view = counting;
    }
    for (const v of policy.check(view, context)) {
      if (!first && v.container === undefined) continue;
      tally.total++;
      if (tally.kept.length < listed) tally.kept.push(v);
    }
  }
}

/**
 * The workload policies' first `listed` violations each and how many there are in all. A policy
 * judges each container on its own (the contract in policy.ts), so a large pod is judged a slice
 * of containers at a time, every policy on one slice before the next: with 100,000 failing
 * containers each slice's refs and violations die young instead of surviving collections until
 * the end (seconds of GC per review), and the engine yields between slices (steps.ts), so a server
 * can answer other requests meanwhile.
 */
function* checkInSlices(
  policies: readonly WorkloadPolicy[],
  shell: Workload,
  context: ClusterContext,
  listed: number,
  listedOnly: boolean,
): Steps<Tally[]> {
  const tallies = policies.map((): Tally => ({ kept: [], total: 0 }));
  let first = true;
  for (const containers of containerSlices(shell.podSpec, shell.podSpecPath, SLICE)) {
    // Past the first slice a pod-level policy is done, and a full one is not asked again.
    if (listedOnly && !first && tallies.every((tally, i) => tally.kept.length >= listed || policies[i]?.podLevel === true)) break;
    if (!first) yield;
    // counting: false, so that this view and the counting one share a shape: the checks stay optimised for both.
    checkSlice(policies, tallies, { ...shell, containers, counting: false }, context, listed, first, listedOnly);
    first = false;
  }
  return tallies;
}

/**
 * Judges one object. Returns undefined for kinds practice-gate does not judge (no registered
 * policy names them). Pure: everything it knows comes from its arguments.
 */
export function evaluate(
  object: KubeObject,
  context: ClusterContext,
  config: EngineConfig,
  options: EvaluateOptions = {},
): Evaluation | undefined {
  return drain(evaluateInSteps(object, context, config, options));
}

/**
 * evaluate() in steps: it yields between slices of a large workload's containers (steps.ts).
 * Everything it reads is taken when it starts, except what the context answers, which is asked
 * when a slice needs it.
 */
export function* evaluateInSteps(
  object: KubeObject,
  context: ClusterContext,
  config: EngineConfig,
  options: EvaluateOptions = {},
): Steps<Evaluation | undefined> {
  if (!isRecord(object)) return undefined;
  const fallbackNs = options.namespace ?? 'default';
  const kind = typeof object.kind === 'string' ? object.kind : '';
  if (!config.judgedKinds.has(kind)) return undefined;
  const shell = workloadShell(object, fallbackNs);
  // The whole view (every container ref at once) only for what reads it whole: object policies and notes.
  let whole: Workload | undefined;
  const workload = (): Workload | undefined => (whole ??= shell && toWorkload(object, fallbackNs));

  const ownNs = metaOf(object).namespace;
  const namespace = typeof ownNs === 'string' && ownNs !== '' ? ownNs : fallbackNs;
  const name = nameOf(object);
  const mode = modeFor(config, context, namespace);
  const now = options.now;
  const objectExempt = config.objectExemptions ? annotationExemptions(object, now) : undefined;
  const namespaceLabels = context.namespaceLabels(namespace);
  const target = { namespace, name, kind };

  const findings: Finding[] = [];
  const omitted: OmittedFindings[] = [];
  const listed = options.maxFindingsPerPolicy ?? Infinity;
  const sliced = shell
    ? config.active.flatMap(({ policy }) => (policy.target === 'workload' && policy.kinds.includes(kind) ? [policy] : []))
    : [];
  const listedOnly = options.listedOnly === true;
  const tallies = shell && sliced.length > 0 ? yield* checkInSlices(sliced, shell, context, listed, listedOnly) : [];
  for (const active of config.active) {
    const { policy, action } = active;
    if (!policy.kinds.includes(kind)) continue;
    let violations: Violation[];
    let total: number;
    if (policy.target === 'workload') {
      const tally = tallies[sliced.indexOf(policy)];
      if (!tally) continue;
      ({ kept: violations, total } = tally);
    } else if (policy.target === 'object') {
      const subject: ObjectSubject = {
        namespace,
        // Built when read: most object policies never read it, and for a large pod it is a ref per container.
        get workload() {
          return workload();
        },
        admission: options.admission,
      };
      violations = policy.check(object, subject, context);
      total = violations.length;
      violations = violations.slice(0, listed);
    } else {
      // A pdb policy names only PodDisruptionBudget among its kinds (test/policies/registry.test.ts).
      violations = policy.check(object as PodDisruptionBudget, namespace, context);
      total = violations.length;
      violations = violations.slice(0, listed);
    }
    if (total === 0) continue;

    const exemption = activeExemption(config, target, policy.id, now);
    let exemptReason = exemption?.reason;
    let exemptExpires = exemption?.expires;
    if (exemptReason === undefined && objectExempt && (objectExempt.all || objectExempt.ids.has(policy.id))) {
      exemptReason = objectExempt.reason;
      exemptExpires = deadline(objectExempt.expires);
    }
    let effective: FindingAction = mode === 'audit' && action === 'deny' ? 'warn' : action;
    const pending = effective === 'deny' ? pendingDeadline(active, namespaceLabels, now) : undefined;
    if (pending) effective = 'warn';
    if (total > violations.length && !listedOnly) omitted.push({ policy: policy.id, count: total - violations.length });
    for (const v of violations) {
      const finding: Finding = {
        policy: policy.id,
        action: effective,
        configuredAction: action,
        path: v.path,
        // Whole: the audit report and the webhook's denial carry it all; warning lines fit it themselves.
        message: v.message,
        remediation: v.remediation ?? policy.fix,
        exempt: exemptReason !== undefined,
      };
      if (v.container !== undefined) finding.container = v.container;
      if (exemptReason !== undefined) finding.exemptReason = exemptReason;
      if (exemptReason !== undefined && exemptExpires) {
        finding.exemptExpires = exemptExpires.text;
        if (now !== undefined && exemptExpires.at - now <= config.exemptionWarningMs) finding.exemptExpiresSoon = true;
      }
      if (pending) finding.refusedFrom = pending.text;
      findings.push(finding);
    }
  }
  const controller = controllerRef(object);
  const full = options.notes ? workload() : undefined;
  const notes = full ? policyNotes(config, kind, full, context) : [];
  return {
    apiVersion: typeof object.apiVersion === 'string' ? object.apiVersion : '',
    kind,
    namespace,
    name,
    mode,
    controllerOwned: shell?.controllerOwned ?? false,
    ...(controller ? { controller } : {}),
    judgedThroughOwner: writtenForOwner(config.writers, context, options.writer, kind, namespace, controller),
    findings,
    ...(omitted.length > 0 ? { omitted } : {}),
    ...(notes.length > 0 ? { notes } : {}),
  };
}
