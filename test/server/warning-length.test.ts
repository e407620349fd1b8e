// kubectl prints each warning on its own line: the issue asks for 120 characters where the
// fix fits. This holds every policy's real messages, for its own bad examples, to that.
import t from 'tap';
import { POLICIES } from '../../policies/index.js';
import { kindOf, namespaceOf, nameOf } from '../../src/engine/index.js';
import type { KubeObject, Policy } from '../../src/engine/index.js';
import { WARNING_MAX, WARNING_TARGET, formatWarnings, subjectOf } from '../../src/server/messages.js';
import { examples, judge } from '../helpers/manifests.js';

// Where the policy id and the one field that fixes it take most of the 120 characters before
// anything is named (89 and 87 of them), or the message must name the workload it blocks and
// where its replica count comes from: these lines run to about 130-145, far under the cap.
const CANNOT_FIT = new Set(['no-privilege-escalation', 'read-only-root-filesystem', 'pdb-allows-disruption']);

// Names in the examples (containers, HPAs, PDBs) run up to 14 characters; a line is held to
// 120 with each quoted name counted as at most 8 ("fluent-b"), the length of most names.
const NAME_BUDGET = 8;

/** The line's length with each quoted name cut to the budget. */
function budgetedLength(line: string): number {
  let excess = 0;
  for (const [, name] of line.matchAll(/"([^"]*)"/g)) excess += Math.max(0, (name?.length ?? 0) - NAME_BUDGET);
  return line.length - excess;
}

// Real charts name containers at length: argocd-applicationset-controller (32 characters),
// prometheus-config-reloader (26). The README states how long their lines get.
const REAL_NAME = 'argocd-applicationset-controller';
const REAL_NAME_MAX_LINE = 180;

/** The object with every container named `name` (then name-1, name-2 ...), as a real chart would. */
function withContainerNames(value: unknown, name: string): unknown {
  if (Array.isArray(value)) return value.map((v) => withContainerNames(v, name));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const containers = (key === 'containers' || key === 'initContainers') && Array.isArray(v);
    out[key] = containers
      ? v.map((c, i) => ({ ...(withContainerNames(c, name) as object), name: i === 0 ? name : `${name}-${i}` }))
      : withContainerNames(v, name);
  }
  return out;
}

/** Every finding of the policy's bad examples as the warning an admin who set it to warn sees. */
function warningsOf(policy: Policy, containerName?: string): Array<{ example: string; line: string; message: string }> {
  const { bad } = examples(policy.id);
  const objects = [...bad].map(
    ([example, object]) =>
      [example, containerName === undefined ? object : (withContainerNames(object, containerName) as KubeObject)] as const,
  );
  const out: Array<{ example: string; line: string; message: string }> = [];
  for (const [example, object] of objects) {
    const subject = subjectOf(kindOf(object), namespaceOf(object) ?? 'default', nameOf(object));
    for (const finding of judge(
      policy,
      object,
      objects.map(([, o]) => o),
      { policies: { [policy.id]: 'warn' } },
    )) {
      for (const line of formatWarnings(subject, [finding])) out.push({ example, line, message: finding.message });
    }
  }
  return out;
}

for (const policy of POLICIES) {
  t.test(`${policy.id}: its warnings fit in ${WARNING_TARGET} characters`, async (t) => {
    const lines = warningsOf(policy);
    t.ok(lines.length > 0, 'its bad examples give warnings');
    for (const { example, line } of lines) {
      t.ok(line.length <= WARNING_MAX, `${example}: never over ${WARNING_MAX}`);
      if (CANNOT_FIT.has(policy.id)) continue;
      t.ok(budgetedLength(line) <= WARNING_TARGET, `${example}: ${budgetedLength(line)} characters: ${line}`);
    }
  });
}

t.test(
  `with ${REAL_NAME.length}-character container names every line still carries the whole message, within ${REAL_NAME_MAX_LINE}`,
  async (t) => {
    let longest = 0;
    for (const policy of POLICIES) {
      for (const { example, line, message } of warningsOf(policy, REAL_NAME)) {
        t.ok(line.endsWith(message), `${policy.id} ${example}: the message and its fix are whole: ${line}`);
        t.notMatch(line, /…/, `${policy.id} ${example}: nothing is cut`);
        t.ok(line.length <= REAL_NAME_MAX_LINE, `${policy.id} ${example}: ${line.length} characters`);
        longest = Math.max(longest, line.length);
      }
    }
    t.ok(longest > 120, `such names do pass 120 (longest ${longest}): the README says so`);
  },
);
