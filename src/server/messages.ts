// Every text the webhook hands back to the API server. The user reads the denial message and
// warnings in kubectl's output, admins read audit annotations in the audit log: each says what
// is wrong, where, and how to fix it, and each stays within the sizes the API server keeps.
import { clamp } from '../engine/index.js';
import type { Finding, FindingAction } from '../engine/index.js';

/** What the webhook did with a finding, after mode, exemptions and controller ownership. */
export type Outcome = FindingAction | 'exempt';

export interface AppliedFinding {
  finding: Finding;
  outcome: Outcome;
}

/** Findings of one policy that were counted but not listed (src/server/review.ts caps them). */
export interface AppliedOmission {
  policy: string;
  outcome: Outcome;
  count: number;
}

export const WARNING_PREFIX = '[practice-gate]';
/** kubectl prints warnings one per line; longer ones wrap badly. */
export const WARNING_TARGET = 120;
/** The API server may truncate a single warning beyond this. */
export const WARNING_MAX = 256;
/** The API server drops warnings once all of them together pass 4 KiB. */
export const WARNINGS_TOTAL_MAX = 4096 - 96;
/** The denial message is shown whole in kubectl's error: a few KiB at most. */
export const DENIAL_MAX = 3072;
export const ANNOTATION_VALUE_MAX = 256;
export const EXEMPT_ANNOTATION = 'exempt';

const AUDIT_HINT = 'run practice-gate audit for the full list';
const NAME_MAX = 63;

/** `Deployment shop/api`: how the object is named in every message. */
export function subjectOf(kind: string, namespace: string, name: string): string {
  const shown = name === '' ? '(unnamed)' : clamp(name, NAME_MAX);
  return namespace === '' ? `${kind || 'object'} ${shown}` : `${kind || 'object'} ${clamp(namespace, NAME_MAX)}/${shown}`;
}

const bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

/** A deny configured by the admin but downgraded to a warning by audit mode: said as `would deny`. */
const wouldDeny = (f: Finding): boolean => f.action === 'warn' && f.configuredAction === 'deny';

function warningBody(f: Finding): string {
  if (f.existing) return `[${f.policy}] already existed${f.configuredAction === 'deny' ? ', not refused' : ''}: ${f.message}`;
  if (f.refusedFrom !== undefined) return `[${f.policy}] refused from ${f.refusedFrom}: ${f.message}`;
  return wouldDeny(f) ? `[${f.policy}] would deny: ${f.message}` : `[${f.policy}] ${f.message}`;
}

/**
 * One warning per finding, prefixed with the source, the object and the policy. When naming
 * the object would push a line past 120 characters, the lines leave it out (kubectl prints
 * warnings right above the object's own line) so that all lines of one response look alike.
 */
export function formatWarnings(subject: string, findings: readonly Finding[], omitted = 0): string[] {
  if (findings.length === 0) return [];
  // Plain loops, and only the lines that are kept are built: a named line's length is the
  // prefix, a space, the subject, ': ' and the body. (Chains of map() on arrays of different
  // shapes kept deoptimising this function.)
  const bodies: string[] = [];
  let named = true;
  for (const f of findings) {
    const body = warningBody(f);
    bodies.push(body);
    if (WARNING_PREFIX.length + subject.length + 3 + body.length > WARNING_TARGET) named = false;
  }
  const lines: string[] = [];
  for (const body of bodies) lines.push(clamp(named ? `${WARNING_PREFIX} ${subject}: ${body}` : `${WARNING_PREFIX} ${body}`, WARNING_MAX));
  // Most responses fit whole: one count for all of them instead of one call per line.
  const more = (count: number) => `${WARNING_PREFIX} ... and ${count} more findings: ${AUDIT_HINT}`;
  if (fitTogether(lines)) return omitted > 0 ? [...lines, more(omitted)] : lines;
  const out: string[] = [];
  let total = 0;
  for (const [i, line] of lines.entries()) {
    const size = bytes(line);
    if (total + size > WARNINGS_TOTAL_MAX) {
      out.push(more(lines.length - i + omitted));
      return out;
    }
    out.push(line);
    total += size;
  }
  if (omitted > 0) out.push(more(omitted));
  return out;
}

/** True when all the lines together stay within the warnings' byte budget. */
function fitTogether(lines: readonly string[]): boolean {
  let units = 0;
  for (const line of lines) units += line.length;
  // UTF-8 takes at most 3 bytes per UTF-16 unit, and at least one.
  if (3 * units <= WARNINGS_TOTAL_MAX) return true;
  return units <= WARNINGS_TOTAL_MAX && bytes(lines.join('')) <= WARNINGS_TOTAL_MAX;
}

/**
 * The status message of a denial: every denying finding with policy, message (which names
 * the container and the fix) and field path, cut with a count beyond a few KiB.
 */
export function formatDenial(subject: string, denials: readonly Finding[], omitted = 0): string {
  const policies = new Set(denials.map((f) => f.policy)).size;
  const head = `${subject} violates ${policies} ${policies === 1 ? 'policy' : 'policies'}: `;
  const parts: string[] = [];
  let size = head.length;
  for (const [i, f] of denials.entries()) {
    const part = `[${f.policy}] ${f.message} (${f.path})`;
    const rest = denials.length - i + omitted;
    if (size + part.length + 2 > DENIAL_MAX - 80) {
      parts.push(`... and ${rest} more: ${AUDIT_HINT}`);
      return head + parts.join('; ');
    }
    parts.push(part);
    size += part.length + 2;
  }
  if (omitted > 0) parts.push(`... and ${omitted} more: ${AUDIT_HINT}`);
  return head + parts.join('; ');
}

const annotationKeys = new Map<string, string>();

/** Audit annotation keys: the API server puts `<webhook name>/` in front, so no slash here. */
export function annotationKey(policyId: string): string {
  let key = annotationKeys.get(policyId);
  if (key === undefined) {
    const cleaned = policyId.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, NAME_MAX);
    key = cleaned.replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '') || 'policy';
    // Policy ids come from the registry: a handful, computed once each.
    if (annotationKeys.size < 1000) annotationKeys.set(policyId, key);
  }
  return key;
}

/** The items joined within max characters; `omitted` more are counted after them. */
function joinBounded(items: readonly string[], max: number, omitted = 0): string {
  let out = '';
  for (const [i, item] of items.entries()) {
    const next = out === '' ? item : `${out}; ${item}`;
    if (next.length > max) {
      const more = `; +${items.length - i + omitted} more`;
      return out === '' ? clamp(item, max) : `${clamp(out, max - more.length)}${more}`;
    }
    out = next;
  }
  if (omitted === 0) return out;
  const more = `; +${omitted} more`;
  return `${clamp(out, max - more.length)}${more}`;
}

function annotationEntry(f: Finding, outcome: Outcome): string {
  const configured = outcome === f.configuredAction ? outcome : `${outcome} (configured ${f.configuredAction})`;
  const label = f.existing ? `${configured} existing` : configured;
  return f.container === undefined ? `${label}: ${f.path}` : `${label}: container ${f.container}: ${f.path}`;
}

/**
 * Distinct strings in the order first seen. An object with thousands of containers must cost
 * linear time, not block the event loop, so a Set takes over once the list grows; below that a
 * list's includes() is several times cheaper than building a Set per annotation.
 */
class Distinct {
  readonly items: string[] = [];
  #seen: Set<string> | undefined;

  add(item: string): void {
    if (this.#seen) {
      if (this.#seen.has(item)) return;
      this.#seen.add(item);
    } else {
      if (this.items.includes(item)) return;
      if (this.items.length >= 16) this.#seen = new Set([...this.items, item]);
    }
    this.items.push(item);
  }
}

/**
 * One audit annotation per policy with findings, the exempt ones under `exempt`, so the
 * audit log records what would have been denied or warned, for whom and where.
 */
export function formatAuditAnnotations(
  applied: readonly AppliedFinding[],
  omitted: readonly AppliedOmission[] = [],
): Record<string, string> | undefined {
  const byKey = new Map<string, Distinct>();
  const add = (key: string, entry: string) => {
    let entries = byKey.get(key);
    if (!entries) {
      entries = new Distinct();
      byKey.set(key, entries);
    }
    entries.add(entry);
  };
  for (const { finding, outcome } of applied) {
    if (outcome === 'exempt') add(EXEMPT_ANNOTATION, `${finding.policy}: ${finding.exemptReason ?? 'exempt'}`);
    else add(annotationKey(finding.policy), annotationEntry(finding, outcome));
  }
  if (byKey.size === 0) return undefined;
  const out: Record<string, string> = {};
  const uncounted = new Map<string, number>();
  for (const o of omitted) {
    if (o.outcome === 'exempt') continue; // the exempt annotation lists reasons, one per policy
    const key = annotationKey(o.policy);
    uncounted.set(key, (uncounted.get(key) ?? 0) + o.count);
  }
  for (const [key, entries] of byKey) out[key] = joinBounded(entries.items, ANNOTATION_VALUE_MAX, uncounted.get(key) ?? 0);
  return out;
}

/** The warning when --on-error allow lets an object through that could not be judged. */
export function uncheckedWarning(subject: string, error: string): string {
  return clamp(
    `${WARNING_PREFIX} ${subject} was admitted unchecked: practice-gate failed while judging it (${clamp(error, 80)})`,
    WARNING_MAX,
  );
}

/** The status message when --on-error deny refuses an object that could not be judged. */
export function failureMessage(subject: string, error: string): string {
  return (
    `practice-gate failed while checking ${subject} (${clamp(error, 200)}); the request was refused because the webhook ` +
    'runs with --on-error deny. Retry; if it keeps failing, ask your cluster admins to check the practice-gate logs'
  );
}
