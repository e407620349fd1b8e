// Dates that change what the engine answers: a policy's or a namespace's enforcement deadline.
// The current time is an argument, never read here.
import { deadline } from './config.js';
import type { ActivePolicy, Deadline } from './config.js';

/** On a Namespace: its deny findings are answered as warnings until this date. */
export const LABEL_ENFORCE_FROM = 'practice-gate.io/enforce-from';

/**
 * The deadline a deny finding of this policy in this namespace still waits for at `now`: the
 * later of the policy's `from` and the namespace's label, or undefined once it has come. No
 * time means every deadline has come: without a clock nothing is postponed.
 */
export function pendingDeadline(
  active: ActivePolicy,
  namespaceLabels: Readonly<Record<string, string>> | undefined,
  now: number | undefined,
): Deadline | undefined {
  if (now === undefined) return undefined;
  const own = deadline(namespaceLabels?.[LABEL_ENFORCE_FROM]);
  const later = own && (!active.from || own.at > active.from.at) ? own : active.from;
  return later && now < later.at ? later : undefined;
}
